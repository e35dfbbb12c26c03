#pragma once
// Adam (Kingma & Ba), with optional L2 weight decay and AMSGrad: PyTorch 1.13's
// torch.optim.Adam (single-tensor path), libtorch's spelling.
//
//   g = grad + weight_decay * p
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   v_max = max(v_max, v) (amsgrad; then v_max replaces v below)
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "detail/adam_step.hpp"
#include "detail/arg.hpp"
#include "../core/config.hpp"
#include "optimizer.hpp"

namespace ctgrad::optim {

struct AdamOptions : public OptimizerCloneableOptions<AdamOptions> {
    AdamOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, as libtorch
    CTGRAD_OPTIM_ARG(double, lr);
    using betas_t = std::tuple<double, double>;
    CTGRAD_OPTIM_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
    CTGRAD_OPTIM_ARG(double, eps) = 1e-8;
    CTGRAD_OPTIM_ARG(double, weight_decay) = 0;
    CTGRAD_OPTIM_ARG(bool, amsgrad) = false;

public:
    double get_lr() const override { return lr(); }
    void set_lr(double lr) override { this->lr(lr); }
    void visit(OptionVisitor& v) override;
    friend bool operator==(const AdamOptions& a, const AdamOptions& b) {
        return a.lr() == b.lr() && a.betas() == b.betas() && a.eps() == b.eps() &&
               a.weight_decay() == b.weight_decay() && a.amsgrad() == b.amsgrad();
    }
};

struct AdamParamState : public OptimizerCloneableParamState<AdamParamState> {
    CTGRAD_OPTIM_ARG(std::int64_t, step) = 0;
    CTGRAD_OPTIM_ARG(Tensor, exp_avg);
    CTGRAD_OPTIM_ARG(Tensor, exp_avg_sq);
    CTGRAD_OPTIM_ARG(Tensor, max_exp_avg_sq) = {};

public:
    void visit(StateVisitor& v) override;
};

// Adam's base, its step included, is compiled into the library (adam_step.hpp): a program
// instantiates none of it.
#if !defined(CTGRAD_HEADER_ONLY) && !defined(CTGRAD_BUILDING_RUNTIME)
extern template class detail::AdamFamily<AdamOptions, AdamParamState, /*Decoupled=*/false>;
#endif

class Adam : public detail::AdamFamily<AdamOptions, AdamParamState, /*Decoupled=*/false> {
public:
    explicit Adam(std::vector<OptimizerParamGroup> param_groups, AdamOptions defaults = {});
    explicit Adam(std::vector<Tensor> params, AdamOptions defaults = {});

    Tensor step(LossClosure closure = nullptr) override;

protected:
    std::string name() const override;
};

}  // namespace ctgrad::optim

// The update, the constructors and save/load's field lists, compiled into the library (see
// config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::optim {

#if defined(CTGRAD_BUILDING_RUNTIME)
template class detail::AdamFamily<AdamOptions, AdamParamState, /*Decoupled=*/false>;
#endif

CTGRAD_API void AdamOptions::visit(OptionVisitor& v) {
    v.number("lr", lr_);
    v.number("beta1", std::get<0>(betas_));
    v.number("beta2", std::get<1>(betas_));
    v.number("eps", eps_);
    v.number("weight_decay", weight_decay_);
    v.flag("amsgrad", amsgrad_);
}

CTGRAD_API void AdamParamState::visit(StateVisitor& v) {
    v.count("step", step_);
    v.buffer("exp_avg", exp_avg_);
    v.buffer("exp_avg_sq", exp_avg_sq_);
    v.buffer("max_exp_avg_sq", max_exp_avg_sq_);
}

CTGRAD_API Adam::Adam(std::vector<OptimizerParamGroup> param_groups, AdamOptions defaults) : AdamFamily(defaults) {
    add_param_groups(std::move(param_groups));
}
CTGRAD_API Adam::Adam(std::vector<Tensor> params, AdamOptions defaults)
    : Adam(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

CTGRAD_API std::string Adam::name() const { return "Adam"; }

CTGRAD_API Tensor Adam::step(LossClosure closure) { return adam_step(closure); }

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS
