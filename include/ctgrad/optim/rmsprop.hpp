#pragma once
// RMSprop (Hinton), optionally centered, with momentum and L2 weight decay: PyTorch 1.13's
// torch.optim.RMSprop (single-tensor path), libtorch's spelling.
//
//   g = grad + weight_decay * p
//   v = alpha * v + (1 - alpha) * g^2
//   centered: a = alpha * a + (1 - alpha) * g;  d = sqrt(v - a^2) + eps
//   else:     d = sqrt(v) + eps
//   momentum > 0: b = momentum * b + g / d;  p = p - lr * b
//   else:         p = p - lr * g / d
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "detail/arg.hpp"
#include "../core/config.hpp"
#include "optimizer.hpp"

namespace ctgrad::optim {

struct RMSpropOptions : public OptimizerCloneableOptions<RMSpropOptions> {
    RMSpropOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit, as libtorch
    CTGRAD_OPTIM_ARG(double, lr);
    CTGRAD_OPTIM_ARG(double, alpha) = 0.99;
    CTGRAD_OPTIM_ARG(double, eps) = 1e-8;
    CTGRAD_OPTIM_ARG(double, weight_decay) = 0;
    CTGRAD_OPTIM_ARG(double, momentum) = 0;
    CTGRAD_OPTIM_ARG(bool, centered) = false;

public:
    double get_lr() const override { return lr(); }
    void set_lr(double lr) override { this->lr(lr); }
    void visit(OptionVisitor& v) override;
    friend bool operator==(const RMSpropOptions& a, const RMSpropOptions& b) {
        return a.lr() == b.lr() && a.alpha() == b.alpha() && a.eps() == b.eps() &&
               a.weight_decay() == b.weight_decay() && a.momentum() == b.momentum() && a.centered() == b.centered();
    }
};

struct RMSpropParamState : public OptimizerCloneableParamState<RMSpropParamState> {
    CTGRAD_OPTIM_ARG(std::int64_t, step) = 0;
    CTGRAD_OPTIM_ARG(Tensor, square_avg);
    CTGRAD_OPTIM_ARG(Tensor, momentum_buffer) = {};
    CTGRAD_OPTIM_ARG(Tensor, grad_avg) = {};

public:
    void visit(StateVisitor& v) override;
};

class RMSprop : public Optimizer {
public:
    explicit RMSprop(std::vector<OptimizerParamGroup> param_groups, RMSpropOptions defaults = {});
    explicit RMSprop(std::vector<Tensor> params, RMSpropOptions defaults = {});

    Tensor step(LossClosure closure = nullptr) override;

protected:
    std::string name() const override;
    std::unique_ptr<OptimizerParamState> make_state() const override;
    void check_options(const OptimizerOptions& options) const override;
};

}  // namespace ctgrad::optim

// The update, its option checks and save/load's field lists, compiled into the library (see
// config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include "../device/kernels.hpp"

namespace ctgrad::optim {

CTGRAD_API void RMSpropOptions::visit(OptionVisitor& v) {
    v.number("lr", lr_);
    v.number("alpha", alpha_);
    v.number("eps", eps_);
    v.number("weight_decay", weight_decay_);
    v.number("momentum", momentum_);
    v.flag("centered", centered_);
}

CTGRAD_API void RMSpropParamState::visit(StateVisitor& v) {
    v.count("step", step_);
    v.buffer("square_avg", square_avg_);
    v.buffer("momentum_buffer", momentum_buffer_);
    v.buffer("grad_avg", grad_avg_);
}

CTGRAD_API RMSprop::RMSprop(std::vector<OptimizerParamGroup> param_groups, RMSpropOptions defaults)
    : Optimizer(std::make_unique<RMSpropOptions>(defaults)) {
    add_param_groups(std::move(param_groups));
}
CTGRAD_API RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions defaults)
    : RMSprop(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

CTGRAD_API std::string RMSprop::name() const { return "RMSprop"; }
CTGRAD_API std::unique_ptr<OptimizerParamState> RMSprop::make_state() const {
    return std::make_unique<RMSpropParamState>();
}
CTGRAD_API void RMSprop::check_options(const OptimizerOptions& options) const {
    const auto& o = static_cast<const RMSpropOptions&>(options);
    if (!(o.lr() >= 0)) throw Error("RMSprop: Invalid learning rate: " + number(o.lr()));
    if (!(o.eps() >= 0)) throw Error("RMSprop: Invalid epsilon value: " + number(o.eps()));
    if (!(o.momentum() >= 0)) throw Error("RMSprop: Invalid momentum value: " + number(o.momentum()));
    if (!(o.weight_decay() >= 0))
        throw Error("RMSprop: Invalid weight_decay value: " + number(o.weight_decay()));
    if (!(o.alpha() >= 0)) throw Error("RMSprop: Invalid alpha value: " + number(o.alpha()));
}

CTGRAD_API Tensor RMSprop::step(LossClosure closure) {
    NoGradGuard no_grad;
    Tensor loss = evaluate(closure);
    // Buffers the options need, created when first needed (PyTorch creates them with the state;
    // a group's options changed later get zeros, as in libtorch).
    update_all<RMSpropParamState>(
        [](const OptimizerOptions&) { return true; },
        [&](const RMSpropParamState& s, const Tensor& p, const OptimizerOptions& options) {
            const auto& o = static_cast<const RMSpropOptions&>(options);
            check_buffer(p, s.square_avg(), "square_avg");
            check_buffer(p, s.momentum_buffer(), "momentum_buffer");
            check_buffer(p, s.grad_avg(), "grad_avg");
            return !s.square_avg().defined() || (o.momentum() > 0 && !s.momentum_buffer().defined()) ||
                   (o.centered() && !s.grad_avg().defined());
        },
        [](RMSpropParamState& s, const Tensor& p, const OptimizerOptions& options) {
            const auto& o = static_cast<const RMSpropOptions&>(options);
            if (!s.square_avg().defined()) s.square_avg(zero_buffer(p));
            if (o.momentum() > 0 && !s.momentum_buffer().defined()) s.momentum_buffer(zero_buffer(p));
            if (o.centered() && !s.grad_avg().defined()) s.grad_avg(zero_buffer(p));
        },
        [&](PlannedUpdate<RMSpropParamState>& u) {
            const auto& o = static_cast<const RMSpropOptions&>(u.options);
            Tensor& p = u.param;
            RMSpropParamState& s = *u.state;
            const bool momentum = o.momentum() > 0;
            s.step(s.step() + 1);
            dispatch_dtype(p.scalar_type(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_floating_point_v<T>) {
                    const detail::RMSpropScalars<T> k{T(o.weight_decay()), T(o.alpha()), T(1 - o.alpha()),
                                                      T(o.eps()),          T(o.momentum()), T(-o.lr())};
                    device_kernels(p.device(), name()).rmsprop_update(k, o.weight_decay() != 0, o.centered(), momentum, p.numel(), p.data_ptr<T>(),
                           u.grad.template data_ptr<T>(), s.square_avg().data_ptr<T>(),
                           o.centered() ? s.grad_avg().data_ptr<T>() : nullptr,
                           momentum ? s.momentum_buffer().data_ptr<T>() : nullptr);
                }
            });
            p.unsafeGetTensorImpl()->storage->bump_version();
        });
    return loss;
}

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS
