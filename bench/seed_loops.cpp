// The seeds' training loops, one training step per benchmark iteration: the dynamic
// layer running the loop body of each examples/seed*.cpp (itself the PyTorch seed's body, minus
// printing), and, where the model fits the static layer, the same step as one fused pass.
// bench/run_seed_loops.sh runs this next to the PyTorch originals' --bench mode and prints the
// table of docs/performance.md ("Seed training loops").
//
//   seed0_curve_fit_adam   w [3, 1], 100 fresh samples per step, mse_loss (mean), optim::Adam(0.1)
//   seed2_step5_nn         nn::Sequential(Linear(3, 1), Flatten(0, 1)), MSELoss(sum), manual SGD
//   seed2_step6_rmsprop    the same model, optim::RMSprop(1e-3)
//   seed2_step7_module     a + b x + c x^2 + d x^3 as an nn::Module, optim::SGD(1e-6)
//   seed2_step8_dynamic    step7 plus 3 to 5 (random.randint) terms e x^4, SGD with momentum
//
// Setup (data, model, optimizer) is outside the timed loop, as in the PyTorch --bench protocol.
// The originals evaluate `loss.item()` every 100 steps (2000 for step8) for their print; the
// dynamic twins do the same, so the timed work is the same.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <numbers>
#include <span>

#include <ctgrad/expr.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/nn/static.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

#include "../examples/common/python_random.hpp"
#include "seed_modules.hpp"

namespace {

namespace nn = ctgrad::nn;
namespace F = ctgrad::nn::functional;
namespace ce = ctgrad::expr;
namespace pyrandom = python::random;
using seed_modules::DynamicNet;
using seed_modules::Polynomial3;

constexpr double pi = std::numbers::pi;

// The item() the original prints every `period` steps (its print is a no-op in --bench mode).
void read_loss_every(const ctgrad::Tensor& loss, std::int64_t& t, std::int64_t period) {
    if (t % period == period - 1) benchmark::DoNotOptimize(loss.item<double>());
    ++t;
}

// The seeds' x = linspace(-pi, pi, 2000) and the three powers of step5/6's xx = x.unsqueeze(-1).pow(p).
ctgrad::Tensor seed_x() { return ctgrad::linspace(-pi, pi, 2000); }
ctgrad::Tensor seed_xx(const ctgrad::Tensor& x) { return x.unsqueeze(-1).pow(ctgrad::tensor({1, 2, 3})); }

// A parameter's value and a place to add its gradient, for the fused steps (float32, contiguous).
float value_of(const ctgrad::Tensor& p, std::int64_t i = 0) { return p.data_ptr<float>()[i]; }
void add_grad(const ctgrad::Tensor& p, std::int64_t i, float g) { p.grad().data_ptr<float>()[i] += g; }
void define_grads(const std::vector<ctgrad::Tensor>& params) {
    for (const auto& p : params) p.mutable_grad() = ctgrad::zeros_like(p);
}

// ---- seed0_curve_fit_adam ------------------------------------------------------------------

void BM_seed0_curve_fit_adam_dynamic(benchmark::State& state) {
    ctgrad::manual_seed(0);
    auto w = ctgrad::randn({3, 1}).clone().requires_grad_(true);
    ctgrad::optim::Adam opt({w}, ctgrad::optim::AdamOptions(0.1));
    for (auto _ : state) {
        auto x = ctgrad::rand({100}) * 20 - 10;  // generate_data()
        auto y = 5 * x * x + 3;
        auto f = ctgrad::stack({x * x, x, ctgrad::ones_like(x)}, 1);  // model(x)
        auto yhat = f.matmul(w).squeeze(1);
        auto loss = F::mse_loss(yhat, y);  // compute_loss(y, yhat)
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
}

// The same step with the loss of the 100 fresh samples as one expression: the samples are drawn
// with ctgrad::rand as the original draws them, x = 20 u - 10 and y = 5 x^2 + 3 are computed
// inside the fused pass, and optim::Adam steps w.
constexpr ce::var<"u"> s0_u;
constexpr ce::var<"w0"> s0_w0;
constexpr ce::var<"w1"> s0_w1;
constexpr ce::var<"w2"> s0_w2;
constexpr auto s0_x = ce::lit<20> * s0_u - ce::lit<10>;
constexpr auto s0_y = ce::lit<5> * ce::pow<2>(s0_x) + ce::lit<3>;
constexpr auto s0_loss =
    ce::rational<1, 100>{} * ce::sum(ce::pow<2>(s0_w0 * ce::pow<2>(s0_x) + s0_w1 * s0_x + s0_w2 - s0_y));

void BM_seed0_curve_fit_adam_static(benchmark::State& state) {
    ctgrad::manual_seed(0);
    auto w = ctgrad::randn({3, 1}).clone().requires_grad_(true);
    ctgrad::optim::Adam opt({w}, ctgrad::optim::AdamOptions(0.1));
    define_grads({w});
    for (auto _ : state) {
        const auto u = ctgrad::rand({100});
        const std::span<const float> us(u.data_ptr<float>(), 100);
        auto [value, g] = ce::value_and_grad(s0_loss, ce::wrt(s0_w0, s0_w1, s0_w2), s0_u = us,
                                             s0_w0 = value_of(w, 0), s0_w1 = value_of(w, 1),
                                             s0_w2 = value_of(w, 2));
        benchmark::DoNotOptimize(value);
        opt.zero_grad();
        add_grad(w, 0, std::get<0>(g));
        add_grad(w, 1, std::get<1>(g));
        add_grad(w, 2, std::get<2>(g));
        opt.step();
    }
}

// ---- seed2_step5_nn / seed2_step6_rmsprop ---------------------------------------------------

nn::Sequential seed_model() {
    return nn::Sequential(nn::Linear(3, 1), nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1)));
}
using static_seed_model = nn::static_sequential<nn::static_linear<3, 1>, nn::static_flatten<0, 1>>;

