// ctgrad::optim against PyTorch 1.13: 10-step trajectories of every optimizer option,
// bit for bit (test/reference/optim.txt, written by tools/reference_optim.py), plus param
// groups, zero_grad, parameters without gradients, closures, the option checks, StepLR,
// LBFGS (to rounding: its dot products sum in another order) and save/load of the state.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/serialize.hpp>
#include <ctgrad/tensor.hpp>

namespace {

using namespace ctgrad;
using Options = std::map<std::string, double>;

struct ParamCase {
    int group = 0;
    std::vector<std::int64_t> shape;
    std::vector<double> init;
};

struct Case {
    std::string optimizer, dtype;
    int steps = 0;
    Options defaults;
    std::map<int, Options> groups;
    std::vector<ParamCase> params;
    std::map<std::pair<int, int>, std::vector<double>> grads, after;  // (step, j) -> values
    std::map<std::pair<int, std::string>, std::vector<double>> state;  // (j, key) -> values
    unsigned step_size = 0;  // a StepLR's, 0: no scheduler
    double gamma = 0;
    std::map<std::pair<int, int>, double> lrs;  // (step, g) -> the group's lr after the step
    std::map<int, double> losses;               // step -> LBFGS's returned loss
    std::optional<Options> plateau;             // a ReduceLROnPlateau's keywords
    std::map<int, double> metrics;              // step -> the metric given to it
};

std::vector<double> read_values(std::istringstream& in) {
    std::vector<double> v;
    std::string word;
    while (in >> word) v.push_back(std::stod(word));
    return v;
}

Options read_options(std::istringstream& in) {
    Options o;
    std::string kv;
    while (in >> kv) {
        const auto eq = kv.find('=');
        o[kv.substr(0, eq)] = std::stod(kv.substr(eq + 1));
    }
    return o;
}

const std::map<std::string, Case>& cases() {
    static const std::map<std::string, Case> all = [] {
        std::map<std::string, Case> out;
        std::ifstream file(std::string(CTGRAD_REFERENCE_DIR) + "/optim.txt");
        REQUIRE_MESSAGE(file.good(), "missing test/reference/optim.txt (tools/reference_optim.py writes it)");
        std::string line;
        while (std::getline(file, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream in(line);
            std::string kind, name;
            in >> kind >> name;
            Case& c = out[name];
            if (kind == "case") {
                in >> c.optimizer >> c.dtype >> c.steps;
                c.defaults = read_options(in);
            } else if (kind == "group") {
                int g = 0;
                in >> g;
                c.groups[g] = read_options(in);
            } else if (kind == "shape") {
                int j = 0, rank = 0;
                ParamCase p;
                in >> j >> p.group >> rank;
                p.shape.resize(static_cast<std::size_t>(rank));
                for (auto& s : p.shape) in >> s;
                c.params.resize(std::max<std::size_t>(c.params.size(), static_cast<std::size_t>(j) + 1));
                c.params[static_cast<std::size_t>(j)] = p;
            } else if (kind == "init") {
                int j = 0;
                in >> j;
                c.params[static_cast<std::size_t>(j)].init = read_values(in);
            } else if (kind == "grad" || kind == "param") {
                int step = 0, j = 0;
                in >> step >> j;
                (kind == "grad" ? c.grads : c.after)[{step, j}] = read_values(in);
            } else if (kind == "sched") {
                std::string scheduler;
                in >> scheduler >> c.step_size >> c.gamma;
                REQUIRE(scheduler == "StepLR");
            } else if (kind == "lr") {
                int step = 0, g = 0;
                in >> step >> g;
                in >> c.lrs[{step, g}];
            } else if (kind == "plateau") {
                c.plateau = read_options(in);
            } else if (kind == "metric") {
                int step = 0;
                in >> step;
                in >> c.metrics[step];
            } else if (kind == "loss") {
                int step = 0;
                in >> step;
                in >> c.losses[step];
            } else if (kind == "state") {
                int j = 0;
                std::string key;
                in >> j >> key;
                c.state[{j, key}] = read_values(in);
            }
        }
        return out;
    }();
    return all;
}

ScalarType dtype_of_name(const std::string& name) { return name == "float64" ? kDouble : kFloat; }

Tensor make(const std::vector<std::int64_t>& shape, const std::vector<double>& values, ScalarType dtype) {
    Tensor t = empty(shape, TensorOptions().dtype(dtype));
    REQUIRE(static_cast<std::size_t>(t.numel()) == values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (dtype == kFloat) t.data_ptr<float>()[i] = static_cast<float>(values[i]);
        else t.data_ptr<double>()[i] = values[i];
    }
    return t;
}

// The distance in units in the last place between the elements of t and the expected values
// (the largest over the tensor); 0 means bit-identical.
std::int64_t max_ulp(const Tensor& t, const std::vector<double>& expected) {
    REQUIRE(static_cast<std::size_t>(t.numel()) == expected.size());
    std::int64_t worst = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        std::int64_t a = 0, b = 0;
        if (t.scalar_type() == kFloat) {
            const float x = t.data_ptr<float>()[i], y = static_cast<float>(expected[i]);
            std::int32_t ix, iy;
            std::memcpy(&ix, &x, 4);
            std::memcpy(&iy, &y, 4);
            a = ix < 0 ? std::int64_t(INT32_MIN) - ix : ix;
            b = iy < 0 ? std::int64_t(INT32_MIN) - iy : iy;
        } else {
            const double x = t.data_ptr<double>()[i], y = expected[i];
            std::int64_t ix, iy;
            std::memcpy(&ix, &x, 8);
            std::memcpy(&iy, &y, 8);
            a = ix < 0 ? INT64_MIN - ix : ix;
            b = iy < 0 ? INT64_MIN - iy : iy;
        }
        worst = std::max(worst, a > b ? a - b : b - a);
    }
    return worst;
}

template <class O>
O sgd_options(const Options& kv, O o) {
    for (const auto& [k, v] : kv) {
        if (k == "lr") o.lr(v);
        else if (k == "momentum") o.momentum(v);
        else if (k == "dampening") o.dampening(v);
        else if (k == "weight_decay") o.weight_decay(v);
        else if (k == "nesterov") o.nesterov(v != 0);
        else FAIL("unknown SGD option " << k);
    }
    return o;
}

template <class O>
O adam_options(const Options& kv, O o) {
    for (const auto& [k, v] : kv) {
        if (k == "lr") o.lr(v);
        else if (k == "beta1") o.betas(std::make_tuple(v, std::get<1>(o.betas())));
        else if (k == "beta2") o.betas(std::make_tuple(std::get<0>(o.betas()), v));
        else if (k == "eps") o.eps(v);
        else if (k == "weight_decay") o.weight_decay(v);
        else if (k == "amsgrad") o.amsgrad(v != 0);
        else FAIL("unknown Adam option " << k);
    }
    return o;
}

optim::RMSpropOptions rmsprop_options(const Options& kv, optim::RMSpropOptions o) {
    for (const auto& [k, v] : kv) {
        if (k == "lr") o.lr(v);
        else if (k == "alpha") o.alpha(v);
        else if (k == "eps") o.eps(v);
        else if (k == "weight_decay") o.weight_decay(v);
        else if (k == "momentum") o.momentum(v);
        else if (k == "centered") o.centered(v != 0);
        else FAIL("unknown RMSprop option " << k);
    }
    return o;
}

optim::AdagradOptions adagrad_options(const Options& kv, optim::AdagradOptions o) {
    for (const auto& [k, v] : kv) {
        if (k == "lr") o.lr(v);
        else if (k == "lr_decay") o.lr_decay(v);
        else if (k == "weight_decay") o.weight_decay(v);
        else if (k == "initial_accumulator_value") o.initial_accumulator_value(v);
        else if (k == "eps") o.eps(v);
        else FAIL("unknown Adagrad option " << k);
    }
    return o;
}

optim::LBFGSOptions lbfgs_options(const Options& kv, optim::LBFGSOptions o) {
    for (const auto& [k, v] : kv) {
        if (k == "lr") o.lr(v);
        else if (k == "max_iter") o.max_iter(static_cast<std::int64_t>(v));
        else if (k == "max_eval") o.max_eval(static_cast<std::int64_t>(v));
        else if (k == "tolerance_grad") o.tolerance_grad(v);
        else if (k == "tolerance_change") o.tolerance_change(v);
        else if (k == "history_size") o.history_size(static_cast<std::int64_t>(v));
        else if (k == "strong_wolfe") o.line_search_fn("strong_wolfe");
        else FAIL("unknown LBFGS option " << k);
    }
    return o;
}

// The optimizer of case c over params (in groups as the case says; group overrides start from
// the case's defaults, as PyTorch fills a group's missing keys from the defaults).
std::unique_ptr<optim::Optimizer> make_optimizer(const Case& c, const std::vector<Tensor>& params) {
    int n_groups = 0;
    for (const auto& p : c.params) n_groups = std::max(n_groups, p.group + 1);
    std::vector<std::vector<Tensor>> members(static_cast<std::size_t>(n_groups));
    for (std::size_t j = 0; j < params.size(); ++j)
        members[static_cast<std::size_t>(c.params[j].group)].push_back(params[j]);
    auto groups = [&](auto defaults, auto with) {
        std::vector<optim::OptimizerParamGroup> out;
        for (int g = 0; g < n_groups; ++g) {
            auto it = c.groups.find(g);
            if (it == c.groups.end()) out.emplace_back(members[static_cast<std::size_t>(g)]);
            else
                out.emplace_back(members[static_cast<std::size_t>(g)],
                                 std::make_unique<decltype(defaults)>(with(it->second, defaults)));
        }
        return out;
    };
    if (c.optimizer == "SGD") {
        const auto d = sgd_options(c.defaults, optim::SGDOptions(0.0));
        return std::make_unique<optim::SGD>(groups(d, sgd_options<optim::SGDOptions>), d);
    }
    if (c.optimizer == "Adam") {
        const auto d = adam_options(c.defaults, optim::AdamOptions());
        return std::make_unique<optim::Adam>(groups(d, adam_options<optim::AdamOptions>), d);
    }
    if (c.optimizer == "AdamW") {
        const auto d = adam_options(c.defaults, optim::AdamWOptions());
        return std::make_unique<optim::AdamW>(groups(d, adam_options<optim::AdamWOptions>), d);
    }
    if (c.optimizer == "Adagrad") {
        const auto d = adagrad_options(c.defaults, optim::AdagradOptions());
        return std::make_unique<optim::Adagrad>(groups(d, adagrad_options), d);
    }
    REQUIRE(c.optimizer == "RMSprop");
    const auto d = rmsprop_options(c.defaults, optim::RMSpropOptions());
    return std::make_unique<optim::RMSprop>(groups(d, rmsprop_options), d);
}

// The state buffer `key` of parameter p, as PyTorch names it.
Tensor state_buffer(optim::Optimizer& opt, const Tensor& p, const std::string& optimizer, const std::string& key) {
    auto it = opt.state().find(p.unsafeGetTensorImpl());
    REQUIRE(it != opt.state().end());
    optim::OptimizerParamState& s = *it->second;
    auto scalar = [&](std::int64_t step) { return scalar_tensor(static_cast<double>(step), TensorOptions().dtype(kDouble)); };
    if (optimizer == "SGD" && key == "momentum_buffer") return static_cast<optim::SGDParamState&>(s).momentum_buffer();
    if (optimizer == "Adam") {
        auto& a = static_cast<optim::AdamParamState&>(s);
        if (key == "step") return scalar(a.step());
        if (key == "exp_avg") return a.exp_avg();
        if (key == "exp_avg_sq") return a.exp_avg_sq();
        if (key == "max_exp_avg_sq") return a.max_exp_avg_sq();
    }
    if (optimizer == "AdamW") {
        auto& a = static_cast<optim::AdamWParamState&>(s);
        if (key == "step") return scalar(a.step());
        if (key == "exp_avg") return a.exp_avg();
        if (key == "exp_avg_sq") return a.exp_avg_sq();
        if (key == "max_exp_avg_sq") return a.max_exp_avg_sq();
    }
    if (optimizer == "RMSprop") {
        auto& r = static_cast<optim::RMSpropParamState&>(s);
        if (key == "step") return scalar(r.step());
        if (key == "square_avg") return r.square_avg();
        if (key == "momentum_buffer") return r.momentum_buffer();
        if (key == "grad_avg") return r.grad_avg();
    }
    if (optimizer == "Adagrad") {
        auto& a = static_cast<optim::AdagradParamState&>(s);
        if (key == "step") return scalar(a.step());
        if (key == "sum") return a.sum();
    }
    FAIL("no state " << key << " in " << optimizer);
    return Tensor();
}

// Replays case `name`: sets each step's gradients from the file, steps, compares every
// parameter after every step and the final state with PyTorch's. Returns the largest ulp
// distance seen.
std::int64_t replay(const std::string& name) {
    const auto found = cases().find(name);
    REQUIRE_MESSAGE(found != cases().end(), "no case " << name << " in optim.txt");
    const Case& c = found->second;
    const ScalarType dtype = dtype_of_name(c.dtype);
    std::vector<Tensor> params;
    for (const auto& p : c.params) params.push_back(make(p.shape, p.init, dtype).requires_grad_());
    auto opt = make_optimizer(c, params);
    std::unique_ptr<optim::StepLR> scheduler;
    if (c.step_size != 0) scheduler = std::make_unique<optim::StepLR>(*opt, c.step_size, c.gamma);
    std::unique_ptr<optim::ReduceLROnPlateauScheduler> plateau;
    if (c.plateau) {
        const Options& k = *c.plateau;
        const auto get = [&](const char* key, double otherwise) { return k.count(key) ? k.at(key) : otherwise; };
        std::vector<double> min_lr;
        for (int g = 0; k.count("min_lr" + std::to_string(g)); ++g) min_lr.push_back(k.at("min_lr" + std::to_string(g)));
        using P = optim::ReduceLROnPlateauScheduler;
        plateau = std::make_unique<P>(*opt, get("mode", 0) == 1 ? P::max : P::min, get("factor", 0.1),
                                      static_cast<int>(get("patience", 10)), get("threshold", 1e-4),
                                      get("threshold_mode", 0) == 1 ? P::abs : P::rel, static_cast<int>(get("cooldown", 0)),
                                      min_lr, get("eps", 1e-8));
    }
    std::int64_t worst = 0;
    for (int step = 0; step < c.steps; ++step) {
        for (std::size_t j = 0; j < params.size(); ++j) {
            auto g = c.grads.find({step, static_cast<int>(j)});
            if (g == c.grads.end()) params[j].mutable_grad() = Tensor();
            else params[j].mutable_grad() = make(c.params[j].shape, g->second, dtype);
        }
        const Tensor loss = opt->step();
        CHECK_FALSE(loss.defined());
        if (plateau) plateau->step(c.metrics.at(step));
        if (scheduler || plateau) {
            if (scheduler) scheduler->step();
            for (std::size_t g = 0; g < opt->param_groups().size(); ++g)
                CHECK(opt->param_groups()[g].options().get_lr() == c.lrs.at({step, static_cast<int>(g)}));
        }
        for (std::size_t j = 0; j < params.size(); ++j) {
            const std::int64_t ulp = max_ulp(params[j], c.after.at({step, static_cast<int>(j)}));
            if (ulp != 0) MESSAGE(name << ": step " << step << " param " << j << ": " << ulp << " ulp");
            worst = std::max(worst, ulp);
        }
    }
    for (const auto& [key, values] : c.state) {
        const Tensor buffer = state_buffer(*opt, params[static_cast<std::size_t>(key.first)], c.optimizer, key.second);
        const std::int64_t ulp = max_ulp(buffer, values);
        if (ulp != 0) MESSAGE(name << ": state " << key.second << " of param " << key.first << ": " << ulp << " ulp");
        worst = std::max(worst, ulp);
    }
    // A parameter that never had a gradient has no state.
    for (std::size_t j = 0; j < params.size(); ++j) {
        bool had_grad = false;
        for (int step = 0; step < c.steps; ++step) had_grad = had_grad || c.grads.count({step, static_cast<int>(j)});
        if (!had_grad) CHECK(opt->state().count(params[j].unsafeGetTensorImpl()) == 0);
    }
    return worst;
}

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("optim: trajectories match PyTorch 1.13 bit for bit") {
    for (const char* name :
         {"sgd_plain", "sgd_momentum", "sgd_dampening", "sgd_nesterov", "sgd_weight_decay", "sgd_all",
          "sgd_momentum_f64", "adam_default", "adam_lr_default", "adam_weight_decay", "adam_amsgrad", "adam_betas_eps",
          "adam_f64", "adamw_default", "adamw_amsgrad", "adamw_f64", "rmsprop_default", "rmsprop_alpha",
          "rmsprop_momentum", "rmsprop_centered", "rmsprop_weight_decay", "rmsprop_centered_momentum", "rmsprop_f64",
          "adagrad_default", "adagrad_lr_default", "adagrad_lr_decay", "adagrad_weight_decay", "adagrad_initial_eps",
          "adagrad_f64"}) {
        CAPTURE(name);
        CHECK(replay(name) == 0);
    }
}

TEST_CASE("optim: param groups with their own options") {
    for (const char* name : {"adam_groups", "sgd_groups", "rmsprop_groups", "adagrad_groups"}) {
        CAPTURE(name);
        CHECK(replay(name) == 0);
    }
    // A group without options takes a copy of the defaults; one with options keeps them.
    Tensor a = zeros({2}).requires_grad_(), b = zeros({3}).requires_grad_();
    optim::Adam opt({optim::OptimizerParamGroup({a}),
                     optim::OptimizerParamGroup({b}, std::make_unique<optim::AdamOptions>(0.5))},
                    optim::AdamOptions(0.1));
    REQUIRE(opt.param_groups().size() == 2);
    CHECK(opt.param_groups()[0].options().get_lr() == 0.1);
    CHECK(opt.param_groups()[1].options().get_lr() == 0.5);
    opt.param_groups()[0].options().set_lr(0.2);  // a learning-rate schedule's move
    CHECK(static_cast<optim::AdamOptions&>(opt.param_groups()[0].options()).lr() == 0.2);
    CHECK(static_cast<const optim::AdamOptions&>(opt.defaults()).lr() == 0.1);
    Tensor c = zeros({1}).requires_grad_();
    opt.add_param_group(optim::OptimizerParamGroup({c}));
    CHECK(opt.param_groups().size() == 3);
    CHECK(opt.size() == 3);
    CHECK(opt.param_groups()[2].options().get_lr() == 0.1);
}

TEST_CASE("optim: parameters without a gradient are left alone") {
    for (const char* name : {"sgd_skip", "adam_skip", "adamw_skip", "rmsprop_skip", "adagrad_skip"}) {
        CAPTURE(name);
        CHECK(replay(name) == 0);
    }
}

TEST_CASE("optim: zero_grad zeroes the gradients in place and keeps them defined") {
    Tensor w = ones({3}).requires_grad_();
    Tensor unused = ones({2}).requires_grad_();
    optim::SGD opt({w, unused}, optim::SGDOptions(0.1));
    (w * w).sum().backward();
    const Tensor before = w.grad();
    REQUIRE(before.defined());
    opt.zero_grad();
    CHECK(w.grad().defined());
    CHECK(w.grad().is_same(before));  // the same tensor, zeroed (libtorch 1.13; PyTorch 2 sets None)
    CHECK(w.grad().equal(zeros({3})));
    CHECK_FALSE(unused.grad().defined());
    // Gradients accumulate again from zero.
    (w * 3).sum().backward();
    CHECK(w.grad().equal(full({3}, 3.0)));
}

TEST_CASE("optim: step runs under no-grad, bumps the version, and returns the closure's loss") {
    Tensor w = full({3}, 2.0).requires_grad_();
    optim::Adam opt({w}, optim::AdamOptions(0.1));
    (w * w).sum().backward();
    const auto version = w._version();
    CHECK_FALSE(opt.step().defined());
    CHECK(w._version() == version + 1);
    CHECK(w.is_leaf());
    CHECK(w.requires_grad());
    CHECK(GradMode::is_enabled());

    int calls = 0;
    const Tensor loss = opt.step([&] {
        ++calls;
        CHECK(GradMode::is_enabled());  // the closure builds a graph even though step() is no-grad
        opt.zero_grad();
        Tensor l = (w * w).sum();
        l.backward();
        return l;
    });
    CHECK(calls == 1);
    REQUIRE(loss.defined());
    CHECK(loss.requires_grad());
}

TEST_CASE("optim: the seed program's spelling compiles and trains") {
    // seed0_curve_fit_adam: `opt = torch.optim.Adam([w], 0.1)`.
    Tensor w = zeros({3, 1}).requires_grad_();
    ctgrad::optim::Adam opt({w}, ctgrad::optim::AdamOptions(0.1));
    ctgrad::optim::SGD sgd(std::vector<Tensor>{w}, ctgrad::optim::SGDOptions(1e-6).momentum(0.9).dampening(0).nesterov(false).weight_decay(0));
    ctgrad::optim::RMSprop rms(std::vector<Tensor>{w}, ctgrad::optim::RMSpropOptions(1e-3).alpha(0.99).eps(1e-8).weight_decay(0).momentum(0).centered(false));
    ctgrad::optim::AdamW adamw(std::vector<Tensor>{w}, ctgrad::optim::AdamWOptions(1e-3).betas(std::make_tuple(0.9, 0.999)).eps(1e-8).amsgrad(false));
    CHECK(ctgrad::optim::AdamWOptions().weight_decay() == 1e-2);
    CHECK(ctgrad::optim::AdamOptions().lr() == 1e-3);
    CHECK(ctgrad::optim::RMSpropOptions().lr() == 1e-2);
    const Tensor target = full({3, 1}, 1.0);
    float first = 0, last = 0;
    for (int i = 0; i < 100; ++i) {
        opt.zero_grad();
        Tensor loss = ((w - target) * (w - target)).sum();
        loss.backward();
        opt.step();
        (i == 0 ? first : last) = loss.item<float>();
    }
    CHECK(last < first * 0.01f);
}

TEST_CASE("optim: invalid options are errors in PyTorch's words") {
    Tensor w = zeros({2}).requires_grad_();
    const std::vector<Tensor> ps{w};
    CHECK(error_of([&] { optim::SGD(ps, optim::SGDOptions(-1)); }) == "SGD: Invalid learning rate: -1");
    CHECK(error_of([&] { optim::SGD(ps, optim::SGDOptions(0.1).momentum(-0.5)); }) ==
          "SGD: Invalid momentum value: -0.5");
    CHECK(error_of([&] { optim::SGD(ps, optim::SGDOptions(0.1).weight_decay(-1)); }) ==
          "SGD: Invalid weight_decay value: -1");
    CHECK(error_of([&] { optim::SGD(ps, optim::SGDOptions(0.1).nesterov(true)); }) ==
          "SGD: Nesterov momentum requires a momentum and zero dampening");
    CHECK(error_of([&] { optim::SGD(ps, optim::SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)); }) ==
          "SGD: Nesterov momentum requires a momentum and zero dampening");
    CHECK(error_of([&] { optim::Adam(ps, optim::AdamOptions(-1)); }) == "Adam: Invalid learning rate: -1");
    CHECK(error_of([&] { optim::Adam(ps, optim::AdamOptions(0.1).eps(-1e-8)); }) ==
          "Adam: Invalid epsilon value: -1e-08");
    CHECK(error_of([&] { optim::Adam(ps, optim::AdamOptions(0.1).betas(std::make_tuple(1.0, 0.999))); }) ==
          "Adam: Invalid beta parameter at index 0: 1");
    CHECK(error_of([&] { optim::Adam(ps, optim::AdamOptions(0.1).betas(std::make_tuple(0.9, -0.1))); }) ==
          "Adam: Invalid beta parameter at index 1: -0.1");
    CHECK(error_of([&] { optim::Adam(ps, optim::AdamOptions(0.1).weight_decay(-0.1)); }) ==
          "Adam: Invalid weight_decay value: -0.1");
    CHECK(error_of([&] { optim::AdamW(ps, optim::AdamWOptions(-0.5)); }) == "AdamW: Invalid learning rate: -0.5");
    CHECK(error_of([&] { optim::AdamW(ps, optim::AdamWOptions().betas(std::make_tuple(0.9, 1.0))); }) ==
          "AdamW: Invalid beta parameter at index 1: 1");
    CHECK(error_of([&] { optim::RMSprop(ps, optim::RMSpropOptions(-1)); }) == "RMSprop: Invalid learning rate: -1");
    CHECK(error_of([&] { optim::RMSprop(ps, optim::RMSpropOptions().eps(-1)); }) ==
          "RMSprop: Invalid epsilon value: -1");
    CHECK(error_of([&] { optim::RMSprop(ps, optim::RMSpropOptions().momentum(-1)); }) ==
          "RMSprop: Invalid momentum value: -1");
    CHECK(error_of([&] { optim::RMSprop(ps, optim::RMSpropOptions().alpha(-1)); }) ==
          "RMSprop: Invalid alpha value: -1");
    CHECK(error_of([&] { optim::RMSprop(ps, optim::RMSpropOptions().weight_decay(-1)); }) ==
          "RMSprop: Invalid weight_decay value: -1");
    CHECK(error_of([&] { optim::Adagrad(ps, optim::AdagradOptions(-1)); }) == "Adagrad: Invalid learning rate: -1");
    CHECK(error_of([&] { optim::Adagrad(ps, optim::AdagradOptions().lr_decay(-0.5)); }) ==
          "Adagrad: Invalid lr_decay value: -0.5");
    CHECK(error_of([&] { optim::Adagrad(ps, optim::AdagradOptions().weight_decay(-1)); }) ==
          "Adagrad: Invalid weight_decay value: -1");
    CHECK(error_of([&] { optim::Adagrad(ps, optim::AdagradOptions().initial_accumulator_value(-1)); }) ==
          "Adagrad: Invalid initial_accumulator_value value: -1");
    CHECK(error_of([&] { optim::Adagrad(ps, optim::AdagradOptions().eps(-1)); }) == "Adagrad: Invalid epsilon value: -1");
    CHECK(optim::AdagradOptions().lr() == 1e-2);
    CHECK(optim::AdagradOptions().eps() == 1e-10);

