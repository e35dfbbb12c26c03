// A static_linear after static_flatten<0, 1>, which merged the batch into the features.
#include <ctgrad/nn/static.hpp>
namespace nn = ctgrad::nn;
int main() {
    nn::static_sequential<nn::static_linear<3, 1>, nn::static_flatten<0, 1>, nn::static_linear<1, 1>> model;
    return static_cast<int>(model.parameters().size());
}
