// The third seed text's Step 4 in ctgrad: a custom autograd function, the Legendre polynomial
// P3(x) = (5x^3 - 3x) / 2 with its hand-written backward, in the model y = a + b P3(c + d x).
// Twin of ../shared/pytorch-seeds/seed2_step4_legendre.py: same numbers up to float rounding.
#include <numbers>

#include <ctgrad/autograd/function.hpp>
#include <ctgrad/tensor.hpp>

#include "common/device.hpp"
#include "common/pyprint.hpp"

using ctgrad::Tensor;
using ctgrad::autograd::AutogradContext;
using ctgrad::autograd::variable_list;

struct LegendrePolynomial3 : ctgrad::autograd::Function<LegendrePolynomial3> {
    static Tensor forward(AutogradContext* ctx, const Tensor& input) {
        ctx->save_for_backward({input});
        return 0.5 * (5 * input.pow(3) - 3 * input);
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
        auto input = ctx->get_saved_variables()[0];
        auto grad_output = grad_outputs[0];
        return {grad_output * 1.5 * (5 * input.pow(2) - 1)};
    }
};

int main(int argc, char** argv) {
    const ctgrad::Device device = examples::device_from_args(argc, argv);  // cpu, or cuda with --device cuda
    ctgrad::manual_seed(0);  // seed_all()
    const double pi = std::numbers::pi;  // math.pi

    // Prepare data
    auto x = ctgrad::linspace(-pi, pi, 2000, ctgrad::dtype(ctgrad::kFloat).device(device));
    auto y = ctgrad::sin(x);

    // Initialize weights
    auto a = ctgrad::full({}, 0.0, ctgrad::dtype(ctgrad::kFloat).device(device).requires_grad(true));
    auto b = ctgrad::full({}, -1.0, ctgrad::dtype(ctgrad::kFloat).device(device).requires_grad(true));
    auto c = ctgrad::full({}, 0.0, ctgrad::dtype(ctgrad::kFloat).device(device).requires_grad(true));
    auto d = ctgrad::full({}, 0.3, ctgrad::dtype(ctgrad::kFloat).device(device).requires_grad(true));

    const double learning_rate = 5e-6;
    for (int t = 0; t < 2000; ++t) {
        auto P3 = [](const Tensor& input) { return LegendrePolynomial3::apply(input); };  // P3 = .apply

        // Forward pass
        auto y_pred = a + b * P3(c + d * x);

        // Compute loss
        auto loss = (y_pred - y).pow(2).sum();
        if (t % 100 == 99) py::print(t, loss.item<double>());

        // Backward pass
        loss.backward();

        // Update weights
        {
            ctgrad::NoGradGuard no_grad;
            a -= learning_rate * a.grad();
            b -= learning_rate * b.grad();
            c -= learning_rate * c.grad();
            d -= learning_rate * d.grad();

            // Zero gradients (a.grad = None)
            a.mutable_grad() = Tensor();
            b.mutable_grad() = Tensor();
            c.mutable_grad() = Tensor();
            d.mutable_grad() = Tensor();
        }
    }
    py::print("Result: y = " + py::str(a.item<double>()) + " + " + py::str(b.item<double>()) + " * P3(" +
              py::str(c.item<double>()) + " + " + py::str(d.item<double>()) + " x)");
}
