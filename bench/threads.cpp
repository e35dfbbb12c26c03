// Threads (ctgrad::set_num_threads, include/ctgrad/core/parallel.hpp): the same work on 1 and 2
// threads, side by side in one run. Each benchmark's second argument is the thread count.
//
//   static_value_and_grad/N/T   the seeds' cubic fit, value and four gradients in one fused pass
//   read_x_y/N/T                a SIMD sum over x and y split the same way: the memory-read bound
//                               for any pass over the data on T threads
//   dynamic_mul_add/N/T         x * y + z on tensors (two fused element-wise loops)
//   dynamic_sum/N/T             x.sum() (the blocked fused sum)
//   adam_step/N/T               one Adam step on a parameter of N elements
//   matmul/M/T                  an M x M by M x M float product (BLAS per panel of rows)
//   mlp_step/B/T                a training step of Linear(512, 256) - ReLU - Linear(256, 1) on a
//                               batch of B, with Adam
//   seed_step/N/T               the seeds' Step 3 loop body at N = 2000 (below the grain: threads
//                               must cost nothing there)
// bench/run_threads.sh runs it; docs/performance.md ("Threads") has the figures. BENCH_THREADS
// (e.g. "1 2 4 8") sets the thread counts.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <map>
#include <utility>
#include <numbers>
#include <sstream>
#include <vector>

#include <xsimd/xsimd.hpp>

#include <ctgrad/expr.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

