// The third seed text's first two steps — fitting y = sin(x) on [-pi, pi] with a cubic by
// gradient descent — written with ctgrad's static layer. The loss is a type; its four partial
// derivatives are derived at compile time and computed with the loss in ONE fused SIMD pass over
// x and y per step: no temporaries, no tape, no allocation in the loop.
//
// The PyTorch original draws a, b, c, d with torch.randn after torch.manual_seed(0); the four
// numbers it gets are used here, so the run can be compared with PyTorch's line by line
// (../shared/pytorch-seeds/seed2_step2_tensors.py: final loss 12.28667).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <numbers>
#include <vector>

#include <ctgrad/expr.hpp>

// Python prints a float32 result (widened to double) as the shortest text that reads back exactly.
static std::string py(float value) {
    char text[32];
    const auto end = std::to_chars(text, text + sizeof text, static_cast<double>(value)).ptr;
    return {text, end};
}

int main() {
    using namespace ctgrad::expr;
    constexpr var<"x"> x;
    constexpr var<"y"> y;
    constexpr var<"a"> a;
    constexpr var<"b"> b;
    constexpr var<"c"> c;
    constexpr var<"d"> d;

    // Create input and output data: x = linspace(-pi, pi, 2000), y = sin(x)
    const std::size_t n = 2000;
    std::vector<float> xs(n), ys(n);
    const float pi = std::numbers::pi_v<float>;
    for (std::size_t i = 0; i < n; ++i) {
        // torch.linspace fills the second half from the end, so both ends are exact
        const float step = 2 * pi / static_cast<float>(n - 1);
        xs[i] = i < n / 2 ? -pi + step * static_cast<float>(i) : pi - step * static_cast<float>(n - 1 - i);
        ys[i] = std::sin(xs[i]);
    }

    // torch.manual_seed(0); a, b, c, d = (torch.randn((), dtype=torch.float) for 4 draws)
    float av = 1.5409960746765137f, bv = -0.293428897857666f, cv = -2.1787893772125244f, dv = 0.5684312582015991f;

    // The model and its loss, as one expression: sum((a + b x + c x^2 + d x^3 - y)^2)
    constexpr auto y_pred = a + b * x + c * pow<2>(x) + d * pow<3>(x);
    constexpr auto loss = sum(pow<2>(y_pred - y));

    const float learning_rate = 1e-6f;
    for (int t = 0; t < 2000; ++t) {
        // Forward and backward in one pass: the loss and d loss / d(a, b, c, d)
        auto [value, grads] = value_and_grad(loss, wrt(a, b, c, d), x = xs, y = ys, a = av, b = bv, c = cv, d = dv);
        if (t % 100 == 99) std::printf("%d %s\n", t, py(value).c_str());

        // Update weights
        av -= learning_rate * std::get<0>(grads);
        bv -= learning_rate * std::get<1>(grads);
        cv -= learning_rate * std::get<2>(grads);
        dv -= learning_rate * std::get<3>(grads);
    }
    std::printf("Result: y = %s + %s x + %s x^2 + %s x^3\n", py(av).c_str(), py(bv).c_str(), py(cv).c_str(),
                py(dv).c_str());
    std::printf("d loss / dc, derived at compile time: %s\n", to_string(derivative(loss, c)).c_str());
}
