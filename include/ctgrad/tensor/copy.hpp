#pragma once
// Element copies between tensors of any layout and dtype: the one primitive behind contiguous(),
// to(dtype), clone(), materialising broadcasts and copy_().
#include <cstring>

#include "../device/elements.hpp"
#include "broadcast.hpp"
#include "device_data.hpp"
#include "strided_loop.hpp"
#include "tensor.hpp"

namespace ctgrad::detail {

inline void copy_elements_across(const TensorImpl& dst, const TensorImpl& src);

// dst[i] = src[i] for every index of dst, src broadcast to dst's shape and converted to its dtype,
// by the kernels of their device. Writes raw data only: no autograd, no version bump (callers
// decide).
inline void copy_elements(const TensorImpl& dst, const TensorImpl& src) {
    if (dst.numel() == 0) return;
    const Device device = device_of(dst);
    if (!(device_of(src) == device)) return copy_elements_across(dst, src);
    device_kernels(device, "copy").copy(view_of(dst), view_as(src, dst.sizes));
}

// dst[idx] = src[idx] (src broadcast to dst's sizes, converted to dst's dtype) between the CPU
// and a device. Host <-> device moves bytes between contiguous buffers of dst's
// dtype and sizes: the tensors themselves where they are such, else staging copies.
inline void copy_elements_across(const TensorImpl& dst, const TensorImpl& src) {
    const Device dd = device_of(dst), sd = device_of(src);
    if (!dd.is_cpu() && !sd.is_cpu())
        throw Error("copy: copies between " + sd.str() + " and " + dd.str() + " are not supported");
    const std::size_t nbytes = static_cast<std::size_t>(dst.numel()) * element_size(dst.dtype);
    const bool src_as_is = src.sizes == dst.sizes && src.dtype == dst.dtype && src.is_contiguous();
    if (!dd.is_cpu()) {  // host -> device
        DeviceKernels& k = device_kernels(dd, "copy");
        Tensor staged;
        if (!src_as_is) {
            staged = make_empty(dst.sizes, dst.dtype);
            copy_elements(*staged.unsafeGetTensorImpl(), src);
        }
        const void* from = src_as_is ? src.data() : staged.unsafeGetTensorImpl()->data();
        if (dst.is_contiguous()) {
            k.copy_bytes_to_device(dst.data(), from, nbytes);
        } else {
            const Tensor landed = make_empty(dst.sizes, dst.dtype, dd);
            k.copy_bytes_to_device(landed.unsafeGetTensorImpl()->data(), from, nbytes);
            k.copy(view_of(dst), view_of(*landed.unsafeGetTensorImpl()));
        }
        return;
    }
    // device -> host
    DeviceKernels& k = device_kernels(sd, "copy");
    Tensor gathered;
    if (!src_as_is) {
        gathered = make_empty(dst.sizes, dst.dtype, sd);
        k.copy(view_of(*gathered.unsafeGetTensorImpl()), view_as(src, dst.sizes));
    }
    const void* from = src_as_is ? src.data() : gathered.unsafeGetTensorImpl()->data();
    if (dst.is_contiguous()) {
        k.copy_bytes_to_host(dst.data(), from, nbytes);
    } else {
        const Tensor host = make_empty(dst.sizes, dst.dtype);
        k.copy_bytes_to_host(host.unsafeGetTensorImpl()->data(), from, nbytes);
        copy_elements(dst, *host.unsafeGetTensorImpl());
    }
}

// A contiguous copy of t's data in dtype `dtype` (no autograd).
inline Tensor contiguous_copy(const Tensor& t, ScalarType dtype) {
    Tensor out = make_empty(t.sizes(), dtype, t.device());
    copy_elements(*out.unsafeGetTensorImpl(), *t.unsafeGetTensorImpl());
    return out;
}

// A contiguous copy of t's data on `device` (no autograd).
inline Tensor contiguous_copy_on(const Tensor& t, Device device) {
    Tensor out = make_empty(t.sizes(), t.scalar_type(), device);
    copy_elements(*out.unsafeGetTensorImpl(), *t.unsafeGetTensorImpl());
    return out;
}

}  // namespace ctgrad::detail
