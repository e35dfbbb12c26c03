#pragma once
// ctgrad::nn::Module: the base of every layer and of user models, as libtorch's torch::nn::Module.
// A module owns named parameters (leaves that require grad), buffers (state that is not
// trained) and child modules, each in registration order; the recursive accessors walk the
// tree depth first, a module's own entries before its children's (PyTorch's order), and name
// entries by their dotted path ("0.weight").
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "../autograd/grad_mode.hpp"
#include "../core/config.hpp"
#include "../tensor/functions.hpp"
#include "ordered_dict.hpp"

namespace ctgrad::nn {

template <class Contained>
class ModuleHolder;

namespace detail {

inline std::string join_name(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "." + name;
}

template <class T>
concept module_holder_type = requires { typename T::ContainedType; };

// Replaces the data a parameter or buffer refers to, keeping the tensor object itself (and so
// its identity for optimizers and its leaf status): libtorch's Variable::set_data.
void set_data(const Tensor& variable, const Tensor& data);

}  // namespace detail

class Module : public std::enable_shared_from_this<Module> {
public:
    using ModuleApplyFunction = std::function<void(Module&)>;
    using NamedModuleApplyFunction = std::function<void(const std::string&, Module&)>;

    explicit Module(std::string name);
    Module();
    Module(const Module&) = default;
    Module& operator=(const Module&) = default;
    Module(Module&&) noexcept = default;
    Module& operator=(Module&&) noexcept = default;
    virtual ~Module();

    // The module's type name ("ctgrad::nn::LinearImpl", "Polynomial3Impl"), unless given.
    const std::string& name() const;

    // --- parameters and buffers ------------------------------------------------------------
    std::vector<Tensor> parameters(bool recurse = true) const;
    OrderedDict<std::string, Tensor> named_parameters(bool recurse = true) const;
    std::vector<Tensor> buffers(bool recurse = true) const;
    OrderedDict<std::string, Tensor> named_buffers(bool recurse = true) const;

    // --- the module tree -------------------------------------------------------------------
    std::vector<std::shared_ptr<Module>> modules(bool include_self = true);
    OrderedDict<std::string, std::shared_ptr<Module>> named_modules(const std::string& name_prefix = "",
                                                                    bool include_self = true);
    std::vector<std::shared_ptr<Module>> children() const;
    OrderedDict<std::string, std::shared_ptr<Module>> named_children() const;

    // Calls fn on this module and every descendant, parents first.
    void apply(const ModuleApplyFunction& fn);
    void apply(const NamedModuleApplyFunction& fn, const std::string& name_prefix = "");

    // --- modes and state -------------------------------------------------------------------
    virtual void train(bool on = true);
    void eval() { train(false); }
    virtual bool is_training() const noexcept { return is_training_; }

    // libtorch 1.13's zero_grad: every gradient that exists is detached and zeroed (or dropped
    // with set_to_none); a parameter that never got a gradient keeps none.
    virtual void zero_grad(bool set_to_none = false);

    // Converts every parameter and buffer (and their gradients) in place: the tensors keep
    // their identity and parameters stay leaves (libtorch's set_data).
    virtual void to(Device device, ScalarType dtype, bool non_blocking = false);
    virtual void to(ScalarType dtype, bool non_blocking = false);
    virtual void to(Device device, bool non_blocking = false);

    // --- casts -----------------------------------------------------------------------------
    // `module.as<nn::Linear>()` or `module.as<nn::LinearImpl>()`: this module as that type, or
    // nullptr when it is another.
    template <class ModuleType>
    auto* as() noexcept {
        if constexpr (detail::module_holder_type<ModuleType>) return dynamic_cast<typename ModuleType::ContainedType*>(this);
        else return dynamic_cast<ModuleType*>(this);
    }
    template <class ModuleType>
    const auto* as() const noexcept {
        if constexpr (detail::module_holder_type<ModuleType>)
            return dynamic_cast<const typename ModuleType::ContainedType*>(this);
        else return dynamic_cast<const ModuleType*>(this);
    }

    // --- printing --------------------------------------------------------------------------
    // One line describing this module alone (a layer prints its options).
    virtual void pretty_print(std::ostream& stream) const;