    // Groups: invalid options, a parameter twice, a non-leaf. Nothing is added.
    optim::Adam opt(ps, optim::AdamOptions(0.1));
    Tensor v = zeros({2}).requires_grad_();
    CHECK(error_of([&] {
              opt.add_param_group(optim::OptimizerParamGroup({v}, std::make_unique<optim::AdamOptions>(-2)));
          }) == "Adam: Invalid learning rate: -2");
    CHECK(error_of([&] { opt.add_param_group(optim::OptimizerParamGroup({v, w})); }) ==
          "Adam: some parameters appear in more than one parameter group");
    CHECK(error_of([&] { opt.add_param_group(optim::OptimizerParamGroup({v * 2})); }) ==
          "Adam: can't optimize a non-leaf Tensor");
    CHECK(opt.param_groups().size() == 1);
    CHECK(opt.size() == 1);
}

TEST_CASE("optim: unsupported parameters are errors that change nothing") {
    // An integer parameter.
    Tensor n = zeros({2}, TensorOptions().dtype(kLong));
    n.mutable_grad() = zeros({2}, TensorOptions().dtype(kLong));
    optim::SGD sgd(std::vector<Tensor>{n}, optim::SGDOptions(0.1));
    CHECK(error_of([&] { sgd.step(); }) == "SGD: expected a float32 or float64 parameter (parameter of shape [2], dtype Long)");

    // A gradient of another dtype.
    Tensor w = ones({2}).requires_grad_();
    w.mutable_grad() = ones({2}, TensorOptions().dtype(kDouble));
    optim::Adam adam(std::vector<Tensor>{w}, optim::AdamOptions(0.1));
    const std::string msg = error_of([&] { adam.step(); });
    CHECK(msg.find("Adam: the gradient has dtype Double, expected the parameter's") == 0);
    CHECK(w.equal(ones({2})));
    CHECK(adam.state().empty());

    // A non-contiguous parameter.
    Tensor base = ones({2, 3}).requires_grad_();
    Tensor t;
    {
        NoGradGuard no_grad;
        t = base.detach().t();
    }
    t.requires_grad_();
    t.mutable_grad() = ones({3, 2});
    optim::RMSprop rms(std::vector<Tensor>{t}, optim::RMSpropOptions());
    CHECK(error_of([&] { rms.step(); }).find("RMSprop: expected a contiguous parameter") == 0);
    CHECK(base.equal(ones({2, 3})));

    // A non-contiguous gradient is read through a contiguous copy: same result as contiguous.
    Tensor p1 = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat).requires_grad_();
    Tensor p2 = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat).requires_grad_();
    Tensor g = make({3, 2}, {0.5, -1, 2, 0.25, -3, 1.5}, kFloat);
    p1.mutable_grad() = g.t();
    p2.mutable_grad() = g.t().contiguous();
    optim::Adam a1(std::vector<Tensor>{p1}, optim::AdamOptions(0.1)), a2(std::vector<Tensor>{p2}, optim::AdamOptions(0.1));
    a1.step();
    a2.step();
    CHECK(p1.equal(p2));
    CHECK_FALSE(p1.equal(make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat)));
}

