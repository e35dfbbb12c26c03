#pragma once
// ctgrad::leaky_relu(self, negative_slope = 0.01): self where self > 0, self * negative_slope
// elsewhere (NaN stays NaN), as ATen's leaky_relu. Floating dtypes only, as in PyTorch.
//
// Written as self * factor, the factor 1 where self > 0 and negative_slope elsewhere (a
// masked_fill, so any device runs it); the node, LeakyReluBackward0 as PyTorch names it, gives
// grad * factor with tensor ops, so that create_graph can differentiate it again.
#include <string>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/functions.hpp"
#include "compare.hpp"
#include "elementwise.hpp"

namespace ctgrad {

namespace detail::activation {

// 1 where self > 0, negative_slope elsewhere, in self's dtype (no history).
inline Tensor leaky_relu_factor(const Tensor& self, double negative_slope) {
    NoGradGuard no_grad;
    return masked_fill(full_like(self, Scalar(negative_slope)), gt(self, Scalar(0.0)), 1.0);
}

struct LeakyReluBackward final : autograd::Node {
    autograd::SavedVariable self;
    double negative_slope = 0.01;
    std::string name() const override { return "LeakyReluBackward0"; }
    void release_variables() override { self.reset_data(); }
    variable_list apply(variable_list&& grads) override {
        return {grads[0] * leaky_relu_factor(self.unpack(), negative_slope)};
    }
};

}  // namespace detail::activation

CTGRAD_API Tensor leaky_relu(const Tensor& self, const Scalar& negative_slope) {
    if (!self.is_floating_point())
        throw Error(std::string("leaky_relu: \"leaky_relu_cpu\" not implemented for '") + dtype_name(self.scalar_type()) +
                    "' (it takes float or double tensors)");
    const double slope = negative_slope.to_double();
    Tensor out;
    {
        NoGradGuard no_grad;
        out = self * detail::activation::leaky_relu_factor(self, slope);
    }
    if (autograd::compute_requires_grad({&self})) {
        auto node = autograd::record<detail::activation::LeakyReluBackward>(out, {&self});
        node->self = autograd::SavedVariable(self, false);
        node->negative_slope = slope;
    }
    return out;
}

}  // namespace ctgrad