    // This module and its children, indented, as libtorch prints a module.
    void pretty_print_recursive(std::ostream& stream, const std::string& indentation) const;

    // --- registration ----------------------------------------------------------------------
    // Registers `tensor` as a parameter: a leaf (a tensor with history is detached) that
    // requires grad unless told otherwise. Returns a reference to the stored tensor.
    Tensor& register_parameter(std::string name, Tensor tensor, bool requires_grad = true);
    Tensor& register_buffer(std::string name, Tensor tensor);
    template <class ModuleType>
    std::shared_ptr<ModuleType> register_module(std::string name, std::shared_ptr<ModuleType> module) {
        register_child(std::move(name), module);
        return module;
    }
    template <class ModuleType>
    std::shared_ptr<ModuleType> register_module(std::string name, ModuleHolder<ModuleType> holder) {
        return register_module(std::move(name), holder.ptr());
    }
    // Swaps the submodule registered as `name` for another (libtorch's replace_module).
    template <class ModuleType>
    std::shared_ptr<ModuleType> replace_module(const std::string& name, std::shared_ptr<ModuleType> module) {
        replace_child(name, module);
        return module;
    }
    template <class ModuleType>
    std::shared_ptr<ModuleType> replace_module(const std::string& name, ModuleHolder<ModuleType> holder) {
        return replace_module(name, holder.ptr());
    }
    void unregister_module(const std::string& name);

protected:
    // A layer's reset(): registers `tensor` as the parameter `name` the first time, and on a
    // later reset() puts it in place of the one registered before (same name, same position),
    // a leaf that requires grad either way.
    Tensor& register_or_replace_parameter(const std::string& name, Tensor tensor);
    // The same for a buffer (BatchNorm's running statistics).
    Tensor& register_or_replace_buffer(const std::string& name, Tensor tensor);

    OrderedDict<std::string, Tensor> parameters_;
    OrderedDict<std::string, Tensor> buffers_;
    OrderedDict<std::string, std::shared_ptr<Module>> children_;

private:
    static void check_name(const std::string& name, const char* what, const char* op);
    // What register_module and replace_module do for any module type, compiled once.
    void register_child(std::string name, std::shared_ptr<Module> module);
    void replace_child(const std::string& name, std::shared_ptr<Module> module);

    // Defined entries of `table` of this module (and its descendants), by dotted name.
    OrderedDict<std::string, Tensor> collect(OrderedDict<std::string, Tensor> Module::*table, const char* what,
                                             bool recurse) const;
    void collect_into(OrderedDict<std::string, Tensor>& out, OrderedDict<std::string, Tensor> Module::*table,
                      const std::string& prefix, bool recurse) const;

    // Converts every tensor first and assigns only when all conversions succeeded. Used by the
    // to() overloads alone, so that it is instantiated in the library only.
    template <class F>
    void convert(F&& f, bool non_blocking);

    std::shared_ptr<Module> shared_from_this_checked();

    mutable std::optional<std::string> name_;
    bool is_training_ = true;
};

std::ostream& operator<<(std::ostream& stream, const Module& module);

}  // namespace ctgrad::nn

// The module tree's walks, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <typeinfo>

#include "../autograd/function.hpp"

