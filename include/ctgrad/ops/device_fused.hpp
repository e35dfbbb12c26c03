#pragma once
// A dynamic op's static expression over g, a, b, o run by its device's kernels
// (device/kernels.hpp) as one fused kernel: the CPU's xsimd loop, or one GPU kernel. Operands
// bind as contiguous arrays or one element seen everywhere; a 0-d CPU tensor next to device
// tensors travels as a number, so `cuda_tensor * 2` copies nothing to the device.
#include <string_view>

#include "../tensor/copy.hpp"
#include "../tensor/device_data.hpp"
#include "../device/expressions.hpp"

namespace ctgrad::detail {

// How t can be read by a fused kernel of `device` over n elements (false: it must be
// materialised first).
inline bool as_device_operand(const Tensor& t, Device device, std::int64_t n, device_operand& out) {
    out = device_operand{};
    if (!t.defined()) return true;
    const TensorImpl& impl = *t.unsafeGetTensorImpl();
    if (!(device_of(impl) == device)) {  // a 0-d CPU tensor beside device tensors: its value
        if (impl.numel() != 1) return false;
        out.value = dispatch_dtype(impl.dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            return static_cast<double>(*reinterpret_cast<const T*>(impl.data()));
        });
        return true;
    }
    out.data = impl.data();
    if (impl.numel() == 1) return true;
    if (impl.numel() != n) return false;
    bool all_zero = true;
    for (auto s : impl.strides) all_zero = all_zero && s == 0;
    if (all_zero) return true;
    out.stride = 1;
    return impl.is_contiguous();
}

// A contiguous copy of t (broadcast to `sizes`) on `device`: an operand no kernel can read as it
// lies.
inline Tensor materialised(const Tensor& t, Device device, IntArrayRef sizes) {
    Tensor out = make_empty(sizes, t.scalar_type(), device);
    copy_elements(*out.unsafeGetTensorImpl(), *t.unsafeGetTensorImpl());
    return out;
}

// t, readable by a fused kernel over the n elements of `sizes` (t broadcasts to them): itself
// when it can be bound as it lies, else its contiguous copy at `sizes`.
inline Tensor fusable(const Tensor& t, IntArrayRef sizes, std::int64_t n) {
    device_operand unused;
    return as_device_operand(t, t.device(), n, unused) ? t : materialised(t, t.device(), sizes);
}

// t bound for a kernel of `device` over the n elements of `sizes`: as it lies when it can be
// read so, else from its contiguous copy at `sizes`, which `keep` holds for the kernel's
// duration.
inline device_operand bind_or_copy(const Tensor& t, Device device, IntArrayRef sizes, std::int64_t n, Tensor& keep) {
    device_operand bound;
    if (as_device_operand(t, device, n, bound)) return bound;
    keep = materialised(t, device, sizes);
    as_device_operand(keep, device, n, bound);
    return bound;
}

// Binds g, a, b, o (`operands`, in that order) for a kernel of `device` over n elements, and
// returns the position of the first that must be materialised first, or -1.
inline int first_unbound(Device device, std::int64_t n, const Tensor* const (&operands)[4], device_operands& bound) {
    for (int k = 0; k < 4; ++k)
        if (!as_device_operand(*operands[k], device, n, bound.items[k])) return k;
    return -1;
}

// g, a, b, o bound for a kernel of `device` over n elements; false when one of them must be
// materialised first.
inline bool try_bind_device(Device device, std::int64_t n, const Tensor& g, const Tensor& a, const Tensor& b,
                            const Tensor& o, device_operands& bound) {
    const Tensor* operands[4] = {&g, &a, &b, &o};
    return first_unbound(device, n, operands, bound) < 0;
}

inline device_operands bind_device(std::string_view op, Device device, std::int64_t n, const Tensor& g,
                                   const Tensor& a, const Tensor& b, const Tensor& o) {
    device_operands bound;
    const Tensor* operands[4] = {&g, &a, &b, &o};
    const int k = first_unbound(device, n, operands, bound);
    if (k >= 0)
        throw Error(std::string(op) + ": internal: operand " + std::to_string(k) + " of shape " +
                    shape_str(operands[k]->sizes()) + " on " + operands[k]->device().str() + " reached a kernel of " +
                    device.str() + " over " + std::to_string(n) + " elements unbound");
    return bound;
}

template <class E>
constexpr int device_entry() {
    constexpr int index = device_expression_index<E>;
    static_assert(index >= 0, "internal: this expression is not in ctgrad::detail::device_expressions");
    return index;
}

// out[i] = E(operands at i) for i < out.numel(), out contiguous. `op` names the op in errors
// (a view of the caller's string: nothing is built unless there is an error).
template <class E>
void device_assign(std::string_view op, const Tensor& out, const device_operands& operands) {
    if (out.numel() == 0) return;
    kernels_of(out, op).map(device_entry<E>(), out.scalar_type(), out.data_ptr(), out.numel(), operands);
}
template <class E>
void device_assign(std::string_view op, const Tensor& out, const Tensor& g, const Tensor& a, const Tensor& b,
                   const Tensor& o) {
    if (out.numel() == 0) return;  // nothing to read: operands of no elements bind whatever their layout
    device_assign<E>(op, out, bind_device(op, out.device(), out.numel(), g, a, b, o));
}

// out (one element) = (sum over i < n of E(operands at i)) / divisor.
template <class E>
void device_sum(std::string_view op, const Tensor& out, std::int64_t n, const device_operands& operands,
                double divisor = 1) {
    kernels_of(out, op).map_sum(device_entry<E>(), out.scalar_type(), out.data_ptr(), n, operands, divisor);
}
template <class E>
void device_sum(std::string_view op, const Tensor& out, std::int64_t n, const Tensor& g, const Tensor& a,
                const Tensor& b, const Tensor& o, double divisor = 1) {
    // Over no elements the sum is 0 whatever the operands' layout (and the mean 0/0, NaN).
    device_sum<E>(op, out, n, n == 0 ? device_operands{} : bind_device(op, out.device(), n, g, a, b, o), divisor);
}

}  // namespace ctgrad::detail
