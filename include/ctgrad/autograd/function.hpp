#pragma once
// Custom autograd functions, spelled as in libtorch (torch/csrc/autograd/custom_function.h):
//
//   struct MyFunction : ctgrad::autograd::Function<MyFunction> {
//       static Tensor forward(AutogradContext* ctx, Tensor x, double k) { ... }
//       static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) { ... }
//   };
//   Tensor y = MyFunction::apply(x, 2.0);
//
// `apply` runs forward with grad mode off and, when grad mode is on and a Tensor argument
// requires grad, makes the outputs children of one CppNode<T>, whose backward calls T::backward
// (with grad mode on under create_graph, so a backward written with tensor ops is itself
// differentiable). Tensor arguments (and engaged std::optional<Tensor>s) get an edge; any other
// argument is a constant whose gradient slot backward must leave undefined.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "../core/config.hpp"
#include "graph.hpp"
#include "grad_mode.hpp"
#include "node.hpp"
#include "saved_variable.hpp"

namespace ctgrad {

namespace detail {
// IValue::get's error, out of line: one copy for every kind asked for.
[[noreturn]] void throw_ivalue_mismatch(const char* method, const char* expected, const char* got);
}  // namespace detail

// A value of one of the few kinds a custom function keeps in ctx->saved_data (libtorch's
// at::IValue, reduced to what such code stores: numbers, flags, tensors and strings).
class IValue {
public:
    IValue() = default;  // None
    IValue(double v) : v_(v) {}  // NOLINT: implicit, as in libtorch (`saved_data["k"] = 0.5`)
    template <class I>
        requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
    IValue(I v) : v_(static_cast<std::int64_t>(v)) {}  // NOLINT
    IValue(bool v) : v_(v) {}                            // NOLINT
    IValue(Tensor v) : v_(std::move(v)) {}               // NOLINT
    IValue(std::string v) : v_(std::move(v)) {}          // NOLINT
    IValue(const char* v) : v_(std::string(v)) {}        // NOLINT

    bool isNone() const { return std::holds_alternative<std::monostate>(v_); }
    bool isDouble() const { return std::holds_alternative<double>(v_); }
    bool isInt() const { return std::holds_alternative<std::int64_t>(v_); }
    bool isBool() const { return std::holds_alternative<bool>(v_); }
    bool isTensor() const { return std::holds_alternative<Tensor>(v_); }
    bool isString() const { return std::holds_alternative<std::string>(v_); }

    double toDouble() const { return get<double>("toDouble", "Double"); }
    std::int64_t toInt() const { return get<std::int64_t>("toInt", "Int"); }
    bool toBool() const { return get<bool>("toBool", "Bool"); }
    Tensor toTensor() const { return get<Tensor>("toTensor", "Tensor"); }
    const std::string& toStringRef() const { return get<std::string>("toStringRef", "String"); }

    // The kind held, as libtorch names it in its errors: "None", "Double", "Int", ...
    const char* tagKind() const {
        static constexpr const char* names[] = {"None", "Double", "Int", "Bool", "Tensor", "String"};
        return names[v_.index()];
    }

private:
    template <class T>
    const T& get(const char* method, const char* expected) const {
        if (const T* p = std::get_if<T>(&v_)) return *p;
        detail::throw_ivalue_mismatch(method, expected, tagKind());
    }
    std::variant<std::monostate, double, std::int64_t, bool, Tensor, std::string> v_;
};

namespace autograd {

// libtorch's names inside torch::autograd, which custom functions are written with.
using Variable = Tensor;
using ctgrad::tensor_list;
using ctgrad::variable_list;

template <class T> struct CppNode;
template <class T> struct Function;

// What forward leaves for backward: saved tensors (version-checked when read back), any other
// data in saved_data, and which outputs are non-differentiable or inputs modified in place.
struct AutogradContext {
    AutogradContext() = default;
    // Out of line: the library holds the one copy of the members' teardown.
    ~AutogradContext();
    AutogradContext(const AutogradContext&) = delete;
    AutogradContext& operator=(const AutogradContext&) = delete;

    // Data other than tensors for backward (libtorch: ska::flat_hash_map<std::string, IValue>).
    std::unordered_map<std::string, IValue> saved_data;

    // Tensors for backward, read back with get_saved_variables(). Call at most once, in forward.
    void save_for_backward(variable_list to_save) { to_save_ = std::move(to_save); }
    // Inputs that forward modified in place; they must also be returned as outputs.
    void mark_dirty(const variable_list& inputs);
    // Outputs that get no gradient (indices, masks): they do not require grad.
    void mark_non_differentiable(const variable_list& outputs);
    // Accepted for libtorch compatibility. ctgrad's engine always hands backward zeros for an
    // output nobody used (libtorch's default, true); with false libtorch would pass an undefined
    // tensor instead, and a backward written for that case computes the same with zeros.
    void set_materialize_grads(bool value) { materialize_grads_ = value; }

