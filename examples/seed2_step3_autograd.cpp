// The third seed text's Step 3 in ctgrad: the same cubic fit, gradients by autograd
// (loss.backward()), weights updated under no-grad and their gradients reset. Twin of
// ../shared/pytorch-seeds/seed2_step3_autograd.py: same seed, same numbers up to float rounding.
#include <numbers>

#include <ctgrad/tensor.hpp>

#include "common/device.hpp"
#include "common/pyprint.hpp"

int main(int argc, char** argv) {
    const ctgrad::Device device = examples::device_from_args(argc, argv);  // cpu, or cuda with --device cuda
    ctgrad::manual_seed(0);  // seed_all()
    const double pi = std::numbers::pi;  // math.pi

    // Create Tensors with gradient tracking
    auto x = ctgrad::linspace(-pi, pi, 2000, ctgrad::device(device));
    auto y = ctgrad::sin(x);

    // Randomly initialize weights with gradient tracking
    auto a = ctgrad::randn({}, ctgrad::dtype(ctgrad::kFloat).device(device).requires_grad(true));
    auto b = ctgrad::randn({}, ctgrad::dtype(ctgrad::kFloat).device(device).requires_grad(true));
    auto c = ctgrad::randn({}, ctgrad::dtype(ctgrad::kFloat).device(device).requires_grad(true));
    auto d = ctgrad::randn({}, ctgrad::dtype(ctgrad::kFloat).device(device).requires_grad(true));

    const double learning_rate = 1e-6;
    for (int t = 0; t < 2000; ++t) {
        // Forward pass
        auto y_pred = a + b * x + c * x.pow(2) + d * x.pow(3);

        // Compute loss
        auto loss = (y_pred - y).pow(2).sum();
        if (t % 100 == 99) py::print(t, loss.item<double>());

        // Use autograd to compute gradients
        loss.backward();

        // Manually update weights (no gradient tracking during update)
        {
            ctgrad::NoGradGuard no_grad;
            a -= learning_rate * a.grad();
            b -= learning_rate * b.grad();
            c -= learning_rate * c.grad();
            d -= learning_rate * d.grad();

            // Zero gradients for next iteration (a.grad = None)
            a.mutable_grad() = ctgrad::Tensor();
            b.mutable_grad() = ctgrad::Tensor();
            c.mutable_grad() = ctgrad::Tensor();
            d.mutable_grad() = ctgrad::Tensor();
        }
    }
    py::print("Result: y = " + py::str(a.item<double>()) + " + " + py::str(b.item<double>()) + " x + " +
              py::str(c.item<double>()) + " x^2 + " + py::str(d.item<double>()) + " x^3");
}
