// What the dynamic layer costs per operation, and per step of the third seed text's Step 3 loop,
// next to PyTorch eager doing the same work (bench/dynamic_torch.py; bench/run_dynamic.sh runs
// both in one session and prints the table of docs/performance.md, "Dynamic layer").
//
// (a) per-op overhead on tiny tensors, where the arithmetic is nothing and the bookkeeping is
//     everything (allocation, dtype/shape checks, dispatch, graph recording):
//       add_0d, mul_0d                      two 0-d float tensors, no grad
//       add_0d_requires_grad, mul_0d_...    the same with both operands requiring grad (a node
//                                           is recorded; it dies with the result)
//       view                                a [3] tensor viewed as [1, 3]
//       sum_3                               sum of 3 elements
//       graph3_backward                     y = (a * b + c) * a on 0-d leaves, y.backward(), the
//                                           three .grad reset to None: forward and backward of
//                                           a 3-op graph
// (b) seed2_step3: one step of the Step 3 loop on 2000 points (forward, loss, backward, the
//     no-grad update of a, b, c, d, grads reset to None), as examples/seed2_step3_autograd.cpp
//     writes it; seed2_step3_fuse: the same step with the loss as ONE fused node (ctgrad::fuse),
//     built in header-only mode only (dynamic_overhead_fuse).
// Times are per iteration; run_dynamic.sh reports the best of the repetitions, as PyTorch's
// anchor protocol does (../shared/pytorch-seeds/_anchor.py).
#include <benchmark/benchmark.h>

#include <numbers>

#include <ctgrad/tensor.hpp>

// ctgrad::fuse needs the runtime's definitions (header-only mode, docs/dynamic-layer.md): meson
// builds this file twice, as dynamic_overhead (linked to libctgrad, as a user's program is; no
// fused case) and as dynamic_overhead_fuse (CTGRAD_HEADER_ONLY, with seed2_step3_fuse).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <ctgrad/ops/fuse.hpp>
#include <ctgrad/expr.hpp>
#define DYNAMIC_BENCH_HAS_FUSE 1
#endif

namespace {

using ctgrad::Tensor;

Tensor scalar(float v, bool requires_grad) {
    return ctgrad::full({}, v, ctgrad::dtype(ctgrad::kFloat).requires_grad(requires_grad));
}

// --- (a) per-op overhead --------------------------------------------------------------------

void add_0d(benchmark::State& state) {
    const bool requires_grad = state.range(0) != 0;
    Tensor a = scalar(1.5f, requires_grad), b = scalar(2.5f, requires_grad);
    for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(add_0d)->Arg(0)->ArgName("requires_grad");
BENCHMARK(add_0d)->Arg(1)->ArgName("requires_grad");

void mul_0d(benchmark::State& state) {
    const bool requires_grad = state.range(0) != 0;
    Tensor a = scalar(1.5f, requires_grad), b = scalar(2.5f, requires_grad);
    for (auto _ : state) benchmark::DoNotOptimize(a * b);
}
BENCHMARK(mul_0d)->Arg(0)->ArgName("requires_grad");
BENCHMARK(mul_0d)->Arg(1)->ArgName("requires_grad");

void view(benchmark::State& state) {
    Tensor x = ctgrad::tensor({1.f, 2.f, 3.f});
    for (auto _ : state) benchmark::DoNotOptimize(x.view({1, 3}));
}
BENCHMARK(view);

void sum_3(benchmark::State& state) {
    Tensor x = ctgrad::tensor({1.f, 2.f, 3.f});
    for (auto _ : state) benchmark::DoNotOptimize(x.sum());
}
BENCHMARK(sum_3);

void graph3_backward(benchmark::State& state) {
    Tensor a = scalar(1.5f, true), b = scalar(2.5f, true), c = scalar(-0.5f, true);
    for (auto _ : state) {
        Tensor y = (a * b + c) * a;
        y.backward();
        a.mutable_grad() = Tensor();
        b.mutable_grad() = Tensor();
        c.mutable_grad() = Tensor();
    }
}
BENCHMARK(graph3_backward);

// --- (b) the Step 3 loop --------------------------------------------------------------------

struct step3_data {
    Tensor x, y, a, b, c, d;
    step3_data() {
        ctgrad::manual_seed(0);
        x = ctgrad::linspace(-std::numbers::pi, std::numbers::pi, 2000);
        y = ctgrad::sin(x);
        const auto options = ctgrad::dtype(ctgrad::kFloat).requires_grad(true);
        a = ctgrad::randn({}, options);
        b = ctgrad::randn({}, options);
        c = ctgrad::randn({}, options);
        d = ctgrad::randn({}, options);
    }

    // The no-grad update and the grads reset, as the seed writes them.
    void update(double learning_rate) {
        ctgrad::NoGradGuard no_grad;
        for (Tensor* w : {&a, &b, &c, &d}) {
            *w -= learning_rate * w->grad();
            w->mutable_grad() = Tensor();
        }
    }
};

void seed2_step3(benchmark::State& state) {
    step3_data s;
    const double learning_rate = 1e-6;
    for (auto _ : state) {
        // Forward pass
        auto y_pred = s.a + s.b * s.x + s.c * s.x.pow(2) + s.d * s.x.pow(3);
        // Compute loss
        auto loss = (y_pred - s.y).pow(2).sum();
        // Use autograd to compute gradients
        loss.backward();
        s.update(learning_rate);
    }
}
BENCHMARK(seed2_step3)->Unit(benchmark::kMicrosecond);

#if DYNAMIC_BENCH_HAS_FUSE
void seed2_step3_fuse(benchmark::State& state) {
    namespace ex = ctgrad::expr;
    constexpr ex::var<"x"> x;
    constexpr ex::var<"y"> y;
    constexpr ex::var<"a"> a;
    constexpr ex::var<"b"> b;
    constexpr ex::var<"c"> c;
    constexpr ex::var<"d"> d;
    constexpr auto loss_of = ex::sum(ex::pow<2>(a + b * x + c * ex::pow<2>(x) + d * ex::pow<3>(x) - y));

    step3_data s;
    const double learning_rate = 1e-6;
    for (auto _ : state) {
        // Forward pass and loss: one node, whose forward also computes the four partials
        auto loss = ctgrad::fuse(loss_of, x = s.x, y = s.y, a = s.a, b = s.b, c = s.c, d = s.d);
        loss.backward();
        s.update(learning_rate);
    }
}
BENCHMARK(seed2_step3_fuse)->Unit(benchmark::kMicrosecond);
#endif

}  // namespace

BENCHMARK_MAIN();
