// The seeds' cubic fit, loss = sum((a + b x + c x^2 + d x^3 - y)^2), its value and its gradient
// with respect to a, b, c, d, in float32, for N = 2e3, 1e6 and 1e7 points of x = linspace(-pi, pi),
// y = sin(x). Every way of computing it runs in this one binary, on the same data:
//
//   hand_fused             (i)   one hand-written loop: loss and the four hand-derived gradient sums
//   hand_fused_omp_simd    (i')  the same loop with `#pragma omp simd reduction(...)`, which lets the
//                                compiler vectorise the float sums (it may not reorder them otherwise)
//   hand_multipass         (i-b) the seed's NumPy step written literally in C++: y_pred, then the loss,
//                                then grad_y_pred, then four sums (buffers allocated once, outside the loop)
//   xtensor_temporaries    (ii)  the same statements with xtensor, each statement materialised into an
//                                xt::xarray (what NumPy does)
//   read_x_y               (iii) a SIMD sum over x and y: the cost of reading both arrays once
//   ctgrad_eval            (iv)  ctgrad::expr::eval(loss, ...): the value alone
//   ctgrad_value_and_grad  (v)   ctgrad::expr::value_and_grad(loss, wrt(a, b, c, d), ...)
//
// bytes_per_second counts the input read once: 2 arrays * N * 4 bytes per iteration.
// See bench/run_cubic_fit.sh and docs/performance.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <numbers>
#include <utility>
#include <vector>

#include <ctgrad/expr.hpp>
#include <xsimd/xsimd.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xmath.hpp>

namespace {

// The arrays are std::vector<float> as a user would have them: glibc returns 16-byte-aligned
// memory, so most 64-byte AVX-512 loads straddle two cache lines. -DCUBIC_FIT_ALIGNED=1 puts them
// on 64-byte boundaries instead (the cubic_fit_aligned executable), to show what that costs.
#if CUBIC_FIT_ALIGNED
using buffer = std::vector<float, xsimd::aligned_allocator<float, 64>>;
#else
using buffer = std::vector<float>;
#endif

struct data {
    buffer x, y;
};

// x = linspace(-pi, pi, n) as torch.linspace fills it (both ends exact), y = sin(x).
const data& dataset(std::size_t n) {
    static std::map<std::size_t, data> cache;
    auto [it, fresh] = cache.try_emplace(n);
    if (fresh) {
        data& d = it->second;
        d.x.resize(n);
        d.y.resize(n);
        const float pi = std::numbers::pi_v<float>;
        const float step = 2 * pi / static_cast<float>(n - 1);
        for (std::size_t i = 0; i < n; ++i) {
            d.x[i] = i < n / 2 ? -pi + step * static_cast<float>(i) : pi - step * static_cast<float>(n - 1 - i);
            d.y[i] = std::sin(d.x[i]);
        }
    }
    return it->second;
}

// The seed's starting weights (torch.manual_seed(0); four torch.randn draws).
struct weights {
    float a = 1.5409960746765137f, b = -0.293428897857666f, c = -2.1787893772125244f, d = 0.5684312582015991f;
};

// Hides the weights' values from the optimiser, once per iteration (as a training loop would).
weights opaque_weights() {
    weights w;
    benchmark::DoNotOptimize(w);
    return w;
}

struct result {
    float loss, ga, gb, gc, gd;
};

void keep(const result& r) {
    benchmark::DoNotOptimize(r.loss);
    benchmark::DoNotOptimize(r.ga);
    benchmark::DoNotOptimize(r.gb);
    benchmark::DoNotOptimize(r.gc);
    benchmark::DoNotOptimize(r.gd);
}

void finish(benchmark::State& state, std::size_t n) {
    const auto iterations = static_cast<int64_t>(state.iterations());
    state.SetBytesProcessed(iterations * 2 * static_cast<int64_t>(n) * static_cast<int64_t>(sizeof(float)));
    state.SetItemsProcessed(iterations * static_cast<int64_t>(n));
}

// (i) One loop, gradients derived by hand: d loss / d y_pred = 2 (y_pred - y), times 1, x, x^2, x^3.
__attribute__((noinline)) result hand_fused(const float* x, const float* y, std::size_t n, weights w) {
    float loss = 0, ga = 0, gb = 0, gc = 0, gd = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const float xi = x[i], x2 = xi * xi, x3 = x2 * xi;
        const float diff = w.a + w.b * xi + w.c * x2 + w.d * x3 - y[i];
        const float g = 2.0f * diff;
        loss += diff * diff;
        ga += g;
        gb += g * xi;
        gc += g * x2;
        gd += g * x3;
    }
    return {loss, ga, gb, gc, gd};
}

