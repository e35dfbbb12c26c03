// The third seed text's Step 5 in ctgrad: the cubic fit as nn.Sequential(Linear(3, 1),
// Flatten(0, 1)) on the features (x, x^2, x^3), MSELoss(reduction sum), weights updated by hand
// under no-grad. Twin of ../shared/pytorch-seeds/seed2_step5_nn.py: same seed, same numbers up to
// float rounding.
#include <numbers>

#include <ctgrad/nn.hpp>
#include <ctgrad/tensor.hpp>

#include "common/device.hpp"
#include "common/pyprint.hpp"

namespace nn = ctgrad::nn;
using ctgrad::indexing::Slice;

int main(int argc, char** argv) {
    const ctgrad::Device device = examples::device_from_args(argc, argv);  // cpu, or cuda with --device cuda
    ctgrad::manual_seed(0);  // seed_all()
    const double pi = std::numbers::pi;  // math.pi

    // Create Tensors
    auto x = ctgrad::linspace(-pi, pi, 2000, ctgrad::device(device));
    auto y = ctgrad::sin(x);

    // Prepare input tensor (x, x^2, x^3)
    auto p = ctgrad::tensor({1, 2, 3}, ctgrad::device(device));
    auto xx = x.unsqueeze(-1).pow(p);

    // Define model
    nn::Sequential model(
        nn::Linear(3, 1),
        nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1)));
    model->to(device);

    nn::MSELoss loss_fn(nn::MSELossOptions().reduction(ctgrad::kSum));

    const double learning_rate = 1e-6;
    for (int t = 0; t < 2000; ++t) {
        // Forward pass
        auto y_pred = model->forward(xx);

        // Compute loss
        auto loss = loss_fn(y_pred, y);
        if (t % 100 == 99) py::print(t, loss.item<double>());

        // Zero gradients
        model->zero_grad();

        // Backward pass
        loss.backward();

        // Update weights
        {
            ctgrad::NoGradGuard no_grad;
            for (auto& param : model->parameters()) param -= learning_rate * param.grad();
        }
    }

    // Extract final layer weights
    auto linear_layer = model[0]->as<nn::Linear>();
    py::print("Result: y = " + py::str(linear_layer->bias.item<double>()) + " + " +
              py::str(linear_layer->weight.index({Slice(), 0}).item<double>()) + " x + " +
              py::str(linear_layer->weight.index({Slice(), 1}).item<double>()) + " x^2 + " +
              py::str(linear_layer->weight.index({Slice(), 2}).item<double>()) + " x^3");
}
