// The third seed text's Step 1 ("Warm-up: NumPy") in C++: fit y = sin(x) on [-pi, pi] with a
// cubic in float64 arrays, gradients derived by hand. NumPy's role is played by xtensor, the
// NumPy-shaped array library ctgrad builds on; np.random by numpy's own generator, re-created in
// common/numpy_random.hpp. Twin of ../shared/pytorch-seeds/seed2_step1_numpy.py.
#include <numbers>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>

#include "common/numpy_random.hpp"
#include "common/pyprint.hpp"

int main() {
    np::random::seed(0);  // seed_all()
    const double pi = std::numbers::pi;  // math.pi

    // Create random input and output data
    xt::xarray<double> x = xt::linspace(-pi, pi, 2000);
    xt::xarray<double> y = xt::sin(x);

    // Randomly initialize weights
    double a = np::random::randn();
    double b = np::random::randn();
    double c = np::random::randn();
    double d = np::random::randn();

    const double learning_rate = 1e-6;
    for (int t = 0; t < 2000; ++t) {
        // Forward pass: compute predicted y
        xt::xarray<double> y_pred = a + b * x + c * xt::pow(x, 2) + d * xt::pow(x, 3);

        // Compute and print loss
        const double loss = xt::sum(xt::square(y_pred - y))();
        if (t % 100 == 99) py::print(t, loss);

        // Backprop to compute gradients
        xt::xarray<double> grad_y_pred = 2.0 * (y_pred - y);
        const double grad_a = xt::sum(grad_y_pred)();
        const double grad_b = xt::sum(grad_y_pred * x)();
        const double grad_c = xt::sum(grad_y_pred * xt::pow(x, 2))();
        const double grad_d = xt::sum(grad_y_pred * xt::pow(x, 3))();

        // Update weights
        a -= learning_rate * grad_a;
        b -= learning_rate * grad_b;
        c -= learning_rate * grad_c;
        d -= learning_rate * grad_d;
    }
    py::print("Result: y = " + py::repr(a) + " + " + py::repr(b) + " x + " + py::repr(c) + " x^2 + " +
              py::repr(d) + " x^3");
}
