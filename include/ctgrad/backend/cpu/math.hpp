#pragma once
// xsimd batches as a value type of the static layer: the same op bodies run on 4, 8 or 16 lanes.
#include <cmath>
#include <limits>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "../../expr/math.hpp"

namespace ctgrad::expr {

template <class T, class Arch>
struct math<xsimd::batch<T, Arch>> {
    using B = xsimd::batch<T, Arch>;
    using scalar_type = T;
    static constexpr bool is_batch = true;
    static constexpr int width = static_cast<int>(B::size);

    CTGRAD_INLINE static B load(const T* p) { return B::load_unaligned(p); }
    CTGRAD_INLINE static void store(T* p, const B& v) { v.store_unaligned(p); }
    CTGRAD_INLINE static T sum_lanes(const B& v) { return xsimd::hadd(v); }

    CTGRAD_INLINE static B sqrt(const B& a) { return xsimd::sqrt(a); }
    CTGRAD_INLINE static B exp(const B& a) { return xsimd::exp(a); }
    CTGRAD_INLINE static B log(const B& a) { return xsimd::log(a); }
    CTGRAD_INLINE static B sin(const B& a) { return xsimd::sin(a); }
    CTGRAD_INLINE static B cos(const B& a) { return xsimd::cos(a); }
    CTGRAD_INLINE static B tan(const B& a) { return xsimd::tan(a); }
    CTGRAD_INLINE static B tanh(const B& a) { return xsimd::tanh(a); }
    CTGRAD_INLINE static B abs(const B& a) { return xsimd::abs(a); }
    CTGRAD_INLINE static B atan(const B& a) { return xsimd::atan(a); }
    CTGRAD_INLINE static B erf(const B& a) { return xsimd::erf(a); }
    // xsimd 8.1's float lgamma is wrong on part of (-2, 3) (it gives 1.84 for lgamma(1.9873f),
    // whose value is -0.0053): float batches go through the C library lane by lane.
    CTGRAD_INLINE static B lgamma(const B& a) {
        if constexpr (std::is_same_v<T, float>) {
            alignas(B::arch_type::alignment()) T lanes[B::size];
            a.store_aligned(lanes);
            for (std::size_t i = 0; i < B::size; ++i) lanes[i] = std::lgamma(lanes[i]);
            return B::load_aligned(lanes);
        } else {
            return xsimd::lgamma(a);
        }
    }
    CTGRAD_INLINE static B log1p(const B& a) { return xsimd::log1p(a); }
    CTGRAD_INLINE static B expm1(const B& a) { return xsimd::expm1(a); }
    CTGRAD_INLINE static B trunc(const B& a) { return xsimd::trunc(a); }
    CTGRAD_INLINE static B select(const typename B::batch_bool_type& c, const B& a, const B& b) { return xsimd::select(c, a, b); }
    // xsimd's pow misses IEEE's special cases (0^-1 = inf, x^0 = 1, 1^nan = 1, (-1)^inf = 1, and
    // negative bases): lanes that meet one are recomputed with the C library's pow.
    CTGRAD_INLINE static B pow(const B& a, const B& b) {
        B r = xsimd::pow(a, b);
        const auto special = (a <= B(T(0))) || (b == B(T(0))) || (a == B(T(1))) || xsimd::isnan(a) ||
                             xsimd::isnan(b) || xsimd::isinf(b);
        if (xsimd::any(special)) {
            alignas(B::arch_type::alignment()) T ra[B::size], rb[B::size], rr[B::size];
            a.store_aligned(ra);
            b.store_aligned(rb);
            r.store_aligned(rr);
            for (std::size_t i = 0; i < B::size; ++i)
                if (ra[i] <= T(0) || rb[i] == T(0) || ra[i] == T(1) || ra[i] != ra[i] || rb[i] != rb[i] ||
                    rb[i] == std::numeric_limits<T>::infinity() || rb[i] == -std::numeric_limits<T>::infinity())
                    rr[i] = std::pow(ra[i], rb[i]);
            r = B::load_aligned(rr);
        }
        return r;
    }

    CTGRAD_INLINE static B relu(const B& a) { return xsimd::select(a < B(T(0)), B(T(0)), a); }
    CTGRAD_INLINE static B heaviside(const B& a) { return xsimd::select(a <= B(T(0)), B(T(0)), B(T(1))); }
    CTGRAD_INLINE static B sign(const B& a) {
        return xsimd::select(a > B(T(0)), B(T(1)), B(T(0))) - xsimd::select(a < B(T(0)), B(T(1)), B(T(0)));
    }
    CTGRAD_INLINE static B max(const B& a, const B& b) { return xsimd::select((a > b) || xsimd::isnan(a), a, b); }
    CTGRAD_INLINE static B min(const B& a, const B& b) { return xsimd::select((a < b) || xsimd::isnan(a), a, b); }
    CTGRAD_INLINE static B equal(const B& a, const B& b) {
        return xsimd::select((a == b) || (xsimd::isnan(a) && xsimd::isnan(b)), B(T(1)), B(T(0)));
    }
    // Through the scalar max/min, so that a NaN lane wins as it does element by element.
    CTGRAD_INLINE static T max_lanes(const B& v) { return fold_lanes(v, [](T a, T b) { return math<T>::max(a, b); }); }
    CTGRAD_INLINE static T min_lanes(const B& v) { return fold_lanes(v, [](T a, T b) { return math<T>::min(a, b); }); }
    template <class Combine>
    CTGRAD_INLINE static T fold_lanes(const B& v, Combine combine) {
        alignas(B::arch_type::alignment()) T lanes[B::size];
        v.store_aligned(lanes);
        T m = lanes[0];
        for (std::size_t i = 1; i < B::size; ++i) m = combine(m, lanes[i]);
        return m;
    }
    CTGRAD_INLINE static B above(const B& a, const B& b) {
        return xsimd::select(a > b, B(T(1)), xsimd::select(a == b, B(T(0.5)), B(T(0))));
    }
};

}  // namespace ctgrad::expr
