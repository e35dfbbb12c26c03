// A target of 2 features for a model that gives 1.
#include <ctgrad/nn/static.hpp>
namespace nn = ctgrad::nn;
int main() {
    nn::static_sequential<nn::static_linear<3, 1>> model;
    const nn::static_features<3> input(10);
    const nn::static_features<2> target(10);
    return static_cast<int>(model.value_and_grad(nn::static_mse_sum, input, target));
}
