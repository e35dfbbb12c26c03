#pragma once
// In-place ops. Each writes its result into the tensor's storage and bumps the version counter,
// so that a tensor saved for backward and changed afterwards is reported. When a graph is being
// recorded the result is computed out of place from a clone (the values a backward formula
// saves must not be overwritten) and the tensor takes over the result's history, as PyTorch
// rebases the history of a tensor modified in place.
#include <string>

#include "../autograd/graph.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/distributions.hpp"
#include "../tensor/functions.hpp"
#include "../tensor/generator.hpp"

namespace ctgrad {

namespace detail {

inline void check_inplace(const Tensor& self, const char* op) {
    if (GradMode::is_enabled() && self.requires_grad() && self.is_leaf())
        throw Error(std::string(op) + ": a leaf Variable that requires grad is being used in an in-place operation.");
}

// Copies `result` into self (which must have the broadcast shape) and gives self its history.
inline Tensor& take_result(Tensor& self, const Tensor& result, const char* op) {
    if (!(broadcast_shapes(self.sizes(), result.sizes(), op) == self.sizes().vec()))
        throw Error(std::string(op) + ": output with shape " + shape_str(self.sizes()) +
                    " doesn't match the broadcast shape " + shape_str(broadcast_shapes(self.sizes(), result.sizes(), op)));
    if (category(result.scalar_type()) > category(self.scalar_type()))
        throw Error(std::string(op) + ": result type " + dtype_name(result.scalar_type()) +
                    " can't be cast to the desired output type " + dtype_name(self.scalar_type()));
    TensorImpl& s = *self.unsafeGetTensorImpl();
    copy_elements(s, *result.unsafeGetTensorImpl());
    s.storage->bump_version();
    if (result.defined() && result.grad_fn()) {
        s.grad_fn = result.grad_fn();
        s.output_nr = result.output_nr();
        s.requires_grad = true;
    }
    return self;
}

template <class F>
Tensor& inplace(Tensor& self, const Tensor* other, const char* op, F&& compute) {
    check_inplace(self, op);
    const bool recording = GradMode::is_enabled() && (self.requires_grad() || (other && other->requires_grad()));
    const Tensor base = recording ? self.clone() : self;
    const Tensor result = compute(base);
    return take_result(self, result, op);
}

// The history of a tensor overwritten without depending on its old value or on any input
// that requires grad (zero_, fill_): its gradient stops here.
struct FillBackward final : autograd::Node {
    std::string name() const override { return "FillBackward0"; }
    variable_list apply(variable_list&& grads) override { return {zeros_like(grads[0])}; }
};

inline void overwrite_history(Tensor& self) {
    if (GradMode::is_enabled() && self.requires_grad() && !self.is_leaf())
        autograd::record<FillBackward>(self, {&self});
}

struct CopyBackwards final : autograd::Node {
    std::vector<std::int64_t> src_sizes;
    ScalarType src_dtype = kFloat;
    std::string name() const override { return "CopyBackwards"; }
    variable_list apply(variable_list&& grads) override {
        Tensor gs;
        if (should_compute_output(1)) gs = sum_to(grads[0], src_sizes).to(src_dtype);
        return {should_compute_output(0) ? zeros_like(grads[0]) : Tensor(), gs};
    }
};

// Fills the tensor's elements with fill(T*, n) through a contiguous buffer when needed.
template <class F>
void fill_elements(Tensor& self, F&& fill) {
    const TensorImpl& s = *self.unsafeGetTensorImpl();
    Tensor target = s.is_contiguous() ? self : make_empty(s.sizes, s.dtype);
    dispatch_dtype(s.dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        fill(target.data_ptr<T>(), target.numel());
    });
    if (!s.is_contiguous()) copy_elements(s, *target.unsafeGetTensorImpl());
    s.storage->bump_version();
}

}  // namespace detail

inline Tensor& Tensor::add_(const Tensor& o, const Scalar& alpha) {
    return detail::inplace(*this, &o, "add_", [&](const Tensor& b) { return ctgrad::add(b, o, alpha); });
}
inline Tensor& Tensor::add_(const Scalar& o, const Scalar& alpha) {
    return detail::inplace(*this, nullptr, "add_", [&](const Tensor& b) { return b.add(o, alpha); });
}
inline Tensor& Tensor::sub_(const Tensor& o, const Scalar& alpha) {
    return detail::inplace(*this, &o, "sub_", [&](const Tensor& b) { return ctgrad::sub(b, o, alpha); });
}
inline Tensor& Tensor::sub_(const Scalar& o, const Scalar& alpha) {
    return detail::inplace(*this, nullptr, "sub_", [&](const Tensor& b) { return b.sub(o, alpha); });
}
inline Tensor& Tensor::mul_(const Tensor& o) {
    return detail::inplace(*this, &o, "mul_", [&](const Tensor& b) { return ctgrad::mul(b, o); });
}
inline Tensor& Tensor::mul_(const Scalar& o) {
    return detail::inplace(*this, nullptr, "mul_", [&](const Tensor& b) { return b * o; });
}
inline Tensor& Tensor::div_(const Tensor& o) {
    return detail::inplace(*this, &o, "div_", [&](const Tensor& b) { return ctgrad::div(b, o); });
}
inline Tensor& Tensor::div_(const Scalar& o) {
    return detail::inplace(*this, nullptr, "div_", [&](const Tensor& b) { return b / o; });
}

inline Tensor& Tensor::fill_(const Scalar& value) {
    detail::check_inplace(*this, "fill_");
    detail::fill_elements(*this, [&](auto* p, std::int64_t n) {
        using T = std::remove_pointer_t<decltype(p)>;
        const T v = value.template to<T>();
        for (std::int64_t i = 0; i < n; ++i) p[i] = v;
    });
    detail::overwrite_history(*this);
    return *this;
}
inline Tensor& Tensor::zero_() { return fill_(0); }

inline Tensor& Tensor::copy_(const Tensor& src) {
    detail::check_inplace(*this, "copy_");
    broadcast_shapes(sizes(), src.sizes(), "copy_");
    if (!(src.device() == device()))
        throw Error("copy_: expected src on " + device().str() + ", got " + src.device().str());
    const bool recording = GradMode::is_enabled() && (requires_grad() || src.requires_grad());
    if (recording) {
        const Tensor self_before = *this;
        auto node = std::make_shared<detail::CopyBackwards>();
        autograd::set_next_edges(*node, {&self_before, &src});
        node->src_sizes = src.sizes().vec();
        node->src_dtype = src.scalar_type();
        detail::copy_elements(*impl_, *src.unsafeGetTensorImpl());
        impl_->storage->bump_version();
        autograd::set_history(node, {this});
        return *this;
    }
    detail::copy_elements(*impl_, *src.unsafeGetTensorImpl());
    impl_->storage->bump_version();
    return *this;
}

inline Tensor& Tensor::uniform_(double from, double to) {
    detail::check_inplace(*this, "uniform_");
    detail::fill_elements(*this, [&](auto* p, std::int64_t n) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_floating_point_v<T>) detail::uniform_fill<T>(default_generator(), p, n, from, to);
        else throw Error(std::string("uniform_: expected a floating-point tensor, got ") + dtype_name(dtype_of<T>()));
    });
    detail::overwrite_history(*this);
    return *this;
}
inline Tensor& Tensor::normal_(double mean, double std) {
    detail::check_inplace(*this, "normal_");
    if (std < 0) throw Error("normal_ expects std >= 0.0, but found std " + std::to_string(std));
    detail::fill_elements(*this, [&](auto* p, std::int64_t n) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_floating_point_v<T>) detail::normal_fill<T>(default_generator(), p, n, mean, std);
        else throw Error(std::string("normal_: expected a floating-point tensor, got ") + dtype_name(dtype_of<T>()));
    });
    detail::overwrite_history(*this);
    return *this;
}
inline Tensor& Tensor::random_(std::int64_t from, std::int64_t to) {
    detail::check_inplace(*this, "random_");
    detail::fill_elements(*this, [&](auto* p, std::int64_t n) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, bool>) throw Error("random_: bool tensors are not supported");
        else detail::random_from_to_fill<T>(default_generator(), p, n, from, to);
    });
    detail::overwrite_history(*this);
    return *this;
}

template <class T>
T Tensor::item() const {
    if (numel() != 1)
        throw Error("a Tensor with " + std::to_string(numel()) + " elements cannot be converted to Scalar");
    return dispatch_dtype(scalar_type(), [&](auto tag) -> T {
        using E = typename decltype(tag)::type;
        return detail::convert_element<T>(*reinterpret_cast<const E*>(impl_->data()));
    });
}
inline Scalar Tensor::item() const {
    switch (scalar_type()) {
        case kBool: return Scalar(item<bool>());
        case kLong: return Scalar(item<std::int64_t>());
        default: return Scalar(item<double>());
    }
}

}  // namespace ctgrad
