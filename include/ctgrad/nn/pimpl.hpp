#pragma once
// ModuleHolder<Impl>: the shared handle users hold (`nn::Linear lin(3, 1); lin->weight; lin(x)`),
// as libtorch's torch::nn::ModuleHolder. CTGRAD_MODULE(Name) declares the holder `Name` of a
// module class `NameImpl`; TORCH_MODULE is the same macro, so that ported code compiles.
#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "module.hpp"

namespace ctgrad::nn {

namespace detail {
// Whether a single constructor argument is already a module of type Contained (a holder, a
// shared_ptr, or nullptr): then the holder adopts it instead of constructing a new module.
template <class Arg, class Contained>
inline constexpr bool adopts_v =
    std::is_base_of_v<ModuleHolder<Contained>, std::decay_t<Arg>> ||
    std::is_convertible_v<std::decay_t<Arg>, std::shared_ptr<Contained>> || std::is_same_v<std::decay_t<Arg>, std::nullptr_t>;

// The error of a ModuleHolder used while empty, built once in the library rather than in every
// holder type's check().
[[noreturn]] void throw_empty_holder(const std::type_info& contained);
}  // namespace detail

template <class Contained>
class ModuleHolder {
public:
    using ContainedType = Contained;

    // A new module from its default constructor (only when it has one).
    ModuleHolder() requires std::is_default_constructible_v<Contained> : impl_(std::make_shared<Contained>()) {}
    // An empty holder, to be assigned later.
    ModuleHolder(std::nullptr_t) : impl_(nullptr) {}  // NOLINT: implicit as libtorch's
    // A new module from the arguments of one of its constructors.
    template <class Head, class... Tail>
        requires(sizeof...(Tail) > 0 || !detail::adopts_v<Head, Contained>)
    explicit ModuleHolder(Head&& head, Tail&&... tail)
        : impl_(std::make_shared<Contained>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}
    // Shares an existing module.
    ModuleHolder(std::shared_ptr<Contained> module) : impl_(std::move(module)) {}  // NOLINT

    explicit operator bool() const noexcept { return !is_empty(); }
    bool is_empty() const noexcept { return impl_ == nullptr; }

    Contained* operator->() { return get(); }
    const Contained* operator->() const { return get(); }
    Contained& operator*() { return *get(); }
    const Contained& operator*() const { return *get(); }
    const std::shared_ptr<Contained>& ptr() const {
        check();
        return impl_;
    }
    Contained* get() {
        check();
        return impl_.get();
    }
    const Contained* get() const {
        check();
        return impl_.get();
    }

    // `module(x)` is `module->forward(x)`.
    template <class... Args>
    decltype(auto) operator()(Args&&... args) {
        return get()->forward(std::forward<Args>(args)...);
    }
    // `seq[0]` forwards to the module's operator[].
    template <class Arg>
    decltype(auto) operator[](Arg&& arg) {
        return (*get())[std::forward<Arg>(arg)];
    }

protected:
    std::shared_ptr<Contained> impl_;

private:
    void check() const {
        if (!impl_) detail::throw_empty_holder(typeid(Contained));
    }
};

template <class Contained>
std::ostream& operator<<(std::ostream& stream, const ModuleHolder<Contained>& module) {
    return stream << *module;
}

}  // namespace ctgrad::nn

// Declares the holder `Name` of the module class `NameImpl` (libtorch's TORCH_MODULE).
#define CTGRAD_MODULE_IMPL(Name, ImplType)                              \
    class Name : public ::ctgrad::nn::ModuleHolder<ImplType> {          \
    public:                                                             \
        using ::ctgrad::nn::ModuleHolder<ImplType>::ModuleHolder;       \
        using Impl = ImplType;                                          \
    }
#define CTGRAD_MODULE(Name) CTGRAD_MODULE_IMPL(Name, Name##Impl)

#ifndef TORCH_MODULE
#define TORCH_MODULE(Name) CTGRAD_MODULE(Name)
#endif
#ifndef TORCH_MODULE_IMPL
#define TORCH_MODULE_IMPL(Name, ImplType) CTGRAD_MODULE_IMPL(Name, ImplType)
#endif

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::nn::detail {

CTGRAD_API void throw_empty_holder(const std::type_info& contained) {
    throw Error("Accessing empty ModuleHolder of " + ctgrad::autograd::detail::demangle_type_name(contained.name()) +
                " (it was constructed with nullptr): assign a module to it first");
}

}  // namespace ctgrad::nn::detail
#endif  // CTGRAD_RUNTIME_DEFINITIONS
