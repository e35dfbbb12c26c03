#pragma once
// How the optimizers' element loops get PyTorch's roundings and still run fast.
//
// PyTorch's CPU kernels (built for AVX2 with FMA) compute `add_(x, alpha=a)` as fma(a, x, self)
// and `addcmul_(t1, t2, value=v)` as fma(v*t1, t2, self), in their vector lanes and their
// scalar tails alike, while mul_, div_, addcdiv_ and sqrt round each operation. So:
//  - the kernels spell each of those fused multiply-adds as `fmadd` (one rounding), and every
//    other operation as its own statement;
//  - where a product feeds an addition and PyTorch rounds in between (AdamW's param.mul_,
//    RMSprop's buf.mul_ before addcdiv_), `rounded` hides the product from the compiler, which
//    would otherwise contract the two into an FMA (GCC does so across statements by default);
//  - SIMD lanes are xsimd batches, used only where the target has an exact vector FMA (xsimd
//    emulates fma as x*y+z elsewhere). GCC will not vectorise a plain sqrt loop (errno), hence
//    explicit batches rather than auto-vectorisation;
//  - otherwise the loop is scalar, and on x86-64 builds without -mfma, `run_kernel` runs a copy
//    of it compiled for AVX2+FMA when the CPU has them (checked once), so that fma is one
//    instruction and not a call into libm.
#include <cstdint>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "scalar_math.hpp"

#if defined(CTGRAD_OPTIM_STEP_FORMULAS_INCLUDED)
#error "ctgrad: include device/optimizer/fma_dispatch.hpp before step_formulas.hpp, or the formulas miss its batch forms"
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__FMA__)
#define CTGRAD_OPTIM_FMA_CLONE 1
#else
#define CTGRAD_OPTIM_FMA_CLONE 0
#endif

namespace ctgrad::optim::detail {
inline namespace CTGRAD_SIMD_ABI {

// Whether xsimd's default batch has an exact fused multiply-add.
inline constexpr bool simd_has_exact_fma =
#if XSIMD_WITH_FMA3_AVX2 || XSIMD_WITH_AVX512F || XSIMD_WITH_NEON64
    true;
#else
    false;
#endif

template <class T>
using batch = xsimd::batch<T>;

// The batch forms of scalar_math.hpp's operations. They must be declared before
// step_formulas.hpp: its calls are found by ordinary lookup at the template's definition (ADL
// looks only in xsimd for a batch), so a batch form declared later would not be seen.

// One rounding: a*b + c.
template <class T, class A>
CTGRAD_OPTIM_ALWAYS_INLINE xsimd::batch<T, A> fmadd(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b,
                                                    const xsimd::batch<T, A>& c) {
#if XSIMD_WITH_AVX512F
    // xsimd 8 has no AVX-512 fma of its own (its generic one is a*b + c, rounded twice).
    if constexpr (std::is_base_of_v<xsimd::avx512f, A>) {
        if constexpr (std::is_same_v<T, float>) return _mm512_fmadd_ps(a, b, c);
        else return _mm512_fmadd_pd(a, b, c);
    } else
#endif
        return xsimd::fma(a, b, c);
}

template <class T, class A>
CTGRAD_OPTIM_ALWAYS_INLINE xsimd::batch<T, A> root(const xsimd::batch<T, A>& x) {
    return xsimd::sqrt(x);
}

// torch.maximum: a NaN in either operand wins.
template <class T, class A>
CTGRAD_OPTIM_ALWAYS_INLINE xsimd::batch<T, A> nan_max(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) {
    return xsimd::select((a < b) | xsimd::isnan(b), b, a);
}

// The lanes of v, rounded and opaque (scalar_math.hpp's rounded).
template <class T, class A>
CTGRAD_OPTIM_ALWAYS_INLINE xsimd::batch<T, A> rounded(const xsimd::batch<T, A>& v) {
    typename xsimd::batch<T, A>::register_type r = v;
    return xsimd::batch<T, A>(opaque_register(r));
}

template <class V, class T, std::enable_if_t<xsimd::is_batch<V>::value, int> = 0>
CTGRAD_OPTIM_ALWAYS_INLINE V load_at(const T* p) {
    return V::load_unaligned(p);
}
template <class T, class A>
CTGRAD_OPTIM_ALWAYS_INLINE void store_at(T* p, const xsimd::batch<T, A>& v) {
    v.store_unaligned(p);
}

// Runs `Step<V>(i, args...)` over i < n: batches where they are exact, then single elements.
// `Step` is a class template whose static `at<V>` updates the elements [i, i + lanes of V).
template <class Step, class T, class... Args>
CTGRAD_OPTIM_ALWAYS_INLINE void element_loop(std::int64_t n, const Args&... args) {
    std::int64_t i = 0;
    if constexpr (simd_has_exact_fma) {
        constexpr std::int64_t width = static_cast<std::int64_t>(batch<T>::size);
        for (; i + width <= n; i += width) Step::template at<batch<T>>(i, args...);
    }
    for (; i < n; ++i) Step::template at<T>(i, args...);
}

#if CTGRAD_OPTIM_FMA_CLONE
inline bool cpu_has_avx2_fma() {
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
}

// The loop `Kernel` (an always-inline function) compiled again for AVX2+FMA.
template <auto Kernel, class... Args>
[[gnu::target("avx2,fma")]] void run_with_fma(Args... args) {
    Kernel(args...);
}
#endif

// Runs the element loop `Kernel(args...)` in the fastest exact build this CPU allows.
template <auto Kernel, class... Args>
void run_kernel(Args... args) {
#if CTGRAD_OPTIM_FMA_CLONE
    if (cpu_has_avx2_fma()) return run_with_fma<Kernel>(args...);
#endif
    Kernel(args...);
}

}  // namespace CTGRAD_SIMD_ABI
}  // namespace ctgrad::optim::detail