namespace {

// The state keys of each optimizer, as PyTorch names them.
std::vector<std::string> state_keys(const std::string& optimizer) {
    if (optimizer == "SGD") return {"momentum_buffer"};
    if (optimizer == "RMSprop") return {"step", "square_avg", "momentum_buffer", "grad_avg"};
    if (optimizer == "Adagrad") return {"step", "sum"};
    return {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
}

// Everything a step may change, copied: each parameter's values, version and gradient (and
// which tensor the gradient is), and each state buffer and step count.
struct Snapshot {
    std::vector<std::string> names;
    std::vector<Tensor> tensors;     // undefined where a gradient or buffer is undefined
    std::vector<const void*> ids;    // the gradients' TensorImpl
    std::vector<std::uint32_t> versions;

    Snapshot(optim::Optimizer& opt, const std::string& optimizer, const std::vector<Tensor>& params) {
        for (std::size_t j = 0; j < params.size(); ++j) {
            const Tensor& p = params[j];
            const std::string pj = "param " + std::to_string(j);
            add(pj, p);
            add(pj + " grad", p.grad());
            ids.push_back(p.grad().defined() ? p.grad().unsafeGetTensorImpl() : nullptr);
            versions.push_back(p._version());
            if (!opt.state().count(p.unsafeGetTensorImpl())) {
                names.push_back(pj + " has no state");
                continue;
            }
            for (const std::string& key : state_keys(optimizer)) add(pj + " " + key, state_buffer(opt, p, optimizer, key));
        }
    }
    void add(const std::string& name, const Tensor& t) {
        names.push_back(name);
        tensors.push_back(t.defined() ? t.clone() : Tensor());
    }
    // Equal: the same entries, each bit for bit (dtype, shape and values).
    bool operator==(const Snapshot& other) const {
        if (names != other.names || ids != other.ids || versions != other.versions) return false;
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            const Tensor &a = tensors[i], &b = other.tensors[i];
            if (a.defined() != b.defined()) return false;
            if (!a.defined()) continue;
            if (a.scalar_type() != b.scalar_type() || !(a.sizes() == b.sizes())) return false;
            if (std::memcmp(a.data_ptr(), b.data_ptr(), static_cast<std::size_t>(a.numel()) * a.element_size()) != 0)
                return false;
        }
        return true;
    }
};

// One optimizer of each kind with every buffer in use, over `params`.
std::unique_ptr<optim::Optimizer> make_full_optimizer(const std::string& optimizer, const std::vector<Tensor>& params) {
    if (optimizer == "SGD") return std::make_unique<optim::SGD>(params, optim::SGDOptions(0.1).momentum(0.9));
    if (optimizer == "Adam") return std::make_unique<optim::Adam>(params, optim::AdamOptions(0.1).amsgrad(true).weight_decay(0.1));
    if (optimizer == "AdamW") return std::make_unique<optim::AdamW>(params, optim::AdamWOptions(0.1).amsgrad(true));
    if (optimizer == "Adagrad")
        return std::make_unique<optim::Adagrad>(params, optim::AdagradOptions(0.1).lr_decay(0.01).weight_decay(0.1).initial_accumulator_value(0.1));
    return std::make_unique<optim::RMSprop>(params, optim::RMSpropOptions(0.1).momentum(0.5).centered(true));
}

}  // namespace

