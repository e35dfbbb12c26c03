#pragma once
// In-place ops. Each writes its result into the tensor's storage and bumps the version counter,
// so that a tensor saved for backward and changed afterwards is reported. When a graph is being
// recorded the result is computed out of place from a clone (the values a backward formula
// saves must not be overwritten) and the tensor takes over the result's history, as PyTorch
// rebases the history of a tensor modified in place. A write through a view also rewrites the
// history of the tensor the view looks into (CopySlices below), so that its gradient sees the
// write, and the views of that tensor rebuild theirs (TensorImpl::view_base).
#include <cmath>
#include <string>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/distributions.hpp"
#include "../tensor/functions.hpp"
#include "../tensor/generator.hpp"
#include "elementwise.hpp"  // detail::category
#include "views.hpp"

namespace ctgrad {

namespace detail {

// `writes_each_element` is false for fill_-like ops, which PyTorch allows on an expanded
// tensor (every alias of an element receives the same value).
inline void check_inplace(const Tensor& self, const char* op, const Tensor* other = nullptr,
                          bool writes_each_element = true) {
    check_defined(self, op);
    if (other) check_defined(*other, op, "the other operand");
    const TensorImpl& s = *self.unsafeGetTensorImpl();
    if (writes_each_element)
        for (std::size_t d = 0; d < s.sizes.size(); ++d)
            if (s.strides[d] == 0 && s.sizes[d] > 1)
                throw Error(std::string(op) + ": unsupported operation: more than one element of the written-to tensor "
                            "refers to a single memory location. Please clone() the tensor before performing the "
                            "operation.");
    if (!GradMode::is_enabled()) return;
    if (self.requires_grad() && self.is_leaf())
        throw Error(std::string(op) + ": a leaf Variable that requires grad is being used in an in-place operation.");
    if (!s.view_base) return;
    const TensorImpl& base = *s.view_base;
    if (base.requires_grad && !base.grad_fn)
        throw Error(std::string(op) + ": a view of a leaf Variable that requires grad is being used in an in-place "
                    "operation.");
    if (base.requires_grad && !s.refresh_view_history)
        throw Error(std::string(op) + ": A view was created in no_grad mode and is being modified inplace with grad "
                    "mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can "
                    "clarify your code by moving both the view and the inplace either both inside the no_grad block "
                    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace to be "
                    "tracked).");
    const bool recorded = base.requires_grad || (other && other->requires_grad());
    if (recorded && !layout_in_base(s))
        throw Error(std::string(op) + ": an in-place operation on a view of a non-contiguous tensor cannot be recorded "
                    "for autograd in ctgrad; make the viewed tensor contiguous() first");
}

// The base of a view written in place: the old base with the view's window replaced by the
// written values. Its gradient goes to the old base outside the window and to the write's
// history inside it.
struct CopySlices final : autograd::Node {
    std::vector<std::int64_t> base_sizes;
    layout where;
    std::string name() const override { return "torch::autograd::CopySlices"; }
    variable_list apply(variable_list&& grads) override {
        const Tensor& g = grads[0];
        Tensor outside, inside;
        if (should_compute_output(0)) {
            Tensor mask = ones(base_sizes, g.options());
            const TensorImpl& m = *mask.unsafeGetTensorImpl();
            device_view window = view_of(m, where.sizes, where.strides);
            window.data = static_cast<char*>(window.data) + where.offset * static_cast<std::int64_t>(element_size(m.dtype));
            kernels_of(mask, "backward of an in-place write to a view").fill(window, 0);
            outside = g * mask;
        }
        if (should_compute_output(1)) inside = gather_view(g, where);
        return {outside, inside};
    }
};

// After an in-place write gave the view `self` a new history: the base takes CopySlices, and
// the view becomes a window of the base's new value.
inline void rebase_view_history(Tensor& self) {
    TensorImpl& s = *self.unsafeGetTensorImpl();
    if (!s.view_base || !s.grad_fn) return;
    const layout where = *layout_in_base(s);  // checked by check_inplace
    Tensor base(s.view_base);
    auto node = std::make_shared<CopySlices>();
    node->base_sizes = base.sizes().vec();
    node->where = where;
    node->next_edges_ = {autograd::gradient_edge(base), autograd::Edge{s.grad_fn, s.output_nr}};
    autograd::set_history(node, {&base});
    view_history_from_base(s, where);
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
        rebase_view_history(self);
    }
    return self;
}

template <class F>
Tensor& inplace(Tensor& self, const Tensor* other, const char* op, F&& compute) {
    check_inplace(self, op, other);
    const bool recording = GradMode::is_enabled() && (self.requires_grad() || (other && other->requires_grad()));
    const Tensor base = recording ? self.clone() : self;
    const Tensor result = compute(base);
    return take_result(self, result, op);
}

// The history of a tensor overwritten without depending on its old value or on any input
// that requires grad (zero_, fill_, the random fills): its gradient stops here. `name` is
// PyTorch's for the op (ZeroBackward0, FillBackward2, NormalBackward0, ...).
struct FillBackward final : autograd::Node {
    const char* name_;
    explicit FillBackward(const char* name) : name_(name) {}
    std::string name() const override { return name_; }
    variable_list apply(variable_list&& grads) override { return {zeros_like(grads[0])}; }
};

inline void overwrite_history(Tensor& self, const char* name) {
    if (GradMode::is_enabled() && self.requires_grad() && !self.is_leaf()) {
        autograd::record<FillBackward>(self, {&self}, name);
        rebase_view_history(self);
    }
}

struct CopyBackwards final : autograd::Node {
    std::vector<std::int64_t> src_sizes;
    ScalarType src_dtype = kFloat;
    Device src_device;
    std::string name() const override { return "torch::autograd::CopyBackwards"; }
    variable_list apply(variable_list&& grads) override {
        Tensor gs;
        if (should_compute_output(1)) gs = sum_to(grads[0], src_sizes).to(TensorOptions().dtype(src_dtype).device(src_device));
        return {should_compute_output(0) ? zeros_like(grads[0]) : Tensor(), gs};
    }
};

// Fills the tensor's elements with fill(T*, n) through a contiguous buffer when needed (on the
// host for a device tensor: the random fills use the CPU generator's algorithms everywhere).
template <class F>
void fill_elements(Tensor& self, F&& fill) {
    const TensorImpl& s = *self.unsafeGetTensorImpl();
    Tensor target = s.is_contiguous() && self.is_cpu() ? self : make_empty(s.sizes, s.dtype);
    dispatch_dtype(s.dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        fill(target.data_ptr<T>(), target.numel());
    });
    if (!target.is_same(self)) copy_elements(s, *target.unsafeGetTensorImpl());
    s.storage->bump_version();
}

}  // namespace detail

// The in-place methods are const, as libtorch's are: they change the data the handle points to,
// never the handle, so the const_cast writes nothing through a const object.
CTGRAD_API Tensor& Tensor::add_(const Tensor& o, const Scalar& alpha) const {
    Tensor& self = const_cast<Tensor&>(*this);
    return detail::inplace(self, &o, "add_", [&](const Tensor& b) { return ctgrad::add(b, o, alpha); });
}
CTGRAD_API Tensor& Tensor::add_(const Scalar& o, const Scalar& alpha) const {
    Tensor& self = const_cast<Tensor&>(*this);
    return detail::inplace(self, nullptr, "add_", [&](const Tensor& b) { return b.add(o, alpha); });
}
CTGRAD_API Tensor& Tensor::sub_(const Tensor& o, const Scalar& alpha) const {
    Tensor& self = const_cast<Tensor&>(*this);
    return detail::inplace(self, &o, "sub_", [&](const Tensor& b) { return ctgrad::sub(b, o, alpha); });
}
CTGRAD_API Tensor& Tensor::sub_(const Scalar& o, const Scalar& alpha) const {
    Tensor& self = const_cast<Tensor&>(*this);
    return detail::inplace(self, nullptr, "sub_", [&](const Tensor& b) { return b.sub(o, alpha); });
}
CTGRAD_API Tensor& Tensor::mul_(const Tensor& o) const {
    Tensor& self = const_cast<Tensor&>(*this);
    return detail::inplace(self, &o, "mul_", [&](const Tensor& b) { return ctgrad::mul(b, o); });
}
CTGRAD_API Tensor& Tensor::mul_(const Scalar& o) const {
    Tensor& self = const_cast<Tensor&>(*this);
    return detail::inplace(self, nullptr, "mul_", [&](const Tensor& b) { return b * o; });
}
CTGRAD_API Tensor& Tensor::div_(const Tensor& o) const {
    Tensor& self = const_cast<Tensor&>(*this);
    return detail::inplace(self, &o, "div_", [&](const Tensor& b) { return ctgrad::div(b, o); });
}
CTGRAD_API Tensor& Tensor::div_(const Scalar& o) const {
    Tensor& self = const_cast<Tensor&>(*this);
    return detail::inplace(self, nullptr, "div_", [&](const Tensor& b) { return b / o; });
}

namespace detail {
inline Tensor& fill_impl(Tensor& self, const Scalar& value, const char* op, const char* backward_name) {
    check_inplace(self, op, nullptr, false);
    TensorImpl& s = *self.unsafeGetTensorImpl();
    if (s.numel() != 0) kernels_of(self, op).fill(view_of(s), fill_value_of(value));
    s.storage->bump_version();
    overwrite_history(self, backward_name);
    return self;
}
}  // namespace detail

CTGRAD_API Tensor& Tensor::fill_(const Scalar& value) const {
    return detail::fill_impl(const_cast<Tensor&>(*this), value, "fill_", "FillBackward2");
}
CTGRAD_API Tensor& Tensor::zero_() const { return detail::fill_impl(const_cast<Tensor&>(*this), 0, "zero_", "ZeroBackward0"); }

CTGRAD_API Tensor& Tensor::copy_(const Tensor& src) const {
    Tensor& self = const_cast<Tensor&>(*this);
    detail::check_inplace(self, "copy_", &src);
    const std::vector<std::int64_t> shape = broadcast_shapes(sizes(), src.sizes(), "copy_");
    if (!(IntArrayRef(shape) == sizes()))
        throw Error("copy_: output with shape " + shape_str(sizes()) + " doesn't match the broadcast shape " +
                    shape_str(shape));
    const bool recording = GradMode::is_enabled() && (requires_grad() || src.requires_grad());
    if (recording) {
        const Tensor self_before = self;
        auto node = std::make_shared<detail::CopyBackwards>();
        autograd::set_next_edges(*node, {&self_before, &src});
        node->src_sizes = src.sizes().vec();
        node->src_dtype = src.scalar_type();
        node->src_device = src.device();
        detail::copy_elements(*impl_, *src.unsafeGetTensorImpl());
        impl_->storage->bump_version();
        autograd::set_history(node, {&self});
        detail::rebase_view_history(self);
        return self;
    }
    detail::copy_elements(*impl_, *src.unsafeGetTensorImpl());
    impl_->storage->bump_version();
    return self;
}

CTGRAD_API Tensor& Tensor::uniform_(double from, double to) const {
    Tensor& self = const_cast<Tensor&>(*this);
    detail::check_inplace(self, "uniform_", nullptr, false);
    if (!(from <= to))  // also rejects NaN
        throw Error("uniform_ expects to return a [from, to) range, but found from=" + std::to_string(from) +
                    " > to=" + std::to_string(to));
    if (!std::isfinite(to - from))
        throw Error("uniform_: the range [from, to) = [" + std::to_string(from) + ", " + std::to_string(to) +
                    ") must be finite and no wider than the largest double");
    detail::fill_elements(self, [&](auto* p, std::int64_t n) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_floating_point_v<T>) detail::uniform_fill<T>(default_generator(), p, n, from, to);
        else throw Error(std::string("uniform_: expected a floating-point tensor, got ") + dtype_name(dtype_of<T>()));
    });
    detail::overwrite_history(self, "UniformBackward0");
    return self;
}
CTGRAD_API Tensor& Tensor::normal_(double mean, double std) const {
    Tensor& self = const_cast<Tensor&>(*this);
    detail::check_inplace(self, "normal_", nullptr, false);
    if (!(std >= 0)) throw Error("normal_ expects std >= 0.0, but found std " + std::to_string(std));
    if (!std::isfinite(mean) || !std::isfinite(std))
        throw Error("normal_: mean and std must be finite, got mean=" + std::to_string(mean) + ", std=" + std::to_string(std));
    detail::fill_elements(self, [&](auto* p, std::int64_t n) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_floating_point_v<T>) detail::normal_fill<T>(default_generator(), p, n, mean, std);
        else throw Error(std::string("normal_: expected a floating-point tensor, got ") + dtype_name(dtype_of<T>()));
    });
    detail::overwrite_history(self, "NormalBackward0");
    return self;
}
CTGRAD_API Tensor& Tensor::random_(std::int64_t from, std::int64_t to) const {
    Tensor& self = const_cast<Tensor&>(*this);
    detail::check_inplace(self, "random_", nullptr, false);
    if (from >= to)
        throw Error("random_ expects 'from' to be less than 'to', but got from=" + std::to_string(from) +
                    " >= to=" + std::to_string(to));
    detail::fill_elements(self, [&](auto* p, std::int64_t n) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, bool>) throw Error("random_: bool tensors are not supported");
        else detail::random_from_to_fill<T>(default_generator(), p, n, from, to);
    });
    detail::overwrite_history(self, "RandomBackward0");
    return self;
}

template <class T>
T Tensor::item() const {
    if (numel() != 1)
        throw Error("a Tensor with " + std::to_string(numel()) + " elements cannot be converted to Scalar");
    return dispatch_dtype(scalar_type(), [&](auto tag) -> T {
        using E = typename decltype(tag)::type;
        E value;
        detail::kernels_of(*this, "item").copy_bytes_to_host(&value, impl_->data(), sizeof(E));
        return detail::convert_element<T>(value);
    });
}
// The library holds item<T> for every type a program may ask for (tensor/tensor.hpp).
#if defined(CTGRAD_BUILDING_RUNTIME)
template bool Tensor::item<bool>() const;
template unsigned char Tensor::item<unsigned char>() const;
template signed char Tensor::item<signed char>() const;
template short Tensor::item<short>() const;
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int Tensor::item<int>() const;
template long Tensor::item<long>() const;
template long long Tensor::item<long long>() const;
#endif
CTGRAD_API Scalar Tensor::item() const {
    switch (scalar_type()) {
        case kBool: return Scalar(item<bool>());
        case kFloat:
        case kDouble: return Scalar(item<double>());
        default: return Scalar(item<std::int64_t>());
    }
}

}  // namespace ctgrad