// (i') The same loop, with the reordering of the sums allowed so that the compiler vectorises it.
__attribute__((noinline)) result hand_fused_omp_simd(const float* x, const float* y, std::size_t n, weights w) {
    float loss = 0, ga = 0, gb = 0, gc = 0, gd = 0;
#pragma omp simd reduction(+ : loss, ga, gb, gc, gd)
    for (std::size_t i = 0; i < n; ++i) {
        const float xi = x[i], x2 = xi * xi, x3 = x2 * xi;
        const float diff = w.a + w.b * xi + w.c * x2 + w.d * x3 - y[i];
        const float g = 2.0f * diff;
        loss += diff * diff;
        ga += g;
        gb += g * xi;
        gc += g * x2;
        gd += g * x3;
    }
    return {loss, ga, gb, gc, gd};
}

// (i-b) The seed's step 1, statement by statement, one loop per NumPy expression.
struct multipass_buffers {
    buffer y_pred, grad_y_pred;
};
__attribute__((noinline)) result hand_multipass(const float* x, const float* y, std::size_t n, weights w,
                                                multipass_buffers& buf) {
    float* y_pred = buf.y_pred.data();
    float* grad_y_pred = buf.grad_y_pred.data();
    // y_pred = a + b * x + c * x ** 2 + d * x ** 3
    for (std::size_t i = 0; i < n; ++i) y_pred[i] = w.a + w.b * x[i] + w.c * x[i] * x[i] + w.d * x[i] * x[i] * x[i];
    // loss = np.square(y_pred - y).sum()
    float loss = 0;
    for (std::size_t i = 0; i < n; ++i) loss += (y_pred[i] - y[i]) * (y_pred[i] - y[i]);
    // grad_y_pred = 2.0 * (y_pred - y)
    for (std::size_t i = 0; i < n; ++i) grad_y_pred[i] = 2.0f * (y_pred[i] - y[i]);
    // grad_a = grad_y_pred.sum(), grad_b = (grad_y_pred * x).sum(), ...
    float ga = 0, gb = 0, gc = 0, gd = 0;
    for (std::size_t i = 0; i < n; ++i) ga += grad_y_pred[i];
    for (std::size_t i = 0; i < n; ++i) gb += grad_y_pred[i] * x[i];
    for (std::size_t i = 0; i < n; ++i) gc += grad_y_pred[i] * x[i] * x[i];
    for (std::size_t i = 0; i < n; ++i) gd += grad_y_pred[i] * x[i] * x[i] * x[i];
    return {loss, ga, gb, gc, gd};
}

xt::xarray<float> as_xarray(const buffer& v) {
    xt::xarray<float> a = xt::xarray<float>::from_shape({v.size()});
    std::copy(v.begin(), v.end(), a.begin());
    return a;
}

// (ii) The seed's step 1 in xtensor, as NumPy runs it: every operation's result is materialised
// into a fresh xt::xarray (NumPy's temporaries), and the sums are xtensor's full reductions.
// (xt::eval is not used: in xtensor 0.24.3 under C++20 it deduces a rank-4 xtensor for a 1-D
// xarray expression, and the immediate reduction strategy throws std::bad_array_new_length.)
template <class X>
result xtensor_temporaries(const X& x, const X& y, weights w) {
    using A = xt::xarray<float>;
    // y_pred = a + b * x + c * x ** 2 + d * x ** 3
    const A bx = w.b * x, x2 = xt::square(x), cx2 = w.c * x2, x3 = xt::cube(x), dx3 = w.d * x3;
    const A t1 = w.a + bx, t2 = t1 + cx2, y_pred = t2 + dx3;
    // loss = np.square(y_pred - y).sum()
    const A diff = y_pred - y, sq = xt::square(diff);
    const float loss = xt::sum(sq)();
    // grad_y_pred = 2.0 * (y_pred - y), grad_a = grad_y_pred.sum(), grad_b = (grad_y_pred * x).sum(), ...
    const A diff2 = y_pred - y, grad_y_pred = 2.0f * diff2;
    const A gx = grad_y_pred * x, gx2 = grad_y_pred * x2, gx3 = grad_y_pred * x3;
    return {loss, xt::sum(grad_y_pred)(), xt::sum(gx)(), xt::sum(gx2)(), xt::sum(gx3)()};
}