void BM_seed2_step5_nn_dynamic(benchmark::State& state) {
    ctgrad::manual_seed(0);
    auto x = seed_x();
    auto y = ctgrad::sin(x);
    auto xx = seed_xx(x);
    auto model = seed_model();
    nn::MSELoss loss_fn(nn::MSELossOptions().reduction(ctgrad::kSum));
    const double learning_rate = 1e-6;
    std::int64_t t = 0;
    for (auto _ : state) {
        auto y_pred = model->forward(xx);
        auto loss = loss_fn(y_pred, y);
        read_loss_every(loss, t, 100);
        model->zero_grad();
        loss.backward();
        {
            ctgrad::NoGradGuard no_grad;
            for (auto& param : model->parameters()) param -= learning_rate * param.grad();
        }
    }
}

// The static model's fused value_and_grad, and the update as a loop over the 4 parameters.
void BM_seed2_step5_nn_static(benchmark::State& state) {
    ctgrad::manual_seed(0);
    auto x = seed_x();
    static_seed_model model;
    const nn::static_features<3> xx(seed_xx(x));
    const nn::static_features<1> y(ctgrad::sin(x));
    const auto params = model.parameters();
    const float learning_rate = 1e-6f;
    for (auto _ : state) {
        model.zero_grad();
        benchmark::DoNotOptimize(model.value_and_grad(nn::static_mse_sum, xx, y));
        for (const auto& param : params) {
            float* p = param.data_ptr<float>();
            const float* g = param.grad().data_ptr<float>();
            for (std::int64_t i = 0, n = param.numel(); i < n; ++i) p[i] -= learning_rate * g[i];
        }
    }
}

