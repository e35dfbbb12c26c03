#pragma once
// nn::Functional: a function from Tensor to Tensor as a module, so that it can sit in an
// nn::Sequential, as libtorch's: nn::Functional(ctgrad::relu), a lambda, or a function with its
// further arguments bound after the input, nn::Functional(ctgrad::leaky_relu, 0.2) (called as
// leaky_relu(input, 0.2)). It has no parameters or buffers; libtorch does not serialize it.
#include <functional>
#include <ostream>
#include <utility>

#include "pimpl.hpp"

namespace ctgrad::nn {

class FunctionalImpl : public Module {
public:
    using Function = std::function<Tensor(Tensor)>;

    explicit FunctionalImpl(Function function) : function_(std::move(function)) {}
    // The function with `args` bound after its first (the input's) argument.
    template <class SomeFunction, class... Args>
        requires(sizeof...(Args) > 0)
    explicit FunctionalImpl(SomeFunction original_function, Args&&... args)
        : function_(std::bind(original_function, std::placeholders::_1, std::forward<Args>(args)...)) {}

    void reset() {}
    Tensor forward(Tensor input) { return function_(std::move(input)); }
    Tensor operator()(Tensor input) { return forward(std::move(input)); }
    bool is_serializable() const { return false; }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::Functional()"; }

private:
    Function function_;
};
CTGRAD_MODULE(Functional);

}  // namespace ctgrad::nn
