// The dynamic layer on cuda: the seeds' training loops per step, and the cubic-fit loss forward
// and backward on large arrays. bench/gpu/torch_cuda.py runs the same programs in PyTorch with
// the same step counts; bench/gpu/run_gpu.sh runs both and prints the tables.
//
//   seed0_curve_fit_adam   w [3, 1], 100 fresh samples per step (ctgrad::rand on the device:
//                          drawn by the CPU generator and copied, as ctgrad's factories do),
//                          mse_loss (mean), optim::Adam(0.1)
//   seed2_step5_nn         nn::Sequential(Linear(3, 1), Flatten(0, 1)), MSELoss(sum), manual SGD
//                          update under NoGradGuard
//   seed2_step6_rmsprop    the same model, optim::RMSprop(1e-3)
//   seed2_step7_module     a + b x + c x^2 + d x^3 as an nn::Module, optim::SGD(1e-6)
//   seed2_step8_dynamic    step7 plus 3 to 5 (Python's random.randint) terms e x^4, SGD momentum 0.9
//   cubic_N                loss = sum((a + b x + c x^2 + d x^3 - y)^2) and loss.backward(), a..d
//                          0-d leaves, x = linspace(-pi, pi, N), y = sin(x), all on cuda
//
// The seeds' loops read loss.item() every 100 steps (2000 for step8) as the originals do; that
// read is a device-to-host copy, so it is part of the step. Setup (data, model, optimizer) is
// outside the timing. Each repetition times `steps` consecutive steps with std::chrono, with
// ctgrad::cuda::synchronize() before each reading of the clock; the figure is the median over
// repetitions of the time per step.
//
// usage: dynamic_loops [--steps=K] [--warmup=W] [--repetitions=R] [--cubic-steps=K]
//                      [--cubic-warmup=W] [--cubic-sizes=N,N,...] [--json=PATH]
// Exits 77 (meson's "skipped") where ctgrad::cuda::is_available() is false.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include <ctgrad/cuda.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

#include "../../examples/common/python_random.hpp"
#include "../seed_modules.hpp"

namespace {

namespace nn = ctgrad::nn;
namespace F = ctgrad::nn::functional;
namespace pyrandom = python::random;
using seed_modules::DynamicNet;
using seed_modules::Polynomial3;

constexpr double pi = std::numbers::pi;
const ctgrad::Device gpu(ctgrad::kCUDA);

using step_fn = std::function<void()>;

// The originals' `print(t, loss.item())` every `period` steps: the read stays, the print goes.
struct loss_reader {
    std::int64_t period;
    std::int64_t t = 0;
    double last = 0;
    void operator()(const ctgrad::Tensor& loss) {
        if (t % period == period - 1) last = loss.item<double>();
        ++t;
    }
};

// The seeds' x = linspace(-pi, pi, 2000) and y = sin(x), computed on the CPU and moved.
ctgrad::Tensor seed_x() { return ctgrad::linspace(-pi, pi, 2000); }

// ---- the programs: each returns its step, with its state captured -------------------------------

step_fn seed0_curve_fit_adam() {
    ctgrad::manual_seed(0);
    auto w = ctgrad::randn({3, 1}).to(gpu).requires_grad_(true);
    auto opt = std::make_shared<ctgrad::optim::Adam>(std::vector<ctgrad::Tensor>{w}, ctgrad::optim::AdamOptions(0.1));
    return [w, opt] {
        auto x = ctgrad::rand({100}, ctgrad::device(gpu)) * 20 - 10;  // generate_data()
        auto y = 5 * x * x + 3;
        auto f = ctgrad::stack({x * x, x, ctgrad::ones_like(x)}, 1);  // model(x)
        auto yhat = f.matmul(w).squeeze(1);
        auto loss = F::mse_loss(yhat, y);  // compute_loss(y, yhat)
        opt->zero_grad();
        loss.backward();
        opt->step();
    };
}

nn::Sequential seed_model() {
    nn::Sequential model(nn::Linear(3, 1), nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1)));
    model->to(gpu);
    return model;
}

// xx = x.unsqueeze(-1).pow([1, 2, 3]), on the device.
ctgrad::Tensor seed_xx(const ctgrad::Tensor& x) { return x.unsqueeze(-1).pow(ctgrad::tensor({1, 2, 3})).to(gpu); }

step_fn seed2_step5_nn() {
    ctgrad::manual_seed(0);
    const auto x = seed_x();
    const auto y = ctgrad::sin(x).to(gpu);
    const auto xx = seed_xx(x);
    auto model = seed_model();
    auto loss_fn = std::make_shared<nn::MSELoss>(nn::MSELossOptions().reduction(ctgrad::kSum));
    return [=, read = loss_reader{100}]() mutable {
        const double learning_rate = 1e-6;
        auto y_pred = model->forward(xx);
        auto loss = (*loss_fn)(y_pred, y);
        read(loss);
        model->zero_grad();
        loss.backward();
        {
            ctgrad::NoGradGuard no_grad;
            for (auto& param : model->parameters()) param -= learning_rate * param.grad();
        }
    };
}

