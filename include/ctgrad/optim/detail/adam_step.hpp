#pragma once
// What Adam and AdamW share: their base class (one step, one option check), lazy state, the
// step count, the bias corrections (computed in double, as Python does), then one pass of the
// element kernel of p's device.
#include <memory>

#include "../../core/config.hpp"
#include "../../tensor/tensor.hpp"
#include "../optimizer.hpp"

namespace ctgrad::optim::detail {

// The base of Adam (Decoupled = false) and AdamW (true): they differ only in their options' and
// state's types, their name and where the weight decay goes. adam_step is their step(); it is
// instantiated where Adam::step and AdamW::step are compiled (the runtime), which also holds
// both instantiations of the class (adam.hpp, adamw.hpp), so that a program compiles none of
// the step's code.
template <class Options, class State, bool Decoupled>
class AdamFamily : public Optimizer {
protected:
    explicit AdamFamily(const Options& defaults) : Optimizer(std::make_unique<Options>(defaults)) {}

    Tensor adam_step(const LossClosure& closure);

    void check_options(const OptimizerOptions& options) const override;
    std::unique_ptr<OptimizerParamState> make_state() const override;
};

}  // namespace ctgrad::optim::detail

// The step and its helpers, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <cmath>
#include <string>
#include <tuple>
#include <type_traits>

#include "../../core/error.hpp"
#include "../../device/kernels.hpp"
#include "../../tensor/functions.hpp"

namespace ctgrad::optim::detail {

// Whether `state` (AdamParamState or AdamWParamState) lacks a buffer the options need, after
// `check(buffer, what)` (Optimizer::check_buffer against the parameter) passed every one it has.
template <class Options, class State, class Check>
bool adam_family_lacks_buffers(const Options& o, const State& state, Check&& check) {
    check(state.exp_avg(), "exp_avg");
    check(state.exp_avg_sq(), "exp_avg_sq");
    check(state.max_exp_avg_sq(), "max_exp_avg_sq");
    return !state.exp_avg().defined() || !state.exp_avg_sq().defined() ||
           (o.amsgrad() && !state.max_exp_avg_sq().defined());
}

// Zero buffers for those the state lacks (max_exp_avg_sq only with amsgrad, as in PyTorch).
template <class Options, class State>
void adam_family_make_buffers(const Options& o, State& state, const Tensor& p) {
    if (!state.exp_avg().defined()) state.exp_avg(zeros_like(p));
    if (!state.exp_avg_sq().defined()) state.exp_avg_sq(zeros_like(p));
    if (o.amsgrad() && !state.max_exp_avg_sq().defined()) state.max_exp_avg_sq(zeros_like(p));
}

// `state` holds step, exp_avg, exp_avg_sq, max_exp_avg_sq (AdamParamState or AdamWParamState),
// with every buffer the options need; `decoupled` selects AdamW's weight decay; `name` ("Adam",
// "AdamW") names the optimizer in a device backend's errors.
template <class Options, class State>
void adam_family_update(const Options& o, State& state, bool decoupled, const Tensor& p, const Tensor& grad,
                        const std::string& name) {
    state.step(state.step() + 1);
    const double step = static_cast<double>(state.step());
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    const double bias_correction1 = 1 - std::pow(beta1, step);
    const double bias_correction2 = 1 - std::pow(beta2, step);
    const double step_size = o.lr() / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    dispatch_dtype(p.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_floating_point_v<T>) {
            const AdamScalars<T> s{T(o.weight_decay()),
                                   T(1 - o.lr() * o.weight_decay()),
                                   T(beta1),
                                   T(1 - beta1),
                                   T(beta2),
                                   T(1 - beta2),
                                   T(bias_correction2_sqrt),
                                   T(o.eps()),
                                   T(-step_size)};
            device_kernels(p.device(), name).adam_update(s, decoupled, o.weight_decay() != 0, o.amsgrad(), p.numel(), p.data_ptr<T>(), grad.data_ptr<T>(),
                   state.exp_avg().template data_ptr<T>(), state.exp_avg_sq().template data_ptr<T>(),
                   o.amsgrad() ? state.max_exp_avg_sq().template data_ptr<T>() : nullptr);
        }
    });
    p.unsafeGetTensorImpl()->storage->bump_version();
}

// PyTorch's checks of Adam's and AdamW's options; `name` starts the message.
template <class Options>
void check_adam_options(const Options& o, const std::string& name, std::string (*number)(double)) {
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    if (!(o.lr() >= 0)) throw Error(name + ": Invalid learning rate: " + number(o.lr()));
    if (!(o.eps() >= 0)) throw Error(name + ": Invalid epsilon value: " + number(o.eps()));
    if (!(0 <= beta1 && beta1 < 1)) throw Error(name + ": Invalid beta parameter at index 0: " + number(beta1));
    if (!(0 <= beta2 && beta2 < 1)) throw Error(name + ": Invalid beta parameter at index 1: " + number(beta2));
    if (!(o.weight_decay() >= 0)) throw Error(name + ": Invalid weight_decay value: " + number(o.weight_decay()));
}

template <class Options, class State, bool Decoupled>
Tensor AdamFamily<Options, State, Decoupled>::adam_step(const LossClosure& closure) {
    NoGradGuard no_grad;
    Tensor loss = evaluate(closure);
    update_all<State>(
        [](const OptimizerOptions&) { return true; },
        [&](const State& s, const Tensor& p, const OptimizerOptions& o) {
            return adam_family_lacks_buffers(static_cast<const Options&>(o), s,
                                             [&](const Tensor& b, const char* what) { this->check_buffer(p, b, what); });
        },
        [](State& s, const Tensor& p, const OptimizerOptions& o) {
            adam_family_make_buffers(static_cast<const Options&>(o), s, p);
        },
        [&](typename Optimizer::template PlannedUpdate<State>& u) {
            adam_family_update(static_cast<const Options&>(u.options), *u.state, Decoupled, u.param, u.grad,
                               this->name());
        });
    return loss;
}

template <class Options, class State, bool Decoupled>
void AdamFamily<Options, State, Decoupled>::check_options(const OptimizerOptions& options) const {
    check_adam_options(static_cast<const Options&>(options), name(), &Optimizer::number);
}

template <class Options, class State, bool Decoupled>
std::unique_ptr<OptimizerParamState> AdamFamily<Options, State, Decoupled>::make_state() const {
    return std::make_unique<State>();
}

}  // namespace ctgrad::optim::detail
#endif  // CTGRAD_RUNTIME_DEFINITIONS
