// Custom autograd functions (ctgrad::autograd::Function<T>) and ctgrad::fuse:
//  - the seeds' ExampleFunction and LegendrePolynomial3, against finite differences and the same
//    computation written with dynamic ops; non-tensor arguments, several outputs,
//    needs_input_grad, saved_data, mark_dirty / mark_non_differentiable, the version-counter and
//    freed-graph errors, double backward through a Function;
//  - fuse: the cubic-fit loss as one node against the dynamic ops and finite differences (float
//    and double), element-wise expressions with a broadcast scalar tensor, expressions mixing
//    reductions and element-wise parts, second derivatives through create_graph, and the errors.
#include "../support/errors.hpp"
#include <ctgrad/autograd/fuse.hpp>
#include <ctgrad/expr.hpp>
#include <ctgrad/tensor.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace {

using ctgrad::Tensor;
using ctgrad::autograd::AutogradContext;
using ctgrad::autograd::variable_list;
namespace ce = ctgrad::expr;

#define CHECK_ERROR_HAS(call, text) CTGRAD_CHECK_ERROR(call, text)

double value(const Tensor& t) { return t.item().to_double(); }

bool close(double a, double b, double tol) { return std::abs(a - b) <= tol * (1 + std::abs(b)); }

// Every element of a and b within tol (relative, absolute near 0), same shape.
void check_all_close(const Tensor& a, const Tensor& b, double tol) {
    REQUIRE(a.defined());
    REQUIRE(b.defined());
    REQUIRE(a.sizes() == b.sizes());
    const Tensor da = a.to(ctgrad::kDouble).contiguous(), db = b.to(ctgrad::kDouble).contiguous();
    const double* pa = da.data_ptr<double>();
    const double* pb = db.data_ptr<double>();
    for (std::int64_t i = 0; i < a.numel(); ++i)
        CHECK_MESSAGE(close(pa[i], pb[i], tol), "element ", i, ": ", pa[i], " vs ", pb[i]);
}

// Central difference of the scalar f() along element i of t (float64 tensors, changed in place
// under no_grad and restored).
double central_difference(const std::function<double()>& f, Tensor& t, std::int64_t i, double h = 1e-6) {
    ctgrad::NoGradGuard no_grad;
    double* p = t.data_ptr<double>() + i;
    const double keep = *p;
    *p = keep + h;
    const double up = f();
    *p = keep - h;
    const double down = f();
    *p = keep;
    return (up - down) / (2 * h);
}

// ---- custom functions ------------------------------------------------------------------------

struct ExampleFunction : public ctgrad::autograd::Function<ExampleFunction> {
    static Tensor forward(AutogradContext* ctx, Tensor x, Tensor y) {
        ctx->save_for_backward({x, y});
        return x + y;
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
        auto saved = ctx->get_saved_variables();
        return {ctx->needs_input_grad(0) ? grad_outputs[0] : Tensor(),
                ctx->needs_input_grad(1) ? grad_outputs[0] : Tensor()};
    }
};

struct LegendrePolynomial3 : public ctgrad::autograd::Function<LegendrePolynomial3> {
    static Tensor forward(AutogradContext* ctx, Tensor input) {
        ctx->save_for_backward({input});
        return 0.5 * (5 * input.pow(3) - 3 * input);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
        Tensor input = ctx->get_saved_variables()[0];
        return {grad_output[0] * 1.5 * (5 * input.pow(2) - 1)};
    }
};

TEST_CASE("Function: the seed's ExampleFunction") {
    Tensor x = ctgrad::tensor(2.0, ctgrad::requires_grad());
    Tensor y = ctgrad::tensor(3.0, ctgrad::requires_grad());
    Tensor z = ExampleFunction::apply(x, y);
    CHECK(value(z) == 5);
    REQUIRE(z.grad_fn());
    CHECK(z.grad_fn()->name() == "torch::autograd::CppNode<(anonymous namespace)::ExampleFunction>");
    CHECK(z.grad_fn()->next_edges().size() == 2);
    z.backward();
    CHECK(value(x.grad()) == 1);
    CHECK(value(y.grad()) == 1);
}

