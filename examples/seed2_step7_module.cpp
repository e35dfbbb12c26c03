// The third seed text's Step 7 in ctgrad: the cubic as a custom nn::Module (Polynomial3, four
// scalar parameters), MSELoss(reduction sum), optim::SGD (lr 1e-6). Twin of
// ../shared/pytorch-seeds/seed2_step7_module.py: same seed, same numbers up to float rounding.
#include <numbers>
#include <string>

#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

#include "common/device.hpp"
#include "common/pyprint.hpp"

namespace nn = ctgrad::nn;

struct Polynomial3Impl : nn::Module {
    // Instantiate four parameters and assign them as members.
    Polynomial3Impl() {
        a = register_parameter("a", ctgrad::randn({}));
        b = register_parameter("b", ctgrad::randn({}));
        c = register_parameter("c", ctgrad::randn({}));
        d = register_parameter("d", ctgrad::randn({}));
    }

    // Accept a Tensor of input data and return a Tensor of output data, using the parameters.
    ctgrad::Tensor forward(const ctgrad::Tensor& x) { return a + b * x + c * x.pow(2) + d * x.pow(3); }

    // Like any method, a custom one can be defined on a Module.
    std::string string() const {
        return "y = " + py::str(a.item<double>()) + " + " + py::str(b.item<double>()) + " x + " +
               py::str(c.item<double>()) + " x^2 + " + py::str(d.item<double>()) + " x^3";
    }

    ctgrad::Tensor a, b, c, d;
};
CTGRAD_MODULE(Polynomial3);

int main(int argc, char** argv) {
    const ctgrad::Device device = examples::device_from_args(argc, argv);  // cpu, or cuda with --device cuda
    ctgrad::manual_seed(0);  // seed_all()
    const double pi = std::numbers::pi;  // math.pi

    // Create Tensors to hold input and outputs.
    auto x = ctgrad::linspace(-pi, pi, 2000, ctgrad::device(device));
    auto y = ctgrad::sin(x);

    // Construct our model by instantiating the class defined above
    Polynomial3 model;
    model->to(device);

    // Construct our loss function and an Optimizer. The call to model->parameters() in the SGD
    // constructor will contain the learnable parameters of the model.
    nn::MSELoss criterion(nn::MSELossOptions().reduction(ctgrad::kSum));
    ctgrad::optim::SGD optimizer(model->parameters(), ctgrad::optim::SGDOptions(1e-6));
    for (int t = 0; t < 2000; ++t) {
        // Forward pass: Compute predicted y by passing x to the model
        auto y_pred = model(x);

        // Compute and print loss
        auto loss = criterion(y_pred, y);
        if (t % 100 == 99) py::print(t, loss.item<double>());

        // Zero gradients, perform a backward pass, and update the weights.
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }

    py::print("Result: " + model->string());
}
