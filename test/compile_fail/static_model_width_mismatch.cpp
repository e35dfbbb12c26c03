// A layer that takes 2 features after a layer that gives 1.
#include <ctgrad/nn/static.hpp>
namespace nn = ctgrad::nn;
int main() {
    nn::static_sequential<nn::static_linear<3, 1>, nn::static_linear<2, 4>> model;
    return static_cast<int>(model.parameters().size());
}