    // The tensors given to save_for_backward, each checked against in-place changes made since.
    variable_list get_saved_variables() const;

    // Whether the gradient of the i-th Tensor argument of forward is wanted. As in libtorch, i
    // counts Tensor arguments only (the edges of the node), not the other arguments.
    bool needs_input_grad(std::size_t output_edge_index) const;

private:
    // Turns the tensors given to save_for_backward into SavedVariables, once the outputs have
    // their grad_fn (so that a saved output is recognised and kept without a reference cycle).
    void save_variables();
    void bump_dirty() const;
    // CppNode<T>::release_variables: frees the saved tensors; reading them afterwards is an error.
    void release_saved_variables();

    std::unordered_set<TensorImpl*> non_differentiable_;
    std::unordered_set<TensorImpl*> dirty_inputs_;
    std::vector<SavedVariable> saved_variables_;
    variable_list to_save_;
    bool materialize_grads_ = true;
    bool has_freed_buffers_ = false;
    std::size_t num_tensor_inputs_ = 0;
    std::weak_ptr<Node> grad_fn_;  // the CppNode that owns this context

    template <class T> friend struct CppNode;
    template <class T> friend struct Function;
};

namespace detail {

// The readable form of a mangled name (typeid(T).name()), or the name itself where the
// compiler's ABI has no demangler: type_name's work, which does not depend on T.
std::string demangle_type_name(const char* mangled);

// CppNode<T>::name() for the mangled name of T: "torch::autograd::CppNode<T>".
std::string cpp_node_name(const char* mangled);

// The demangled C++ name of T, as c10::demangle gives it.
template <class T>
std::string type_name() {
    return demangle_type_name(typeid(T).name());
}

// Which forward arguments are variables of the graph (libtorch's ExtractVariables).
void extract_variable(std::vector<bool>& is_var, variable_list& vars, const Tensor& t);
void extract_variable(std::vector<bool>& is_var, variable_list& vars, const std::optional<Tensor>& t);
template <class A>
    requires(!std::is_convertible_v<const A&, const Tensor&> && !std::is_same_v<A, std::optional<Tensor>>)
void extract_variable(std::vector<bool>& is_var, variable_list&, const A&) {
    is_var.push_back(false);
}

// The outputs of forward, given a grad_fn: libtorch's _wrap_outputs for tensors without views.
// Returns the outputs as the caller sees them (an input returned unchanged comes back as a
// new alias, so that it can carry the new grad_fn).
variable_list wrap_outputs(const variable_list& inputs, const std::unordered_set<TensorImpl*>& non_differentiable,
                           const std::unordered_set<TensorImpl*>& dirty, variable_list raw,
                           const std::shared_ptr<Node>& node);

// What CppNode<T>::apply returns for the gradients `outputs` of T::backward: one per forward
// argument (extra trailing undefined ones tolerated), those of Tensor arguments kept, the
// others required undefined. `node` names the function in the errors.
variable_list gradients_of_variables(const Node& node, const std::vector<bool>& is_variable_input,
                                     variable_list outputs);

}  // namespace detail

// The node of a custom function in the graph: its backward is T::backward.
template <class T>
struct CppNode final : Node {
    AutogradContext ctx_;
    std::vector<bool> is_variable_input_;  // per forward argument

    std::string name() const override { return detail::cpp_node_name(typeid(T).name()); }

    void release_variables() override {
        std::lock_guard<std::mutex> lock(mutex_);
        ctx_.release_saved_variables();
    }

    variable_list apply(variable_list&& grad_outputs) override {
        std::lock_guard<std::mutex> lock(mutex_);  // backward may write to ctx (as in libtorch)
        variable_list outputs = T::backward(&ctx_, std::move(grad_outputs));
        return detail::gradients_of_variables(*this, is_variable_input_, std::move(outputs));
    }

private:
    std::mutex mutex_;
};

template <class X, class... Args>
using forward_t = decltype(X::forward(nullptr, std::declval<Args>()...));

// Base of a custom function T, which defines static forward(AutogradContext*, args...) and
// backward(AutogradContext*, variable_list); call it as T::apply(args...).
template <class T>
struct Function {
    // X is T; a separate parameter because T is incomplete when Function<T> is instantiated.
    template <class X = T, class... Args>
    static auto apply(Args&&... args) -> std::enable_if_t<std::is_same_v<X, T>, forward_t<X, Args...>> {
        using result_t = forward_t<X, Args...>;
        static_assert(std::is_same_v<result_t, Tensor> || std::is_same_v<result_t, variable_list>,
                      "Function<T>: T::forward must return a Tensor or a variable_list");

        auto node = std::make_shared<CppNode<T>>();
        variable_list inputs;
        (detail::extract_variable(node->is_variable_input_, inputs, std::as_const(args)), ...);

        const bool executable = compute_requires_grad(inputs);
        if (executable) set_next_edges(*node, inputs);
        node->ctx_.grad_fn_ = node;
        node->ctx_.num_tensor_inputs_ = inputs.size();

        result_t result;
        {
            AutoGradMode no_grad(false);
            result = T::forward(&node->ctx_, std::forward<Args>(args)...);
        }

        variable_list raw;
        if constexpr (std::is_same_v<result_t, Tensor>) raw.push_back(std::move(result));
        else raw = std::move(result);

        node->ctx_.bump_dirty();
        variable_list outputs = detail::wrap_outputs(inputs, node->ctx_.non_differentiable_,
                                                     node->ctx_.dirty_inputs_, std::move(raw),
                                                     executable ? node : std::shared_ptr<Node>());
        if (executable) node->ctx_.save_variables();

        if constexpr (std::is_same_v<result_t, Tensor>) return std::move(outputs[0]);
        else return outputs;
    }
};

}  // namespace autograd
}  // namespace ctgrad

// The non-template work of custom functions, compiled into the library (see config.hpp): a
// program instantiates only Function<T>::apply and CppNode<T>, which call these.
#if CTGRAD_RUNTIME_DEFINITIONS
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#include <cstdlib>
#endif

namespace ctgrad::detail {
CTGRAD_API void throw_ivalue_mismatch(const char* method, const char* expected, const char* got) {
    throw Error(std::string("IValue::") + method + ": expected " + expected + " but got " + got);
}
}  // namespace ctgrad::detail

