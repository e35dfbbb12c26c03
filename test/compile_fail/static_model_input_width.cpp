// An input batch of 4 features for a model whose first layer takes 3.
#include <ctgrad/nn/static.hpp>
namespace nn = ctgrad::nn;
int main() {
    nn::static_sequential<nn::static_linear<3, 1>, nn::static_flatten<0, 1>> model;
    const nn::static_features<4> input(10);
    return static_cast<int>(model.forward(input).numel());
}
