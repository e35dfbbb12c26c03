// Compile cost: one translation unit that instantiates the seeds' cubic-fit value_and_grad
// (loss and four partials in one fused SIMD pass). bench/compile_cost/measure.sh times its
// compilation; bench/meson.build builds it so that it keeps compiling.
#include <cmath>
#include <cstdio>
#include <numbers>
#include <span>
#include <vector>

#include <ctgrad/expr.hpp>

using namespace ctgrad::expr;

struct cubic_step {
    float loss, ga, gb, gc, gd;
};

cubic_step cubic_value_and_grad(std::span<const float> xs, std::span<const float> ys, float av, float bv, float cv,
                                float dv) {
    constexpr var<"x"> x;
    constexpr var<"y"> y;
    constexpr var<"a"> a;
    constexpr var<"b"> b;
    constexpr var<"c"> c;
    constexpr var<"d"> d;
    constexpr auto loss = sum(pow<2>(a + b * x + c * pow<2>(x) + d * pow<3>(x) - y));
    auto [value, g] = value_and_grad(loss, wrt(a, b, c, d), x = xs, y = ys, a = av, b = bv, c = cv, d = dv);
    return {value, std::get<0>(g), std::get<1>(g), std::get<2>(g), std::get<3>(g)};
}

int main() {
    const std::size_t n = 2000;
    std::vector<float> xs(n), ys(n);
    for (std::size_t i = 0; i < n; ++i) {
        xs[i] = -std::numbers::pi_v<float> + 2 * std::numbers::pi_v<float> * static_cast<float>(i) / (n - 1);
        ys[i] = std::sin(xs[i]);
    }
    const cubic_step s = cubic_value_and_grad(xs, ys, 0.f, 1.f, 0.f, 0.f);
    std::printf("loss %g, gradient %g %g %g %g\n", double(s.loss), double(s.ga), double(s.gb), double(s.gc),
                double(s.gd));
}
