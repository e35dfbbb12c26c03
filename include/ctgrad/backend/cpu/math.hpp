#pragma once
// xsimd batches as a value type of the static layer: the same op bodies run on 4, 8 or 16 lanes.
#include <xsimd/xsimd.hpp>

#include "../../expr/math.hpp"

namespace ctgrad::expr {

template <class T, class Arch>
struct math<xsimd::batch<T, Arch>> {
    using B = xsimd::batch<T, Arch>;
    using scalar_type = T;
    static constexpr bool is_batch = true;
    static constexpr int width = static_cast<int>(B::size);

    static B load(const T* p) { return B::load_unaligned(p); }
    static void store(T* p, const B& v) { v.store_unaligned(p); }
    static T sum_lanes(const B& v) { return xsimd::hadd(v); }

    static B sqrt(const B& a) { return xsimd::sqrt(a); }
    static B exp(const B& a) { return xsimd::exp(a); }
    static B log(const B& a) { return xsimd::log(a); }
    static B sin(const B& a) { return xsimd::sin(a); }
    static B cos(const B& a) { return xsimd::cos(a); }
    static B tan(const B& a) { return xsimd::tan(a); }
    static B tanh(const B& a) { return xsimd::tanh(a); }
    static B abs(const B& a) { return xsimd::abs(a); }
    static B pow(const B& a, const B& b) { return xsimd::pow(a, b); }

    static B relu(const B& a) { return xsimd::select(a < B(T(0)), B(T(0)), a); }
    static B heaviside(const B& a) { return xsimd::select(a <= B(T(0)), B(T(0)), B(T(1))); }
    static B sign(const B& a) {
        return xsimd::select(a > B(T(0)), B(T(1)), B(T(0))) - xsimd::select(a < B(T(0)), B(T(1)), B(T(0)));
    }
    static B max(const B& a, const B& b) { return xsimd::select((a > b) || xsimd::isnan(a), a, b); }
    static B min(const B& a, const B& b) { return xsimd::select((a < b) || xsimd::isnan(a), a, b); }
    static B above(const B& a, const B& b) {
        return xsimd::select(a > b, B(T(1)), xsimd::select(a == b, B(T(0.5)), B(T(0))));
    }
};

}  // namespace ctgrad::expr