TEST_CASE("Function: LegendrePolynomial3 against the formula, finite differences and dynamic ops") {
    Tensor x = ctgrad::linspace(-3.14159265358979, 3.14159265358979, 50, ctgrad::kDouble);
    Tensor y = ctgrad::sin(x);
    Tensor a = ctgrad::tensor(0.1, ctgrad::dtype(ctgrad::kDouble).requires_grad(true));
    Tensor b = ctgrad::tensor(-1.0, ctgrad::dtype(ctgrad::kDouble).requires_grad(true));
    Tensor c = ctgrad::tensor(0.2, ctgrad::dtype(ctgrad::kDouble).requires_grad(true));
    Tensor d = ctgrad::tensor(0.3, ctgrad::dtype(ctgrad::kDouble).requires_grad(true));
    auto loss_of = [&] { return (a + b * LegendrePolynomial3::apply(c + d * x) - y).pow(2).sum(); };

    SUBCASE("forward is 0.5*(5x^3 - 3x), backward g*1.5*(5x^2 - 1)") {
        Tensor p = LegendrePolynomial3::apply(x);
        const Tensor xd = x.contiguous();
        for (std::int64_t i = 0; i < 50; ++i) {
            const double v = xd.data_ptr<double>()[i];
            CHECK(close(p.data_ptr<double>()[i], 0.5 * (5 * v * v * v - 3 * v), 1e-14));
        }
        Tensor xr = x.clone().requires_grad_();
        Tensor g = ctgrad::autograd::grad({LegendrePolynomial3::apply(xr).sum()}, {xr})[0];
        for (std::int64_t i = 0; i < 50; ++i) {
            const double v = xd.data_ptr<double>()[i];
            CHECK(close(g.data_ptr<double>()[i], 1.5 * (5 * v * v - 1), 1e-14));
        }
    }
    SUBCASE("the seed's loss: gradients equal finite differences and the dynamic-ops version") {
        loss_of().backward();
        Tensor* params[] = {&a, &b, &c, &d};
        for (Tensor* p : params) {
            const double fd = central_difference([&] { return value(loss_of()); }, *p, 0);
            CHECK(close(value(p->grad()), fd, 1e-6));
        }
        std::vector<double> by_function;
        for (Tensor* p : params) {
            by_function.push_back(value(p->grad()));
            p->mutable_grad() = Tensor();
        }
        Tensor t = c + d * x;
        (a + b * (0.5 * (5 * t.pow(3) - 3 * t)) - y).pow(2).sum().backward();
        for (int k = 0; k < 4; ++k) CHECK(close(by_function[k], value(params[k]->grad()), 1e-12));
    }
    SUBCASE("double backward: the backward's tensor ops record a graph under create_graph") {
        Tensor xr = x.clone().requires_grad_();
        Tensor g = ctgrad::autograd::grad({LegendrePolynomial3::apply(xr).sum()}, {xr}, {}, std::nullopt, true)[0];
        CHECK(g.requires_grad());
        Tensor h = ctgrad::autograd::grad({g.sum()}, {xr})[0];
        check_all_close(h, 15 * x, 1e-12);
    }
}

// forward(ctx, Tensor, double, int, string, Tensor): the non-tensor arguments get no gradient.
struct ScaledSum : public ctgrad::autograd::Function<ScaledSum> {
    static Tensor forward(AutogradContext* ctx, Tensor x, double k, int n, std::string tag, Tensor y) {
        ctx->saved_data["k"] = k;
        ctx->saved_data["n"] = n;
        ctx->saved_data["tag"] = tag;
        ctx->saved_data["flag"] = true;
        ctx->saved_data["y"] = y;
        ctx->save_for_backward({x});
        return x * k + y * static_cast<double>(n);
    }
    static variable_list backward(AutogradContext* ctx, variable_list g) {
        const double k = ctx->saved_data["k"].toDouble();
        const std::int64_t n = ctx->saved_data["n"].toInt();
        CHECK(ctx->saved_data["tag"].toStringRef() == "scaled");
        CHECK(ctx->saved_data["flag"].toBool());
        CHECK(ctx->saved_data["y"].toTensor().sizes() == g[0].sizes());
        needs = {ctx->needs_input_grad(0), ctx->needs_input_grad(1)};
        return {g[0] * k, Tensor(), Tensor(), Tensor(), ctx->needs_input_grad(1) ? g[0] * static_cast<double>(n) : Tensor()};
    }
    static inline std::vector<bool> needs;
};

