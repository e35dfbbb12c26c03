#pragma once
// The base of ctgrad's optimizers, in libtorch's spelling (torch/optim/optimizer.h):
// parameters live in param groups, each with its own copy of the options (the defaults unless
// the group brings its own); per-parameter state (step count, moment buffers) is created
// lazily by the first step that sees a gradient.
//
// State is keyed by the parameter's TensorImpl address (libtorch uses the same address printed
// as a string), so it follows the parameter object, not its position in a group.
//
// A step is all or nothing: every parameter of every group is checked (its gradient's dtype,
// shape and device, its state's buffers) and the state it lacks is made aside before any
// parameter or state changes (update_all below), so a step that throws leaves parameters,
// gradients and state as they were.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../autograd/grad_mode.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../tensor/functions.hpp"
#include "../tensor/tensor.hpp"

namespace ctgrad::detail {
struct optimizer_archive;  // torch::save/load of an optimizer (serialize.hpp)
}

namespace ctgrad::optim {

// What an optimizer's options and state hold, field by field, for save and load: each options
// and state class lists its fields by their PyTorch names (a bool option travels as 0 or 1).
class OptionVisitor {
public:
    virtual ~OptionVisitor() = default;
    virtual void number(const char* name, double& value) = 0;
    virtual void flag(const char* name, bool& value) = 0;
};
class StateVisitor {
public:
    virtual ~StateVisitor() = default;
    virtual void count(const char* name, std::int64_t& value) = 0;
    virtual void buffer(const char* name, Tensor& value) = 0;  // may be undefined
};

// Per-parameter state of an optimizer (AdamParamState, ...).
class OptimizerParamState {
public:
    OptimizerParamState() = default;
    OptimizerParamState(const OptimizerParamState&) = default;
    OptimizerParamState& operator=(const OptimizerParamState&) = default;
    virtual ~OptimizerParamState() = default;
    virtual std::unique_ptr<OptimizerParamState> clone() const { return std::make_unique<OptimizerParamState>(*this); }
    // Lists the state's fields (none here).
    virtual void visit(StateVisitor&) {}
};

template <class Derived>
class OptimizerCloneableParamState : public OptimizerParamState {
public:
    std::unique_ptr<OptimizerParamState> clone() const override {
        return std::make_unique<Derived>(static_cast<const Derived&>(*this));
    }
};

// The options of an optimizer (AdamOptions, ...); the base knows only the learning rate.
class OptimizerOptions {
public:
    OptimizerOptions() = default;
    OptimizerOptions(const OptimizerOptions&) = default;
    OptimizerOptions& operator=(const OptimizerOptions&) = default;
    virtual ~OptimizerOptions() = default;
    virtual std::unique_ptr<OptimizerOptions> clone() const { return std::make_unique<OptimizerOptions>(*this); }
    virtual double get_lr() const;
    virtual void set_lr(double);
    // Lists the options' fields (save/load).
    virtual void visit(OptionVisitor&);
};

template <class Derived>
class OptimizerCloneableOptions : public OptimizerOptions {
public:
    std::unique_ptr<OptimizerOptions> clone() const override {
        return std::make_unique<Derived>(static_cast<const Derived&>(*this));
    }
};

// A list of parameters and, optionally, options of their own.
class OptimizerParamGroup {
public:
    OptimizerParamGroup(std::vector<Tensor> params) : params_(std::move(params)) {}  // NOLINT: implicit, as libtorch
    OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options)
        : params_(std::move(params)), options_(std::move(options)) {}
    OptimizerParamGroup(const OptimizerParamGroup& other);
    OptimizerParamGroup(OptimizerParamGroup&&) = default;
    OptimizerParamGroup& operator=(const OptimizerParamGroup& other);
    OptimizerParamGroup& operator=(OptimizerParamGroup&&) = default;

    bool has_options() const { return options_ != nullptr; }
    OptimizerOptions& options();
    const OptimizerOptions& options() const;
    void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }
    std::vector<Tensor>& params() { return params_; }
    const std::vector<Tensor>& params() const { return params_; }

private:
    std::vector<Tensor> params_;
    std::unique_ptr<OptimizerOptions> options_;
};

class Optimizer {
public:
    using LossClosure = std::function<Tensor()>;
    using StateMap = std::unordered_map<const TensorImpl*, std::unique_ptr<OptimizerParamState>>;

    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;
    Optimizer(Optimizer&&) = default;
    Optimizer& operator=(Optimizer&&) = default;
    virtual ~Optimizer();

    // One update of every parameter that has a gradient, under no-grad. With a closure, the
    // closure is evaluated first (with grad mode on) and its loss returned; else an undefined Tensor.
    virtual Tensor step(LossClosure closure = nullptr) = 0;

