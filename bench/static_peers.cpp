// The static layer on the workloads other C++ AD libraries are measured on, each next to a
// hand-written `omp simd` loop computing the same value and gradient (the floor to compare
// with): log-sum-exp and the normal log-density, gradients with respect to a vector and to
// scalars, and the variance-style loss with a reduction inside a reduction. Double precision,
// one thread. docs/performance.md ("Static layer: gradients with respect to arrays") has the
// figures and the command.
#include <benchmark/benchmark.h>

#include <cmath>
#include <ctgrad/expr.hpp>
#include <vector>

using namespace ctgrad::expr;

namespace {

constexpr var<"x"> x;
constexpr var<"mu"> mu;
constexpr var<"sigma"> sigma;

std::vector<double> data(std::size_t n) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(0.001 * static_cast<double>(i)) * 2.0 + 0.5;
    return v;
}

// log(sum(exp(x))) and its gradient exp(x_i) / sum: two passes, as a hand loop needs.
void lse_ctgrad(benchmark::State& state) {
    const auto xs = data(static_cast<std::size_t>(state.range(0)));
    std::vector<double> g(xs.size());
    for (auto _ : state) {
        auto [value, grads] = value_and_grad(log(sum(exp(x))), wrt(into(x, g)), x = xs);
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(g.data());
    }
}
void lse_hand(benchmark::State& state) {
    const auto xs = data(static_cast<std::size_t>(state.range(0)));
    std::vector<double> g(xs.size());
    const std::size_t n = xs.size();
    for (auto _ : state) {
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (std::size_t i = 0; i < n; ++i) s += std::exp(xs[i]);
        const double value = std::log(s), inv = 1 / s;
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) g[i] = std::exp(xs[i]) * inv;
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(g.data());
    }
}

// sum(-((x - mu)/sigma)^2/2 - log(sigma)), gradient with respect to x, mu and sigma.
void normal_ctgrad(benchmark::State& state) {
    const auto xs = data(static_cast<std::size_t>(state.range(0)));
    std::vector<double> g(xs.size());
    const auto loss = sum(-0.5 * pow<2>((x - mu) / sigma) - log(sigma));
    for (auto _ : state) {
        auto [value, grads] = value_and_grad(loss, wrt(into(x, g), mu, sigma), x = xs, mu = 0.3, sigma = 1.7);
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(grads);
        benchmark::DoNotOptimize(g.data());
    }
}
void normal_hand(benchmark::State& state) {
    const auto xs = data(static_cast<std::size_t>(state.range(0)));
    std::vector<double> g(xs.size());
    const std::size_t n = xs.size();
    for (auto _ : state) {
        const double m = 0.3, s = 1.7, inv = 1 / s;
        double value = 0, dmu = 0, dsigma = 0;
#pragma omp simd reduction(+ : value, dmu, dsigma)
        for (std::size_t i = 0; i < n; ++i) {
            const double z = (xs[i] - m) * inv;
            value += -0.5 * z * z;
            g[i] = -z * inv;
            dmu += z * inv;
            dsigma += z * z * inv;
        }
        value -= static_cast<double>(n) * std::log(s);
        dsigma -= static_cast<double>(n) * inv;
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(dmu);
        benchmark::DoNotOptimize(dsigma);
        benchmark::DoNotOptimize(g.data());
    }
}

// sum((x - mean(x))^2): the mean in one pass, then the value; the gradient 2(x_i - mean) plus
// the term through the mean, which ctgrad computes (it is zero only in exact arithmetic).
void variance_ctgrad(benchmark::State& state) {
    const auto xs = data(static_cast<std::size_t>(state.range(0)));
    std::vector<double> g(xs.size());
    for (auto _ : state) {
        auto [value, grads] = value_and_grad(sum(pow<2>(x - mean(x))), wrt(into(x, g)), x = xs);
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(g.data());
    }
}
void variance_hand(benchmark::State& state) {
    const auto xs = data(static_cast<std::size_t>(state.range(0)));
    std::vector<double> g(xs.size());
    const std::size_t n = xs.size();
    for (auto _ : state) {
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (std::size_t i = 0; i < n; ++i) s += xs[i];
        const double m = s / static_cast<double>(n);
        double value = 0;
#pragma omp simd reduction(+ : value)
        for (std::size_t i = 0; i < n; ++i) {
            const double d = xs[i] - m;
            value += d * d;
            g[i] = 2 * d;
        }
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(g.data());
    }
}

// The same with the term through the mean kept, as ctgrad computes it: a third pass, because
// that term's factor, sum(x - mean), is known only after the second.
void variance_hand_exact(benchmark::State& state) {
    const auto xs = data(static_cast<std::size_t>(state.range(0)));
    std::vector<double> g(xs.size());
    const std::size_t n = xs.size();
    for (auto _ : state) {
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (std::size_t i = 0; i < n; ++i) s += xs[i];
        const double m = s / static_cast<double>(n);
        double value = 0, centred = 0;
#pragma omp simd reduction(+ : value, centred)
        for (std::size_t i = 0; i < n; ++i) {
            const double d = xs[i] - m;
            value += d * d;
            centred += d;
        }
        const double through_mean = -2 * centred / static_cast<double>(n);
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) g[i] = 2 * (xs[i] - m) + through_mean;
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(g.data());
    }
}

}  // namespace

BENCHMARK(lse_ctgrad)->Arg(1000)->Arg(100000);
BENCHMARK(lse_hand)->Arg(1000)->Arg(100000);
BENCHMARK(normal_ctgrad)->Arg(1000)->Arg(100000);
BENCHMARK(normal_hand)->Arg(1000)->Arg(100000);
BENCHMARK(variance_ctgrad)->Arg(1000000);
BENCHMARK(variance_hand)->Arg(1000000);
BENCHMARK(variance_hand_exact)->Arg(1000000);

BENCHMARK_MAIN();