// (iii) Read x and y once: a SIMD sum with four accumulators, the floor for any pass over the data.
// A scalar head first brings x to a 64-byte boundary, so that the SIMD loads of x (and of y, which
// glibc places at the same offset) do not straddle cache lines (see CUBIC_FIT_ALIGNED above).
__attribute__((noinline)) float read_x_y(const float* x, const float* y, std::size_t n) {
    using B = xsimd::batch<float>;
    constexpr std::size_t W = B::size;
    float s = 0;
    std::size_t i = 0;
    for (; i < n && reinterpret_cast<std::uintptr_t>(x + i) % (W * sizeof(float)) != 0; ++i) s += x[i] + y[i];
    B s0(0.f), s1(0.f), s2(0.f), s3(0.f);
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 += B::load_unaligned(x + i) + B::load_unaligned(y + i);
        s1 += B::load_unaligned(x + i + W) + B::load_unaligned(y + i + W);
        s2 += B::load_unaligned(x + i + 2 * W) + B::load_unaligned(y + i + 2 * W);
        s3 += B::load_unaligned(x + i + 3 * W) + B::load_unaligned(y + i + 3 * W);
    }
    s += xsimd::hadd((s0 + s1) + (s2 + s3));
    for (; i < n; ++i) s += x[i] + y[i];
    return s;
}

namespace ce = ctgrad::expr;
constexpr ce::var<"x"> vx;
constexpr ce::var<"y"> vy;
constexpr ce::var<"a"> va;
constexpr ce::var<"b"> vb;
constexpr ce::var<"c"> vc;
constexpr ce::var<"d"> vd;
constexpr auto loss_expr = ce::sum(ce::pow<2>(va + vb * vx + vc * ce::pow<2>(vx) + vd * ce::pow<3>(vx) - vy));

// (iv) and (v), outside the benchmark loop so that their code can be read with objdump.
__attribute__((noinline)) float ctgrad_eval(const buffer& xs, const buffer& ys, weights w) {
    return ce::eval(loss_expr, vx = xs, vy = ys, va = w.a, vb = w.b, vc = w.c, vd = w.d);
}
__attribute__((noinline)) result ctgrad_value_and_grad(const buffer& xs, const buffer& ys,
                                                       weights w) {
    auto [value, g] = ce::value_and_grad(loss_expr, ce::wrt(va, vb, vc, vd), vx = xs, vy = ys, va = w.a, vb = w.b,
                                         vc = w.c, vd = w.d);
    return {value, std::get<0>(g), std::get<1>(g), std::get<2>(g), std::get<3>(g)};
}

void BM_hand_fused(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const data& d = dataset(n);
    for (auto _ : state) keep(hand_fused(d.x.data(), d.y.data(), n, opaque_weights()));
    finish(state, n);
}

void BM_hand_fused_omp_simd(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const data& d = dataset(n);
    for (auto _ : state) keep(hand_fused_omp_simd(d.x.data(), d.y.data(), n, opaque_weights()));
    finish(state, n);
}

void BM_hand_multipass(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const data& d = dataset(n);
    multipass_buffers buf{buffer(n), buffer(n)};
    for (auto _ : state) keep(hand_multipass(d.x.data(), d.y.data(), n, opaque_weights(), buf));
    finish(state, n);
}

void BM_xtensor_temporaries(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const data& d = dataset(n);
    const xt::xarray<float> x = as_xarray(d.x), y = as_xarray(d.y);
    for (auto _ : state) keep(xtensor_temporaries(x, y, opaque_weights()));
    finish(state, n);
}

