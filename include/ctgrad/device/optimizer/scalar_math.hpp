#pragma once
// The optimizers' per-element operations on one float or double, usable in host code and in a
// CUDA kernel alike (no xsimd, no asm in device code). fma_dispatch.hpp adds the same names for
// xsimd batches; step_formulas.hpp spells the updates with them.
#include <cmath>

#include "../../core/config.hpp"

// The element formulas only run fast when inlined into their loop (see config.hpp's note on
// CTGRAD_INLINE); here inlining is forced, since each function is a single operation.
#if defined(__CUDACC__)
#define CTGRAD_OPTIM_ALWAYS_INLINE __forceinline__
#elif defined(__GNUC__)
#define CTGRAD_OPTIM_ALWAYS_INLINE [[gnu::always_inline]] inline
#else
#define CTGRAD_OPTIM_ALWAYS_INLINE inline
#endif

namespace ctgrad::optim::detail {
inline namespace CTGRAD_SIMD_ABI {

// One rounding: a*b + c.
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE float fmadd(float a, float b, float c) {
#if CTGRAD_DEVICE_PASS
    return ::fmaf(a, b, c);
#else
    return std::fma(a, b, c);
#endif
}
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE double fmadd(double a, double b, double c) {
#if CTGRAD_DEVICE_PASS
    return ::fma(a, b, c);
#else
    return std::fma(a, b, c);
#endif
}

// Correctly rounded in both passes (nvcc's default -prec-sqrt=true).
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE float root(float x) {
#if CTGRAD_DEVICE_PASS
    return ::sqrtf(x);
#else
    return std::sqrt(x);
#endif
}
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE double root(double x) {
#if CTGRAD_DEVICE_PASS
    return ::sqrt(x);
#else
    return std::sqrt(x);
#endif
}

// torch.maximum: a NaN in either operand wins.
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE float nan_max(float a, float b) { return (a < b || b != b) ? b : a; }
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE double nan_max(double a, double b) {
    return (a < b || b != b) ? b : a;
}

// A value kept opaque to the host compiler, so that a product passed through here is rounded
// and not fused into the addition that follows (GCC contracts across statements by default).
template <class R>
CTGRAD_OPTIM_ALWAYS_INLINE R opaque_register(R v) {
#if defined(__GNUC__) && defined(__x86_64__)
    asm("" : "+v"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
    asm("" : "+w"(v));
#else
    volatile R copy = v;
    v = copy;
#endif
    return v;
}

// The product v, rounded before it meets an addition. In device code the CUDA library is
// compiled with --fmad=false, so every product is rounded there already.
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE float rounded(float v) {
#if CTGRAD_DEVICE_PASS
    return v;
#else
    return opaque_register(v);
#endif
}
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE double rounded(double v) {
#if CTGRAD_DEVICE_PASS
    return v;
#else
    return opaque_register(v);
#endif
}

// Element i as a V: V is T here; fma_dispatch.hpp adds the batch forms (not viable for a
// scalar, as a T* is no V*).
template <class V>
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE V load_at(const V* p) {
    return *p;
}
template <class V>
CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE void store_at(V* p, V v) {
    *p = v;
}

}  // namespace CTGRAD_SIMD_ABI
}  // namespace ctgrad::optim::detail