namespace ctgrad::autograd {

CTGRAD_API AutogradContext::~AutogradContext() = default;

CTGRAD_API void AutogradContext::mark_dirty(const variable_list& inputs) {
    dirty_inputs_.clear();
    for (const Tensor& t : inputs) dirty_inputs_.insert(t.unsafeGetTensorImpl());
}

CTGRAD_API void AutogradContext::mark_non_differentiable(const variable_list& outputs) {
    non_differentiable_.clear();
    for (const Tensor& t : outputs) non_differentiable_.insert(t.unsafeGetTensorImpl());
}

CTGRAD_API variable_list AutogradContext::get_saved_variables() const {
    if (has_freed_buffers_)
        throw Error(
            "Trying to backward through the graph a second time (or directly access saved tensors after they "
            "have already been freed). Saved intermediate values of the graph are freed when you call "
            ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph "
            "a second time or if you need to access saved tensors after calling backward.");
    const std::shared_ptr<Node> owner = grad_fn_.lock();
    variable_list saved;
    saved.reserve(saved_variables_.size());
    for (const SavedVariable& v : saved_variables_) saved.push_back(v.unpack(owner));
    return saved;
}

CTGRAD_API bool AutogradContext::needs_input_grad(std::size_t output_edge_index) const {
    if (output_edge_index >= num_tensor_inputs_)
        throw Error("needs_input_grad: index " + std::to_string(output_edge_index) +
                    " is out of range: the function has " + std::to_string(num_tensor_inputs_) +
                    " Tensor inputs");
    const std::shared_ptr<Node> node = grad_fn_.lock();
    return node && node->should_compute_output(output_edge_index);
}

CTGRAD_API void AutogradContext::save_variables() {
    saved_variables_.clear();
    const std::shared_ptr<Node> node = grad_fn_.lock();
    for (const Tensor& t : to_save_) {
        if (!t.defined()) saved_variables_.emplace_back();
        else saved_variables_.emplace_back(t, t.grad_fn() == node);
    }
    to_save_.clear();
}

CTGRAD_API void AutogradContext::bump_dirty() const {
    for (TensorImpl* t : dirty_inputs_) t->storage->bump_version();
}

CTGRAD_API void AutogradContext::release_saved_variables() {
    saved_variables_.clear();
    has_freed_buffers_ = true;
}

namespace detail {

CTGRAD_API std::string demangle_type_name(const char* mangled) {
#if __has_include(<cxxabi.h>)
    int status = 0;
    char* readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    if (status == 0 && readable) {
        std::string out(readable);
        std::free(readable);
        return out;
    }
#endif
    return mangled;
}

CTGRAD_API std::string cpp_node_name(const char* mangled) {
    return "torch::autograd::CppNode<" + demangle_type_name(mangled) + ">";
}

CTGRAD_API void extract_variable(std::vector<bool>& is_var, variable_list& vars, const Tensor& t) {
    is_var.push_back(true);
    vars.push_back(t);
}
CTGRAD_API void extract_variable(std::vector<bool>& is_var, variable_list& vars, const std::optional<Tensor>& t) {
    const bool engaged = t.has_value() && t->defined();
    is_var.push_back(engaged);
    if (engaged) vars.push_back(*t);
}

CTGRAD_API variable_list wrap_outputs(const variable_list& inputs,
                                      const std::unordered_set<TensorImpl*>& non_differentiable,
                                      const std::unordered_set<TensorImpl*>& dirty, variable_list raw,
                                      const std::shared_ptr<Node>& node) {
    std::unordered_set<TensorImpl*> input_impls;
    for (const Tensor& t : inputs)
        if (t.defined()) input_impls.insert(t.unsafeGetTensorImpl());
    // Checks first, so that nothing is changed when one fails.
    std::unordered_set<TensorImpl*> output_impls;
    for (const Tensor& t : raw)
        if (t.defined()) output_impls.insert(t.unsafeGetTensorImpl());
    for (TensorImpl* d : dirty)
        if (!output_impls.count(d))
            throw Error("Some elements marked as dirty during the forward method were not returned as output. The "
                        "inputs that are modified inplace must all be outputs of the Function.");
    for (const Tensor& t : raw)
        if (t.defined() && node && dirty.count(t.unsafeGetTensorImpl()) && !non_differentiable.count(t.unsafeGetTensorImpl()) &&
            t.is_floating_point() && t.is_leaf() && t.requires_grad())
            throw Error("a leaf Variable that requires grad has been used in an in-place operation.");

    auto attach = [&](Tensor& t, std::uint32_t nr) {
        TensorImpl& impl = *t.unsafeGetTensorImpl();
        impl.grad_fn = node;
        impl.output_nr = nr;
        impl.requires_grad = true;
    };
    for (std::size_t i = 0; i < raw.size(); ++i) {
        Tensor& var = raw[i];
        const auto nr = static_cast<std::uint32_t>(i);
        if (!var.defined()) {
            // An output slot without a tensor: backward still gets a (zero) gradient there.
            if (node) node->input_metadata_.push_back({{}, kFloat, Device(kCPU)});
            continue;
        }
        TensorImpl* impl = var.unsafeGetTensorImpl();
        const bool is_input = input_impls.count(impl) > 0;
        const bool is_modified = dirty.count(impl) > 0;
        const bool is_differentiable = node && !non_differentiable.count(impl) && var.is_floating_point();
        if (node) node->input_metadata_.push_back({impl->sizes, impl->dtype, impl->storage->device()});
        if (!is_differentiable) {
            // Returned without history; an input is never changed itself, it comes back as an alias.
            if (is_input && (!is_modified || var.requires_grad())) var = var.detach();
            else if (!is_input && var.requires_grad()) var.detach_();
        } else if (is_modified) {
            // The input now holds the function's result: its history continues from the node.
            var.mutable_grad() = Tensor();
            attach(var, nr);
        } else if (is_input) {
            var = var.detach();
            attach(var, nr);
        } else {
            attach(var, nr);
        }
    }
    return raw;
}

CTGRAD_API variable_list gradients_of_variables(const Node& node, const std::vector<bool>& is_variable_input,
                                                variable_list outputs) {
    // One gradient per forward argument; extra trailing undefined ones are tolerated.
    const std::size_t expected = is_variable_input.size();
    if (outputs.size() > expected) {
        bool all_undefined = true;
        for (std::size_t i = expected; i < outputs.size(); ++i) all_undefined = all_undefined && !outputs[i].defined();
        if (all_undefined) outputs.resize(expected);
    }
    if (outputs.size() != expected)
        throw Error("function " + node.name() + " returned an incorrect number of gradients (expected " +
                    std::to_string(expected) + ", got " + std::to_string(outputs.size()) + ")");

    variable_list results;
    results.reserve(node.num_outputs());
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        if (!is_variable_input[i]) {
            if (outputs[i].defined())
                throw Error("function " + node.name() + " returned a gradient different that is defined at position " +
                            std::to_string(i + 1) + ", but the corresponding forward input was not a Variable");
            continue;
        }
        results.push_back(std::move(outputs[i]));
    }
    return results;
}

}  // namespace detail

}  // namespace ctgrad::autograd
#endif  // CTGRAD_RUNTIME_DEFINITIONS