TEST_CASE("optim: a step that fails on one parameter changes no parameter, gradient or state") {
    for (const std::string optimizer : {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}) {
        CAPTURE(optimizer);
        // a and b take a first valid step and have state; c gets its first gradient in the failed
        // step, before b, whose gradient is wrong.
        auto run = [&](bool with_failures) {
            std::vector<Tensor> params{make({3}, {1, -2, 3}, kFloat).requires_grad_(),
                                       make({2}, {0.5, 4}, kFloat).requires_grad_()};
            Tensor c = make({2}, {-1, 2}, kFloat).requires_grad_();
            auto opt = make_full_optimizer(optimizer, params);
            opt->add_param_group(optim::OptimizerParamGroup({c}));
            params.push_back(c);
            params[0].mutable_grad() = make({3}, {0.25, -1, 2}, kFloat);
            params[1].mutable_grad() = make({2}, {3, -0.5}, kFloat);
            opt->step();
            params[0].mutable_grad() = make({3}, {-0.5, 1.5, 0.75}, kFloat);
            params[2].mutable_grad() = make({2}, {1, 1}, kFloat);
            const Tensor b_grad = make({2}, {3, -0.5}, kFloat);
            params[1].mutable_grad() = b_grad;
            if (with_failures) {
                const Snapshot before(*opt, optimizer, params);
                REQUIRE(opt->state().size() == 2);
                const struct {
                    Tensor grad;
                    std::string says;
                } wrong[] = {
                    {make({2}, {1, 2}, kDouble), optimizer + ": the gradient has dtype Double, expected the parameter's"},
                    {make({3}, {1, 2, 3}, kFloat), optimizer + ": the gradient has shape [3], expected the parameter's"},
                    {make({2, 1}, {1, 2}, kFloat), optimizer + ": the gradient has shape [2, 1], expected the parameter's"},
                };
                for (const auto& w : wrong) {
                    CAPTURE(w.says);
                    params[1].mutable_grad() = w.grad;
                    const Snapshot with_wrong_grad(*opt, optimizer, params);
                    const std::string message = error_of([&] { opt->step(); });
                    CHECK(message.find(w.says) == 0);
                    CHECK(message.find("(parameter of shape [2], dtype Float)") != std::string::npos);
                    CHECK(Snapshot(*opt, optimizer, params) == with_wrong_grad);
                    CHECK(opt->state().size() == 2);  // c got no state
                }
                params[1].mutable_grad() = b_grad;
                CHECK(Snapshot(*opt, optimizer, params) == before);
            }
            opt->step();
            return std::make_pair(params, Snapshot(*opt, optimizer, params));
        };
        auto [failed, after_failures] = run(true);
        auto [clean, without] = run(false);
        // The step after the failures gives what a step never preceded by them gives.
        CHECK(after_failures.names == without.names);
        after_failures.ids = without.ids;  // different tensors, same values
        CHECK(after_failures == without);
        CHECK(failed[0]._version() == 2);
    }
}

