#pragma once
// The dynamic layer's side of the kernel interface (device/kernels.hpp): descriptors of a
// tensor's data for a kernel of its device (the CPU's or a GPU's), and the one-device rule every
// op checks.
#include <string>
#include <string_view>
#include <vector>

#include "../device/kernels.hpp"
#include "broadcast.hpp"
#include "tensor.hpp"

namespace ctgrad::detail {

inline Device device_of(const TensorImpl& t) { return t.storage->device(); }

// A descriptor of t's data with `rank` dims, sizes and strides still to be written; an Error when
// kernels cannot take that many dims.
inline device_view descriptor_of(const TensorImpl& t, std::size_t rank) {
    if (rank > static_cast<std::size_t>(max_device_rank))
        throw Error("tensors on " + device_of(t).str() + " have at most " + std::to_string(max_device_rank) +
                    " dims, got " + std::to_string(rank));
    device_view v;
    v.data = t.data();
    v.dtype = t.dtype;
    v.rank = static_cast<int>(rank);
    return v;
}

// t's elements seen with `sizes` and `strides` (a broadcast of t), for a device kernel.
inline device_view view_of(const TensorImpl& t, IntArrayRef sizes, IntArrayRef strides) {
    device_view v = descriptor_of(t, sizes.size());
    for (std::size_t d = 0; d < sizes.size(); ++d) {
        v.sizes[d] = sizes[d];
        v.strides[d] = strides[d];
    }
    return v;
}
inline device_view view_of(const TensorImpl& t) { return view_of(t, t.sizes, t.strides); }
// src seen with dst's sizes (src broadcast to them): its strides expanded as expanded_strides
// does (0 where src has size 1 or no dim), written straight into the descriptor.
inline device_view view_as(const TensorImpl& src, IntArrayRef sizes) {
    if (src.sizes.size() > sizes.size())
        throw Error("internal: a tensor of shape " + shape_str(src.sizes) + " seen with fewer dims, " + shape_str(sizes));
    device_view v = descriptor_of(src, sizes.size());
    const std::size_t lead = sizes.size() - src.sizes.size();
    for (std::size_t d = 0; d < sizes.size(); ++d) {
        v.sizes[d] = sizes[d];
        v.strides[d] = d < lead || src.sizes[d - lead] == 1 ? 0 : src.strides[d - lead];
    }
    return v;
}

// t's elements (contiguous) seen with other `sizes` of the same count, row-major.
inline device_view contiguous_view_as(const TensorImpl& t, IntArrayRef sizes) {
    device_view v = descriptor_of(t, sizes.size());
    std::int64_t step = 1;
    for (int d = v.rank - 1; d >= 0; --d) {
        v.sizes[d] = sizes[static_cast<std::size_t>(d)];
        v.strides[d] = step;
        step *= v.sizes[d];
    }
    return v;
}

// A Scalar as a kernel's fill value (integers exact).
inline fill_value fill_value_of(const Scalar& s) {
    return s.is_floating_point() ? fill_value(s.to_double()) : fill_value(static_cast<std::int64_t>(s.to_long()));
}

inline DeviceKernels& kernels_of(const Tensor& t, std::string_view op) { return device_kernels(t.device(), op); }

// A tensor that may sit next to tensors of any device: a 0-d CPU tensor (a wrapped number, as
// PyTorch lets `cuda_tensor * cpu_scalar_tensor` through).
inline bool is_cpu_scalar(const Tensor& t) { return t.is_cpu() && t.dim() == 0; }

// The device an op on these tensors runs on; an Error when they are on different devices
// (CPU 0-d tensors go along with any device).
inline Device common_device(std::string_view op, std::initializer_list<const Tensor*> tensors) {
    const Tensor* first = nullptr;
    for (const Tensor* t : tensors) {
        if (!t->defined() || (is_cpu_scalar(*t) && tensors.size() > 1)) continue;
        if (!first) first = t;
        else if (!(t->device() == first->device()))
            throw Error(std::string(op) + ": expected all tensors on one device, got " + first->device().str() + " and " +
                        t->device().str());
    }
    return first ? first->device() : Device(kCPU);
}

// An Error for an op that has no kernel on t's device yet (checked before any data is read).
inline void require_cpu(std::string_view op, std::initializer_list<const Tensor*> tensors) {
    for (const Tensor* t : tensors)
        if (t->defined() && !t->is_cpu())
            throw Error(std::string(op) + ": not implemented for tensors on " + t->device().str() +
                        " yet; move them to the CPU with .cpu() (docs/cuda.md lists the ops that run on the GPU)");
}

}  // namespace ctgrad::detail
