// The third seed text's Step 6 in ctgrad: Step 5's model, nn.Sequential(Linear(3, 1),
// Flatten(0, 1)) with MSELoss(reduction sum), trained by optim.RMSprop (lr 1e-3)
// instead of by hand. Twin of ../shared/pytorch-seeds/seed2_step6_rmsprop.py: same seed, same numbers up to
// float rounding.
#include <numbers>

#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
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

    // Use the optim package to define an Optimizer that will update the weights of the model
    const double learning_rate = 1e-3;
    ctgrad::optim::RMSprop optimizer(model->parameters(), ctgrad::optim::RMSpropOptions(learning_rate));
    for (int t = 0; t < 2000; ++t) {
        // Forward pass
        auto y_pred = model->forward(xx);

        // Compute loss
        auto loss = loss_fn(y_pred, y);
        if (t % 100 == 99) py::print(t, loss.item<double>());

        // Before the backward pass, zero all of the gradients for the variables it will update
        optimizer.zero_grad();

        // Backward pass: compute gradient of the loss with respect to model parameters
        loss.backward();

        // Calling the step function on an Optimizer makes an update to its parameters
        optimizer.step();
    }

    // Extract final layer weights
    auto linear_layer = model[0]->as<nn::Linear>();
    py::print("Result: y = " + py::str(linear_layer->bias.item<double>()) + " + " +
              py::str(linear_layer->weight.index({Slice(), 0}).item<double>()) + " x + " +
              py::str(linear_layer->weight.index({Slice(), 1}).item<double>()) + " x^2 + " +
              py::str(linear_layer->weight.index({Slice(), 2}).item<double>()) + " x^3");
}
