#pragma once
// Random fills over raw contiguous buffers that give, number for number, what PyTorch 1.13's CPU
// kernels give from the same generator state (torch.rand / randn / randint, Tensor.uniform_ /
// normal_ / random_(from, to)). They live in namespace ctgrad::detail: the tensor factories are
// the public face; these are the loops behind them.
//
// Bit-exactness rests on three things besides the algorithms themselves:
// 1. Which kernel ATen picks. On any x86-64 CPU with AVX2 (what ATen's dispatcher selects there),
//    a contiguous float32 tensor of >= 16 elements is filled by a hand-vectorised Box-Muller
//    built on the Cephes polynomials of avx_mathfun.h, not on libm. We evaluate those same
//    polynomials in scalar code, so our result does not depend on our own compiler flags or CPU.
//    (Torch on a CPU without AVX2 runs its baseline kernels: libm's logf/cosf/sinf there and no
//    fused multiply-adds anywhere. Its rand, randint and randn agree with ours except float32
//    randn of >= 16 elements; uniform_/normal_ with other bounds can differ in the last bit.)
// 2. Fused multiply-adds. ATen's AVX2 kernels are compiled with -mfma and GCC's default
//    -ffp-contract=fast, so GCC fused each product into the add that consumes it (the first
//    product in statement order when both operands of an add are products). We spell every such
//    pair as std::fma and leave no other product next to an add, so that neither -march=native
//    nor -ffp-contract changes our numbers.
// 3. libm. The double-precision paths call log/sin/cos from the C library, as ATen does; the
//    results match torch running against the same libm.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>

#include "../core/error.hpp"
#include "generator.hpp"