TEST_CASE("optim: state buffers that do not fit their parameter are errors that change nothing") {
    Tensor a = make({3}, {1, 2, 3}, kFloat).requires_grad_();
    Tensor b = make({2}, {4, 5}, kFloat).requires_grad_();
    optim::Adam adam(std::vector<Tensor>{a, b}, optim::AdamOptions(0.1));
    a.mutable_grad() = make({3}, {1, 1, 1}, kFloat);
    b.mutable_grad() = make({2}, {1, 1}, kFloat);
    adam.step();
    auto& state = static_cast<optim::AdamParamState&>(*adam.state().at(b.unsafeGetTensorImpl()));
    const Tensor kept = state.exp_avg();
    const std::vector<Tensor> params{a, b};
    SUBCASE("shape") {
        state.exp_avg(zeros({3}));
        const Snapshot before(adam, "Adam", params);
        CHECK(error_of([&] { adam.step(); }) ==
              "Adam: the state's exp_avg has shape [3], expected the parameter's (parameter of shape [2], dtype Float)");
        CHECK(Snapshot(adam, "Adam", params) == before);
    }
    SUBCASE("dtype") {
        state.exp_avg_sq(zeros({2}, TensorOptions().dtype(kDouble)));
        const Snapshot before(adam, "Adam", params);
        CHECK(error_of([&] { adam.step(); }).find("Adam: the state's exp_avg_sq has dtype Double") == 0);
        CHECK(Snapshot(adam, "Adam", params) == before);
    }
    SUBCASE("a missing buffer is made for the step, as on the first one") {
        // amsgrad turned on after the first step: max_exp_avg_sq starts at zeros (PyTorch's too).
        static_cast<optim::AdamOptions&>(adam.param_groups()[0].options()).amsgrad(true);
        CHECK_FALSE(state.max_exp_avg_sq().defined());
        adam.step();
        auto& now = static_cast<optim::AdamParamState&>(*adam.state().at(b.unsafeGetTensorImpl()));
        CHECK(now.max_exp_avg_sq().defined());
        CHECK(now.step() == 2);
        CHECK(now.exp_avg().is_same(kept));  // the buffers it had are the same tensors
    }
}