void BM_seed2_step6_rmsprop_dynamic(benchmark::State& state) {
    ctgrad::manual_seed(0);
    auto x = seed_x();
    auto y = ctgrad::sin(x);
    auto xx = seed_xx(x);
    auto model = seed_model();
    nn::MSELoss loss_fn(nn::MSELossOptions().reduction(ctgrad::kSum));
    ctgrad::optim::RMSprop optimizer(model->parameters(), ctgrad::optim::RMSpropOptions(1e-3));
    std::int64_t t = 0;
    for (auto _ : state) {
        auto y_pred = model->forward(xx);
        auto loss = loss_fn(y_pred, y);
        read_loss_every(loss, t, 100);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
}

void BM_seed2_step6_rmsprop_static(benchmark::State& state) {
    ctgrad::manual_seed(0);
    auto x = seed_x();
    static_seed_model model;
    const nn::static_features<3> xx(seed_xx(x));
    const nn::static_features<1> y(ctgrad::sin(x));
    ctgrad::optim::RMSprop optimizer(model.parameters(), ctgrad::optim::RMSpropOptions(1e-3));
    for (auto _ : state) {
        optimizer.zero_grad();
        benchmark::DoNotOptimize(model.value_and_grad(nn::static_mse_sum, xx, y));
        optimizer.step();
    }
}

// ---- seed2_step7_module / seed2_step8_dynamic -----------------------------------------------


void BM_seed2_step7_module_dynamic(benchmark::State& state) {
    ctgrad::manual_seed(0);
    auto x = seed_x();
    auto y = ctgrad::sin(x);
    Polynomial3 model;
    nn::MSELoss criterion(nn::MSELossOptions().reduction(ctgrad::kSum));
    ctgrad::optim::SGD optimizer(model->parameters(), ctgrad::optim::SGDOptions(1e-6));
    std::int64_t t = 0;
    for (auto _ : state) {
        auto y_pred = model(x);
        auto loss = criterion(y_pred, y);
        read_loss_every(loss, t, 100);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
}

// The module's forward and the sum-reduced MSE as one static-layer expression (the cubic of
// seed2_step3), its value and 4 partials in one pass, added into the parameters' .grad();
// optim::SGD steps the module's parameters.
constexpr ce::var<"x"> s7_x;
constexpr ce::var<"y"> s7_y;
constexpr ce::var<"a"> s7_a;
constexpr ce::var<"b"> s7_b;
constexpr ce::var<"c"> s7_c;
constexpr ce::var<"d"> s7_d;
constexpr auto s7_loss =
    ce::sum(ce::pow<2>(s7_a + s7_b * s7_x + s7_c * ce::pow<2>(s7_x) + s7_d * ce::pow<3>(s7_x) - s7_y));

void BM_seed2_step7_module_static(benchmark::State& state) {
    ctgrad::manual_seed(0);
    auto x = seed_x();
    auto y = ctgrad::sin(x);
    const std::span<const float> xs(x.data_ptr<float>(), 2000), ys(y.data_ptr<float>(), 2000);
    Polynomial3 model;
    const auto params = model->parameters();
    define_grads(params);
    ctgrad::optim::SGD optimizer(params, ctgrad::optim::SGDOptions(1e-6));
    for (auto _ : state) {
        auto [value, g] = ce::value_and_grad(s7_loss, ce::wrt(s7_a, s7_b, s7_c, s7_d), s7_x = xs, s7_y = ys,
                                             s7_a = value_of(model->a), s7_b = value_of(model->b),
                                             s7_c = value_of(model->c), s7_d = value_of(model->d));
        benchmark::DoNotOptimize(value);
        optimizer.zero_grad();
        add_grad(model->a, 0, std::get<0>(g));
        add_grad(model->b, 0, std::get<1>(g));
        add_grad(model->c, 0, std::get<2>(g));
        add_grad(model->d, 0, std::get<3>(g));
        optimizer.step();
    }
}


void BM_seed2_step8_dynamic_dynamic(benchmark::State& state) {
    ctgrad::manual_seed(0);
    pyrandom::seed(0);
    auto x = seed_x();
    auto y = ctgrad::sin(x);
    DynamicNet model;
    nn::MSELoss criterion(nn::MSELossOptions().reduction(ctgrad::kSum));
    ctgrad::optim::SGD optimizer(model->parameters(), ctgrad::optim::SGDOptions(1e-8).momentum(0.9));
    std::int64_t t = 0;
    for (auto _ : state) {
        auto y_pred = model(x);
        auto loss = criterion(y_pred, y);
        read_loss_every(loss, t, 2000);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
}

}  // namespace

// Names: <program>/<dynamic|static>; bench/run_seed_loops.sh matches <program> with the
// PyTorch script of that name.
BENCHMARK(BM_seed0_curve_fit_adam_dynamic)->Name("seed0_curve_fit_adam/dynamic")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_seed0_curve_fit_adam_static)->Name("seed0_curve_fit_adam/static")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_seed2_step5_nn_dynamic)->Name("seed2_step5_nn/dynamic")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_seed2_step5_nn_static)->Name("seed2_step5_nn/static")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_seed2_step6_rmsprop_dynamic)->Name("seed2_step6_rmsprop/dynamic")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_seed2_step6_rmsprop_static)->Name("seed2_step6_rmsprop/static")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_seed2_step7_module_dynamic)->Name("seed2_step7_module/dynamic")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_seed2_step7_module_static)->Name("seed2_step7_module/static")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_seed2_step8_dynamic_dynamic)->Name("seed2_step8_dynamic/dynamic")->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
