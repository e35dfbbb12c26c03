#pragma once
// The execution policy of the dynamic layer's CUDA kernels: thrust::cuda::par, with the scratch
// memory of Thrust's reductions taken from ctgrad's cache of device blocks. Without it, every
// sum and loss would pay a cudaMalloc and a cudaFree, and both synchronise the device.
#include <cstddef>
#include <type_traits>
#include <utility>

#include <thrust/system/cuda/execution_policy.h>

#include <ctgrad/core/storage.hpp>

namespace ctgrad::kernels {

// Thrust's temporary-allocator interface (value_type char), over a ctgrad Allocator: the CUDA
// backend itself, so scratch blocks are recycled like tensors' (kernels run in order on one
// stream, so a block handed out again is free once earlier kernels are done with it).
struct scratch_allocator {
    using value_type = char;
    Allocator* memory = nullptr;
    char* allocate(std::ptrdiff_t nbytes) { return static_cast<char*>(memory->allocate(static_cast<std::size_t>(nbytes))); }
    void deallocate(char* p, std::size_t nbytes) noexcept { memory->deallocate(p, nbytes); }
};

// One allocator for the program; the policy keeps a reference to it.
inline scratch_allocator& scratch() {
    static scratch_allocator allocator;
    return allocator;
}

using cuda_policy = std::remove_cvref_t<decltype(thrust::cuda::par(std::declval<scratch_allocator&>()))>;

}  // namespace ctgrad::kernels