TEST_CASE("optim: StepLR changes every group's lr as libtorch 1.13's does") {
    for (const char* name : {"steplr_sgd", "steplr_adam_groups"}) {
        CAPTURE(name);
        CHECK(replay(name) == 0);
    }
    // libtorch counts from 0: the first step() leaves the lr; then every step_size-th multiplies.
    Tensor w = zeros({2}).requires_grad_();
    optim::SGD sgd(std::vector<Tensor>{w}, optim::SGDOptions(1.0));
    optim::StepLR schedule(sgd, 2, 0.5);
    std::vector<double> seen;
    for (int i = 0; i < 6; ++i) {
        schedule.step();
        seen.push_back(sgd.param_groups()[0].options().get_lr());
    }
    CHECK(seen == std::vector<double>{1.0, 1.0, 0.5, 0.5, 0.25, 0.25});
    CHECK(static_cast<const optim::SGDOptions&>(sgd.defaults()).lr() == 1.0);  // defaults stay
    CHECK(error_of([&] { optim::StepLR(sgd, 0, 0.5); }) == "StepLR: step_size must be positive, got 0");
}

namespace {

// Replays LBFGS case `name` with the closure of tools/reference_optim.py's lbfgs_loss; returns
// the largest relative difference of the parameters and losses from PyTorch's.
double replay_lbfgs(const std::string& name) {
    const auto found = cases().find(name);
    REQUIRE_MESSAGE(found != cases().end(), "no case " << name << " in optim.txt");
    const Case& c = found->second;
    REQUIRE(c.optimizer == "LBFGS");
    std::vector<Tensor> params;
    for (const auto& p : c.params) params.push_back(make(p.shape, p.init, kDouble).requires_grad_());
    optim::LBFGS opt(params, lbfgs_options(c.defaults, optim::LBFGSOptions()));
    auto closure = [&] {
        opt.zero_grad();
        Tensor loss = zeros({}, TensorOptions().dtype(kDouble));
        for (std::size_t j = 0; j < params.size(); ++j) {
            const Tensor& p = params[j];
            loss = loss + ((p - 0.5) * (p - 0.5) * (1.5 + 0.25 * static_cast<double>(j))).sum() + (p * p * p * p).sum() * 0.25;
        }
        loss = loss + params[0].sum() * params[1].sum() * 0.1;
        loss.backward();
        return loss;
    };
    double worst = 0;
    const auto relative = [](double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); };
    for (int step = 0; step < c.steps; ++step) {
        const Tensor loss = opt.step(closure);
        worst = std::max(worst, relative(loss.item<double>(), c.losses.at(step)));
        for (std::size_t j = 0; j < params.size(); ++j) {
            const auto& expected = c.after.at({step, static_cast<int>(j)});
            for (std::size_t i = 0; i < expected.size(); ++i)
                worst = std::max(worst, relative(params[j].data_ptr<double>()[i], expected[i]));
        }
    }
    const auto& s = static_cast<optim::LBFGSParamState&>(*opt.state().at(params[0].unsafeGetTensorImpl()));
    CHECK(static_cast<double>(s.func_evals()) == c.state.at({0, "func_evals"}).at(0));
    CHECK(static_cast<double>(s.n_iter()) == c.state.at({0, "n_iter"}).at(0));
    return worst;
}

}  // namespace

TEST_CASE("optim: LBFGS follows PyTorch's iterations, with and without the strong-Wolfe search") {
    for (const char* name : {"lbfgs_default", "lbfgs_history", "lbfgs_max_eval", "lbfgs_strong_wolfe",
                             "lbfgs_strong_wolfe_history"}) {
        CAPTURE(name);
        // Not bit for bit: the dot products and sums reduce in another order than ATen's.
        CHECK(replay_lbfgs(name) < 1e-9);
    }
    CHECK(optim::LBFGSOptions().lr() == 1);
    CHECK(optim::LBFGSOptions().max_iter() == 20);
    CHECK(optim::LBFGSOptions().history_size() == 100);
    CHECK_FALSE(optim::LBFGSOptions().max_eval().has_value());
    Tensor w = zeros({2}).requires_grad_();
    optim::LBFGS opt(std::vector<Tensor>{w}, optim::LBFGSOptions().max_iter(8));
    CHECK(static_cast<const optim::LBFGSOptions&>(opt.param_groups()[0].options()).max_eval() == 10);  // 8 * 5 / 4
}

TEST_CASE("optim: LBFGS's misuse is an error that changes nothing") {
    Tensor w = make({2}, {1, 2}, kFloat).requires_grad_();
    const std::vector<Tensor> ps{w};
    optim::LBFGS opt(ps, optim::LBFGSOptions());
    CHECK(error_of([&] { opt.step(nullptr); }) ==
          "LBFGS: step() requires a closure function (it evaluates the loss several times)");
    CHECK(opt.state().empty());
    CHECK(w.equal(make({2}, {1, 2}, kFloat)));
    Tensor v = zeros({1}).requires_grad_();
    CHECK(error_of([&] { opt.add_param_group(optim::OptimizerParamGroup({v})); }) ==
          "LBFGS: doesn't support per-parameter options (parameter groups)");
    CHECK(opt.param_groups().size() == 1);
    CHECK(error_of([&] { optim::LBFGS(ps, optim::LBFGSOptions(-1)); }) == "LBFGS: Invalid learning rate: -1");
    CHECK(error_of([&] { optim::LBFGS(ps, optim::LBFGSOptions().history_size(0)); }) ==
          "LBFGS: Invalid history_size value: 0 (expected >= 1)");
    CHECK(error_of([&] { optim::LBFGS(ps, optim::LBFGSOptions().line_search_fn("armijo")); }) ==
          "LBFGS: only 'strong_wolfe' is supported as line_search_fn, got 'armijo'");
    // Its state is not covered by save/load.
    CHECK(error_of([&] { save(opt, "/nonexistent/lbfgs.ct"); }).find("ctgrad::save: the state of the LBFGS optimizer can't be saved") == 0);
    // At a minimum already (gradient 0), step evaluates once and returns.
    int calls = 0;
    const Tensor loss = opt.step([&] {
        ++calls;
        opt.zero_grad();
        Tensor l = ((w - w.detach()) * (w - w.detach())).sum();
        l.backward();
        return l;
    });
    CHECK(calls == 1);
    CHECK(loss.item<float>() == 0);
    CHECK(w.equal(make({2}, {1, 2}, kFloat)));
}

namespace {

// A file name under the system's temporary directory, removed with the object.
struct TempPath {
    std::string path;
    explicit TempPath(const std::string& stem)
        : path((std::filesystem::temp_directory_path() / ("ctgrad_test_optim_" + stem + "_" + std::to_string(::getpid()))).string()) {}
    ~TempPath() { std::filesystem::remove(path); }
};

// Two groups (the second with options of its own) of float32 parameters, one with a gradient
// only at some steps; the gradients are a fixed function of the parameters and the step.
struct Trainer {
    std::vector<Tensor> params;
    std::unique_ptr<optim::Optimizer> opt;

