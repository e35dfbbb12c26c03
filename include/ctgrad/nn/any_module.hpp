#pragma once
// AnyModule: any module whose forward maps one Tensor to a Tensor, behind one type (what
// Sequential stores). The forward call is one indirect call through a function pointer made
// for the concrete type: no std::function, no allocation per call.
//
// Narrower than libtorch's AnyModule, which accepts any forward signature through AnyValue:
// the layers of ctgrad::nn all map a Tensor to a Tensor, and so do the seeds' models.
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "pimpl.hpp"

namespace ctgrad::nn {

template <class M>
concept tensor_to_tensor_module = std::is_base_of_v<Module, M> && requires(M& m, const Tensor& x) {
    { m.forward(x) } -> std::convertible_to<Tensor>;
};

namespace detail {
// The error of AnyModule::ptr<T>() on a module of another type, built once in the library.
[[noreturn]] void throw_bad_module_cast(const std::type_info& from, const std::type_info& to);
}  // namespace detail

class AnyModule {
public:
    AnyModule() = default;

    template <class M>
    explicit AnyModule(std::shared_ptr<M> module) : module_(std::move(module)), forward_(&call<M>), type_(&typeid(M)) {
        static_assert(tensor_to_tensor_module<M>,
                      "AnyModule (and Sequential) hold modules whose forward takes one Tensor and returns a Tensor");
    }
    template <class M>
    explicit AnyModule(const ModuleHolder<M>& holder) : AnyModule(holder.ptr()) {}
    // A module given by value is moved into shared ownership.
    template <class M>
        requires std::is_base_of_v<Module, std::decay_t<M>>
    explicit AnyModule(M&& module) : AnyModule(std::make_shared<std::decay_t<M>>(std::forward<M>(module))) {}

    Tensor forward(const Tensor& input) const { return forward_(*checked(), input); }
    Tensor operator()(const Tensor& input) const { return forward(input); }

    const std::shared_ptr<Module>& ptr() const { return checked(); }
    // The module as type T (a module class or a holder's contained class); throws on another type.
    template <class T>
    std::shared_ptr<T> ptr() const {
        auto p = std::dynamic_pointer_cast<T>(checked());
        if (!p) detail::throw_bad_module_cast(*type_, typeid(T));
        return p;
    }
    template <class T>
    T& get() const {
        if constexpr (detail::module_holder_type<T>) return *ptr<typename T::ContainedType>();
        else return *ptr<T>();
    }
    const std::type_info& type_info() const {
        checked();
        return *type_;
    }
    bool is_empty() const noexcept { return module_ == nullptr; }

private:
    template <class M>
    static Tensor call(Module& m, const Tensor& x) {
        return static_cast<M&>(m).forward(x);
    }
    const std::shared_ptr<Module>& checked() const {
        if (!module_) throw Error("Cannot call forward() on an empty AnyModule");
        return module_;
    }

    std::shared_ptr<Module> module_;
    Tensor (*forward_)(Module&, const Tensor&) = nullptr;
    const std::type_info* type_ = nullptr;
};

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::nn::detail {

CTGRAD_API void throw_bad_module_cast(const std::type_info& from, const std::type_info& to) {
    throw Error("Attempted to cast module of type " + ctgrad::autograd::detail::demangle_type_name(from.name()) + " to type " + ctgrad::autograd::detail::demangle_type_name(to.name()));
}

}  // namespace ctgrad::nn::detail
#endif  // CTGRAD_RUNTIME_DEFINITIONS
