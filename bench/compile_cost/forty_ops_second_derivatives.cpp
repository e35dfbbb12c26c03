// Compile cost: one translation unit with a 42-operation expression that mixes every op
// (+ - * / pow<N> sqrt exp log sin cos tan tanh sigmoid relu abs min max) over four parameters
// p, q, r, s and a data array x, and computes its Hessian with respect to the parameters:
// for each parameter v, value_and_grad(derivative(e, v), wrt(p, q, r, s)) gives one row
// (d e / d v and its four partials, in one fused pass over x). Four instantiations of
// value_and_grad over symbolic first derivatives: the compiler derives, simplifies and
// differentiates again. bench/compile_cost/measure.sh times its compilation.
#include <array>
#include <cmath>
#include <cstdio>
#include <span>
#include <vector>

#include <ctgrad/expr.hpp>

using namespace ctgrad::expr;

constexpr var<"x"> x;
constexpr var<"p"> p;
constexpr var<"q"> q;
constexpr var<"r"> r;
constexpr var<"s"> s;

// 42 operations (counted per node: each binary operator, function call and pow<N> is one):
// 32 in t1..t8, 10 in e.
constexpr auto t1 = tanh(p * x + q);                            // 3: *, +, tanh
constexpr auto t2 = sigmoid(r * x - s);                         // 3: *, -, sigmoid
constexpr auto t3 = sqrt(pow<2>(x) + 1.0);                      // 3: pow<2>, +, sqrt
constexpr auto t4 = log(1.0 + exp(-abs(p - x)));                // 6: -, abs, neg, exp, +, log
constexpr auto t5 = sin(q * x) * cos(s * x);                    // 5: *, sin, *, cos, *
constexpr auto t6 = tan(0.1 * r) * relu(x - p);                 // 5: *, tan, -, relu, *
constexpr auto t7 = max(t1, t2) - min(t3, 2.0);                 // 3: max, min, -
constexpr auto t8 = pow<3>(r) / (1.0 + pow<2>(s));              // 4: pow<3>, pow<2>, +, /
constexpr auto e = sum(pow<2>(t1 * t2 + t3 * t4 - t5 + t6 + t7 + t8 * x));  // 10: *, *, +, -, +, +, *, +, pow<2>, sum

using hessian = std::array<std::array<double, 4>, 4>;

hessian hessian_of_e(std::span<const double> xs, double pv, double qv, double rv, double sv) {
    hessian h{};
    auto row = [&](std::size_t i, auto v) {
        auto [dv, g] = value_and_grad(derivative(e, v), wrt(p, q, r, s), x = xs, p = pv, q = qv, r = rv, s = sv);
        static_cast<void>(dv);
        h[i] = {std::get<0>(g), std::get<1>(g), std::get<2>(g), std::get<3>(g)};
    };
    row(0, p);
    row(1, q);
    row(2, r);
    row(3, s);
    return h;
}

int main() {
    std::vector<double> xs(1000);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = -2.0 + 4.0 * static_cast<double>(i) / (xs.size() - 1);
    const hessian h = hessian_of_e(xs, 0.3, -0.2, 0.5, 0.7);
    for (const auto& row : h) std::printf("%12.6g %12.6g %12.6g %12.6g\n", row[0], row[1], row[2], row[3]);
}
