// The third seed text's Step 8 in ctgrad: DynamicNet, whose forward adds e * x^4 a random 3 to 5
// times, so the graph changes every step while the parameter e is shared by all its uses;
// MSELoss(reduction sum), optim::SGD (lr 1e-8, momentum 0.9), 30000 steps. The loop count comes
// from Python's `random` module, re-created in common/python_random.hpp so that the twin walks
// the same graphs. Twin of ../shared/pytorch-seeds/seed2_step8_dynamic.py.
#include <numbers>
#include <string>

#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

#include "common/device.hpp"
#include "common/pyprint.hpp"
#include "common/python_random.hpp"

namespace nn = ctgrad::nn;
namespace pyrandom = python::random;  // Python's `random` (the C library owns the name random)

struct DynamicNetImpl : nn::Module {
    // Instantiate five parameters and assign them as members.
    DynamicNetImpl() {
        a = register_parameter("a", ctgrad::randn({}));
        b = register_parameter("b", ctgrad::randn({}));
        c = register_parameter("c", ctgrad::randn({}));
        d = register_parameter("d", ctgrad::randn({}));
        e = register_parameter("e", ctgrad::randn({}));
    }

    // For the forward pass of the model, we randomly choose either 4, 5 and reuse the e
    // parameter to compute the contribution of these orders. Since each forward pass builds a
    // dynamic computation graph, we can use normal control-flow operators like loops when
    // defining the forward pass of the model. It is perfectly safe to reuse the same parameter
    // many times when defining a computational graph.
    ctgrad::Tensor forward(const ctgrad::Tensor& x) {
        auto y = a + b * x + c * x.pow(2) + d * x.pow(3);
        for (long i = 0, n = pyrandom::randint(3, 5); i < n; ++i) y = y + e * x.pow(4);
        return y;
    }

    std::string string() const {
        return "y = " + py::str(a.item<double>()) + " + " + py::str(b.item<double>()) + " x + " +
               py::str(c.item<double>()) + " x^2 + " + py::str(d.item<double>()) + " x^3 + " +
               py::str(e.item<double>()) + " x^4 ?";
    }

    ctgrad::Tensor a, b, c, d, e;
};
CTGRAD_MODULE(DynamicNet);

int main(int argc, char** argv) {
    const ctgrad::Device device = examples::device_from_args(argc, argv);  // cpu, or cuda with --device cuda
    ctgrad::manual_seed(0);  // seed_all()
    pyrandom::seed(0);  // seed_all()'s random.seed(0)
    const double pi = std::numbers::pi;  // math.pi

    // Create Tensors to hold input and outputs.
    auto x = ctgrad::linspace(-pi, pi, 2000, ctgrad::device(device));
    auto y = ctgrad::sin(x);

    // Construct our model by instantiating the class defined above
    DynamicNet model;
    model->to(device);

    // Construct our loss function and an Optimizer. Training this strange model with vanilla
    // stochastic gradient descent is tough, so we use momentum
    nn::MSELoss criterion(nn::MSELossOptions().reduction(ctgrad::kSum));
    ctgrad::optim::SGD optimizer(model->parameters(), ctgrad::optim::SGDOptions(1e-8).momentum(0.9));
    for (int t = 0; t < 30000; ++t) {
        // Forward pass: Compute predicted y by passing x to the model
        auto y_pred = model(x);

        // Compute and print loss
        auto loss = criterion(y_pred, y);
        if (t % 2000 == 1999) py::print(t, loss.item<double>());

        // Zero gradients, perform a backward pass, and update the weights.
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }

    py::print("Result: " + model->string());
}