TEST_CASE("Function: non-tensor arguments, saved_data and needs_input_grad") {
    Tensor x = ctgrad::tensor({1.0, 2.0, 3.0}, ctgrad::requires_grad());
    Tensor y = ctgrad::tensor({4.0, 5.0, 6.0});
    Tensor z = ScaledSum::apply(x, 2.5, 3, std::string("scaled"), y);
    CHECK(z.grad_fn()->next_edges().size() == 2);  // one edge per Tensor argument
    check_all_close(z, ctgrad::tensor({14.5, 20.0, 25.5}), 1e-7);
    z.sum().backward();
    check_all_close(x.grad(), ctgrad::full({3}, 2.5), 1e-7);
    CHECK(!y.grad().defined());
    CHECK(ScaledSum::needs == std::vector<bool>{true, false});

    SUBCASE("both tensors require grad") {
        Tensor y2 = y.clone().requires_grad_();
        ScaledSum::apply(x, 2.5, 3, std::string("scaled"), y2).sum().backward();
        CHECK(ScaledSum::needs == std::vector<bool>{true, true});
        check_all_close(y2.grad(), ctgrad::full({3}, 3.0), 1e-7);
    }
    SUBCASE("IValue conversions check the kind held") {
        ctgrad::IValue v(0.5);
        CHECK(v.isDouble());
        CHECK(ctgrad::IValue(std::int64_t{7}).toInt() == 7);
        CHECK(ctgrad::IValue("s").toStringRef() == "s");
        CHECK(ctgrad::IValue().isNone());
        CHECK_ERROR_HAS(v.toInt(), "IValue::toInt: expected Int but got Double");
        CHECK_ERROR_HAS(v.toTensor(), "expected Tensor but got Double");
    }
}

// Returns a gradient for the number argument, or too few gradients.
struct BadGradients : public ctgrad::autograd::Function<BadGradients> {
    static Tensor forward(AutogradContext* ctx, Tensor x, double k) {
        ctx->saved_data["mode"] = static_cast<std::int64_t>(k);
        return x * k;
    }
    static variable_list backward(AutogradContext* ctx, variable_list g) {
        switch (ctx->saved_data["mode"].toInt()) {
            case 1: return {g[0]};                            // too few
            case 2: return {g[0], g[0]};                      // a gradient for the double
            default: return {g[0] * 3.0, Tensor(), Tensor()};  // extra undefined ones are fine
        }
    }
};

TEST_CASE("Function: libtorch's checks on what backward returns") {
    Tensor x = ctgrad::ones({2}, ctgrad::requires_grad());
    CHECK_ERROR_HAS(BadGradients::apply(x, 1.0).sum().backward(),
                    "function torch::autograd::CppNode<(anonymous namespace)::BadGradients> returned an incorrect "
                    "number of gradients (expected 2, got 1)");
    CHECK_ERROR_HAS(BadGradients::apply(x, 2.0).sum().backward(),
                    "returned a gradient different that is defined at position 2, but the corresponding forward input "
                    "was not a Variable");
    CHECK(!x.grad().defined());
    BadGradients::apply(x, 3.0).sum().backward();
    check_all_close(x.grad(), ctgrad::full({2}, 3.0), 0);
}

struct SumAndProduct : public ctgrad::autograd::Function<SumAndProduct> {
    static variable_list forward(AutogradContext* ctx, Tensor x, Tensor y) {
        ctx->save_for_backward({x, y});
        return {x + y, x * y};
    }
    static variable_list backward(AutogradContext* ctx, variable_list g) {
        auto s = ctx->get_saved_variables();
        last_grads = g;
        return {g[0] + g[1] * s[1], g[0] + g[1] * s[0]};
    }
    static inline variable_list last_grads;
};

TEST_CASE("Function: several outputs") {
    Tensor x = ctgrad::tensor({1.0, 2.0}, ctgrad::requires_grad());
    Tensor y = ctgrad::tensor({3.0, 5.0}, ctgrad::requires_grad());
    variable_list out = SumAndProduct::apply(x, y);
    REQUIRE(out.size() == 2);
    CHECK(out[0].output_nr() == 0);
    CHECK(out[1].output_nr() == 1);
    CHECK(out[0].grad_fn() == out[1].grad_fn());
    (out[0].sum() + 2 * out[1].sum()).backward();
    check_all_close(x.grad(), ctgrad::tensor({7.0, 11.0}), 0);
    check_all_close(y.grad(), ctgrad::tensor({3.0, 5.0}), 0);

    SUBCASE("an output nobody used gets a zero gradient") {
        x.mutable_grad() = Tensor();
        SumAndProduct::apply(x, y)[0].sum().backward();
        check_all_close(SumAndProduct::last_grads[1], ctgrad::zeros({2}), 0);
        check_all_close(x.grad(), ctgrad::ones({2}), 0);
    }
}