    // Adds a group; its options default to a copy of the optimizer's defaults. Throws (and adds
    // nothing) when a parameter is not a leaf, is already in a group, or the options are invalid.
    void add_param_group(const OptimizerParamGroup& param_group);

    // Appends parameters to the first group (libtorch's add_parameters).
    void add_parameters(const std::vector<Tensor>& parameters);

    // Zeroes the existing gradients in place (libtorch 1.13: the gradients stay defined).
    void zero_grad();

    // The parameters of the first group (libtorch's parameters()).
    const std::vector<Tensor>& parameters() const noexcept { return param_groups_.at(0).params(); }
    std::vector<Tensor>& parameters() noexcept { return param_groups_.at(0).params(); }
    // The number of parameters over all groups.
    std::size_t size() const noexcept;

    OptimizerOptions& defaults() noexcept { return *defaults_; }
    const OptimizerOptions& defaults() const noexcept { return *defaults_; }
    std::vector<OptimizerParamGroup>& param_groups() noexcept { return param_groups_; }
    const std::vector<OptimizerParamGroup>& param_groups() const noexcept { return param_groups_; }
    StateMap& state() noexcept { return state_; }
    const StateMap& state() const noexcept { return state_; }

protected:
    friend struct ctgrad::detail::optimizer_archive;

    explicit Optimizer(std::unique_ptr<OptimizerOptions> defaults) : defaults_(std::move(defaults)) {}

    // The derived constructor validates its defaults, then adds the groups (which are checked
    // again: a group may bring options of its own).
    void add_param_groups(std::vector<OptimizerParamGroup> param_groups);

    // "Adam", ...: the first word of every error message.
    virtual std::string name() const = 0;
    // Throws ctgrad::Error with PyTorch's wording for an invalid option.
    virtual void check_options(const OptimizerOptions& options) const = 0;
    // An empty per-parameter state of this optimizer's kind, for load to fill; nullptr for an
    // optimizer whose state save/load does not cover.
    virtual std::unique_ptr<OptimizerParamState> make_state() const { return nullptr; }

    // One parameter's update, planned by update_all before any is applied.
    template <class State>
    struct PlannedUpdate {
        Tensor& param;
        const Tensor& grad;           // checked_grad's: contiguous, of the parameter's dtype and shape
        const OptimizerOptions& options;
        State* state;                 // nullptr when the options need no state (SGD without momentum)
        bool new_buffers;             // make_buffers filled in the state's buffers for this step
    };

    // Updates every parameter that has a gradient, all or nothing. First, for every parameter of
    // every group: its gradient is checked (checked_grad); when `uses_state(options)`, its state's
    // buffers are checked against it by `lacks_buffers(state, p, options)`, which throws for a
    // buffer that does not fit p and says whether some are missing; a new state, or a copy of one
    // that lacks buffers, gets them from `make_buffers(state, p, options)`, aside. Only when every
    // parameter passed is the new state stored (by steps that cannot fail) and `update(planned)`
    // run for each parameter, in group order. With contiguous gradients the valid case copies no
    // tensor and, after the first step, allocates nothing.
    template <class State, class UsesState, class LacksBuffers, class MakeBuffers, class Update>
    void update_all(UsesState&& uses_state, LacksBuffers&& lacks_buffers, MakeBuffers&& make_buffers,
                    Update&& update) {
        struct ClearOnExit {  // the plan holds gradients: let them go however the step ends
            std::vector<PlannedStep>& plan;
            ~ClearOnExit() { plan.clear(); }
        } clear_on_exit{planned_};
        planned_.clear();
        planned_.reserve(size());
        StateMap made;  // states of parameters seen for the first time
        std::vector<std::pair<std::unique_ptr<OptimizerParamState>*, std::unique_ptr<OptimizerParamState>>> completed;
        for (auto& group : param_groups_) {
            const OptimizerOptions& o = group.options();
            for (auto& p : group.params()) {
                const Tensor raw_grad = p.grad();
                if (!raw_grad.defined()) continue;
                Tensor grad = checked_grad(p, raw_grad);
                State* state = nullptr;
                bool new_buffers = false;
                if (uses_state(o)) {
                    const auto found = state_.find(p.unsafeGetTensorImpl());
                    if (found == state_.end() || !found->second) {
                        auto fresh = std::make_unique<State>();
                        make_buffers(*fresh, p, o);
                        state = fresh.get();
                        new_buffers = true;
                        if (found == state_.end()) made.emplace(p.unsafeGetTensorImpl(), std::move(fresh));
                        else completed.emplace_back(&found->second, std::move(fresh));
                    } else {
                        auto& current = static_cast<State&>(*found->second);
                        if (lacks_buffers(std::as_const(current), p, o)) {
                            auto copy = std::make_unique<State>(current);
                            make_buffers(*copy, p, o);
                            state = copy.get();
                            new_buffers = true;
                            completed.emplace_back(&found->second, std::move(copy));
                        } else {
                            state = &current;
                        }
                    }
                }
                planned_.push_back({&p, std::move(grad), &o, state, new_buffers});
            }
        }
        // Everything was checked. Reserving first lets merge move the new states in without a
        // rehash, so nothing below can throw before the updates.
        if (!made.empty()) {
            state_.reserve(state_.size() + made.size());
            state_.merge(made);
        }
        for (auto& [slot, state] : completed) *slot = std::move(state);
        for (PlannedStep& step : planned_) {
            PlannedUpdate<State> u{*step.param, step.grad, *step.options, static_cast<State*>(step.state),
                                   step.new_buffers};
            update(u);
        }
    }

