#pragma once
// nn::Sequential: modules applied one after the other, each child named by its position ("0",
// "1", ...) unless pushed with a name, as libtorch's torch::nn::Sequential.
#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "any_module.hpp"

namespace ctgrad::nn {

class SequentialImpl : public Module {
public:
    using Iterator = std::vector<AnyModule>::iterator;
    using ConstIterator = std::vector<AnyModule>::const_iterator;

    SequentialImpl() = default;
    template <class... Modules>
        requires(sizeof...(Modules) > 0)
    explicit SequentialImpl(Modules&&... modules) {
        modules_.reserve(sizeof...(Modules));
        (push_back(std::forward<Modules>(modules)), ...);
    }

    // Adds a module (a holder, a shared_ptr, a module value or an AnyModule) at the end.
    template <class M>
    void push_back(M&& module) {
        push_back(std::to_string(modules_.size()), std::forward<M>(module));
    }
    template <class M>
    void push_back(std::string name, M&& module) {
        AnyModule any = to_any(std::forward<M>(module));
        register_module(std::move(name), any.ptr());
        modules_.push_back(std::move(any));
    }
    // Appends the modules of another Sequential (shared, not copied).
    void extend(const SequentialImpl& other);

    Tensor forward(const Tensor& input);

    std::shared_ptr<Module> ptr(std::size_t index) const { return checked(index).ptr(); }
    template <class T>
    std::shared_ptr<T> ptr(std::size_t index) const {
        return checked(index).template ptr<T>();
    }
    std::shared_ptr<Module> operator[](std::size_t index) const { return ptr(index); }
    template <class T>
    T& at(std::size_t index) {
        return checked(index).template get<T>();
    }

    std::size_t size() const noexcept { return modules_.size(); }
    bool is_empty() const noexcept { return modules_.empty(); }
    Iterator begin() { return modules_.begin(); }
    Iterator end() { return modules_.end(); }
    ConstIterator begin() const { return modules_.begin(); }
    ConstIterator end() const { return modules_.end(); }

    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::Sequential"; }

private:
    template <class M>
    static AnyModule to_any(M&& module) {
        using D = std::decay_t<M>;
        if constexpr (std::is_same_v<D, AnyModule>) return module;
        else if constexpr (detail::module_holder_type<D>) return AnyModule(module.ptr());
        else return AnyModule(std::forward<M>(module));
    }
    const AnyModule& checked(std::size_t index) const;

    std::vector<AnyModule> modules_;
};

CTGRAD_MODULE(Sequential);

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::nn {

CTGRAD_API void SequentialImpl::extend(const SequentialImpl& other) {
    for (const auto& m : other.modules_) push_back(m);
}

CTGRAD_API Tensor SequentialImpl::forward(const Tensor& input) {
    if (modules_.empty()) throw Error("Cannot call forward() on an empty Sequential");
    Tensor x = modules_.front().forward(input);
    for (std::size_t i = 1; i < modules_.size(); ++i) x = modules_[i].forward(x);
    return x;
}

CTGRAD_API const AnyModule& SequentialImpl::checked(std::size_t index) const {
    if (index >= modules_.size())
        throw Error("Sequential: Index out of range (index " + std::to_string(index) + ", size " +
                    std::to_string(modules_.size()) + ")");
    return modules_[index];
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
