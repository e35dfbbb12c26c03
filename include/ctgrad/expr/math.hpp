#pragma once
// Elementary functions for one value type. `math<T>` is the customisation point through which
// every op body computes: this file serves float and double in host and CUDA code; the CPU
// backend adds xsimd batches (backend/cpu/math.hpp). Adding a value type means adding one
// specialisation, never touching the op definitions.
#include <math.h>

#include <type_traits>

#include "../core/config.hpp"

namespace ctgrad::expr {

template <class T, class Enable = void>
struct math;

template <class T>
struct math<T, std::enable_if_t<std::is_floating_point_v<T>>> {
    using scalar_type = T;
    static constexpr bool is_batch = false;
    static constexpr int width = 1;

    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T load(const T* p) { return *p; }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static void store(T* p, T v) { *p = v; }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T sum_lanes(T v) { return v; }

    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T sqrt(T a) { if constexpr (std::is_same_v<T, float>) return ::sqrtf(a); else return ::sqrt(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T exp(T a) { if constexpr (std::is_same_v<T, float>) return ::expf(a); else return ::exp(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T log(T a) { if constexpr (std::is_same_v<T, float>) return ::logf(a); else return ::log(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T sin(T a) { if constexpr (std::is_same_v<T, float>) return ::sinf(a); else return ::sin(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T cos(T a) { if constexpr (std::is_same_v<T, float>) return ::cosf(a); else return ::cos(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T tan(T a) { if constexpr (std::is_same_v<T, float>) return ::tanf(a); else return ::tan(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T tanh(T a) { if constexpr (std::is_same_v<T, float>) return ::tanhf(a); else return ::tanh(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T abs(T a) { if constexpr (std::is_same_v<T, float>) return ::fabsf(a); else return ::fabs(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T pow(T a, T b) { if constexpr (std::is_same_v<T, float>) return ::powf(a, b); else return ::pow(a, b); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T atan(T a) { if constexpr (std::is_same_v<T, float>) return ::atanf(a); else return ::atan(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T erf(T a) { if constexpr (std::is_same_v<T, float>) return ::erff(a); else return ::erf(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T lgamma(T a) { if constexpr (std::is_same_v<T, float>) return ::lgammaf(a); else return ::lgamma(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T log1p(T a) { if constexpr (std::is_same_v<T, float>) return ::log1pf(a); else return ::log1p(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T expm1(T a) { if constexpr (std::is_same_v<T, float>) return ::expm1f(a); else return ::expm1(a); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T trunc(T a) { if constexpr (std::is_same_v<T, float>) return ::truncf(a); else return ::trunc(a); }
    // Picks per element without a branch in the op bodies: a bool here, a batch_bool for batches,
    // as the comparisons of each value type give.
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T select(bool c, T a, T b) { return c ? a : b; }

    // Comparisons follow PyTorch's conventions for NaN (it propagates through min/max/relu).
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T relu(T a) { return a < T(0) ? T(0) : a; }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T heaviside(T a) { return a <= T(0) ? T(0) : T(1); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T sign(T a) { return T(a > T(0)) - T(a < T(0)); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T max(T a, T b) { return (a > b || a != a) ? a : b; }
    // 1 where a is b (NaN matching NaN: the element a max() reduction picked), else 0.
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T equal(T a, T b) { return (a == b || (a != a && b != b)) ? T(1) : T(0); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T max_lanes(T v) { return v; }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T min_lanes(T v) { return v; }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static bool finite(T a) { return a - a == T(0); }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T min(T a, T b) { return (a < b || a != a) ? a : b; }
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static T above(T a, T b) { return a > b ? T(1) : (a == b ? T(0.5) : T(0)); }
};

template <class T>
using scalar_type_t = typename math<T>::scalar_type;

// a^N by repeated squaring, unrolled at compile time: N-1 multiplications at most, any value type.
template <int N, class T>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr T ipow(const T& a) {
    if constexpr (N < 0) return T(scalar_type_t<T>(1)) / ipow<-N>(a);
    else if constexpr (N == 0) return T(scalar_type_t<T>(1));
    else if constexpr (N == 1) return a;
    else {
        const T half = ipow<N / 2>(a);
        if constexpr (N % 2 == 0) return half * half;
        else return half * half * a;
    }
}

}  // namespace ctgrad::expr