namespace ctgrad::detail {

// One uniform in [from, to) as at::uniform_real_distribution<T>: the low 24 (float) or 53
// (double) bits of one 32- or 64-bit draw, scaled to [0, 1), so every value is a multiple of
// 2^-24 or 2^-53 before the affine map.
inline float uniform_float(Generator& g, float from, float to) {
    const float x = static_cast<float>(g.random() & ((1u << 24) - 1)) * (1.0f / (1u << 24));
    return std::fma(x, to - from, from);
}
inline double uniform_double(Generator& g, double from, double to) {
    const double x =
        static_cast<double>(g.random64() & ((std::uint64_t{1} << 53) - 1)) * (1.0 / (std::uint64_t{1} << 53));
    return std::fma(x, to - from, from);
}
template <class T>
inline T uniform_one(Generator& g, T from, T to) {
    if constexpr (std::is_same_v<T, double>) return uniform_double(g, from, to);
    else return uniform_float(g, from, to);
}

// at::normal_distribution<double>, which ATen applies element by element to tensors of fewer
// than 16 elements and to non-contiguous ones, whatever their dtype: each Box-Muller pair yields
// one value now and caches the other in the generator, unscaled, for the next element (even one
// of a later call with another mean, std or dtype).
inline double normal_double(Generator& g, double mean, double stddev) {
    if (auto cached = g.next_double_normal_sample()) {
        g.set_next_double_normal_sample(std::nullopt);
        return std::fma(*cached, stddev, mean);
    }
    const double u1 = uniform_double(g, 0.0, 1.0);
    const double u2 = uniform_double(g, 0.0, 1.0);
    const double r = std::sqrt(-2.0 * std::log(1.0 - u2));
    const double theta = 2.0 * 3.14159265358979323846 * u1;
    g.set_next_double_normal_sample(r * std::sin(theta));
    return std::fma(r * std::cos(theta), stddev, mean);
}

// ---- float32 Box-Muller as ATen's AVX2 kernel computes it (avx_mathfun.h, lane by lane) ----

inline std::uint32_t bits_of(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}
inline float float_of(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// Cephes' logf: split off the exponent, then a degree-9 polynomial in (mantissa - 1).
inline float cephes_logf(float x) {
    if (!(x > 0.0f)) return float_of(0xffffffffu);  // the kernel ORs an all-ones mask: NaN
    const float min_normal = float_of(0x00800000u);
    if (x < min_normal) x = min_normal;
    const std::uint32_t xb = bits_of(x);
    const std::int32_t exponent = static_cast<std::int32_t>(xb >> 23) - 0x7f;
    float m = float_of((xb & ~0x7f800000u) | bits_of(0.5f));  // in [0.5, 1)
    float e = static_cast<float>(exponent) + 1.0f;
    const bool small = m < 0.707106781186547524f;
    const float extra = small ? m : 0.0f;
    m = m - 1.0f;
    e = e - (small ? 1.0f : 0.0f);
    m = m + extra;
    const float z = m * m;
    float y = 7.0376836292E-2f;
    y = std::fma(y, m, -1.1514610310E-1f);
    y = std::fma(y, m, 1.1676998740E-1f);
    y = std::fma(y, m, -1.2420140846E-1f);
    y = std::fma(y, m, 1.4249322787E-1f);
    y = std::fma(y, m, -1.6668057665E-1f);
    y = std::fma(y, m, 2.0000714765E-1f);
    y = std::fma(y, m, -2.4999993993E-1f);
    y = std::fma(y, m, 3.3333331174E-1f);
    y = y * m;
    y = std::fma(y, z, e * -2.12194440e-4f);
    y = std::fma(-z, 0.5f, y);
    m = m + y;
    return std::fma(e, 0.693359375f, m);
}

// Cephes' sinf and cosf sharing one range reduction (sincos256_ps).
inline void cephes_sincosf(float x, float& s, float& c) {
    std::uint32_t sign_sin = bits_of(x) & 0x80000000u;
    x = std::fabs(x);
    std::int32_t j = static_cast<std::int32_t>(x * 1.27323954473516f);  // 4/pi, truncated
    j = (j + 1) & ~1;
    const float y = static_cast<float>(j);
    sign_sin ^= static_cast<std::uint32_t>(j & 4) << 29;
    const bool sin_poly_is_sin = (j & 2) == 0;
    const std::uint32_t sign_cos = static_cast<std::uint32_t>(~(j - 2) & 4) << 29;
    // x - y*pi/4 in three pieces, each product fused with its add.
    x = std::fma(y, -0.78515625f, x);
    x = std::fma(y, -2.4187564849853515625e-4f, x);
    x = std::fma(y, -3.77489497744594108e-8f, x);
    const float z = x * x;
    float pc = 2.443315711809948E-005f;
    pc = std::fma(pc, z, -1.388731625493765E-003f);
    pc = std::fma(pc, z, 4.166664568298827E-002f);
    pc = pc * z;
    pc = std::fma(pc, z, -(z * 0.5f));
    pc = pc + 1.0f;
    float ps = -1.9515295891E-4f;
    ps = std::fma(ps, z, 8.3321608736E-3f);
    ps = std::fma(ps, z, -1.6666654611E-1f);
    ps = ps * z;
    ps = std::fma(ps, x, x);
    // The kernel selects by masking and subtracting; a - a and v + 0 keep its signed zeros.
    const float sin_from_ps = sin_poly_is_sin ? ps : 0.0f;
    const float sin_from_pc = sin_poly_is_sin ? 0.0f : pc;
    const float cos_from_ps = ps - sin_from_ps;
    const float cos_from_pc = pc - sin_from_pc;
    s = float_of(bits_of(sin_from_pc + sin_from_ps) ^ sign_sin);
    c = float_of(bits_of(cos_from_pc + cos_from_ps) ^ sign_cos);
}

// Turns 16 uniforms in [0, 1) into 16 normals: lane j pairs data[j] (radius) with data[j+8]
// (angle); the cosine goes to j, the sine to j + 8.
inline void normal_16_float(float* data, float mean, float stddev) {
    const float two_pi = static_cast<float>(2.0 * 3.14159265358979323846);
    for (int j = 0; j < 8; ++j) {
        const float u1 = 1.0f - data[j];
        const float u2 = data[j + 8];
        const float radius = std::sqrt(-2.0f * cephes_logf(u1));
        const float theta = two_pi * u2;
        float s, c;
        cephes_sincosf(theta, s, c);
        data[j] = std::fma(radius * c, stddev, mean);
        data[j + 8] = std::fma(radius * s, stddev, mean);
    }
}

inline void normal_16_double(double* data, double mean, double stddev) {
    for (int j = 0; j < 8; ++j) {
        const double u1 = 1.0 - data[j];
        const double u2 = data[j + 8];
        const double radius = std::sqrt(-2.0 * std::log(u1));
        const double theta = 2.0 * 3.14159265358979323846 * u2;
        data[j] = std::fma(radius * std::cos(theta), stddev, mean);
        data[j + 8] = std::fma(radius * std::sin(theta), stddev, mean);
    }
}

// ---- the fills ----

template <class T>
void uniform_fill(Generator& g, T* data, std::int64_t n, double from, double to) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "uniform_ fills float or double");
    std::lock_guard<std::mutex> lock(g.mutex());
    // ATen narrows the bounds to the element type before any arithmetic. Its uniform kernel is
    // element-wise for every layout, so a strided tensor takes n values in TensorIterator order.
    const T lo = static_cast<T>(from), hi = static_cast<T>(to);
    for (std::int64_t i = 0; i < n; ++i) data[i] = uniform_one<T>(g, lo, hi);
}

// ATen's element-wise normal path. A non-contiguous tensor takes it for any size, visiting
// elements in TensorIterator order (dimensions sorted by stride, i.e. memory order for a
// permuted dense tensor), so fill a buffer here and scatter it in that order.
template <class T>
void normal_fill_elementwise(Generator& g, T* data, std::int64_t n, double mean, double stddev) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "normal_ fills float or double");
    std::lock_guard<std::mutex> lock(g.mutex());
    for (std::int64_t i = 0; i < n; ++i) data[i] = static_cast<T>(normal_double(g, mean, stddev));
}

// normal_ on a contiguous tensor of n elements.
template <class T>
void normal_fill(Generator& g, T* data, std::int64_t n, double mean, double stddev) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "normal_ fills float or double");
    if (n < 16) return normal_fill_elementwise<T>(g, data, n, mean, stddev);
    std::lock_guard<std::mutex> lock(g.mutex());
    const T m = static_cast<T>(mean), s = static_cast<T>(stddev);
    auto block = [&](T* p) {
        if constexpr (std::is_same_v<T, float>) normal_16_float(p, m, s);
        else normal_16_double(p, m, s);
    };
    // All uniforms first, then Box-Muller in place on blocks of 16; the vectorised path never
    // reads or writes the cached normal sample.
    for (std::int64_t i = 0; i < n; ++i) data[i] = uniform_one<T>(g, T(0), T(1));
    for (std::int64_t i = 0; i + 16 <= n; i += 16) block(data + i);
    if (n % 16 != 0) {
        // The ragged end is redone as a whole block of 16 fresh uniforms ending at the last
        // element, overwriting normals already made there.
        T* tail = data + n - 16;
        for (int i = 0; i < 16; ++i) tail[i] = uniform_one<T>(g, T(0), T(1));
        block(tail);
    }
}

// A float-to-int64 conversion as x86's cvttss2si/cvttsd2si does it (out of range gives
// the minimum), which is what ATen's unguarded casts below compute on the machines we match.
template <class T>
inline std::int64_t truncate_to_int64(T v) {
    if (!(v >= T(-9223372036854775808.0) && v < T(9223372036854775808.0))) return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(v);
}

inline int floor_log2(std::uint64_t v) {
    int n = 0;
    while (v >>= 1) ++n;
    return n;
}

// For a floating element type ATen first moves `from` up and `to` down to values the type can
// hold (its update_from / update_to), so that e.g. randint(0, 2**40, dtype=float32) draws
// from [0, 2^40 - 2^16): the range, and so the draw, differ from the int64 case.
template <class T>
inline std::int64_t representable_from(std::int64_t from) {
    const std::int64_t rounded = truncate_to_int64(static_cast<T>(from + 1));
    if (rounded < from) {
        const int n = floor_log2(static_cast<std::uint64_t>(from + 1 < 0 ? -(from + 1) : from + 1));
        from = rounded + (std::int64_t{1} << (n - std::numeric_limits<T>::digits + 1));
    }
    return from;
}
template <class T>
inline std::int64_t representable_to(std::int64_t to) {
    const std::int64_t rounded = truncate_to_int64(static_cast<T>(to - 1));
    if (rounded >= to) {
        const int n = floor_log2(static_cast<std::uint64_t>(to - 1 < 0 ? -(to - 1) : to - 1));
        to = rounded - (std::int64_t{1} << (n - std::numeric_limits<T>::digits + 1));
    }
    return to;
}

// Requires from < to_exclusive (torch raises otherwise); values are from + draw % range, with
// a 64-bit draw once the range reaches 2^32 and a 32-bit one below.
template <class T>
void random_from_to_fill(Generator& g, T* data, std::int64_t n, std::int64_t from, std::int64_t to_exclusive) {
    static_assert(!std::is_same_v<T, bool>, "random_(from, to) fills integer or floating-point tensors, not bool ones");
    if constexpr (std::is_floating_point_v<T>) {
        from = representable_from<T>(from);
        to_exclusive = representable_to<T>(to_exclusive);
    }
    if (to_exclusive <= from)  // before any write: nothing to draw from (a modulo by zero)
        throw Error("random_ expects 'from' to be less than 'to', but got from=" + std::to_string(from) +
                    " >= to=" + std::to_string(to_exclusive) + " (as the tensor's dtype holds them)");
    std::lock_guard<std::mutex> lock(g.mutex());
    const std::uint64_t range = static_cast<std::uint64_t>(to_exclusive) - static_cast<std::uint64_t>(from);
    const bool wide = range >= (std::uint64_t{1} << 32);
    for (std::int64_t i = 0; i < n; ++i) {
        const std::uint64_t draw = wide ? g.random64() : g.random();
        data[i] = static_cast<T>(static_cast<std::int64_t>(draw % range + static_cast<std::uint64_t>(from)));
    }
}

}  // namespace ctgrad::detail
