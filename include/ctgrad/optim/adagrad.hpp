#pragma once
// Adagrad (Duchi et al.), with learning-rate decay and L2 weight decay: PyTorch 1.13's
// torch.optim.Adagrad (single-tensor path), libtorch's spelling.
//
//   g = grad + weight_decay * p
//   clr = lr / (1 + (t - 1) * lr_decay)
//   sum = sum + g * g
//   p = p - clr * g / (sqrt(sum) + eps)
//
// On the CPU one element loop rounds as PyTorch's CPU ops do (device/optimizer/fma_dispatch.hpp):
// the weight decay's add and addcmul_ are fused multiply-adds, addcdiv_ and sqrt round each
// operation. On other devices the same statements run as tensor ops, each rounded (no fused
// multiply-add), within an ulp or so of the CPU; Adagrad is rarely the hot loop that the fused
// kernels of SGD/Adam/RMSprop exist for.
//
// The sum starts at the optimizer's initial_accumulator_value (its defaults', as both PyTorch
// and libtorch take it; a group's own value is not used), when a parameter first has a
// gradient: PyTorch makes every parameter's state in the constructor.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "detail/arg.hpp"
#include "../core/config.hpp"
#include "optimizer.hpp"

namespace ctgrad::optim {

struct AdagradOptions : public OptimizerCloneableOptions<AdagradOptions> {
    AdagradOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit, as libtorch
    CTGRAD_OPTIM_ARG(double, lr);
    CTGRAD_OPTIM_ARG(double, lr_decay) = 0;
    CTGRAD_OPTIM_ARG(double, weight_decay) = 0;
    CTGRAD_OPTIM_ARG(double, initial_accumulator_value) = 0;
    CTGRAD_OPTIM_ARG(double, eps) = 1e-10;

public:
    double get_lr() const override { return lr(); }
    void set_lr(double lr) override { this->lr(lr); }
    void visit(OptionVisitor& v) override;
    friend bool operator==(const AdagradOptions& a, const AdagradOptions& b) {
        return a.lr() == b.lr() && a.lr_decay() == b.lr_decay() && a.weight_decay() == b.weight_decay() &&
               a.initial_accumulator_value() == b.initial_accumulator_value() && a.eps() == b.eps();
    }
};

struct AdagradParamState : public OptimizerCloneableParamState<AdagradParamState> {
    CTGRAD_OPTIM_ARG(Tensor, sum);
    CTGRAD_OPTIM_ARG(std::int64_t, step) = 0;

public:
    void visit(StateVisitor& v) override;
};

class Adagrad : public Optimizer {
public:
    explicit Adagrad(std::vector<OptimizerParamGroup> param_groups, AdagradOptions defaults = {});
    explicit Adagrad(std::vector<Tensor> params, AdagradOptions defaults = {});

    Tensor step(LossClosure closure = nullptr) override;

protected:
    std::string name() const override;
    void check_options(const OptimizerOptions& options) const override;
    std::unique_ptr<OptimizerParamState> make_state() const override;
};

}  // namespace ctgrad::optim

// The update, its option checks and save/load's field lists, compiled into the library (see
// config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <cmath>
#include <type_traits>

#include "../device/kernels.hpp"

namespace ctgrad::optim {

CTGRAD_API void AdagradOptions::visit(OptionVisitor& v) {
    v.number("lr", lr_);
    v.number("lr_decay", lr_decay_);
    v.number("weight_decay", weight_decay_);
    v.number("initial_accumulator_value", initial_accumulator_value_);
    v.number("eps", eps_);
}

CTGRAD_API void AdagradParamState::visit(StateVisitor& v) {
    v.count("step", step_);
    v.buffer("sum", sum_);
}

CTGRAD_API Adagrad::Adagrad(std::vector<OptimizerParamGroup> param_groups, AdagradOptions defaults)
    : Optimizer(std::make_unique<AdagradOptions>(defaults)) {
    add_param_groups(std::move(param_groups));
}
CTGRAD_API Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions defaults)
    : Adagrad(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

CTGRAD_API std::string Adagrad::name() const { return "Adagrad"; }
CTGRAD_API void Adagrad::check_options(const OptimizerOptions& options) const {
    const auto& o = static_cast<const AdagradOptions&>(options);
    if (!(o.lr() >= 0)) throw Error("Adagrad: Invalid learning rate: " + number(o.lr()));
    if (!(o.lr_decay() >= 0)) throw Error("Adagrad: Invalid lr_decay value: " + number(o.lr_decay()));
    if (!(o.weight_decay() >= 0))
        throw Error("Adagrad: Invalid weight_decay value: " + number(o.weight_decay()));
    if (!(o.initial_accumulator_value() >= 0))
        throw Error("Adagrad: Invalid initial_accumulator_value value: " + number(o.initial_accumulator_value()));
    if (!(o.eps() >= 0)) throw Error("Adagrad: Invalid epsilon value: " + number(o.eps()));
}
CTGRAD_API std::unique_ptr<OptimizerParamState> Adagrad::make_state() const {
    return std::make_unique<AdagradParamState>();
}

CTGRAD_API Tensor Adagrad::step(LossClosure closure) {
    NoGradGuard no_grad;
    Tensor loss = evaluate(closure);
    update_all<AdagradParamState>(
        [](const OptimizerOptions&) { return true; },
        [&](const AdagradParamState& s, const Tensor& p, const OptimizerOptions&) {
            check_buffer(p, s.sum(), "sum");
            return !s.sum().defined();
        },
        [&](AdagradParamState& s, const Tensor& p, const OptimizerOptions&) {
            s.sum(full_like(p, static_cast<const AdagradOptions&>(defaults()).initial_accumulator_value()));
        },
        [&](PlannedUpdate<AdagradParamState>& u) {
            const auto& o = static_cast<const AdagradOptions&>(u.options);
            Tensor& p = u.param;
            AdagradParamState& s = *u.state;
            s.step(s.step() + 1);
            const double clr = o.lr() / (1 + static_cast<double>(s.step() - 1) * o.lr_decay());
            const bool decay = o.weight_decay() != 0;
            if (!p.is_cpu()) {
                const Tensor grad = decay ? u.grad.add(p, o.weight_decay()) : u.grad;
                s.sum().copy_(s.sum().add(grad.mul(grad)));
                const Tensor std = s.sum().sqrt().add(o.eps());
                p.copy_(p.add(grad.mul(-clr).div(std)));
                return;
            }
            dispatch_dtype(p.scalar_type(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_floating_point_v<T>) {
                    const T weight_decay = T(o.weight_decay()), neg_clr = T(-clr), eps = T(o.eps());
                    T* param = p.data_ptr<T>();
                    T* sum = s.sum().data_ptr<T>();
                    const T* g = u.grad.template data_ptr<T>();
                    for (std::int64_t i = 0, n = p.numel(); i < n; ++i) {
                        const T grad = decay ? std::fma(weight_decay, param[i], g[i]) : g[i];  // grad.add(p, alpha=wd)
                        sum[i] = std::fma(grad, grad, sum[i]);                                // sum.addcmul_(g, g, value=1)
                        const T std = std::sqrt(sum[i]) + eps;                                // sum.sqrt().add_(eps)
                        param[i] = param[i] + neg_clr * grad / std;                          // p.addcdiv_(g, std, value=-clr)
                    }
                }
            });
            p.unsafeGetTensorImpl()->storage->bump_version();
        });
    return loss;
}

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS
