// Custom autograd functions (ctgrad::autograd::Function<T>): the seeds' examples against finite
// differences and dynamic ops, saved_data, several outputs, mark_dirty, double backward, errors.
#include "../support/errors.hpp"
#include "../support/numeric_checks.hpp"
#include <ctgrad/tensor.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

using ctgrad::Tensor;
using ctgrad::autograd::AutogradContext;
using ctgrad::autograd::variable_list;
using ctgrad_test::numeric_checks::central_difference;
using ctgrad_test::numeric_checks::check_all_close;
using ctgrad_test::numeric_checks::close;
using ctgrad_test::numeric_checks::value;

#define CHECK_ERROR_HAS(call, text) CTGRAD_CHECK_ERROR(call, text)

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

// A backward that throws, or that returns a gradient of another shape than its input's.
struct FailingBackward : public ctgrad::autograd::Function<FailingBackward> {
    static Tensor forward(AutogradContext* ctx, Tensor x, bool throws) {
        ctx->saved_data["throws"] = throws;
        return x * 1;
    }
    static variable_list backward(AutogradContext* ctx, variable_list) {
        if (ctx->saved_data["throws"].toBool()) throw ctgrad::Error("FailingBackward: backward failed");
        return {ctgrad::ones({5}), Tensor()};
    }
};

TEST_CASE("Function: a backward that fails stores no gradient, not even one computed before it") {
    for (const bool throws : {true, false}) {
        CAPTURE(throws);
        Tensor x = ctgrad::ones({3}, ctgrad::requires_grad());
        Tensor w = ctgrad::tensor({1.0, 2.0}, ctgrad::requires_grad());
        Tensor v = ctgrad::tensor({3.0, 4.0}, ctgrad::requires_grad());
        v.mutable_grad() = ctgrad::full({2}, 10.0);
        const Tensor v_grad = v.grad();
        // The custom node is made first, so the engine (later nodes first) reaches the leaves w
        // and v, and computes their gradients, before it runs the failing backward.
        const Tensor failing = FailingBackward::apply(x, throws);
        const Tensor loss = (w * v).sum() + failing.sum();
        CHECK_ERROR_HAS(loss.backward(), throws ? "FailingBackward: backward failed"
                                                : "returned an invalid gradient at index 0 - got [5] but expected shape "
                                                  "compatible with [3]");
        CHECK(!x.grad().defined());
        CHECK(!w.grad().defined());
        CHECK(v.grad().is_same(v_grad));
        check_all_close(v.grad(), ctgrad::full({2}, 10.0), 0);
        CHECK(v._version() == 0);
        CHECK(w._version() == 0);
        check_all_close(w, ctgrad::tensor({1.0, 2.0}), 0);
    }
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

// queue_callback: a Function's backward queues work that sees every .grad of the pass (what
// DistributedDataParallel does to average gradients across processes).
struct QueuesCallback : public ctgrad::autograd::Function<QueuesCallback> {
    static Tensor forward(AutogradContext*, Tensor x) { return x.clone(); }
    static variable_list backward(AutogradContext*, variable_list g) {
        ctgrad::autograd::queue_callback([] {
            seen.push_back(watched.grad().defined() ? watched.grad().clone() : Tensor());
            // A callback may queue another; it runs after this one, in the same pass.
            ctgrad::autograd::queue_callback([] { seen.push_back(ctgrad::full({1}, -1.0)); });
        });
        if (fail) throw ctgrad::Error("QueuesCallback: backward failed");
        return {g[0]};
    }
    static inline Tensor watched;
    static inline std::vector<Tensor> seen;
    static inline bool fail = false;
};

TEST_CASE("queue_callback: runs after the pass has stored every .grad; only inside a pass") {
    Tensor x = ctgrad::tensor({1.0, 2.0}, ctgrad::requires_grad());
    Tensor w = ctgrad::tensor({3.0, 4.0}, ctgrad::requires_grad());
    QueuesCallback::watched = w;
    QueuesCallback::seen.clear();
    QueuesCallback::fail = false;
    // The custom node runs before w's gradient is stored: the callback must still see it.
    const Tensor loss = (QueuesCallback::apply(x) * w).sum();
    loss.backward({}, /*retain_graph=*/true);
    REQUIRE(QueuesCallback::seen.size() == 2);
    REQUIRE(QueuesCallback::seen[0].defined());
    check_all_close(QueuesCallback::seen[0], ctgrad::tensor({1.0, 2.0}), 0);
    check_all_close(QueuesCallback::seen[1], ctgrad::full({1}, -1.0), 0);
    check_all_close(x.grad(), ctgrad::tensor({3.0, 4.0}), 0);

    // A pass that fails runs none of its callbacks, and stores nothing.
    QueuesCallback::seen.clear();
    QueuesCallback::fail = true;
    CHECK_ERROR_HAS(loss.backward(), "QueuesCallback: backward failed");
    CHECK(QueuesCallback::seen.empty());
    check_all_close(w.grad(), ctgrad::tensor({1.0, 2.0}), 0);
    QueuesCallback::fail = false;
    QueuesCallback::watched = Tensor();

    CHECK_ERROR_HAS(ctgrad::autograd::queue_callback([] {}), "queue_callback: no backward pass is running");
}

}  // namespace