TEST_CASE("Function: saved tensors are version-checked and freed after backward") {
    Tensor x = ctgrad::tensor({1.0, 2.0}, ctgrad::requires_grad());
    Tensor y = ctgrad::tensor({3.0, 4.0});
    SUBCASE("an in-place change of a saved tensor is an error at backward") {
        Tensor z = ExampleFunction::apply(x, y);
        y.add_(1);
        CHECK_ERROR_HAS(z.sum().backward(),
                        "one of the variables needed for gradient computation has been modified by an inplace "
                        "operation: [torch.FloatTensor [2]] is at version 1; expected version 0 instead.");
        CHECK(!x.grad().defined());
    }
    SUBCASE("a second backward through a freed graph") {
        Tensor z = ExampleFunction::apply(x, y).sum();
        z.backward();
        CHECK_ERROR_HAS(z.backward(), "Trying to backward through the graph a second time");
    }
    SUBCASE("retain_graph keeps them") {
        Tensor z = ExampleFunction::apply(x, y).sum();
        z.backward(Tensor(), true);
        z.backward();
        check_all_close(x.grad(), ctgrad::full({2}, 2.0), 0);
    }
}

// Doubles its input in place and says so.
struct DoubleInPlace : public ctgrad::autograd::Function<DoubleInPlace> {
    static Tensor forward(AutogradContext* ctx, Tensor x) {
        x.mul_(2);
        ctx->mark_dirty({x});
        return x;
    }
    static variable_list backward(AutogradContext*, variable_list g) { return {g[0] * 2}; }
};

// Returns its input unchanged and the index of its maximum, which has no gradient.
struct WithIndex : public ctgrad::autograd::Function<WithIndex> {
    static variable_list forward(AutogradContext* ctx, Tensor x) {
        Tensor index = x.argmax();
        ctx->mark_non_differentiable({index});
        grad_mode_in_forward = ctgrad::GradMode::is_enabled();
        return {x, index};
    }
    static variable_list backward(AutogradContext*, variable_list g) { return {g[0]}; }
    static inline bool grad_mode_in_forward = true;
};

TEST_CASE("Function: mark_dirty, mark_non_differentiable, an input returned as is, no-grad mode") {
    Tensor w = ctgrad::tensor({1.0, 2.0}, ctgrad::requires_grad());
    SUBCASE("an input modified in place continues its history from the node") {
        Tensor x = w * 1;
        const auto version = x._version();
        Tensor y = DoubleInPlace::apply(x);
        CHECK(y.is_same(x));
        CHECK(x._version() > version);
        CHECK(x.grad_fn()->name().find("CppNode") != std::string::npos);
        y.sum().backward();
        check_all_close(w.grad(), ctgrad::full({2}, 2.0), 0);
    }
    SUBCASE("marking dirty a leaf that requires grad is an error") {
        Tensor leaf = ctgrad::ones({2}, ctgrad::requires_grad());
        CHECK_ERROR_HAS(DoubleInPlace::apply(leaf), "a leaf Variable that requires grad has been used in an in-place operation.");
    }
    SUBCASE("outputs") {
        variable_list out = WithIndex::apply(w);
        CHECK(!WithIndex::grad_mode_in_forward);
        CHECK(!out[1].requires_grad());
        CHECK(!out[0].is_same(w));  // a new handle that can carry the node
        CHECK(w.is_leaf());
        CHECK(out[0].grad_fn()->name().find("WithIndex") != std::string::npos);
        out[0].sum().backward();
        check_all_close(w.grad(), ctgrad::ones({2}), 0);
    }
    SUBCASE("in no-grad mode nothing is recorded") {
        ctgrad::NoGradGuard no_grad;
        Tensor z = ExampleFunction::apply(w, w);
        CHECK(!z.requires_grad());
        CHECK(!z.grad_fn());
    }
}

// ---- fuse ------------------------------------------------------------------------------------

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
