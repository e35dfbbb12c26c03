#pragma once
// While an emulated_cuda_scope is alive, kCUDA tensors run on Thrust's OpenMP system over host
// memory standing in for device memory (emulated_cuda.hpp); afterwards kCUDA gets back the
// kernels it had before (none, in a build without the CUDA library). Tensors on kCUDA must not
// outlive the scope: their memory goes back to its allocator.
//
// Only the declaration: the kernels compile once, in emulated_cuda_scope.cpp (meson's
// emulated_cuda_dep), not in every program that uses them.
#include <memory>

#include <ctgrad/device/kernels.hpp>

namespace ctgrad::testing {

class emulated_cuda_scope {
public:
    emulated_cuda_scope();
    ~emulated_cuda_scope();
    emulated_cuda_scope(const emulated_cuda_scope&) = delete;
    emulated_cuda_scope& operator=(const emulated_cuda_scope&) = delete;

    DeviceKernels& kernels() { return *kernels_; }

private:
    DeviceKernels* previous_;
    std::unique_ptr<DeviceKernels> kernels_;
};

}  // namespace ctgrad::testing