    Trainer(const std::string& optimizer, const std::vector<Tensor>& initial, double lr_scale) {
        for (const auto& t : initial) params.push_back(t.detach().clone().requires_grad_());
        std::vector<optim::OptimizerParamGroup> groups{optim::OptimizerParamGroup({params[0], params[1]})};
        const double lr = 0.1 * lr_scale;
        if (optimizer == "SGD") {
            groups.emplace_back(std::vector<Tensor>{params[2]}, std::make_unique<optim::SGDOptions>(optim::SGDOptions(lr).momentum(0.5).nesterov(true)));
            opt = std::make_unique<optim::SGD>(groups, optim::SGDOptions(lr).momentum(0.9).dampening(0.1).weight_decay(0.01));
        } else if (optimizer == "Adam") {
            groups.emplace_back(std::vector<Tensor>{params[2]}, std::make_unique<optim::AdamOptions>(optim::AdamOptions(lr).amsgrad(true)));
            opt = std::make_unique<optim::Adam>(groups, optim::AdamOptions(lr).weight_decay(0.1));
        } else if (optimizer == "AdamW") {
            groups.emplace_back(std::vector<Tensor>{params[2]}, std::make_unique<optim::AdamWOptions>(optim::AdamWOptions(lr).amsgrad(true)));
            opt = std::make_unique<optim::AdamW>(groups, optim::AdamWOptions(lr).betas(std::make_tuple(0.8, 0.99)));
        } else if (optimizer == "RMSprop") {
            groups.emplace_back(std::vector<Tensor>{params[2]}, std::make_unique<optim::RMSpropOptions>(optim::RMSpropOptions(lr).centered(true).momentum(0.5)));
            opt = std::make_unique<optim::RMSprop>(groups, optim::RMSpropOptions(lr).alpha(0.9));
        } else {
            REQUIRE(optimizer == "Adagrad");
            groups.emplace_back(std::vector<Tensor>{params[2]}, std::make_unique<optim::AdagradOptions>(optim::AdagradOptions(lr).initial_accumulator_value(0.3)));
            opt = std::make_unique<optim::Adagrad>(groups, optim::AdagradOptions(lr).lr_decay(0.01).weight_decay(0.1));
        }
    }
    void step(int k) {
        NoGradGuard no_grad;
        for (std::size_t j = 0; j < params.size(); ++j) {
            if (j == 1 && k % 3 != 0) {
                params[j].mutable_grad() = Tensor();
                continue;
            }
            params[j].mutable_grad() = (params[j].detach() - 0.5) * (1.0 + 0.5 * static_cast<double>(j)) + std::sin(k + 1.0);
        }
        opt->step();
    }
};

bool bitwise_equal(const Tensor& a, const Tensor& b) {
    return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() &&
           std::memcmp(a.data_ptr(), b.data_ptr(), static_cast<std::size_t>(a.numel()) * a.element_size()) == 0;
}

}  // namespace

TEST_CASE("optim: save/load of an optimizer continues its trajectory bit for bit") {
    const std::vector<Tensor> initial{make({3}, {1.5, -2, 0.25}, kFloat), make({2, 2}, {0.5, 3, -1, 2}, kFloat),
                                      make({2}, {-0.75, 4}, kFloat)};
    for (const std::string optimizer : {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}) {
        CAPTURE(optimizer);
        TempPath file("state_" + optimizer);
        Trainer straight(optimizer, initial, 1.0);
        for (int k = 0; k < 4; ++k) straight.step(k);
        save(*straight.opt, file.path);
        // A new optimizer with other learning rates over the parameters' values at the save.
        std::vector<Tensor> at_save;
        for (const auto& p : straight.params) at_save.push_back(p.detach().clone());
        Trainer resumed(optimizer, at_save, 3.0);
        load(*resumed.opt, file.path);
        for (std::size_t g = 0; g < 2; ++g)
            CHECK(resumed.opt->param_groups()[g].options().get_lr() == straight.opt->param_groups()[g].options().get_lr());
        CHECK(resumed.opt->state().size() == straight.opt->state().size());
        CHECK(Snapshot(*resumed.opt, optimizer, resumed.params).names == Snapshot(*straight.opt, optimizer, straight.params).names);
        for (int k = 4; k < 9; ++k) {
            straight.step(k);
            resumed.step(k);
        }
        for (std::size_t j = 0; j < initial.size(); ++j) {
            CAPTURE(j);
            CHECK(bitwise_equal(straight.params[j], resumed.params[j]));
            CHECK_FALSE(bitwise_equal(straight.params[j], at_save[j]));
            for (const std::string& key : state_keys(optimizer)) {
                CAPTURE(key);
                const Tensor a = state_buffer(*straight.opt, straight.params[j], optimizer, key);
                const Tensor b = state_buffer(*resumed.opt, resumed.params[j], optimizer, key);
                REQUIRE(a.defined() == b.defined());
                if (a.defined()) CHECK(bitwise_equal(a, b));
            }
        }
    }
    // A parameter without state at the save has none after the load (the loaded state replaces all).
    TempPath file("no_state");
    Tensor a = ones({2}).requires_grad_(), b = ones({3}).requires_grad_();
    optim::Adam fresh(std::vector<Tensor>{a, b}, optim::AdamOptions(0.1));
    save(fresh, file.path);
    a.mutable_grad() = ones({2});
    b.mutable_grad() = ones({3});
    optim::Adam used(std::vector<Tensor>{a, b}, optim::AdamOptions(0.1));
    used.step();
    REQUIRE(used.state().size() == 2);
    load(used, file.path);
    CHECK(used.state().empty());
}

