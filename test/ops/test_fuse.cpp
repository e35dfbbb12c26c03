// ctgrad::fuse: expressions as one autograd node against the dynamic ops and finite differences
// (float and double), broadcasts, reductions, second derivatives through create_graph, errors.
#include "../support/errors.hpp"
#include "../support/numeric_checks.hpp"
#include <ctgrad/ops/fuse.hpp>
#include <ctgrad/expr.hpp>
#include <ctgrad/tensor.hpp>
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace {

using ctgrad::Tensor;
using ctgrad_test::numeric_checks::central_difference;
using ctgrad_test::numeric_checks::check_all_close;
using ctgrad_test::numeric_checks::close;
using ctgrad_test::numeric_checks::value;
namespace ce = ctgrad::expr;

#define CHECK_ERROR_HAS(call, text) CTGRAD_CHECK_ERROR(call, text)

constexpr ce::var<"x"> x_;
constexpr ce::var<"y"> y_;
constexpr ce::var<"a"> a_;
constexpr ce::var<"b"> b_;
constexpr ce::var<"c"> c_;
constexpr ce::var<"d"> d_;
constexpr ce::var<"s"> s_;
// The third seed's cubic fit, as one expression.
constexpr auto cubic_loss = ce::sum(ce::pow<2>(a_ + b_ * x_ + c_ * ce::pow<2>(x_) + d_ * ce::pow<3>(x_) - y_));

struct cubic_problem {
    Tensor x, y, a, b, c, d;
    explicit cubic_problem(ctgrad::ScalarType dtype, bool x_requires_grad = false) {
        const auto o = ctgrad::dtype(dtype);
        x = ctgrad::linspace(-3.14159265358979, 3.14159265358979, 2000, o);
        y = ctgrad::sin(x);
        if (x_requires_grad) x.requires_grad_();
        a = ctgrad::tensor(0.1, o).requires_grad_();
        b = ctgrad::tensor(-0.9, o).requires_grad_();
        c = ctgrad::tensor(0.05, o).requires_grad_();
        d = ctgrad::tensor(0.12, o).requires_grad_();
    }
    Tensor fused() const { return ctgrad::fuse(cubic_loss, x_ = x, y_ = y, a_ = a, b_ = b, c_ = c, d_ = d); }
    Tensor dynamic() const { return (a + b * x + c * x.pow(2) + d * x.pow(3) - y).pow(2).sum(); }
    std::vector<Tensor*> params() { return {&a, &b, &c, &d}; }
    std::vector<Tensor> take_grads() {
        std::vector<Tensor> g;
        for (Tensor* p : params()) {
            g.push_back(p->grad());
            p->mutable_grad() = Tensor();
        }
        return g;
    }
};

TEST_CASE("fuse: the cubic-fit loss is one node and equals the dynamic ops") {
    for (auto dtype : {ctgrad::kFloat, ctgrad::kDouble}) {
        CAPTURE(ctgrad::dtype_name(dtype));
        const double tol = dtype == ctgrad::kFloat ? 2e-5 : 1e-12;
        cubic_problem p(dtype);
        Tensor L = p.fused();
        CHECK(L.dim() == 0);
        CHECK(L.scalar_type() == dtype);
        REQUIRE(L.grad_fn());
        CHECK(L.grad_fn()->name() == "FusedBackward0");
        CHECK(L.grad_fn()->next_edges().size() == 6);
        for (const auto& e : L.grad_fn()->next_edges())
            if (e.is_valid()) CHECK(e.function->name() == "torch::autograd::AccumulateGrad");
        L.backward();
        const std::vector<Tensor> fused_grads = p.take_grads();

        Tensor D = p.dynamic();
        CHECK(close(value(L), value(D), tol));
        D.backward();
        const std::vector<Tensor> dynamic_grads = p.take_grads();
        for (int k = 0; k < 4; ++k) CHECK(close(value(fused_grads[k]), value(dynamic_grads[k]), tol));

        // restricting the targets with wrt(...) gives the same numbers
        Tensor W = ctgrad::fuse(cubic_loss, ce::wrt(a_, b_, c_, d_), x_ = p.x, y_ = p.y, a_ = p.a, b_ = p.b, c_ = p.c, d_ = p.d);
        CHECK(value(W) == value(L));
        W.backward();
        const std::vector<Tensor> wrt_grads = p.take_grads();
        for (int k = 0; k < 4; ++k) CHECK(value(wrt_grads[k]) == value(fused_grads[k]));

        if (dtype == ctgrad::kDouble) {
            for (int k = 0; k < 4; ++k) {
                const double fd = central_difference([&] { return value(p.fused()); }, *p.params()[static_cast<std::size_t>(k)], 0);
                CHECK(close(value(fused_grads[k]), fd, 1e-7));
            }
        }
    }
}

TEST_CASE("fuse: gradients of bound arrays (one more pass) and numbers as bindings") {
    cubic_problem p(ctgrad::kDouble, true);
    p.fused().backward();
    const Tensor fused_x = p.x.grad();
    const auto fused = p.take_grads();
    p.x.mutable_grad() = Tensor();
    p.dynamic().backward();
    check_all_close(fused_x, p.x.grad(), 1e-12);
    const auto dynamic = p.take_grads();
    for (int k = 0; k < 4; ++k) CHECK(close(value(fused[k]), value(dynamic[k]), 1e-12));
    for (std::int64_t i : {0, 777, 1999})
        CHECK(close(fused_x.data_ptr<double>()[i], central_difference([&] { return value(p.fused()); }, p.x, i), 1e-6));

    // a = 0.1 bound as a number: no edge for it, the same value
    Tensor L = ctgrad::fuse(cubic_loss, x_ = p.x, y_ = p.y, a_ = 0.1, b_ = p.b, c_ = p.c, d_ = p.d);
    CHECK(L.grad_fn()->next_edges().size() == 5);
    CHECK(close(value(L), value(p.dynamic()), 1e-13));
}

TEST_CASE("fuse: an element-wise expression broadcasts a one-element tensor") {
    using namespace ce;
    Tensor x = ctgrad::linspace(-1, 2, 12, ctgrad::kDouble).reshape({3, 4}).requires_grad_();
    Tensor a = ctgrad::tensor(0.7, ctgrad::dtype(ctgrad::kDouble).requires_grad(true));
    Tensor b = ctgrad::full({1, 1}, -0.3, ctgrad::dtype(ctgrad::kDouble).requires_grad(true));
    Tensor g = ctgrad::linspace(0.5, 1.5, 12, ctgrad::kDouble).reshape({3, 4});

    Tensor E = ctgrad::fuse(a_ * exp(x_) + sin(b_ * x_) / (1_c + pow<2>(x_)), x_ = x, a_ = a, b_ = b);
    Tensor D = a * ctgrad::exp(x) + ctgrad::sin(b * x) / (1 + x.pow(2));
    CHECK(E.grad_fn()->name() == "FusedBackward0");
    CHECK(E.sizes() == std::vector<std::int64_t>{3, 4});
    check_all_close(E, D, 1e-14);

    auto fused = ctgrad::autograd::grad({E}, {x, a, b}, {g});
    auto dynamic = ctgrad::autograd::grad({D}, {x, a, b}, {g});
    for (int k = 0; k < 3; ++k) check_all_close(fused[k], dynamic[k], 1e-13);
    CHECK(fused[2].sizes() == std::vector<std::int64_t>{1, 1});

    SUBCASE("a non-contiguous operand and a broadcast incoming gradient") {
        Tensor xt = x.t();
        Tensor Et = ctgrad::fuse(a_ * exp(x_), x_ = xt, a_ = a);
        check_all_close(Et, a * ctgrad::exp(xt), 1e-15);
        auto gt = ctgrad::autograd::grad({Et.sum()}, {x, a});
        auto dt = ctgrad::autograd::grad({(a * ctgrad::exp(xt)).sum()}, {x, a});
        check_all_close(gt[0], dt[0], 1e-14);
        check_all_close(gt[1], dt[1], 1e-14);
    }
}

TEST_CASE("fuse: reductions next to element-wise parts") {
    using namespace ce;
    Tensor x = ctgrad::linspace(-2, 3, 7, ctgrad::kDouble).requires_grad_();
    Tensor s = ctgrad::tensor(1.5, ctgrad::dtype(ctgrad::kDouble).requires_grad(true));
    SUBCASE("element-wise with a mean inside: x - mean(x), scaled") {
        Tensor g = ctgrad::linspace(1, 2, 7, ctgrad::kDouble);
        Tensor E = ctgrad::fuse(s_ * (x_ - mean(x_)), x_ = x, s_ = s);
        Tensor D = s * (x - x.mean());
        check_all_close(E, D, 1e-14);
        auto fused = ctgrad::autograd::grad({E}, {x, s}, {g});
        auto dynamic = ctgrad::autograd::grad({D}, {x, s}, {g});
        check_all_close(fused[0], dynamic[0], 1e-13);
        check_all_close(fused[1], dynamic[1], 1e-13);
    }
    SUBCASE("scalar-valued with a scalar outside: log(sum(x^2)) * s + mean(s * x)") {
        Tensor L = ctgrad::fuse(log(sum(pow<2>(x_))) * s_ + mean(s_ * x_), x_ = x, s_ = s);
        Tensor D = ctgrad::log(x.pow(2).sum()) * s + (s * x).mean();
        CHECK(L.dim() == 0);
        CHECK(close(value(L), value(D), 1e-14));
        auto fused = ctgrad::autograd::grad({L}, {x, s});
        auto dynamic = ctgrad::autograd::grad({D}, {x, s});
        check_all_close(fused[0], dynamic[0], 1e-13);
        check_all_close(fused[1], dynamic[1], 1e-13);
        // sum() of a one-element tensor counts it once per element of the domain
        Tensor N = ctgrad::fuse(sum(s_ + 0_c * x_), x_ = x, s_ = s);
        CHECK(close(value(N), 7 * 1.5, 1e-15));
        CHECK(close(value(ctgrad::autograd::grad({N}, {s})[0]), 7, 1e-15));
    }
}

TEST_CASE("fuse: second derivatives through create_graph equal the dynamic ops'") {
    using namespace ce;
    cubic_problem p(ctgrad::kDouble, true);
    SUBCASE("scalar-valued: Hessian entries of the cubic loss") {
        const std::vector<Tensor> wrt_params{p.a, p.b, p.c, p.d, p.x};
        auto fused_g = ctgrad::autograd::grad({p.fused()}, wrt_params, {}, std::nullopt, true);
        auto dynamic_g = ctgrad::autograd::grad({p.dynamic()}, wrt_params, {}, std::nullopt, true);
        for (int k = 0; k < 5; ++k) {
            CHECK(fused_g[k].requires_grad());
            check_all_close(fused_g[k], dynamic_g[k], 1e-12);
        }
        // d/d(a, b, c, d, x) of dL/dd and of sum(dL/dx)
        for (const Tensor& target : {fused_g[3], fused_g[4].sum()}) {
            const Tensor& dynamic_target = target.is_same(fused_g[3]) ? dynamic_g[3] : dynamic_g[4].sum();
            auto h = ctgrad::autograd::grad({target}, wrt_params, {}, true);
            auto hd = ctgrad::autograd::grad({dynamic_target}, wrt_params, {}, true);
            for (int k = 0; k < 5; ++k) check_all_close(h[k], hd[k], 1e-11);
        }
    }
    SUBCASE("element-wise: d2/dx2 of x*exp(a*x) against the formula") {
        Tensor x = ctgrad::linspace(-1, 1, 9, ctgrad::kDouble).requires_grad_();
        Tensor a = ctgrad::tensor(0.8, ctgrad::dtype(ctgrad::kDouble).requires_grad(true));
        Tensor E = ctgrad::fuse(x_ * exp(a_ * x_), x_ = x, a_ = a);
        Tensor g = ctgrad::autograd::grad({E.sum()}, {x}, {}, std::nullopt, true)[0];
        auto h = ctgrad::autograd::grad({g.sum()}, {x, a});
        const Tensor xd = x.detach();
        const Tensor e = ctgrad::exp(0.8 * xd);
        check_all_close(h[0], e * (2 * 0.8 + 0.8 * 0.8 * xd), 1e-13);           // (2a + a^2 x) e^{ax}
        check_all_close(h[1], (e * (2 * xd + 0.8 * xd * xd)).sum(), 1e-13);     // sum of (2x + a x^2) e^{ax}
    }
}

TEST_CASE("fuse: saved tensors, freed graphs and no-grad mode") {
    cubic_problem p(ctgrad::kFloat);
    SUBCASE("an in-place change of a bound tensor after fuse is an error at backward") {
        Tensor L = p.fused();
        p.y.add_(1);
        CHECK_ERROR_HAS(L.backward(), "modified by an inplace operation: [torch.FloatTensor [2000]] is at version 1; "
                                      "expected version 0 instead.");
    }
    SUBCASE("a second backward through a freed graph") {
        Tensor L = p.fused();
        L.backward();
        CHECK_ERROR_HAS(L.backward(), "Trying to backward through the graph a second time");
    }
    SUBCASE("no graph in no-grad mode, or when no bound tensor requires grad") {
        {
            ctgrad::NoGradGuard no_grad;
            CHECK(!p.fused().requires_grad());
        }
        Tensor L = ctgrad::fuse(cubic_loss, x_ = p.x, y_ = p.y, a_ = p.a.detach(), b_ = 1.0, c_ = 0.0, d_ = 0.0);
        CHECK(!L.requires_grad());
        CHECK(close(value(L), value((p.a.detach() + p.x - p.y).pow(2).sum()), 2e-5));
    }
}

TEST_CASE("fuse: errors name the variables, and nothing is recorded") {
    using namespace ce;
    Tensor x = ctgrad::ones({2000});
    Tensor y = ctgrad::ones({1000});
    Tensor a = ctgrad::tensor(1.0, ctgrad::requires_grad());
    CHECK_ERROR_HAS(ctgrad::fuse(sum(a_ * x_ - y_), x_ = x, y_ = y, a_ = a),
                    "ctgrad::fuse: bound tensors have different shapes: x has shape [2000] but y has shape [1000]");
    CHECK_ERROR_HAS(ctgrad::fuse(sum(a_ * x_ - y_), x_ = x, y_ = x.to(ctgrad::kDouble), a_ = a),
                    "ctgrad::fuse: bound tensors have different dtypes: x has dtype Float but y has dtype Double");
    CHECK_ERROR_HAS(ctgrad::fuse(sum(a_ * x_), x_ = ctgrad::ones({3}, ctgrad::kLong), a_ = a),
                    "ctgrad::fuse: x has dtype Long, but fuse reads float or double tensors");
    CHECK_ERROR_HAS(ctgrad::fuse(sum(a_ * x_), x_ = Tensor(), a_ = a), "ctgrad::fuse: x is bound to an undefined tensor");
    CHECK_ERROR_HAS(ctgrad::fuse(sum(a_ * x_), wrt(x_), x_ = x, a_ = a),
                    "ctgrad::fuse: a requires grad but is not a variable of wrt(...)");
    CHECK(!a.grad().defined());
    CHECK(a.is_leaf());
}

}  // namespace
