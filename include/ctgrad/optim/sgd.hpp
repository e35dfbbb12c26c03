#pragma once
// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2
// weight decay: PyTorch 1.13's torch.optim.SGD (single-tensor path), libtorch's spelling.
//
//   g = grad + weight_decay * p
//   b = g (first step), b = momentum * b + (1 - dampening) * g (later steps)
//   g = g + momentum * b (nesterov) or g = b
//   p = p - lr * g
#include <memory>
#include <string>
#include <vector>

#include "detail/arg.hpp"
#include "../core/config.hpp"
#include "optimizer.hpp"

namespace ctgrad::optim {

struct SGDOptions : public OptimizerCloneableOptions<SGDOptions> {
    SGDOptions(double lr) : lr_(lr) {}  // NOLINT: implicit, as libtorch
    CTGRAD_OPTIM_ARG(double, lr);
    CTGRAD_OPTIM_ARG(double, momentum) = 0;
    CTGRAD_OPTIM_ARG(double, dampening) = 0;
    CTGRAD_OPTIM_ARG(double, weight_decay) = 0;
    CTGRAD_OPTIM_ARG(bool, nesterov) = false;

public:
    double get_lr() const override { return lr(); }
    void set_lr(double lr) override { this->lr(lr); }
    void visit(OptionVisitor& v) override;
    friend bool operator==(const SGDOptions& a, const SGDOptions& b) {
        return a.lr() == b.lr() && a.momentum() == b.momentum() && a.dampening() == b.dampening() &&
               a.weight_decay() == b.weight_decay() && a.nesterov() == b.nesterov();
    }
};

struct SGDParamState : public OptimizerCloneableParamState<SGDParamState> {
    CTGRAD_OPTIM_ARG(Tensor, momentum_buffer);

public:
    void visit(StateVisitor& v) override;
};

class SGD : public Optimizer {
public:
    explicit SGD(std::vector<OptimizerParamGroup> param_groups, SGDOptions defaults);
    explicit SGD(std::vector<Tensor> params, SGDOptions defaults);

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

CTGRAD_API void SGDOptions::visit(OptionVisitor& v) {
    v.number("lr", lr_);
    v.number("momentum", momentum_);
    v.number("dampening", dampening_);
    v.number("weight_decay", weight_decay_);
    v.flag("nesterov", nesterov_);
}

CTGRAD_API void SGDParamState::visit(StateVisitor& v) { v.buffer("momentum_buffer", momentum_buffer_); }

CTGRAD_API SGD::SGD(std::vector<OptimizerParamGroup> param_groups, SGDOptions defaults)
    : Optimizer(std::make_unique<SGDOptions>(defaults)) {
    add_param_groups(std::move(param_groups));
}
CTGRAD_API SGD::SGD(std::vector<Tensor> params, SGDOptions defaults)
    : SGD(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

CTGRAD_API std::string SGD::name() const { return "SGD"; }
CTGRAD_API std::unique_ptr<OptimizerParamState> SGD::make_state() const { return std::make_unique<SGDParamState>(); }
CTGRAD_API void SGD::check_options(const OptimizerOptions& options) const {
    const auto& o = static_cast<const SGDOptions&>(options);
    if (!(o.lr() >= 0)) throw Error("SGD: Invalid learning rate: " + number(o.lr()));
    if (!(o.momentum() >= 0)) throw Error("SGD: Invalid momentum value: " + number(o.momentum()));
    if (!(o.weight_decay() >= 0)) throw Error("SGD: Invalid weight_decay value: " + number(o.weight_decay()));
    if (o.nesterov() && (o.momentum() <= 0 || o.dampening() != 0))
        throw Error("SGD: Nesterov momentum requires a momentum and zero dampening");
}

CTGRAD_API Tensor SGD::step(LossClosure closure) {
    NoGradGuard no_grad;
    Tensor loss = evaluate(closure);
    update_all<SGDParamState>(
        [](const OptimizerOptions& o) { return static_cast<const SGDOptions&>(o).momentum() != 0; },
        [&](const SGDParamState& s, const Tensor& p, const OptimizerOptions&) {
            check_buffer(p, s.momentum_buffer(), "momentum_buffer");
            return !s.momentum_buffer().defined();
        },
        [](SGDParamState& s, const Tensor& p, const OptimizerOptions&) { s.momentum_buffer(zero_buffer(p)); },
        [&](PlannedUpdate<SGDParamState>& u) {
            const auto& o = static_cast<const SGDOptions&>(u.options);
            Tensor& p = u.param;
            // A new momentum buffer takes the gradient itself (the kernel's first step).
            const bool first = u.new_buffers;
            Tensor* buf = u.state ? &u.state->momentum_buffer() : nullptr;
            dispatch_dtype(p.scalar_type(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_floating_point_v<T>) {
                    const detail::SGDScalars<T> s{T(o.weight_decay()), T(o.momentum()), T(1 - o.dampening()),
                                                  T(-o.lr())};
                    device_kernels(p.device(), name()).sgd_update(s, o.weight_decay() != 0, o.momentum() != 0, first, o.nesterov(), p.numel(),
                           p.data_ptr<T>(), u.grad.template data_ptr<T>(), buf ? buf->data_ptr<T>() : nullptr);
                }
            });
            p.unsafeGetTensorImpl()->storage->bump_version();
        });
    return loss;
}

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS
