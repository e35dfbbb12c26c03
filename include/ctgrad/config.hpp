#pragma once
// One place decides how functions are annotated for the device compiler, so that node types
// stay usable in a scalar loop, a SIMD loop and a CUDA kernel without #ifdefs elsewhere.
#if defined(__CUDACC__)
#define CTGRAD_HOST_DEVICE __host__ __device__
#else
#define CTGRAD_HOST_DEVICE
#endif

#if defined(__CUDA_ARCH__)
#define CTGRAD_DEVICE_PASS 1
#else
#define CTGRAD_DEVICE_PASS 0
#endif