step_fn seed2_step6_rmsprop() {
    ctgrad::manual_seed(0);
    const auto x = seed_x();
    const auto y = ctgrad::sin(x).to(gpu);
    const auto xx = seed_xx(x);
    auto model = seed_model();
    auto loss_fn = std::make_shared<nn::MSELoss>(nn::MSELossOptions().reduction(ctgrad::kSum));
    auto optimizer =
        std::make_shared<ctgrad::optim::RMSprop>(model->parameters(), ctgrad::optim::RMSpropOptions(1e-3));
    return [=, read = loss_reader{100}]() mutable {
        auto y_pred = model->forward(xx);
        auto loss = (*loss_fn)(y_pred, y);
        read(loss);
        optimizer->zero_grad();
        loss.backward();
        optimizer->step();
    };
}



// step7 and step8 share their loop: model, MSELoss(sum), optimizer, item() every `period` steps.
template <class Model>
step_fn module_loop(Model model, ctgrad::optim::SGDOptions sgd, std::int64_t period) {
    const auto x = seed_x();
    const auto y = ctgrad::sin(x).to(gpu);
    const auto xg = x.to(gpu);
    model->to(gpu);
    auto criterion = std::make_shared<nn::MSELoss>(nn::MSELossOptions().reduction(ctgrad::kSum));
    auto optimizer = std::make_shared<ctgrad::optim::SGD>(model->parameters(), sgd);
    return [=, read = loss_reader{period}]() mutable {
        auto y_pred = model(xg);
        auto loss = (*criterion)(y_pred, y);
        read(loss);
        optimizer->zero_grad();
        loss.backward();
        optimizer->step();
    };
}

step_fn seed2_step7_module() {
    ctgrad::manual_seed(0);
    Polynomial3 model;
    return module_loop(model, ctgrad::optim::SGDOptions(1e-6), 100);
}

step_fn seed2_step8_dynamic() {
    ctgrad::manual_seed(0);
    pyrandom::seed(0);
    DynamicNet model;
    return module_loop(model, ctgrad::optim::SGDOptions(1e-8).momentum(0.9), 2000);
}

// The cubic fit's loss and its four partials through autograd, as torch's loss.backward(); the
// grads are reset each step (torch: p.grad = None) so that every step does the same work.
step_fn cubic(std::int64_t n) {
    ctgrad::manual_seed(0);
    std::vector<ctgrad::Tensor> w;
    for (int k = 0; k < 4; ++k) w.push_back(ctgrad::randn({}).to(gpu).requires_grad_(true));
    const auto x = ctgrad::linspace(-pi, pi, n, ctgrad::device(gpu));
    const auto y = ctgrad::sin(x);
    return [w, x, y] {
        for (const auto& p : w) p.mutable_grad() = ctgrad::Tensor();
        const ctgrad::Tensor &a = w[0], &b = w[1], &c = w[2], &d = w[3];
        auto loss = (a + b * x + c * x.pow(2) + d * x.pow(3) - y).pow(2).sum();
        loss.backward();
    };
}

// ---- timing ------------------------------------------------------------------------------------

struct timing {
    double median_us, min_us, max_us;
};

timing time_steps(const step_fn& step, int steps, int warmup, int repetitions) {
    using clock = std::chrono::steady_clock;
    for (int i = 0; i < warmup; ++i) step();
    ctgrad::cuda::synchronize();
    std::vector<double> per_step;
    for (int r = 0; r < repetitions; ++r) {
        const auto start = clock::now();
        for (int i = 0; i < steps; ++i) step();
        ctgrad::cuda::synchronize();
        const auto stop = clock::now();
        per_step.push_back(std::chrono::duration<double, std::micro>(stop - start).count() / steps);
    }
    std::sort(per_step.begin(), per_step.end());
    const std::size_t m = per_step.size();
    const double median = m % 2 ? per_step[m / 2] : 0.5 * (per_step[m / 2 - 1] + per_step[m / 2]);
    return {median, per_step.front(), per_step.back()};
}

// ---- the program -------------------------------------------------------------------------------

struct options {
    int steps = 500, warmup = 100, repetitions = 10;
    int cubic_steps = 20, cubic_warmup = 3;
    std::vector<std::int64_t> cubic_sizes = {1'000'000, 10'000'000, 100'000'000};
    std::string json;
};

const char* const usage =
    "usage: dynamic_loops [--steps=K] [--warmup=W] [--repetitions=R] [--cubic-steps=K] [--cubic-warmup=W] "
    "[--cubic-sizes=N,N,...] [--json=PATH]";

