#pragma once
// The dynamic layer's CUDA code paths without a GPU: the same Thrust device kernels that
// kernels/cuda_device.cu compiles for CUDA, run on Thrust's OpenMP system over host memory
// that stands in for device memory. An emulated_cuda_scope (emulated_cuda_scope.hpp) makes
// tensors on kCUDA use them, so CI exercises every device branch (transfers, kernels, dispatch)
// on a machine without a GPU.
// Needs the thrust_omp_dep flags (THRUST_DEVICE_SYSTEM_OMP) and -fopenmp.
#include <cstddef>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include <thrust/system/omp/execution_policy.h>

#include <ctgrad/device/kernels.hpp>
#include <ctgrad/device/thrust/tensor_kernels.hpp>

namespace ctgrad::testing {

using omp_policy = std::remove_cvref_t<decltype(thrust::omp::par)>;

class emulated_cuda_kernels final : public thrust_tensor_kernels<omp_policy> {
public:
    // 64 bytes, as the CPU allocator aligns: code that assumes device alignment still holds here.
    static constexpr std::size_t alignment = 64;

    emulated_cuda_kernels() : thrust_tensor_kernels<omp_policy>(thrust::omp::par) {}

    void* allocate(std::size_t nbytes) override {
        if (nbytes == 0) return nullptr;
        return ::operator new(nbytes, std::align_val_t(alignment));
    }
    void deallocate(void* p, std::size_t) noexcept override {
        if (p) ::operator delete(p, std::align_val_t(alignment));
    }

    std::string backend_name() const override { return "Thrust's OpenMP system standing in for CUDA"; }
    int device_count() const override { return 1; }
    // Thrust's OpenMP algorithms return when their work is done.
    void synchronize() override {}

    void copy_bytes_to_device(void* device_dst, const void* host_src, std::size_t nbytes) override {
        if (nbytes) std::memcpy(device_dst, host_src, nbytes);
    }
    void copy_bytes_to_host(void* host_dst, const void* device_src, std::size_t nbytes) override {
        if (nbytes) std::memcpy(host_dst, device_src, nbytes);
    }
};

}  // namespace ctgrad::testing
