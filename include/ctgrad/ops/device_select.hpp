#pragma once
// Comparisons, selections and sums of tensors as the dynamic layer asks their device's kernels
// for them (DeviceKernels::compare, where, sum; the CPU's included). The comparisons, masks,
// max/min and the losses and norms built from them call these; no autograd here.
#include <cmath>
#include <string>
#include <vector>

#include "../tensor/copy.hpp"
#include "../tensor/device_data.hpp"

namespace ctgrad::detail {

// A 0-d tensor holding `value` on `device`, filled there (no transfer from the host).
inline Tensor device_scalar(double value, ScalarType dtype, Device device, const std::string& op) {
    Tensor s = make_empty({}, dtype, device);
    device_kernels(device, op).fill(view_of(*s.unsafeGetTensorImpl()), value);
    return s;
}

// t on `device`: itself, or (a 0-d CPU tensor next to device tensors) a 0-d device tensor of its
// value. Filled by a kernel, which is queued, where a copy from pageable host memory would wait
// for the device; an int64 beyond 2^53, which a double cannot hold, is copied.
inline Tensor operand_on(const Tensor& t, Device device, const std::string& op) {
    if (t.device() == device) return t;
    if (t.dim() == 0) {
        const double value = t.item<double>();
        if (t.scalar_type() != kLong || std::fabs(value) <= 9007199254740992.0)
            return device_scalar(value, t.scalar_type(), device, op);
    }
    return contiguous_copy_on(t, device);
}

// a R b element by element at the broadcast `sizes`, a bool tensor on the device of a and b
// (one dtype; either may be a 0-d CPU tensor).
inline Tensor device_compare(device_relation relation, const Tensor& a, const Tensor& b, IntArrayRef sizes,
                             Device device, const std::string& op) {
    const Tensor ad = operand_on(a, device, op), bd = operand_on(b, device, op);
    Tensor out = make_empty(sizes, kBool, device);
    device_kernels(device, op).compare(relation, view_of(*out.unsafeGetTensorImpl()),
                                       view_as(*ad.unsafeGetTensorImpl(), sizes),
                                       view_as(*bd.unsafeGetTensorImpl(), sizes));
    return out;
}

// mask ? a : b element by element at the broadcast `sizes` (a and b of one dtype), on `device`.
inline Tensor device_where(const Tensor& mask, const Tensor& a, const Tensor& b, IntArrayRef sizes, Device device,
                           const std::string& op) {
    const Tensor md = operand_on(mask, device, op), ad = operand_on(a, device, op), bd = operand_on(b, device, op);
    Tensor out = make_empty(sizes, a.scalar_type(), device);
    device_kernels(device, op).where(view_of(*out.unsafeGetTensorImpl()), view_as(*md.unsafeGetTensorImpl(), sizes),
                                     view_as(*ad.unsafeGetTensorImpl(), sizes),
                                     view_as(*bd.unsafeGetTensorImpl(), sizes));
    return out;
}

// The sum of t over `dims` (kept as size 1) into a tensor of dtype `dtype`: the kernels' sums
// accumulate floating point in double, so a double result is the CPU's double accumulator.
inline Tensor device_sum_as(const Tensor& t, const std::vector<std::int64_t>& dims, ScalarType dtype,
                            const std::string& op) {
    std::vector<std::int64_t> kept = t.sizes().vec();
    for (auto d : dims) kept[static_cast<std::size_t>(d)] = 1;
    Tensor out = make_empty(kept, dtype, t.device());
    device_kernels(t.device(), op).sum(view_of(*out.unsafeGetTensorImpl()), view_of(*t.unsafeGetTensorImpl()));
    return out;
}

// The sum of all of t as a 0-d tensor of dtype `dtype` (double: the CPU's accumulator).
inline Tensor device_total_as(const Tensor& t, ScalarType dtype, const std::string& op) {
    std::vector<std::int64_t> all_dims(static_cast<std::size_t>(t.dim()));
    for (std::size_t d = 0; d < all_dims.size(); ++d) all_dims[d] = static_cast<std::int64_t>(d);
    return device_sum_as(t, all_dims, dtype, op).view(IntArrayRef{});
}

}  // namespace ctgrad::detail
