#pragma once
// where(condition, self, other) and clamp(self, min, max), PyTorch 1.13's ops:
//
//   where: self's element where the bool condition holds, other's where it does not; the three
//          broadcast together, self and other promote to one dtype (a number beside a tensor as
//          a wrapped number). WhereBackward0: the gradient goes to self where the condition
//          holds and to other where it does not, each summed back to its own shape.
//   clamp: min(max(self, min), max) with min and max optional numbers (at least one given); a
//          NaN stays NaN, and min > max gives max everywhere, as ATen. The result keeps self's
//          dtype (PyTorch 1.13 promotes an integer tensor clamped by a float bound to float). ClampBackward1: the
//          gradient passes where min <= self <= max (inclusive, as ATen), else 0.
//   clamp_min / clamp_max: the one-sided forms (ClampMinBackward0 / ClampMaxBackward0).
//
// Every step is the device's where and compare kernels (ops/device_select.hpp), so every device
// runs them, and the backward formulas are where() again: differentiable for create_graph.
#include <optional>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/functions.hpp"
#include "compare.hpp"
#include "device_select.hpp"
#include "elementwise.hpp"

namespace ctgrad {

namespace detail::selection {

Tensor where_of(const Tensor& condition, const Tensor& self, const Tensor& other);

struct WhereBackward final : autograd::Node {
    Tensor condition;  // bool, not differentiated
    std::vector<std::int64_t> self_sizes, other_sizes;
    std::string name() const override { return "WhereBackward0"; }
    variable_list apply(variable_list&& grads) override {
        const Tensor& g = grads[0];
        const Tensor zero = zeros({}, TensorOptions().dtype(g.scalar_type()).device(g.device()));
        Tensor gs, go;
        if (should_compute_output(0)) gs = sum_to(where_of(condition, g, zero), self_sizes);
        if (should_compute_output(1)) go = sum_to(where_of(condition, zero, g), other_sizes);
        return {gs, go};
    }
};

inline Tensor where_of(const Tensor& condition, const Tensor& self0, const Tensor& other0) {
    constexpr const char* op = "where";
    check_defined(condition, op, "condition");
    check_defined(self0, op, "self");
    check_defined(other0, op, "other");
    if (condition.scalar_type() != kBool)
        throw Error(std::string(op) + " expected condition to be a boolean tensor, but got a tensor with dtype " +
                    dtype_name(condition.scalar_type()));
    const Device device = common_device(op, {&condition, &self0, &other0});
    const std::vector<std::int64_t> sizes =
        broadcast_shapes(broadcast_shapes(condition.sizes(), self0.sizes(), op), other0.sizes(), op);
    const ScalarType dtype = result_type(self0, other0);
    const Tensor self = as_dtype(self0, dtype), other = as_dtype(other0, dtype);
    Tensor out = device_where(condition, self, other, sizes, device, op);
    if (autograd::compute_requires_grad({&self, &other})) {
        auto node = autograd::record<WhereBackward>(out, {&self, &other});
        node->condition = condition;
        node->self_sizes = self.sizes().vec();
        node->other_sizes = other.sizes().vec();
    }
    return out;
}

// The gradient of clamp: g where `passes` (bool) holds, else 0.
struct ClampBackward final : autograd::Node {
    Tensor passes;
    const char* node_name = "ClampBackward1";
    std::string name() const override { return node_name; }
    variable_list apply(variable_list&& grads) override {
        const Tensor zero = zeros({}, TensorOptions().dtype(grads[0].scalar_type()).device(grads[0].device()));
        return {where_of(passes, grads[0], zero)};
    }
};

inline Tensor clamp_of(const Tensor& self, const std::optional<Scalar>& min, const std::optional<Scalar>& max,
                       const char* op, const char* node_name) {
    check_defined(self, op, "self");
    if (!min && !max) throw Error(std::string(op) + ": At least one of 'min' or 'max' must not be None");
    if (self.scalar_type() == kBool) throw Error(std::string(op) + ": \"clamp\" is not implemented for 'Bool'");
    Tensor out, passes;
    {
        NoGradGuard no_grad;
        out = self;
        // NaN compares false with everything, so it is never replaced: NaN stays NaN.
        if (min) {
            const Tensor bound = scalar_operand(*min, self);
            out = where_of(lt(out, bound), as_dtype(bound, out.scalar_type()), out);
            passes = ge(self, bound);
        }
        if (max) {
            const Tensor bound = scalar_operand(*max, self);
            out = where_of(gt(out, bound), as_dtype(bound, out.scalar_type()), out);
            const Tensor below = le(self, bound);
            passes = passes.defined() ? where_of(passes, below, passes) : below;
        }
        if (out.unsafeGetTensorImpl() == self.unsafeGetTensorImpl()) out = self.clone();
    }
    if (self.is_floating_point() && autograd::compute_requires_grad({&self})) {
        auto node = autograd::record<ClampBackward>(out, {&self});
        node->passes = passes;
        node->node_name = node_name;
    }
    return out;
}

}  // namespace detail::selection

CTGRAD_API Tensor where(const Tensor& condition, const Tensor& self, const Tensor& other) {
    return detail::selection::where_of(condition, self, other);
}
CTGRAD_API Tensor where(const Tensor& condition, const Scalar& self, const Tensor& other) {
    return detail::selection::where_of(condition, detail::scalar_operand(self, other), other);
}
CTGRAD_API Tensor where(const Tensor& condition, const Tensor& self, const Scalar& other) {
    return detail::selection::where_of(condition, self, detail::scalar_operand(other, self));
}
CTGRAD_API Tensor clamp(const Tensor& self, const std::optional<Scalar>& min, const std::optional<Scalar>& max) {
    return detail::selection::clamp_of(self, min, max, "clamp", "ClampBackward1");
}
CTGRAD_API Tensor clamp_min(const Tensor& self, const Scalar& min) {
    return detail::selection::clamp_of(self, min, std::nullopt, "clamp_min", "ClampMinBackward0");
}
CTGRAD_API Tensor clamp_max(const Tensor& self, const Scalar& max) {
    return detail::selection::clamp_of(self, std::nullopt, max, "clamp_max", "ClampMaxBackward0");
}
CTGRAD_API Tensor Tensor::where(const Tensor& condition, const Tensor& other) const {
    return ctgrad::where(condition, *this, other);
}
CTGRAD_API Tensor Tensor::clamp(const std::optional<Scalar>& min, const std::optional<Scalar>& max) const {
    return ctgrad::clamp(*this, min, max);
}
CTGRAD_API Tensor Tensor::clamp_min(const Scalar& min) const { return ctgrad::clamp_min(*this, min); }
CTGRAD_API Tensor Tensor::clamp_max(const Scalar& max) const { return ctgrad::clamp_max(*this, max); }

}  // namespace ctgrad
