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
};

class Adam : public Optimizer {
public:
    explicit Adam(std::vector<OptimizerParamGroup> param_groups, AdamOptions defaults = {})
        : Optimizer(std::make_unique<AdamOptions>(defaults)) {
        add_param_groups(std::move(param_groups));
    }
    explicit Adam(std::vector<Tensor> params, AdamOptions defaults = {})
        : Adam(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

    Tensor step(LossClosure closure = nullptr) override;

protected:
    std::string name() const override { return "Adam"; }
    void check_options(const OptimizerOptions& options) const override;
};

}  // namespace ctgrad::optim

// The update, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include "detail/adam_step.hpp"

namespace ctgrad::optim {

CTGRAD_API Tensor Adam::step(LossClosure closure) {
    NoGradGuard no_grad;
    Tensor loss = evaluate(closure);
    update_all<AdamParamState>(
        [](const OptimizerOptions&) { return true; },
        [&](const AdamParamState& s, const Tensor& p, const OptimizerOptions& o) {
            return detail::adam_family_lacks_buffers(static_cast<const AdamOptions&>(o), s,
                                                     [&](const Tensor& b, const char* what) { check_buffer(p, b, what); });
        },
        [](AdamParamState& s, const Tensor& p, const OptimizerOptions& o) {
            detail::adam_family_make_buffers(static_cast<const AdamOptions&>(o), s, p);
        },
        [&](PlannedUpdate<AdamParamState>& u) {
            detail::adam_family_update(static_cast<const AdamOptions&>(u.options), *u.state,
                                       /*decoupled=*/false, u.param, u.grad, name());
        });
    return loss;
}

CTGRAD_API void Adam::check_options(const OptimizerOptions& options) const {
    detail::check_adam_options(static_cast<const AdamOptions&>(options), name(), &Optimizer::number);
}

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS
