#pragma once
// Comparisons: eq ne lt le gt ge and the operators == != < <= > >= (tensor with tensor, broadcast
// and compared in the promoted dtype, or tensor with a number), all() and any(), Tensor::equal
// and Tensor::allclose. Results are bool tensors without history: a comparison has no gradient.
// Also the mask helpers the backward formulas of max, min and norm need: logical_not, and
// masked_fill, which is differentiable in the tensor it fills. Every device runs these as its
// compare and where kernels (ops/device_select.hpp); allclose compares on the host.
#include <cmath>
#include <sstream>
#include <string>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/functions.hpp"
#include "device_select.hpp"
#include "elementwise.hpp"

namespace ctgrad {

namespace detail {


// A double as ATen prints one into a message (-1, 0.5, 1e-05).
inline std::string number_str(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

struct eq_cmp {
    static constexpr const char* name = "eq";
    static constexpr device_relation relation = device_relation::eq;
};
struct ne_cmp {
    static constexpr const char* name = "ne";
    static constexpr device_relation relation = device_relation::ne;
};
struct lt_cmp {
    static constexpr const char* name = "lt";
    static constexpr device_relation relation = device_relation::lt;
};
struct le_cmp {
    static constexpr const char* name = "le";
    static constexpr device_relation relation = device_relation::le;
};
struct gt_cmp {
    static constexpr const char* name = "gt";
    static constexpr device_relation relation = device_relation::gt;
};
struct ge_cmp {
    static constexpr const char* name = "ge";
    static constexpr device_relation relation = device_relation::ge;
};

// a Cmp b element by element, broadcast, in the dtype PyTorch computes in (an int64 tensor
// against a float number compares in float, as torch does).
template <class Cmp>
Tensor compare(const Tensor& a0, const Tensor& b0) {
    const Device device = common_device(Cmp::name, {&a0, &b0});
    const std::vector<std::int64_t> sizes = broadcast_shapes(a0.sizes(), b0.sizes(), Cmp::name);
    const ScalarType common = result_type(a0, b0);
    const Tensor a = as_dtype(a0, common), b = as_dtype(b0, common);
    return device_compare(Cmp::relation, a, b, sizes, device, Cmp::name);
}

// Whether any element is nonzero (Any) or all are (!Any); NaN counts as nonzero.
template <bool Any>
Tensor any_or_all(const Tensor& a) {
    const char* op = Any ? "any" : "all";
    // The count of nonzero elements, then any: count > 0, all: count == numel.
    const Device device = a.device();
    const Tensor zero = device_scalar(0, a.scalar_type(), device, op);
    const Tensor nonzero = device_compare(device_relation::ne, a, zero, a.sizes(), device, op);
    const Tensor count = device_total_as(nonzero, kLong, op);
    const Tensor bound = device_scalar(Any ? 0.0 : static_cast<double>(a.numel()), kLong, device, op);
    return device_compare(Any ? device_relation::gt : device_relation::eq, count, bound, {}, device, op);
}

inline Tensor logical_not(const Tensor& mask) {
    return device_compare(device_relation::eq, as_dtype(mask, kBool), device_scalar(0, kBool, mask.device(), "logical_not"),
                          mask.sizes(), mask.device(), "logical_not");
}

Tensor masked_fill(const Tensor& self, const Tensor& mask, double value);

// The gradient of masked_fill: it passes where the mask is false and stops where it filled.
struct MaskedFillBackward final : autograd::Node {
    Tensor mask;  // made by the backward formula that called masked_fill: nobody else writes it
    std::string name() const override { return "MaskedFillBackward0"; }
    variable_list apply(variable_list&& grads) override { return {masked_fill(grads[0], mask, 0.0)}; }
};

// self with `value` wherever `mask` (bool, broadcast to self's shape) is true: PyTorch's
// masked_fill with a number, which the backward formulas use to pin conventions at 0 (a
// multiplication by a 0/1 mask would turn an inf there into NaN).
inline Tensor masked_fill(const Tensor& self, const Tensor& mask, double value) {
    const Device device = common_device("masked_fill", {&self, &mask});
    if (mask.scalar_type() != kBool)
        throw Error(std::string("masked_fill: expected a bool mask, got ") + dtype_name(mask.scalar_type()));
    if (!(broadcast_shapes(self.sizes(), mask.sizes(), "masked_fill") == self.sizes().vec()))
        throw Error("masked_fill: the mask of shape " + shape_str(mask.sizes()) +
                    " does not broadcast to the shape of the tensor, " + shape_str(self.sizes()));
    Tensor out = device_where(mask, device_scalar(value, self.scalar_type(), device, "masked_fill"), self,
                              self.sizes(), device, "masked_fill");
    if (autograd::compute_requires_grad({&self})) {
        auto node = autograd::record<MaskedFillBackward>(out, {&self});
        node->mask = mask;
    }
    return out;
}


}  // namespace detail

CTGRAD_API Tensor eq(const Tensor& a, const Tensor& b) { return detail::compare<detail::eq_cmp>(a, b); }
CTGRAD_API Tensor ne(const Tensor& a, const Tensor& b) { return detail::compare<detail::ne_cmp>(a, b); }
CTGRAD_API Tensor lt(const Tensor& a, const Tensor& b) { return detail::compare<detail::lt_cmp>(a, b); }
CTGRAD_API Tensor le(const Tensor& a, const Tensor& b) { return detail::compare<detail::le_cmp>(a, b); }
CTGRAD_API Tensor gt(const Tensor& a, const Tensor& b) { return detail::compare<detail::gt_cmp>(a, b); }
CTGRAD_API Tensor ge(const Tensor& a, const Tensor& b) { return detail::compare<detail::ge_cmp>(a, b); }

// A number takes the dtype PyTorch gives a wrapped number next to the tensor.
CTGRAD_API Tensor eq(const Tensor& a, const Scalar& b) { return eq(a, detail::scalar_operand(b, a)); }
CTGRAD_API Tensor ne(const Tensor& a, const Scalar& b) { return ne(a, detail::scalar_operand(b, a)); }
CTGRAD_API Tensor lt(const Tensor& a, const Scalar& b) { return lt(a, detail::scalar_operand(b, a)); }
CTGRAD_API Tensor le(const Tensor& a, const Scalar& b) { return le(a, detail::scalar_operand(b, a)); }
CTGRAD_API Tensor gt(const Tensor& a, const Scalar& b) { return gt(a, detail::scalar_operand(b, a)); }
CTGRAD_API Tensor ge(const Tensor& a, const Scalar& b) { return ge(a, detail::scalar_operand(b, a)); }

// As in libtorch, the operators give bool tensors, not bools: `(a == b).all().item<bool>()`.
CTGRAD_API Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
CTGRAD_API Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
CTGRAD_API Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
CTGRAD_API Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
CTGRAD_API Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
CTGRAD_API Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
CTGRAD_API Tensor operator==(const Tensor& a, const Scalar& b) { return eq(a, b); }
CTGRAD_API Tensor operator!=(const Tensor& a, const Scalar& b) { return ne(a, b); }
CTGRAD_API Tensor operator<(const Tensor& a, const Scalar& b) { return lt(a, b); }
CTGRAD_API Tensor operator<=(const Tensor& a, const Scalar& b) { return le(a, b); }
CTGRAD_API Tensor operator>(const Tensor& a, const Scalar& b) { return gt(a, b); }
CTGRAD_API Tensor operator>=(const Tensor& a, const Scalar& b) { return ge(a, b); }
// A number on the left: `2 < t` is `t > 2`.
CTGRAD_API Tensor operator==(const Scalar& a, const Tensor& b) { return eq(b, a); }
CTGRAD_API Tensor operator!=(const Scalar& a, const Tensor& b) { return ne(b, a); }
CTGRAD_API Tensor operator<(const Scalar& a, const Tensor& b) { return gt(b, a); }
CTGRAD_API Tensor operator<=(const Scalar& a, const Tensor& b) { return ge(b, a); }
CTGRAD_API Tensor operator>(const Scalar& a, const Tensor& b) { return lt(b, a); }
CTGRAD_API Tensor operator>=(const Scalar& a, const Tensor& b) { return le(b, a); }

CTGRAD_API Tensor all(const Tensor& a) { return detail::any_or_all<false>(a); }
CTGRAD_API Tensor any(const Tensor& a) { return detail::any_or_all<true>(a); }

// Same sizes and equal values (compared in the promoted dtype, as torch.equal does).
CTGRAD_API bool equal(const Tensor& a, const Tensor& b) {
    detail::common_device("equal", {&a, &b});
    return a.sizes() == b.sizes() && all(eq(a, b)).item<bool>();
}

// Whether |a - b| <= atol + rtol * |b| everywhere (broadcast), or a == b (infinities); NaN is
// never close. Computed as PyTorch's isclose: in the tensors' dtype (which must be the same),
// integers' error exactly and then in float, bools as float.
CTGRAD_API bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
    detail::common_device("allclose", {&a, &b});
    // The answer is read on the host anyway: device tensors are compared there, with the CPU's
    // exact rules for integers and infinities.
    if (!a.is_cpu() || !b.is_cpu()) return allclose(a.cpu(), b.cpu(), rtol, atol);
    if (a.scalar_type() != b.scalar_type())
        throw Error(std::string("allclose: ") + dtype_name(a.scalar_type()) + " did not match " +
                    dtype_name(b.scalar_type()));
    if (!(rtol >= 0)) throw Error("allclose: rtol must be greater than or equal to zero, but got " + detail::number_str(rtol));
    if (!(atol >= 0)) throw Error("allclose: atol must be greater than or equal to zero, but got " + detail::number_str(atol));
    const std::vector<std::int64_t> sizes = broadcast_shapes(a.sizes(), b.sizes(), "allclose");
    const TensorImpl& ai = *a.unsafeGetTensorImpl();
    const TensorImpl& bi = *b.unsafeGetTensorImpl();
    std::array<std::vector<std::int64_t>, 2> strides{detail::expanded_strides(ai.sizes, ai.strides, sizes),
                                                     detail::expanded_strides(bi.sizes, bi.strides, sizes)};
    bool close = true;
    dispatch_dtype(a.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        // The dtype the errors are computed in: float for bools and for the tolerance of integers.
        using F = std::conditional_t<std::is_floating_point_v<T>, T, float>;
        const T* pa = reinterpret_cast<const T*>(ai.data());
        const T* pb = reinterpret_cast<const T*>(bi.data());
        const F rt = static_cast<F>(rtol), at = static_cast<F>(atol);
        detail::strided_loop<2>(sizes, strides, [&](const std::array<std::int64_t, 2>& k) {
            const T x = pa[k[0]], y = pb[k[1]];
            if (x == y) return;
            if (rtol == 0 && atol == 0) {
                close = false;
                return;
            }
            F actual;
            if constexpr (std::is_same_v<T, std::int64_t>) actual = static_cast<F>(x > y ? x - y : y - x);
            else actual = std::abs(static_cast<F>(x) - static_cast<F>(y));
            const F allowed = at + std::abs(rt * static_cast<F>(y));
            if (!(std::isfinite(actual) && actual <= allowed)) close = false;
        });
    });
    return close;
}

CTGRAD_API Tensor Tensor::eq(const Tensor& o) const { return ctgrad::eq(*this, o); }
CTGRAD_API Tensor Tensor::eq(const Scalar& o) const { return ctgrad::eq(*this, o); }
CTGRAD_API Tensor Tensor::ne(const Tensor& o) const { return ctgrad::ne(*this, o); }
CTGRAD_API Tensor Tensor::ne(const Scalar& o) const { return ctgrad::ne(*this, o); }
CTGRAD_API Tensor Tensor::lt(const Tensor& o) const { return ctgrad::lt(*this, o); }
CTGRAD_API Tensor Tensor::lt(const Scalar& o) const { return ctgrad::lt(*this, o); }
CTGRAD_API Tensor Tensor::le(const Tensor& o) const { return ctgrad::le(*this, o); }
CTGRAD_API Tensor Tensor::le(const Scalar& o) const { return ctgrad::le(*this, o); }
CTGRAD_API Tensor Tensor::gt(const Tensor& o) const { return ctgrad::gt(*this, o); }
CTGRAD_API Tensor Tensor::gt(const Scalar& o) const { return ctgrad::gt(*this, o); }
CTGRAD_API Tensor Tensor::ge(const Tensor& o) const { return ctgrad::ge(*this, o); }
CTGRAD_API Tensor Tensor::ge(const Scalar& o) const { return ctgrad::ge(*this, o); }
CTGRAD_API Tensor masked_fill(const Tensor& self, const Tensor& mask, const Scalar& value) {
    return detail::masked_fill(self, mask, value.to_double());
}
CTGRAD_API Tensor Tensor::masked_fill(const Tensor& mask, const Scalar& value) const {
    return ctgrad::masked_fill(*this, mask, value);
}
CTGRAD_API Tensor Tensor::all() const { return ctgrad::all(*this); }
CTGRAD_API Tensor Tensor::any() const { return ctgrad::any(*this); }
CTGRAD_API bool Tensor::equal(const Tensor& other) const { return ctgrad::equal(*this, other); }
CTGRAD_API bool Tensor::allclose(const Tensor& other, double rtol, double atol) const {
    return ctgrad::allclose(*this, other, rtol, atol);
}

}  // namespace ctgrad
