// Convolution and pooling at the shapes of pytorch/examples' mnist CNN (batch 64, float32):
//
//   conv1_forward        Conv2d(1, 10, 5) on [64, 1, 28, 28]    (im2col + one GEMM, ops/conv.hpp)
//   conv2_forward        Conv2d(10, 20, 5) on [64, 10, 12, 12]
//   conv1_train          conv1's forward and backward (weight and bias gradients)
//   conv2_train          conv2's forward and backward (input, weight and bias gradients)
//   max_pool_train       max_pool2d(2) of [64, 10, 24, 24], forward and backward
//   direct_conv1/2       the same forwards as a plain direct loop (7 nested loops, the
//                        innermost over the output row): the yardstick im2col + GEMM must beat
//
// bench/meson.build builds it as `conv`; docs/performance.md ("Convolution") has the figures.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <ctgrad/nn.hpp>
#include <ctgrad/tensor.hpp>

namespace {

using ctgrad::Tensor;

struct conv_shape {
    std::int64_t n, c, h, w, o, k;
};
constexpr conv_shape conv1{64, 1, 28, 28, 10, 5};
constexpr conv_shape conv2{64, 10, 12, 12, 20, 5};

void forward(benchmark::State& state, conv_shape s) {
    ctgrad::manual_seed(0);
    ctgrad::nn::Conv2d conv(s.c, s.o, s.k);
    const Tensor x = ctgrad::randn({s.n, s.c, s.h, s.w});
    ctgrad::NoGradGuard no_grad;
    for (auto _ : state) benchmark::DoNotOptimize(conv(x));
}

void train(benchmark::State& state, conv_shape s, bool input_grad) {
    ctgrad::manual_seed(0);
    ctgrad::nn::Conv2d conv(s.c, s.o, s.k);
    const Tensor x = ctgrad::randn({s.n, s.c, s.h, s.w}).requires_grad_(input_grad);
    for (auto _ : state) {
        conv(x).sum().backward();
        benchmark::DoNotOptimize(conv->weight.grad());
    }
}

// out[n, o, i, j] = b[o] + sum over c, p, q of w[o, c, p, q] * x[n, c, i + p, j + q]
void direct(benchmark::State& state, conv_shape s) {
    const std::int64_t oh = s.h - s.k + 1, ow = s.w - s.k + 1;
    ctgrad::manual_seed(0);
    const Tensor xt = ctgrad::randn({s.n, s.c, s.h, s.w}), wt = ctgrad::randn({s.o, s.c, s.k, s.k});
    const Tensor bt = ctgrad::randn({s.o});
    const float *x = xt.data_ptr<float>(), *w = wt.data_ptr<float>(), *b = bt.data_ptr<float>();
    std::vector<float> out(static_cast<std::size_t>(s.n * s.o * oh * ow));
    for (auto _ : state) {
        for (std::int64_t n = 0; n < s.n; ++n)
            for (std::int64_t o = 0; o < s.o; ++o) {
                float* y = out.data() + (n * s.o + o) * oh * ow;
                for (std::int64_t e = 0; e < oh * ow; ++e) y[e] = b[o];
                for (std::int64_t c = 0; c < s.c; ++c)
                    for (std::int64_t p = 0; p < s.k; ++p)
                        for (std::int64_t q = 0; q < s.k; ++q) {
                            const float wv = w[((o * s.c + c) * s.k + p) * s.k + q];
                            const float* xin = x + ((n * s.c + c) * s.h + p) * s.w + q;
                            for (std::int64_t i = 0; i < oh; ++i)
                                for (std::int64_t j = 0; j < ow; ++j) y[i * ow + j] += wv * xin[i * s.w + j];
                        }
            }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
}

void max_pool_train(benchmark::State& state) {
    ctgrad::manual_seed(0);
    const Tensor x = ctgrad::randn({64, 10, 24, 24}).requires_grad_(true);
    for (auto _ : state) {
        ctgrad::max_pool2d(x, 2).sum().backward();
        benchmark::DoNotOptimize(x.grad());
    }
}

}  // namespace

BENCHMARK_CAPTURE(forward, conv1_forward, conv1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(forward, conv2_forward, conv2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(direct, direct_conv1, conv1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(direct, direct_conv2, conv2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(train, conv1_train, conv1, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(train, conv2_train, conv2, true)->Unit(benchmark::kMicrosecond);
BENCHMARK(max_pool_train)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