TEST_CASE("optim: load checks the whole file and changes nothing when it does not fit") {
    TempPath adam_file("adam"), module_file("module"), damaged("damaged");
    Tensor a = make({3}, {1, 2, 3}, kFloat).requires_grad_(), b = make({2}, {4, 5}, kFloat).requires_grad_();
    optim::Adam adam(std::vector<Tensor>{a, b}, optim::AdamOptions(0.1));
    a.mutable_grad() = make({3}, {1, -1, 0.5}, kFloat);
    b.mutable_grad() = make({2}, {2, 1}, kFloat);
    adam.step();
    save(adam, adam_file.path);

    // Another kind of optimizer.
    Tensor c = make({3}, {1, 2, 3}, kFloat).requires_grad_(), d = make({2}, {4, 5}, kFloat).requires_grad_();
    optim::SGD sgd(std::vector<Tensor>{c, d}, optim::SGDOptions(0.5).momentum(0.9));
    c.mutable_grad() = ones({3});
    d.mutable_grad() = ones({2});
    sgd.step();
    const Snapshot sgd_before(sgd, "SGD", {c, d});
    CHECK(error_of([&] { load(sgd, adam_file.path); }) ==
          "ctgrad::load: '" + adam_file.path + "' holds the state of a Adam optimizer, not of a SGD one");
    CHECK(Snapshot(sgd, "SGD", {c, d}) == sgd_before);
    CHECK(sgd.param_groups()[0].options().get_lr() == 0.5);

    // Other group sizes.
    Tensor e = make({3}, {1, 2, 3}, kFloat).requires_grad_();
    optim::Adam one(std::vector<Tensor>{e}, optim::AdamOptions(0.3));
    CHECK(error_of([&] { load(one, adam_file.path); }) ==
          "ctgrad::load: '" + adam_file.path + "' has param groups of sizes [2]; the optimizer's are [1]");
    CHECK(one.param_groups()[0].options().get_lr() == 0.3);

    // A parameter of another shape (the file's buffers are checked against it).
    Tensor f = make({3}, {1, 2, 3}, kFloat).requires_grad_(), g = make({1, 2}, {4, 5}, kFloat).requires_grad_();
    optim::Adam shaped(std::vector<Tensor>{f, g}, optim::AdamOptions(0.3));
    CHECK(error_of([&] { load(shaped, adam_file.path); }) ==
          "ctgrad::load: '" + adam_file.path +
              "' has 'state.1.exp_avg' of dtype Float and shape [2] but its parameter has dtype Float and shape [1, 2]");
    CHECK(shaped.state().empty());
    CHECK(shaped.param_groups()[0].options().get_lr() == 0.3);

    // A module's file, and an optimizer's file read as a module's.
    nn::Linear linear(2, 1);
    save(linear, module_file.path);
    CHECK(error_of([&] { load(shaped, module_file.path); }) ==
          "ctgrad::load: '" + module_file.path + "' does not hold an optimizer's state (its first entry is not \"optimizer:<name>\")");
    CHECK(error_of([&] { load(linear, adam_file.path); }) ==
          "ctgrad::load: '" + adam_file.path + "' holds an optimizer's state ('optimizer:Adam'), not a module's parameters");

    // A damaged byte: the checksum catches it before anything changes.
    {
        std::ifstream in(adam_file.path, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        bytes[bytes.size() - 10] ^= 0x20;
        std::ofstream(damaged.path, std::ios::binary) << bytes;
    }
    const Snapshot adam_before(adam, "Adam", {a, b});
    CHECK(error_of([&] { load(adam, damaged.path); }).find("' is damaged: the checksum of entry") != std::string::npos);
    CHECK(Snapshot(adam, "Adam", {a, b}) == adam_before);
    // Truncated.
    std::filesystem::resize_file(damaged.path, std::filesystem::file_size(adam_file.path) - 3);
    CHECK(error_of([&] { load(adam, damaged.path); }).find("' is truncated") != std::string::npos);
    CHECK(Snapshot(adam, "Adam", {a, b}) == adam_before);
    // Options that the optimizer's own checks refuse (set_lr does not check; load does).
    TempPath bad_options("bad_options");
    optim::Adam negative(std::vector<Tensor>{f, g}, optim::AdamOptions(0.2));
    negative.param_groups()[0].options().set_lr(-1);
    save(negative, bad_options.path);
    CHECK(error_of([&] { load(shaped, bad_options.path); }) ==
          "ctgrad::load: '" + bad_options.path + "' has invalid options for param group 0: Adam: Invalid learning rate: -1");
    CHECK(shaped.param_groups()[0].options().get_lr() == 0.3);
    // A negative step count.
    TempPath bad_count("bad_count");
    f.mutable_grad() = make({3}, {1, 1, 1}, kFloat);
    negative.param_groups()[0].options().set_lr(0.2);
    negative.step();
    static_cast<optim::AdamParamState&>(*negative.state().at(f.unsafeGetTensorImpl())).step(-3);
    save(negative, bad_count.path);
    f.mutable_grad() = Tensor();
    CHECK(error_of([&] { load(shaped, bad_count.path); }) ==
          "ctgrad::load: '" + bad_count.path + "' has the count 'state.0.step' = -3, expected >= 0");
    CHECK(shaped.state().empty());
    // A list of tensors is not an optimizer's state, nor the other way round.
    std::vector<Tensor> tensors;
    CHECK(error_of([&] { load(tensors, adam_file.path); }) ==
          "ctgrad::load: '" + adam_file.path + "' holds an optimizer's state ('optimizer:Adam'), not a list of tensors");
    CHECK(tensors.empty());
    // The intact file loads into the optimizer that wrote it and leaves it as it was.
    load(adam, adam_file.path);
    CHECK(Snapshot(adam, "Adam", {a, b}) == adam_before);
}

TEST_CASE("optim: load of a damaged optimizer file throws or loads, and a throw changes nothing") {
    TempPath file("fuzz"), mutated("fuzz_mutated");
    Tensor a = make({3}, {1, 2, 3}, kFloat).requires_grad_(), b = make({2}, {4, 5}, kFloat).requires_grad_();
    optim::RMSprop saved(std::vector<Tensor>{a, b}, optim::RMSpropOptions(0.1).centered(true).momentum(0.5));
    a.mutable_grad() = make({3}, {1, -1, 0.5}, kFloat);
    b.mutable_grad() = make({2}, {2, 1}, kFloat);
    saved.step();
    save(saved, file.path);
    std::string bytes;
    {
        std::ifstream in(file.path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    Tensor c = make({3}, {0, 0, 0}, kFloat).requires_grad_(), d = make({2}, {0, 0}, kFloat).requires_grad_();
    optim::RMSprop target(std::vector<Tensor>{c, d}, optim::RMSpropOptions(0.01));
    c.mutable_grad() = make({3}, {1, 1, 1}, kFloat);
    d.mutable_grad() = make({2}, {1, 1}, kFloat);
    target.step();
    const Snapshot before(target, "RMSprop", {c, d});
    int rejected = 0, cases = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i)
        for (unsigned char flip : {0x01, 0x80}) {
            std::string damaged = bytes;
            damaged[i] = static_cast<char>(damaged[i] ^ flip);
            std::ofstream(mutated.path, std::ios::binary | std::ios::trunc) << damaged;
            ++cases;
            try {
                load(target, mutated.path);
            } catch (const Error& e) {
                ++rejected;
                CHECK(std::string(e.what()).find(mutated.path) != std::string::npos);
                CHECK(Snapshot(target, "RMSprop", {c, d}) == before);
                continue;
            }
            FAIL("a damaged byte at " << i << " loaded");  // the checksums cover every byte after the header
        }
    CHECK(rejected == cases);
    load(target, file.path);
    CHECK(target.param_groups()[0].options().get_lr() == 0.1);
    const std::vector<Tensor> ours{c, d}, theirs{a, b};
    for (std::size_t j = 0; j < 2; ++j)
        for (const std::string& key : state_keys("RMSprop")) {
            CAPTURE(key);
            const Tensor x = state_buffer(target, ours[j], "RMSprop", key), y = state_buffer(saved, theirs[j], "RMSprop", key);
            REQUIRE(x.defined() == y.defined());
            if (x.defined()) CHECK(bitwise_equal(x, y));
        }
}

TEST_CASE("optim: ReduceLROnPlateauScheduler lowers the lr as PyTorch 1.13's ReduceLROnPlateau does") {
    for (const char* name : {"plateau_min_rel", "plateau_max_abs_cooldown"}) {
        CAPTURE(name);
        CHECK(replay(name) == 0);
    }
    Tensor w = zeros({2}).requires_grad_(), v = zeros({1}).requires_grad_();
    optim::SGD sgd({optim::OptimizerParamGroup({w}), optim::OptimizerParamGroup({v})}, optim::SGDOptions(1.0));
    using P = optim::ReduceLROnPlateauScheduler;
    CHECK(error_of([&] { P(sgd, P::min, 1.0); }) == "ReduceLROnPlateauScheduler: Factor should be < 1.0, got 1.000000");
    CHECK(error_of([&] { P(sgd, P::min, 0.1, 10, 1e-4, P::rel, 0, {0.1, 0.2, 0.3}); }) ==
          "ReduceLROnPlateauScheduler: expected 2 min_lrs, got 3");
    // Patience 2: the third step in a row without improvement lowers every group's lr.
    P plateau(sgd, P::min, 0.5, 2);
    for (double metric : {3.0, 3.0, 3.0}) plateau.step(metric);
    CHECK(sgd.param_groups()[1].options().get_lr() == 1.0);
    plateau.step(3.0);
    CHECK(sgd.param_groups()[0].options().get_lr() == 0.5);
    CHECK(sgd.param_groups()[1].options().get_lr() == 0.5);
}