namespace {

struct data {
    std::vector<float> x, y;
};

const data& dataset(std::size_t n) {
    static std::map<std::size_t, data> cache;
    auto [it, fresh] = cache.try_emplace(n);
    if (fresh) {
        it->second.x.resize(n);
        it->second.y.resize(n);
        const float pi = std::numbers::pi_v<float>;
        for (std::size_t i = 0; i < n; ++i) {
            it->second.x[i] = -pi + 2 * pi * static_cast<float>(i) / static_cast<float>(n - 1);
            it->second.y[i] = std::sin(it->second.x[i]);
        }
    }
    return it->second;
}

// The thread count for one benchmark, restored afterwards.
struct threads_for_benchmark {
    int previous = ctgrad::get_num_threads();
    explicit threads_for_benchmark(const benchmark::State& state) {
        ctgrad::set_num_threads(static_cast<int>(state.range(1)));
    }
    ~threads_for_benchmark() { ctgrad::set_num_threads(previous); }
};

namespace ce = ctgrad::expr;
constexpr ce::var<"x"> vx;
constexpr ce::var<"y"> vy;
constexpr ce::var<"a"> va;
constexpr ce::var<"b"> vb;
constexpr ce::var<"c"> vc;
constexpr ce::var<"d"> vd;
constexpr auto cubic_loss = ce::sum(ce::pow<2>(va + vb * vx + vc * ce::pow<2>(vx) + vd * ce::pow<3>(vx) - vy));

void BM_static_value_and_grad(benchmark::State& state) {
    threads_for_benchmark threads(state);
    const auto n = static_cast<std::size_t>(state.range(0));
    const data& d = dataset(n);
    for (auto _ : state) {
        auto [v, g] = ce::value_and_grad(cubic_loss, ce::wrt(va, vb, vc, vd), vx = d.x, vy = d.y, va = 0.1f,
                                         vb = 0.9f, vc = -0.05f, vd = -0.1f);
        benchmark::DoNotOptimize(v);
        benchmark::DoNotOptimize(g);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(2 * n * sizeof(float)));
}

// A SIMD sum of x + y over a part, four accumulators (the read bound of bench/cubic_fit.cpp).
float read_part(const float* x, const float* y, std::size_t begin, std::size_t end) {
    using B = xsimd::batch<float>;
    constexpr std::size_t W = B::size;
    B s0(0.f), s1(0.f), s2(0.f), s3(0.f);
    std::size_t i = begin;
    for (; i + 4 * W <= end; i += 4 * W) {
        s0 += B::load_unaligned(x + i) + B::load_unaligned(y + i);
        s1 += B::load_unaligned(x + i + W) + B::load_unaligned(y + i + W);
        s2 += B::load_unaligned(x + i + 2 * W) + B::load_unaligned(y + i + 2 * W);
        s3 += B::load_unaligned(x + i + 3 * W) + B::load_unaligned(y + i + 3 * W);
    }
    float s = xsimd::hadd((s0 + s1) + (s2 + s3));
    for (; i < end; ++i) s += x[i] + y[i];
    return s;
}

void BM_read_x_y(benchmark::State& state) {
    threads_for_benchmark threads(state);
    const auto n = static_cast<std::size_t>(state.range(0));
    const data& d = dataset(n);
    std::vector<float> parts(64);
    for (auto _ : state) {
        ctgrad::detail::parallel_for(static_cast<std::int64_t>(parts.size()), 1, [&](std::int64_t p0, std::int64_t p1) {
            for (auto p = static_cast<std::size_t>(p0); p < static_cast<std::size_t>(p1); ++p)
                parts[p] = read_part(d.x.data(), d.y.data(), n * p / parts.size(), n * (p + 1) / parts.size());
        });
        float s = 0;
        for (float p : parts) s += p;
        benchmark::DoNotOptimize(s);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(2 * n * sizeof(float)));
}

// Random tensors made once per size and index: Google Benchmark calls a function several times
// while it picks the iteration count, and drawing 1e7 normals costs more than the op.
const ctgrad::Tensor& random_tensor(std::int64_t n, int index) {
    static std::map<std::pair<std::int64_t, int>, ctgrad::Tensor> cache;
    auto [it, fresh] = cache.try_emplace({n, index});
    if (fresh) {
        ctgrad::manual_seed(static_cast<std::uint64_t>(index));
        it->second = ctgrad::randn({n});
    }
    return it->second;
}

// At 4e6 elements (16 MB) glibc's malloc reuses the memory of the last result; from 32 MB on it
// maps fresh pages for every result, and their first touch (a page fault per 4 KiB, expensive on
// virtual machines) costs more than the loop.
void BM_dynamic_mul_add(benchmark::State& state) {
    threads_for_benchmark threads(state);
    const ctgrad::Tensor &x = random_tensor(state.range(0), 0), &y = random_tensor(state.range(0), 1),
                         &z = random_tensor(state.range(0), 2);
    for (auto _ : state) benchmark::DoNotOptimize(x * y + z);
}

void BM_dynamic_sum(benchmark::State& state) {
    threads_for_benchmark threads(state);
    const ctgrad::Tensor& x = random_tensor(state.range(0), 0);
    for (auto _ : state) benchmark::DoNotOptimize(x.sum());
}

void BM_adam_step(benchmark::State& state) {
    threads_for_benchmark threads(state);
    ctgrad::Tensor p = random_tensor(state.range(0), 0).clone().requires_grad_();
    p.mutable_grad() = random_tensor(state.range(0), 1).clone();
    ctgrad::optim::Adam opt({p}, ctgrad::optim::AdamOptions(1e-3));
    opt.step();  // the first step makes the state buffers
    for (auto _ : state) opt.step();
}

void BM_matmul(benchmark::State& state) {
    threads_for_benchmark threads(state);
    ctgrad::manual_seed(0);
    const ctgrad::Tensor a = ctgrad::randn({state.range(0), state.range(0)}),
                         b = ctgrad::randn({state.range(0), state.range(0)});
    for (auto _ : state) benchmark::DoNotOptimize(a.matmul(b));
}

void BM_mlp_step(benchmark::State& state) {
    threads_for_benchmark threads(state);
    ctgrad::manual_seed(0);
    ctgrad::nn::Sequential model(ctgrad::nn::Linear(512, 256), ctgrad::nn::ReLU(), ctgrad::nn::Linear(256, 1));
    ctgrad::optim::Adam opt(model->parameters(), ctgrad::optim::AdamOptions(1e-3));
    const ctgrad::Tensor input = ctgrad::randn({state.range(0), 512}), target = ctgrad::randn({state.range(0), 1});
    auto step = [&] {
        opt.zero_grad();
        ctgrad::Tensor loss = ctgrad::nn::functional::mse_loss(model->forward(input), target);
        loss.backward();
        opt.step();
    };
    step();  // the first step makes the optimizer's state
    for (auto _ : state) step();
}

// The seeds' Step 3 (third seed text): the cubic fit with autograd tensors, one step.
void BM_seed_step(benchmark::State& state) {
    threads_for_benchmark threads(state);
    const ctgrad::Tensor x = ctgrad::linspace(-std::numbers::pi, std::numbers::pi, state.range(0));
    const ctgrad::Tensor y = ctgrad::sin(x);
    ctgrad::manual_seed(0);
    ctgrad::Tensor a = ctgrad::randn({}).requires_grad_(), b = ctgrad::randn({}).requires_grad_(),
                   c = ctgrad::randn({}).requires_grad_(), d = ctgrad::randn({}).requires_grad_();
    for (auto _ : state) {
        ctgrad::Tensor y_pred = a + b * x + c * x.pow(2) + d * x.pow(3);
        ctgrad::Tensor loss = (y_pred - y).pow(2).sum();
        loss.backward();
        ctgrad::NoGradGuard no_grad;
        for (ctgrad::Tensor* t : {&a, &b, &c, &d}) {
            t->sub_(t->grad() * 1e-6);
            t->mutable_grad() = ctgrad::Tensor();
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    using fn = void (*)(benchmark::State&);
    const struct {
        const char* name;
        fn f;
        std::int64_t size;
    } cases[] = {
        {"static_value_and_grad", BM_static_value_and_grad, 10'000'000},
        {"read_x_y", BM_read_x_y, 10'000'000},
        {"dynamic_mul_add", BM_dynamic_mul_add, 4'000'000},
        {"dynamic_sum", BM_dynamic_sum, 4'000'000},
        {"adam_step", BM_adam_step, 4'000'000},
        {"matmul", BM_matmul, 512},
        {"mlp_step", BM_mlp_step, 128},
        {"seed_step", BM_seed_step, 2000},
    };
    // 1 and 2 threads (or the counts in BENCH_THREADS, e.g. "1 2 4 8") next to each other, case
    // by case (the machine drifts less between neighbours than across the run).
    std::vector<std::int64_t> thread_counts;
    if (const char* env = std::getenv("BENCH_THREADS")) {
        std::istringstream list(env);
        for (std::int64_t t; list >> t;)
            if (t > 0) thread_counts.push_back(t);
    }
    if (thread_counts.empty()) thread_counts = {1, 2};
    for (const auto& c : cases)
        for (std::int64_t threads : thread_counts)
            benchmark::RegisterBenchmark(c.name, c.f)->Args({c.size, threads})->Unit(benchmark::kMicrosecond)->UseRealTime();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
