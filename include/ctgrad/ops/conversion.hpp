#pragma once
// Copies that keep the graph: clone(), contiguous(), to(dtype), to(device).
#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/functions.hpp"

namespace ctgrad {

namespace detail {
struct CloneBackward final : autograd::Node {
    std::string name() const override { return "CloneBackward0"; }
    variable_list apply(variable_list&& grads) override { return {grads[0]}; }
};
struct ToCopyBackward final : autograd::Node {
    ScalarType input_dtype = kFloat;
    Device input_device;
    std::string name() const override { return "ToCopyBackward0"; }
    variable_list apply(variable_list&& grads) override {
        return {grads[0].to(TensorOptions().dtype(input_dtype).device(input_device))};
    }
};

// A copy of t on `device` in dtype `dtype`, recorded for autograd as one ToCopyBackward0.
inline Tensor to_copy(const Tensor& t, ScalarType dtype, Device device) {
    Tensor out = make_empty(t.sizes(), dtype, device);
    copy_elements(*out.unsafeGetTensorImpl(), *t.unsafeGetTensorImpl());
    if (ctgrad::is_floating_point(dtype) && autograd::compute_requires_grad({&t})) {
        auto node = autograd::record<ToCopyBackward>(out, {&t});
        node->input_dtype = t.scalar_type();
        node->input_device = t.device();
    }
    return out;
}
}  // namespace detail

CTGRAD_API Tensor Tensor::clone() const {
    Tensor out = detail::contiguous_copy(*this, scalar_type());
    if (autograd::compute_requires_grad({this})) autograd::record<detail::CloneBackward>(out, {this});
    return out;
}

CTGRAD_API Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

CTGRAD_API Tensor Tensor::to(ScalarType dtype, bool copy) const {
    if (dtype == scalar_type() && !copy) return *this;
    return detail::to_copy(*this, dtype, device());
}

CTGRAD_API Tensor Tensor::to(Device device, bool copy) const {
    if (device == this->device() && !copy) return *this;
    return detail::to_copy(*this, scalar_type(), device);
}

CTGRAD_API Tensor Tensor::to(const TensorOptions& options, bool copy) const {
    const ScalarType dtype = options.has_dtype() ? options.dtype() : scalar_type();
    const Device device = options.has_device() ? options.device() : this->device();
    if (dtype == scalar_type() && device == this->device() && !copy) return *this;
    return detail::to_copy(*this, dtype, device);
}

}  // namespace ctgrad
