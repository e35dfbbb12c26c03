// The first seed text's "Curve fitting" in ctgrad: fit w0 x^2 + w1 x + w2 to 5x^2 + 3 with Adam
// (lr 0.1), 1000 steps, each on 100 fresh samples of U(-10, 10), loss mse_loss. The second text
// (seed1_curve_fit_adam.py) is the same program without comments: this twin stands for both.
// Twin of ../shared/pytorch-seeds/seed0_curve_fit_adam.py: same seed, same numbers up to float
// rounding.
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

#include "common/device.hpp"
#include "common/pyprint.hpp"

namespace F = ctgrad::nn::functional;

// Assuming we know that the desired function is a polynomial of 2nd degree, we allocate a
// vector of size 3 to hold the coefficients and initialize it with random noise.
// (torch.tensor(torch.randn(...), requires_grad=True) copies a fresh tensor: the copy is the leaf.)
ctgrad::Tensor w;

ctgrad::Tensor model(const ctgrad::Tensor& x) {
    // We define yhat to be our estimate of y.
    auto f = ctgrad::stack({x * x, x, ctgrad::ones_like(x)}, 1);
    auto yhat = f.matmul(w).squeeze(1);  // torch.squeeze(f @ w, 1)
    return yhat;
}

ctgrad::Tensor compute_loss(const ctgrad::Tensor& y, const ctgrad::Tensor& yhat) {
    // The loss is defined to be the mean squared error distance between our estimate of y and
    // its true value.
    auto loss = F::mse_loss(yhat, y);
    return loss;
}

std::pair<ctgrad::Tensor, ctgrad::Tensor> generate_data(ctgrad::Device device) {
    // Generate some training data based on the true function
    auto x = ctgrad::rand({100}, ctgrad::device(device)) * 20 - 10;
    auto y = 5 * x * x + 3;
    return {x, y};
}

int main(int argc, char** argv) {
    const ctgrad::Device device = examples::device_from_args(argc, argv);  // cpu, or cuda with --device cuda
    ctgrad::manual_seed(0);  // seed_all()
    w = ctgrad::randn({3, 1}, ctgrad::device(device)).clone().requires_grad_(true);

    // We use the Adam optimizer with learning rate set to 0.1 to minimize the loss.
    ctgrad::optim::Adam opt({w}, ctgrad::optim::AdamOptions(0.1));

    auto train_step = [&] {
        auto [x, y] = generate_data(device);

        auto yhat = model(x);
        auto loss = compute_loss(y, yhat);

        opt.zero_grad();
        loss.backward();
        opt.step();
    };

    for (int i = 0; i < 1000; ++i) train_step();

    py::print(ctgrad::numpy_str(w.detach()));
}