int to_count(const std::string& arg, const char* text) {
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < 0 || v > 100'000'000)
        throw ctgrad::Error("dynamic_loops: bad value in '" + arg + "' (" + usage + ")");
    return static_cast<int>(v);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](const char* name) -> const char* {
            const std::size_t len = std::strlen(name);
            return arg.compare(0, len, name) == 0 ? arg.c_str() + len : nullptr;
        };
        if (const char* v = value("--steps=")) o.steps = to_count(arg, v);
        else if (const char* v = value("--warmup=")) o.warmup = to_count(arg, v);
        else if (const char* v = value("--repetitions=")) o.repetitions = to_count(arg, v);
        else if (const char* v = value("--cubic-steps=")) o.cubic_steps = to_count(arg, v);
        else if (const char* v = value("--cubic-warmup=")) o.cubic_warmup = to_count(arg, v);
        else if (const char* v = value("--json=")) o.json = v;
        else if (const char* v = value("--cubic-sizes=")) {
            o.cubic_sizes.clear();
            for (const char* p = v; *p;) {
                char* end = nullptr;
                const double n = std::strtod(p, &end);  // accepts 1e7
                if (end == p || n < 1) throw ctgrad::Error("dynamic_loops: bad --cubic-sizes entry in '" + arg + "'");
                o.cubic_sizes.push_back(static_cast<std::int64_t>(n));
                p = *end == ',' ? end + 1 : end;
            }
        } else {
            throw ctgrad::Error("dynamic_loops: unknown argument '" + arg + "' (" + usage + ")");
        }
    }
    if (o.steps < 1 || o.repetitions < 1 || o.cubic_steps < 1)
        throw ctgrad::Error(std::string("dynamic_loops: --steps, --repetitions and --cubic-steps must be >= 1 (") +
                            usage + ")");
    return o;
}

struct result {
    std::string program;
    std::int64_t n;  // elements for the cubic rows, 0 for the seed loops
    int steps, warmup;
    timing t;
};

int run(const options& o) {
    if (!ctgrad::cuda::is_available()) {
        std::printf("dynamic_loops: ctgrad::cuda::is_available() is false (no GPU, or no CUDA driver): skipped\n");
        return 77;
    }
    std::printf("ctgrad dynamic layer on cuda; %d repetitions (median reported); seed loops: %d steps per "
                "repetition after %d warm-up steps; cubic: %d steps after %d warm-up steps\n\n",
                o.repetitions, o.steps, o.warmup, o.cubic_steps, o.cubic_warmup);
    struct program {
        const char* name;
        step_fn (*make)();
    };
    const program programs[] = {{"seed0_curve_fit_adam", seed0_curve_fit_adam},
                                {"seed2_step5_nn", seed2_step5_nn},
                                {"seed2_step6_rmsprop", seed2_step6_rmsprop},
                                {"seed2_step7_module", seed2_step7_module},
                                {"seed2_step8_dynamic", seed2_step8_dynamic}};
    std::vector<result> results;
    std::printf("| program | median us/step | min | max |\n|---|---:|---:|---:|\n");
    auto print = [](const result& r) {
        std::printf("| %s | %.2f | %.2f | %.2f |\n", r.program.c_str(), r.t.median_us, r.t.min_us, r.t.max_us);
        std::fflush(stdout);
    };
    for (const program& p : programs) {
        results.push_back({p.name, 0, o.steps, o.warmup, time_steps(p.make(), o.steps, o.warmup, o.repetitions)});
        print(results.back());
    }
    for (const std::int64_t n : o.cubic_sizes) {
        results.push_back({"cubic_" + std::to_string(n), n, o.cubic_steps, o.cubic_warmup,
                           time_steps(cubic(n), o.cubic_steps, o.cubic_warmup, o.repetitions)});
        print(results.back());
    }

    if (!o.json.empty()) {
        std::FILE* f = std::fopen(o.json.c_str(), "w");
        if (!f) throw ctgrad::Error("dynamic_loops: cannot open --json file '" + o.json + "'");
        std::fprintf(f, "{\n  \"program\": \"dynamic_loops\",\n  \"cuda_devices\": %d,\n  \"repetitions\": %d,\n",
                     ctgrad::cuda::device_count(), o.repetitions);
        std::fprintf(f, "  \"results\": [\n");
        for (std::size_t i = 0; i < results.size(); ++i) {
            const result& r = results[i];
            std::fprintf(f,
                         "    {\"program\": \"%s\", \"n\": %lld, \"steps\": %d, \"warmup\": %d, \"median_us\": %.6g, "
                         "\"min_us\": %.6g, \"max_us\": %.6g}%s\n",
                         r.program.c_str(), static_cast<long long>(r.n), r.steps, r.warmup, r.t.median_us,
                         r.t.min_us, r.t.max_us, i + 1 < results.size() ? "," : "");
        }
        std::fprintf(f, "  ]\n}\n");
        if (std::fclose(f) != 0) throw ctgrad::Error("dynamic_loops: cannot write --json file '" + o.json + "'");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