    // Throws unless a state buffer of the optimizer (e.g. "exp_avg") fits parameter p: what the
    // element kernels read and write at p's positions must have p's shape, dtype and device and
    // be contiguous. An undefined buffer passes (the caller decides whether it is missing).
    void check_buffer(const Tensor& p, const Tensor& buffer, const char* what) const;

    // The gradient of p, checked for the element kernels: contiguous float/double data of p's
    // dtype and shape on p's device. A non-contiguous gradient is read through a contiguous copy;
    // a non-contiguous parameter, another dtype or device is an error. On a device, its kernels
    // are looked up here too, so that a build without them fails before any state changes.
    Tensor checked_grad(const Tensor& p, const Tensor& grad) const;

    // A zero buffer like p (contiguous, p's dtype), for state.
    static Tensor zero_buffer(const Tensor& p) { return zeros_like(p); }

    // "-1", "1e-08": a double as libtorch's TORCH_CHECK streams it.
    static std::string number(double v);

    // The loss of the closure, evaluated with grad mode on (undefined without a closure).
    static Tensor evaluate(const LossClosure& closure);

private:
    // A parameter's update as update_all plans it; the list is kept between steps for its memory.
    struct PlannedStep {
        Tensor* param;
        Tensor grad;
        const OptimizerOptions* options;
        OptimizerParamState* state;
        bool new_buffers;
    };

    std::unique_ptr<OptimizerOptions> defaults_;
    std::vector<OptimizerParamGroup> param_groups_;
    StateMap state_;
    std::vector<PlannedStep> planned_;
};

}  // namespace ctgrad::optim

// The bookkeeping of param groups and the checks of a step, compiled into the library (see
// config.hpp): a program calls them, the optimizers' steps in the library inline them.
#if CTGRAD_RUNTIME_DEFINITIONS
#include <sstream>
#include <unordered_set>

#include "../device/kernels.hpp"