namespace ctgrad::nn {

namespace detail {

CTGRAD_API void set_data(const Tensor& variable, const Tensor& data) {
    TensorImpl& v = *variable.unsafeGetTensorImpl();
    const TensorImpl& d = *data.unsafeGetTensorImpl();
    v.storage = d.storage;
    v.offset = d.offset;
    v.sizes = d.sizes;
    v.strides = d.strides;
    v.dtype = d.dtype;
    // A gradient accumulator records the old dtype and sizes: the next graph makes a new one.
    v.grad_accumulator.reset();
}

}  // namespace detail

CTGRAD_API Module::Module(std::string name)
    : parameters_("Parameter"), buffers_("Buffer"), children_("Submodule"), name_(std::move(name)) {}
CTGRAD_API Module::Module() : parameters_("Parameter"), buffers_("Buffer"), children_("Submodule") {}
CTGRAD_API Module::~Module() = default;

CTGRAD_API const std::string& Module::name() const {
    if (!name_) name_ = autograd::detail::demangle_type_name(typeid(*this).name());
    return *name_;
}

CTGRAD_API std::vector<Tensor> Module::parameters(bool recurse) const { return named_parameters(recurse).values(); }
CTGRAD_API OrderedDict<std::string, Tensor> Module::named_parameters(bool recurse) const {
    return collect(&Module::parameters_, "Parameter", recurse);
}
CTGRAD_API std::vector<Tensor> Module::buffers(bool recurse) const { return named_buffers(recurse).values(); }
CTGRAD_API OrderedDict<std::string, Tensor> Module::named_buffers(bool recurse) const {
    return collect(&Module::buffers_, "Buffer", recurse);
}

CTGRAD_API std::vector<std::shared_ptr<Module>> Module::modules(bool include_self) {
    return named_modules("", include_self).values();
}
CTGRAD_API OrderedDict<std::string, std::shared_ptr<Module>> Module::named_modules(const std::string& name_prefix,
                                                                                 bool include_self) {
    OrderedDict<std::string, std::shared_ptr<Module>> out("Module");
    if (include_self) out.insert(name_prefix, shared_from_this_checked());
    for (const auto& child : children_)
        for (const auto& item : child.value()->named_modules(detail::join_name(name_prefix, child.key()), true))
            out.insert(item.key(), item.value());
    return out;
}
CTGRAD_API std::vector<std::shared_ptr<Module>> Module::children() const { return children_.values(); }
CTGRAD_API OrderedDict<std::string, std::shared_ptr<Module>> Module::named_children() const { return children_; }

CTGRAD_API void Module::apply(const ModuleApplyFunction& fn) {
    fn(*this);
    for (const auto& child : children_) child.value()->apply(fn);
}
CTGRAD_API void Module::apply(const NamedModuleApplyFunction& fn, const std::string& name_prefix) {
    fn(name_prefix, *this);
    for (const auto& child : children_)
        child.value()->apply(fn, detail::join_name(name_prefix, child.key()));
}

CTGRAD_API void Module::train(bool on) {
    for (const auto& child : children_) child.value()->train(on);
    is_training_ = on;
}

CTGRAD_API void Module::zero_grad(bool set_to_none) {
    for (const auto& child : children_) child.value()->zero_grad(set_to_none);
    NoGradGuard no_grad;
    for (const auto& item : parameters_) {
        const Tensor& p = item.value();
        if (!p.defined()) continue;
        Tensor g = p.grad();
        if (!g.defined()) continue;
        if (set_to_none) {
            p.mutable_grad() = Tensor();
        } else {
            if (g.grad_fn() || g.requires_grad()) {
                g = g.detach();
                p.mutable_grad() = g;
            }
            g.zero_();
        }
    }
}

template <class F>
void Module::convert(F&& f, bool /*non_blocking*/) {
    NoGradGuard no_grad;
    std::vector<std::pair<Tensor, Tensor>> plan;  // (variable, new data)
    auto add = [&](const Tensor& t) {
        if (!t.defined()) return;
        plan.emplace_back(t, f(t));
        const Tensor g = t.grad();
        if (g.defined()) plan.emplace_back(g, f(g));
    };
    apply([&](Module& m) {
        for (const auto& item : m.parameters_) add(item.value());
        for (const auto& item : m.buffers_) add(item.value());
    });
    for (auto& [variable, data] : plan)
        if (!variable.is_same(data)) detail::set_data(variable, data);
}

CTGRAD_API void Module::to(Device device, ScalarType dtype, bool non_blocking) {
    convert([&](const Tensor& t) { return t.to(device).to(t.is_floating_point() ? dtype : t.scalar_type()); },
            non_blocking);
}
CTGRAD_API void Module::to(ScalarType dtype, bool non_blocking) {
    convert([&](const Tensor& t) { return t.to(t.is_floating_point() ? dtype : t.scalar_type()); }, non_blocking);
}
CTGRAD_API void Module::to(Device device, bool non_blocking) {
    convert([&](const Tensor& t) { return t.to(device); }, non_blocking);
}

CTGRAD_API void Module::pretty_print(std::ostream& stream) const { stream << name(); }

CTGRAD_API void Module::pretty_print_recursive(std::ostream& stream, const std::string& indentation) const {
    pretty_print(stream);
    if (children_.is_empty()) return;
    stream << "(\n";
    const std::string next = indentation + "  ";
    for (const auto& child : children_) {
        stream << next << "(" << child.key() << "): ";
        child.value()->pretty_print_recursive(stream, next);
        stream << '\n';
    }
    stream << indentation << ")";
}

CTGRAD_API Tensor& Module::register_parameter(std::string name, Tensor tensor, bool requires_grad) {
    check_name(name, "Parameter", "register_parameter");
    if (tensor.defined()) {
        if (tensor.grad_fn()) tensor = tensor.detach();
        tensor.set_requires_grad(requires_grad);
    }
    return parameters_.insert(std::move(name), std::move(tensor));
}
CTGRAD_API Tensor& Module::register_buffer(std::string name, Tensor tensor) {
    check_name(name, "Buffer", "register_buffer");
    return buffers_.insert(std::move(name), std::move(tensor));
}
CTGRAD_API void Module::register_child(std::string name, std::shared_ptr<Module> module) {
    check_name(name, "Submodule", "register_module");
    if (!module) throw Error("register_module: submodule '" + name + "' is empty (nullptr)");
    children_.insert(std::move(name), std::move(module));
}
CTGRAD_API void Module::replace_child(const std::string& name, std::shared_ptr<Module> module) {
    children_[name] = std::move(module);
}
CTGRAD_API void Module::unregister_module(const std::string& name) {
    if (!children_.contains(name))
        throw Error("unregister_module: no Module with name `" + name + "` is registered");
    children_.erase(name);
}

CTGRAD_API Tensor& Module::register_or_replace_parameter(const std::string& name, Tensor tensor) {
    if (!parameters_.contains(name)) return register_parameter(name, std::move(tensor));
    if (tensor.defined()) {
        if (tensor.grad_fn()) tensor = tensor.detach();
        tensor.set_requires_grad(true);
    }
    return parameters_[name] = std::move(tensor);
}
CTGRAD_API Tensor& Module::register_or_replace_buffer(const std::string& name, Tensor tensor) {
    if (!buffers_.contains(name)) return register_buffer(name, std::move(tensor));
    return buffers_[name] = std::move(tensor);
}

CTGRAD_API void Module::check_name(const std::string& name, const char* what, const char* op) {
    if (name.empty()) throw Error(std::string(op) + ": " + what + " name must not be empty");
    if (name.find('.') != std::string::npos)
        throw Error(std::string(op) + ": " + what + " name must not contain a dot (got '" + name + "')");
}

CTGRAD_API OrderedDict<std::string, Tensor> Module::collect(OrderedDict<std::string, Tensor> Module::*table,
                                                            const char* what, bool recurse) const {
    OrderedDict<std::string, Tensor> out(what);
    collect_into(out, table, "", recurse);
    return out;
}
CTGRAD_API void Module::collect_into(OrderedDict<std::string, Tensor>& out,
                                     OrderedDict<std::string, Tensor> Module::*table, const std::string& prefix,
                                     bool recurse) const {
    for (const auto& item : this->*table)
        if (item.value().defined()) out.insert(detail::join_name(prefix, item.key()), item.value());
    if (!recurse) return;
    for (const auto& child : children_)
        child.value()->collect_into(out, table, detail::join_name(prefix, child.key()), true);
}

CTGRAD_API std::shared_ptr<Module> Module::shared_from_this_checked() {
    try {
        return shared_from_this();
    } catch (const std::bad_weak_ptr&) {
        throw Error("named_modules/modules: the module '" + name() +
                    "' is not owned by a std::shared_ptr (create it through its holder or std::make_shared)");
    }
}

CTGRAD_API std::ostream& operator<<(std::ostream& stream, const Module& module) {
    module.pretty_print_recursive(stream, "");
    return stream;
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
