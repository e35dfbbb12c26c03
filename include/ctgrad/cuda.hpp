#pragma once
// torch::cuda's questions, asked of the kernels registered for kCUDA (device/kernels.hpp):
// a program that does not link ctgrad's CUDA library, or runs where there is no GPU, gets
// is_available() == false rather than an error.
#include "device/kernels.hpp"

namespace ctgrad::cuda {

// How many GPUs this program can use: 0 without the CUDA library or without a GPU.
inline int device_count() {
    return has_device_kernels(kCUDA) ? detail::device_kernels_slot(kCUDA)->device_count() : 0;
}

inline bool is_available() { return device_count() > 0; }

// Waits for every kernel launched so far; reports a failed one as ctgrad::Error.
inline void synchronize() { device_kernels(Device(kCUDA), "cuda::synchronize").synchronize(); }

}  // namespace ctgrad::cuda
