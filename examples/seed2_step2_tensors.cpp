// The third seed text's Step 2 in ctgrad: fit y = sin(x) on [-pi, pi] with a cubic, float32
// tensors, gradients derived by hand, loss read back with .item() every step. Twin of
// ../shared/pytorch-seeds/seed2_step2_tensors.py: same seed, same numbers up to float rounding.
#include <numbers>

#include <ctgrad/tensor.hpp>

#include "common/device.hpp"
#include "common/pyprint.hpp"

int main(int argc, char** argv) {
    const ctgrad::Device device = examples::device_from_args(argc, argv);  // cpu, or cuda with --device cuda
    ctgrad::manual_seed(0);  // seed_all()
    const double pi = std::numbers::pi;  // math.pi

    // Create Tensors to hold input and output
    auto x = ctgrad::linspace(-pi, pi, 2000, ctgrad::device(device));
    auto y = ctgrad::sin(x);

    // Randomly initialize weights
    auto a = ctgrad::randn({}, ctgrad::dtype(ctgrad::kFloat).device(device));
    auto b = ctgrad::randn({}, ctgrad::dtype(ctgrad::kFloat).device(device));
    auto c = ctgrad::randn({}, ctgrad::dtype(ctgrad::kFloat).device(device));
    auto d = ctgrad::randn({}, ctgrad::dtype(ctgrad::kFloat).device(device));

    const double learning_rate = 1e-6;
    for (int t = 0; t < 2000; ++t) {
        // Forward pass: compute predicted y
        auto y_pred = a + b * x + c * x.pow(2) + d * x.pow(3);

        // Compute and print loss
        auto loss = (y_pred - y).pow(2).sum().item<double>();
        if (t % 100 == 99) py::print(t, loss);

        // Backprop to compute gradients
        auto grad_y_pred = 2.0 * (y_pred - y);
        auto grad_a = grad_y_pred.sum();
        auto grad_b = (grad_y_pred * x).sum();
        auto grad_c = (grad_y_pred * x.pow(2)).sum();
        auto grad_d = (grad_y_pred * x.pow(3)).sum();

        // Update weights
        a -= learning_rate * grad_a;
        b -= learning_rate * grad_b;
        c -= learning_rate * grad_c;
        d -= learning_rate * grad_d;
    }
    py::print("Result: y = " + py::str(a.item<double>()) + " + " + py::str(b.item<double>()) + " x + " +
              py::str(c.item<double>()) + " x^2 + " + py::str(d.item<double>()) + " x^3");
}