void BM_read_x_y(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const data& d = dataset(n);
    for (auto _ : state) {
        float s = read_x_y(d.x.data(), d.y.data(), n);
        benchmark::DoNotOptimize(s);
    }
    finish(state, n);
}

void BM_ctgrad_eval(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const data& d = dataset(n);
    for (auto _ : state) {
        float v = ctgrad_eval(d.x, d.y, opaque_weights());
        benchmark::DoNotOptimize(v);
    }
    finish(state, n);
}

void BM_ctgrad_value_and_grad(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const data& d = dataset(n);
    for (auto _ : state) keep(ctgrad_value_and_grad(d.x, d.y, opaque_weights()));
    finish(state, n);
}

// Every method must give the same numbers as a float64 loop before anything is timed.
bool check_agreement(std::size_t n) {
    const data& d = dataset(n);
    const weights w;
    double ref[5] = {};
    for (std::size_t i = 0; i < n; ++i) {
        const double xi = d.x[i], diff = w.a + w.b * xi + w.c * xi * xi + w.d * xi * xi * xi - double(d.y[i]);
        ref[0] += diff * diff;
        ref[1] += 2 * diff;
        ref[2] += 2 * diff * xi;
        ref[3] += 2 * diff * xi * xi;
        ref[4] += 2 * diff * xi * xi * xi;
    }
    multipass_buffers buf{buffer(n), buffer(n)};
    const xt::xarray<float> x = as_xarray(d.x), y = as_xarray(d.y);
    const std::pair<const char*, result> results[] = {
        {"hand_fused", hand_fused(d.x.data(), d.y.data(), n, w)},
        {"hand_fused_omp_simd", hand_fused_omp_simd(d.x.data(), d.y.data(), n, w)},
        {"hand_multipass", hand_multipass(d.x.data(), d.y.data(), n, w, buf)},
        {"xtensor_temporaries", xtensor_temporaries(x, y, w)},
        {"ctgrad_value_and_grad", ctgrad_value_and_grad(d.x, d.y, w)},
        {"ctgrad_eval (value only)", {ctgrad_eval(d.x, d.y, w), float(ref[1]), float(ref[2]), float(ref[3]), float(ref[4])}},
    };
    // Sequential float32 sums drift from the exact value as N grows (about 0.5% at N = 1e6); the
    // check allows 2% and prints each method's largest relative error, which shows that drift.
    bool ok = true;
    for (const auto& [name, r] : results) {
        const float got[5] = {r.loss, r.ga, r.gb, r.gc, r.gd};
        double worst = 0;
        for (int k = 0; k < 5; ++k) {
            const double scale = std::abs(ref[k]) > 1 ? std::abs(ref[k]) : 1.0;
            worst = std::max(worst, std::abs(got[k] - ref[k]) / scale);
        }
        std::fprintf(stderr, "accuracy N = %-8zu %-22s largest relative error vs float64: %.1e\n", n, name, worst);
        if (worst > 2e-2) {
            std::fprintf(stderr, "check failed: %s disagrees with the float64 loop\n", name);
            ok = false;
        }
    }
    return ok;
}

}  // namespace

// Registered size by size, so that the seven methods run one after another on the same size (the
// machine's state drifts less between neighbours than between the start and the end of the run).
int main(int argc, char** argv) {
    for (std::size_t n : {std::size_t{2'000}, std::size_t{1'000'000}})
        if (!check_agreement(n)) return 1;
    using fn = void (*)(benchmark::State&);
    const std::pair<const char*, fn> methods[] = {
        {"hand_fused", BM_hand_fused},
        {"hand_fused_omp_simd", BM_hand_fused_omp_simd},
        {"hand_multipass", BM_hand_multipass},
        {"xtensor_temporaries", BM_xtensor_temporaries},
        {"read_x_y", BM_read_x_y},
        {"ctgrad_eval", BM_ctgrad_eval},
        {"ctgrad_value_and_grad", BM_ctgrad_value_and_grad},
    };
    for (int64_t n : {int64_t{2'000}, int64_t{1'000'000}, int64_t{10'000'000}})
        for (const auto& [name, f] : methods)
            benchmark::RegisterBenchmark(name, f)->Arg(n)->Unit(benchmark::kMicrosecond);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
