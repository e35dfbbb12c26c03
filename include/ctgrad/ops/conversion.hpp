#pragma once
// Copies that keep the graph: clone(), contiguous(), to(dtype), to(device).
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
    std::string name() const override { return "ToCopyBackward0"; }
    variable_list apply(variable_list&& grads) override { return {grads[0].to(input_dtype)}; }
};
}  // namespace detail

inline Tensor Tensor::clone() const {
    Tensor out = detail::contiguous_copy(*this, scalar_type());
    if (autograd::compute_requires_grad({this})) autograd::record<detail::CloneBackward>(out, {this});
    return out;
}

inline Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

inline Tensor Tensor::to(ScalarType dtype, bool copy) const {
    if (dtype == scalar_type() && !copy) return *this;
    Tensor out = detail::contiguous_copy(*this, dtype);
    if (ctgrad::is_floating_point(dtype) && autograd::compute_requires_grad({this})) {
        auto node = autograd::record<detail::ToCopyBackward>(out, {this});
        node->input_dtype = scalar_type();
    }
    return out;
}

inline Tensor Tensor::to(Device device, bool copy) const {
    if (device == this->device()) return copy ? clone() : *this;
    throw Error("to: cannot move a tensor from " + this->device().str() + " to " + device.str() +
                ": this build of ctgrad has no CUDA support");
}

inline Tensor Tensor::to(const TensorOptions& options, bool copy) const {
    Tensor t = options.has_device() ? to(options.device(), copy) : *this;
    return options.has_dtype() ? t.to(options.dtype(), copy && !options.has_device()) : t;
}

}  // namespace ctgrad
