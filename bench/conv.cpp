// Convolution and pooling at the shapes of pytorch/examples' mnist CNN (batch 64, float32):
//
//   conv1_forward        Conv2d(1, 10, 5) on [64, 1, 28, 28]    (im2col + one GEMM, ops/conv.hpp)
//   conv2_forward        Conv2d(10, 20, 5) on [64, 10, 12, 12]
//   conv1_train          conv1's forward and backward (weight and bias gradients)
//   conv2_train          conv2's forward and backward (input, weight and bias gradients)
//   max_pool_train       max_pool2d(2) of [64, 10, 24, 24], forward and backward
//   direct_conv1/2       the same forwards as a plain direct loop (7 nested loops, the
//                        innermost over the output row): the yardstick im2col + GEMM must beat
//   cnn_train/B          one training step of pytorch/examples' mnist network at batch B
//                        (forward, nll_loss, backward, SGD with momentum), B = 64 and 8
//   cnn_test/B           its evaluation pass (eval mode, no grad, argmax) at batch B = 1000, 8
//
// bench/conv_torch.py runs the same network, steps and data sizes in PyTorch eager.
//
// bench/meson.build builds it as `conv`; docs/performance.md ("Convolution and the mnist CNN") has the figures.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
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

// pytorch/examples' mnist network, written as a libtorch user writes it.
struct NetImpl : ctgrad::nn::Module {
    NetImpl()
        : conv1(ctgrad::nn::Conv2dOptions(1, 10, 5)),
          conv2(ctgrad::nn::Conv2dOptions(10, 20, 5)),
          fc1(320, 50),
          fc2(50, 10) {
        register_module("conv1", conv1);
        register_module("conv2", conv2);
        register_module("conv2_drop", conv2_drop);
        register_module("fc1", fc1);
        register_module("fc2", fc2);
    }
    Tensor forward(Tensor x) {
        x = ctgrad::relu(ctgrad::max_pool2d(conv1->forward(x), 2));
        x = ctgrad::relu(ctgrad::max_pool2d(conv2_drop->forward(conv2->forward(x)), 2));
        x = x.view({-1, 320});
        x = ctgrad::relu(fc1->forward(x));
        x = ctgrad::dropout(x, 0.5, is_training());
        x = fc2->forward(x);
        return ctgrad::log_softmax(x, 1);
    }
    ctgrad::nn::Conv2d conv1;
    ctgrad::nn::Conv2d conv2;
    ctgrad::nn::Dropout2d conv2_drop;
    ctgrad::nn::Linear fc1;
    ctgrad::nn::Linear fc2;
};
TORCH_MODULE(Net);

void cnn_train(benchmark::State& state) {
    const std::int64_t batch = state.range(0);
    ctgrad::manual_seed(0);
    Net model;
    ctgrad::optim::SGD optimizer(model->parameters(), ctgrad::optim::SGDOptions(0.01).momentum(0.5));
    const Tensor data = ctgrad::randn({batch, 1, 28, 28});
    const Tensor target = ctgrad::randint(0, 10, {batch});
    model->train();
    for (auto _ : state) {
        optimizer.zero_grad();
        const Tensor loss = ctgrad::nll_loss(model->forward(data), target);
        loss.backward();
        optimizer.step();
        benchmark::DoNotOptimize(loss.item<float>());
    }
}

void cnn_test(benchmark::State& state) {
    const std::int64_t batch = state.range(0);
    ctgrad::manual_seed(0);
    Net model;
    const Tensor data = ctgrad::randn({batch, 1, 28, 28});
    const Tensor target = ctgrad::randint(0, 10, {batch});
    model->eval();
    for (auto _ : state) {
        ctgrad::NoGradGuard no_grad;
        const Tensor output = model->forward(data);
        const double loss = ctgrad::nll_loss(output, target, {}, ctgrad::Reduction::Sum).item<double>();
        const std::int64_t correct = output.argmax(1).eq(target).sum().item<std::int64_t>();
        benchmark::DoNotOptimize(loss);
        benchmark::DoNotOptimize(correct);
    }
}

}  // namespace

BENCHMARK(cnn_train)->Arg(64)->Arg(8)->Unit(benchmark::kMicrosecond);
BENCHMARK(cnn_test)->Arg(1000)->Arg(8)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(forward, conv1_forward, conv1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(forward, conv2_forward, conv2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(direct, direct_conv1, conv1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(direct, direct_conv2, conv2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(train, conv1_train, conv1, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(train, conv2_train, conv2, true)->Unit(benchmark::kMicrosecond);
BENCHMARK(max_pool_train)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
