#pragma once
// One place decides how functions are annotated for the device compiler, so that node types
// stay usable in a scalar loop, a SIMD loop and a CUDA kernel without #ifdefs elsewhere.
#if defined(__CUDACC__)
#define CTGRAD_HOST_DEVICE __host__ __device__
#else
#define CTGRAD_HOST_DEVICE
#endif

// The per-element code of an expression is a deep tree of tiny functions; it is only fast when
// all of it is inlined into the loop, so that values stay in registers. Every function on that
// path is declared inline: GCC's inliner gives declared-inline functions a larger budget, and in
// translation units with many instantiations that is what keeps the loop fused. (Forcing it with
// always_inline measured slower: 12 ms instead of 1.8 ms for the cubic fit at N = 1e7.)
#if defined(__CUDACC__)
#define CTGRAD_INLINE __forceinline__
#else
#define CTGRAD_INLINE inline
#endif

#if defined(__CUDA_ARCH__)
#define CTGRAD_DEVICE_PASS 1
#else
#define CTGRAD_DEVICE_PASS 0
#endif

// The dynamic layer's runtime (tensor ops, autograd engine, nn, optimizers, serialization,
// printing) is compiled once, into the library ctgrad (src/runtime.cpp). A program includes
// declarations only (ctgrad/tensor.hpp, nn.hpp, optim.hpp, ...) and links the library.
// The runtime's functions are defined in implementation headers, each included by the library
// alone: there CTGRAD_BUILDING_RUNTIME makes every public definition an ordinary (non-inline)
// one, compiled exactly once. A program that defines CTGRAD_HEADER_ONLY before its first
// include gets the implementation headers too, its definitions inline, and links nothing;
// ctgrad/ops/fuse.hpp needs this (docs/design.md).
#if defined(CTGRAD_BUILDING_RUNTIME)
#define CTGRAD_API
#else
#define CTGRAD_API inline
#endif
#if defined(CTGRAD_BUILDING_RUNTIME) || defined(CTGRAD_HEADER_ONLY)
#define CTGRAD_RUNTIME_DEFINITIONS 1
#else
#define CTGRAD_RUNTIME_DEFINITIONS 0
#endif

// The instruction set a translation unit is compiled for, as a namespace name. The code whose
// machine code depends on it (the CPU's loops: the executor's tags, backend/cpu/, device/cpu/,
// device/optimizer/) is declared inside an inline namespace of this name, so that the runtime
// library can hold the same loops compiled for several instruction sets
// (src/cpu_kernels_variant.cpp, chosen at run time) without the linker taking one for another:
// their symbols differ. Source code never names it.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#define CTGRAD_SIMD_ABI simd_avx512
#elif defined(__AVX2__) && defined(__FMA__)
#define CTGRAD_SIMD_ABI simd_avx2
#elif defined(__AVX__)
#define CTGRAD_SIMD_ABI simd_avx
#elif defined(__SSE4_2__)
#define CTGRAD_SIMD_ABI simd_sse4
#elif defined(__ARM_NEON)
#define CTGRAD_SIMD_ABI simd_neon
#else
#define CTGRAD_SIMD_ABI simd_base
#endif
