// Polynomial regression in the style of pytorch/examples' cpp/regression: a random polynomial
// of degree 4, y = w . (x, x^2, x^3, x^4) + b, learnt by one nn::Linear(4, 1) from random
// batches of 32 points with SGD until the smooth L1 loss falls below 1e-3. The points are uniform
// in [-1, 1) (the original draws them from a normal distribution, whose rare large x make the
// float32 trajectory of x^4 features so sensitive that two correct implementations part after a
// few hundred steps; on [-1, 1) float32 and float64 runs agree to 2e-5 to the end).
//
// Written as a libtorch program (`namespace torch = ctgrad;` is the only change from one), and
// tested against tools/reference_examples.py, which runs the same steps in PyTorch 1.13 after
// the same manual_seed: ctgrad's generator and Linear's initialisation are PyTorch's, so the two
// runs draw the same polynomial, weights and batches, and print the same numbers
// (examples/expected/regression.txt).
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

namespace torch = ctgrad;

namespace {

constexpr std::int64_t poly_degree = 4;
constexpr std::int64_t batch_size = 32;

// The features of x: a matrix with the columns x, x^2, x^3, x^4.
torch::Tensor make_features(const torch::Tensor& x) {
    const auto column = x.unsqueeze(1);
    std::vector<torch::Tensor> powers;
    for (std::int64_t i = 1; i <= poly_degree; ++i) powers.push_back(column.pow(i));
    return torch::cat(powers, 1);
}

// "y = +1.2345 x^4 -0.5000 x^3 ... +3.0000", highest power first, as the original writes it.
std::string poly_desc(const torch::Tensor& weights, const torch::Tensor& bias) {
    const auto w = weights.contiguous();
    std::string text = "y =";
    char term[64];
    for (std::int64_t i = w.size(0); i-- > 0;) {
        std::snprintf(term, sizeof term, " %+.4f x^%lld", w[i].item<double>(), static_cast<long long>(i + 1));
        text += term;
    }
    std::snprintf(term, sizeof term, " %+.4f", bias[0].item<double>());
    return text + term;
}

}  // namespace

int main() {
    torch::manual_seed(0);
    // The polynomial to learn: weights and bias drawn once, at the start.
    const auto w_target = torch::randn({poly_degree, 1}) * 5;
    const auto b_target = torch::randn({1}) * 5;
    auto target_function = [&](const torch::Tensor& x) { return x.mm(w_target) + b_target.item<float>(); };

    torch::nn::Linear fc(w_target.size(0), 1);
    torch::optim::SGD optimizer(fc->parameters(), 0.1);

    float loss = 0;
    std::int64_t batch_idx = 0;
    while (++batch_idx) {
        // A batch of random points and their values on the target polynomial.
        const auto random = torch::rand({batch_size}) * 2 - 1;
        const auto batch_x = make_features(random);
        const auto batch_y = target_function(batch_x);

        optimizer.zero_grad();
        auto output = torch::smooth_l1_loss(fc(batch_x), batch_y);
        loss = output.item<float>();
        output.backward();
        optimizer.step();

        if (batch_idx % 500 == 0) std::printf("Batch %lld loss: %.6f\n", static_cast<long long>(batch_idx), loss);
        if (loss < 1e-3f) break;
    }

    std::printf("Loss: %.6f after %lld batches\n", loss, static_cast<long long>(batch_idx));
    std::printf("==> Learned function:\t%s\n", poly_desc(fc->weight.view({-1}), fc->bias).c_str());
    std::printf("==> Actual function:\t%s\n", poly_desc(w_target.view({-1}), b_target).c_str());
}