namespace ctgrad::optim {

CTGRAD_API double OptimizerOptions::get_lr() const {
    throw Error("OptimizerOptions: get_lr() is not implemented for these options");
}
CTGRAD_API void OptimizerOptions::set_lr(double) {
    throw Error("OptimizerOptions: set_lr() is not implemented for these options");
}
CTGRAD_API void OptimizerOptions::visit(OptionVisitor&) {
    throw Error("OptimizerOptions: these options can't be saved or loaded");
}

CTGRAD_API OptimizerParamGroup::OptimizerParamGroup(const OptimizerParamGroup& other)
    : params_(other.params_), options_(other.options_ ? other.options_->clone() : nullptr) {}

CTGRAD_API OptimizerParamGroup& OptimizerParamGroup::operator=(const OptimizerParamGroup& other) {
    if (this != &other) {
        params_ = other.params_;
        options_ = other.options_ ? other.options_->clone() : nullptr;
    }
    return *this;
}

CTGRAD_API OptimizerOptions& OptimizerParamGroup::options() {
    if (!options_) throw Error("OptimizerParamGroup: the group has no options (add it to an optimizer first)");
    return *options_;
}
CTGRAD_API const OptimizerOptions& OptimizerParamGroup::options() const {
    if (!options_) throw Error("OptimizerParamGroup: the group has no options (add it to an optimizer first)");
    return *options_;
}

CTGRAD_API Optimizer::~Optimizer() = default;

CTGRAD_API void Optimizer::add_param_group(const OptimizerParamGroup& param_group) {
    OptimizerParamGroup group(param_group.params(),
                              param_group.has_options() ? param_group.options().clone() : defaults_->clone());
    check_options(group.options());
    std::unordered_set<const TensorImpl*> seen;
    for (const auto& g : param_groups_)
        for (const auto& p : g.params()) seen.insert(p.unsafeGetTensorImpl());
    for (const auto& p : group.params()) {
        if (!p.defined()) throw Error(name() + ": can't optimize an undefined Tensor");
        if (!p.is_leaf()) throw Error(name() + ": can't optimize a non-leaf Tensor");
        if (!seen.insert(p.unsafeGetTensorImpl()).second)
            throw Error(name() + ": some parameters appear in more than one parameter group");
    }
    param_groups_.push_back(std::move(group));
}

CTGRAD_API void Optimizer::add_parameters(const std::vector<Tensor>& parameters) {
    if (param_groups_.empty()) {
        add_param_group(OptimizerParamGroup(parameters));
        return;
    }
    OptimizerParamGroup grown(param_groups_[0]);
    grown.params().insert(grown.params().end(), parameters.begin(), parameters.end());
    std::vector<OptimizerParamGroup> saved = std::move(param_groups_);
    param_groups_.clear();
    try {
        add_param_group(grown);
        for (std::size_t i = 1; i < saved.size(); ++i) add_param_group(saved[i]);
    } catch (...) {
        param_groups_ = std::move(saved);
        throw;
    }
}

CTGRAD_API void Optimizer::zero_grad() {
    for (auto& group : param_groups_)
        for (auto& p : group.params()) {
            Tensor g = p.grad();
            if (g.defined()) {
                g.detach_();
                g.zero_();
            }
        }
}

CTGRAD_API std::size_t Optimizer::size() const noexcept {
    std::size_t n = 0;
    for (const auto& g : param_groups_) n += g.params().size();
    return n;
}

CTGRAD_API void Optimizer::add_param_groups(std::vector<OptimizerParamGroup> param_groups) {
    check_options(*defaults_);
    for (const auto& group : param_groups) add_param_group(group);
}

CTGRAD_API void Optimizer::check_buffer(const Tensor& p, const Tensor& buffer, const char* what) const {
    if (!buffer.defined()) return;
    // The usual case, a buffer the optimizer made for p, in one cheap test: it runs for every
    // buffer of every step. (p was found contiguous by checked_grad, so a buffer with p's
    // sizes and strides is contiguous too.)
    const TensorImpl& b = *buffer.unsafeGetTensorImpl();
    const TensorImpl& q = *p.unsafeGetTensorImpl();
    if (b.sizes == q.sizes && b.strides == q.strides && b.dtype == q.dtype &&
        b.storage->device() == q.storage->device())
        return;
    const auto fail = [&](const std::string& found) {
        throw Error(name() + ": the state's " + what + " " + found + " (parameter of shape " + shape_str(p.sizes()) +
                    ", dtype " + dtype_name(p.scalar_type()) + ")");
    };
    if (!(buffer.sizes() == p.sizes()))
        fail("has shape " + shape_str(buffer.sizes()) + ", expected the parameter's");
    if (buffer.scalar_type() != p.scalar_type())
        fail(std::string("has dtype ") + dtype_name(buffer.scalar_type()) + ", expected the parameter's");
    if (!(buffer.device() == p.device()))
        fail("is on " + buffer.device().str() + ", expected the parameter's device " + p.device().str());
    if (!buffer.is_contiguous()) fail("is not contiguous (the update runs over its memory in one pass)");
}

CTGRAD_API Tensor Optimizer::checked_grad(const Tensor& p, const Tensor& grad) const {
    const auto fail = [&](const std::string& what) {
        throw Error(name() + ": " + what + " (parameter of shape " + shape_str(p.sizes()) + ", dtype " +
                    dtype_name(p.scalar_type()) + ")");
    };
    if (!(grad.device() == p.device()))
        fail("expected the gradient on " + p.device().str() + " (the parameter's device), got " +
             grad.device().str());
    device_kernels(p.device(), name());  // a device this program has no kernels for fails here
    if (p.scalar_type() != kFloat && p.scalar_type() != kDouble)
        fail("expected a float32 or float64 parameter");
    if (grad.scalar_type() != p.scalar_type())
        fail(std::string("the gradient has dtype ") + dtype_name(grad.scalar_type()) +
             ", expected the parameter's");
    if (!(grad.sizes() == p.sizes()))
        fail("the gradient has shape " + shape_str(grad.sizes()) + ", expected the parameter's");
    if (!p.is_contiguous()) fail("expected a contiguous parameter (the update runs over its memory in one pass)");
    return grad.is_contiguous() ? grad : grad.contiguous();
}

CTGRAD_API std::string Optimizer::number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

CTGRAD_API Tensor Optimizer::evaluate(const LossClosure& closure) {
    if (!closure) return Tensor();
    AutoGradMode enable(true);
    return closure();
}

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS
