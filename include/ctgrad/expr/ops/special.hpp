#pragma once
// Special functions: erf, lgamma, and the polygamma family that lgamma's derivatives need.
//
// erf and lgamma compute through math<T> (the C library for float/double, xsimd for batches).
// There is no C function for digamma, so polygamma_op<N> computes its value here, written once for
// every value type T: no per-element branch, only selects, so a batch runs its lanes together.
#include <array>

#include "../simplify.hpp"
#include "op_traits.hpp"

namespace ctgrad::expr {

namespace detail {

// The argument is moved up by this many steps of the recurrence before the asymptotic series
// applies: for x >= 0.5 the series sees z >= 10.5, where its first ten terms leave an error
// below 1e-17 relative for digamma and below 1e-16 for orders up to 3.
inline constexpr int polygamma_shift = 10;
inline constexpr int polygamma_terms = 10;

// B_2, B_4, ..., B_20.
inline constexpr double even_bernoulli[polygamma_terms] = {
    1.0 / 6,     -1.0 / 30,   1.0 / 42,      -1.0 / 30,    5.0 / 66,
    -691.0 / 2730, 7.0 / 6, -3617.0 / 510, 43867.0 / 798, -174611.0 / 330};

CTGRAD_HOST_DEVICE constexpr double factorial(int n) {
    double f = 1;
    for (int i = 2; i <= n; ++i) f *= i;
    return f;
}

// Coefficients c_k = B_2k (2k + N - 1)! / (2k)! of the asymptotic series of polygamma of order N,
//   psi(z)       ~ log z - 1/(2z) - sum_k c_k / z^2k                             (N = 0)
//   psi^(N)(z)   ~ (-1)^(N+1) [ (N-1)!/z^N + N!/(2 z^(N+1)) + sum_k c_k / z^(2k+N) ]   (N >= 1)
// (for N = 0, (2k - 1)!/(2k)! is 1/(2k), so one formula serves both).
template <int N>
CTGRAD_HOST_DEVICE constexpr std::array<double, polygamma_terms> polygamma_series() {
    std::array<double, polygamma_terms> c{};
    for (int k = 1; k <= polygamma_terms; ++k) {
        double ratio = 1;
        if (N == 0) ratio = 1.0 / (2 * k);
        for (int j = 2 * k + 1; j <= 2 * k + N - 1; ++j) ratio *= j;
        c[k - 1] = even_bernoulli[k - 1] * ratio;
    }
    return c;
}

// The N-th derivative of cot(pi x) is (-pi)^N P_N(cot(pi x)), with P_0(c) = c and
// P_{k+1}(c) = P_k'(c) (1 + c^2), since d/dx cot(pi x) = -pi (1 + cot(pi x)^2).
// Coefficients from the constant term up; all are non-negative, so P_N(+-inf) is +-inf, not NaN.
template <int N>
CTGRAD_HOST_DEVICE constexpr std::array<double, N + 2> cot_derivative_polynomial() {
    std::array<double, N + 2> p{};
    p[1] = 1;
    for (int k = 0; k < N; ++k) {
        std::array<double, N + 2> d{}, q{};
        for (int i = 1; i < N + 2; ++i) d[i - 1] = i * p[i];
        for (int i = 0; i < N + 2; ++i) q[i] = d[i] + (i >= 2 ? d[i - 2] : 0.0);
        p = q;
    }
    return p;
}

CTGRAD_HOST_DEVICE constexpr double pi_power(int n) {
    double r = 1;
    for (int i = 0; i < n; ++i) r *= 3.141592653589793238462643383279502884;
    return r;
}

// psi^(N)(x) from the recurrence psi^(N)(x) = psi^(N)(x + 1) - (-1)^(N+1) N! / x^(N+1), applied
// polygamma_shift times, then the asymptotic series at z = x + polygamma_shift. Exact mathematics
// for any x off the poles; accurate where z is large, that is for x > 0 (see polygamma_op).
template <int N, class T>
CTGRAD_INLINE CTGRAD_HOST_DEVICE T polygamma_by_recurrence(const T& x) {
    using S = scalar_type_t<T>;
    const T one(S(1));
    T z = x;
    T steps(S(0));  // sum of 1 / (x + k)^(N+1) over the steps
    for (int k = 0; k < polygamma_shift; ++k) {
        steps = steps + ipow<-(N + 1)>(z);
        z = z + one;
    }
    const T inv_z = one / z;
    const T w = inv_z * inv_z;
    constexpr auto c = polygamma_series<N>();
    T series = T(S(c[polygamma_terms - 1]));
    for (int k = polygamma_terms - 2; k >= 0; --k) series = series * w + T(S(c[k]));
    series = series * w;
    if constexpr (N == 0) {
        return math<T>::log(z) - T(S(0.5)) * inv_z - series - steps;
    } else {
        const T at_z = ipow<N>(inv_z) * (T(S(factorial(N - 1))) + T(S(factorial(N) / 2)) * inv_z + series);
        const T r = T(S(factorial(N))) * steps + at_z;
        if constexpr (N % 2 == 0) return -r;
        else return r;
    }
}

// "polygamma<N>", the name the printer shows (digamma is N = 0).
template <int N>
struct polygamma_name {
    static constexpr std::array<char, 24> text = [] {
        std::array<char, 24> s{};
        const char prefix[] = "polygamma<";
        int n = 0;
        for (int i = 0; prefix[i]; ++i) s[n++] = prefix[i];
        char digits[12]{};
        int d = 0;
        for (int v = N; v > 0 || d == 0; v /= 10) digits[d++] = static_cast<char>('0' + v % 10);
        while (d > 0) s[n++] = digits[--d];
        s[n] = '>';
        return s;
    }();
};

}  // namespace detail

struct erf_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "erf";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::erf(a); }
    // erf' = 2/sqrt(pi) exp(-a^2); the factor is irrational, so it is a run-time number, not an
    // exact constant of the simplifier.
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_mul(scalar<double>{1.1283791670955125738961589031215452},
                        make_unary<exp_op>(make_neg(make_pow<2>(a))));
    }
};

// log|Gamma(a)|, as PyTorch's lgamma: +inf at the poles 0, -1, -2, ...; its derivative is digamma
// on the whole real line.
struct lgamma_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "lgamma";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::lgamma(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_unary<polygamma_op<0>>(a);
    }
};

// psi^(N), the N-th derivative of digamma psi = Gamma'/Gamma; its derivative is polygamma_op<N+1>,
// so derivatives of any order stay expressions.
//
// Domain: the whole real line. For x > 0 (and digamma at -0) the value comes from the recurrence
// and the asymptotic series; for x < 0 (x <= 0 for N >= 1) from the reflection
//   psi^(N)(x) = (-1)^N [ psi^(N)(1 - x) - pi^(N+1) P_N(cot(pi x)) ]
// (the N-th derivative of psi(1 - x) - psi(x) = pi cot(pi x)), with cot taken of pi times the
// fractional part of x, a product that rounds far less than pi * x for large |x|. In double the
// error for orders 0 to 3 is a few 1e-15 of max(1, |value|): absolute near a root of the value,
// relative elsewhere. At the poles: digamma(+-0) = -+inf and digamma of a negative integer is
// NaN, as in PyTorch; higher orders give +-inf there. Float arguments compute in float.
template <int N>
struct polygamma_op {
    static_assert(N >= 0, "polygamma<N>: the order N must be non-negative");
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = N == 0 ? "digamma" : detail::polygamma_name<N>::text.data();

    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& x) {
        using S = scalar_type_t<T>;
        using M = math<T>;
        const T zero(S(0)), one(S(1));
        // Digamma keeps -0 on the direct side, where -1/x gives PyTorch's +inf.
        const auto reflect = [&] {
            if constexpr (N == 0) return x < zero;
            else return x <= zero;
        }();
        const T direct = detail::polygamma_by_recurrence<N>(M::select(reflect, one - x, x));
        const T frac = x - M::trunc(x);
        const T cot = one / M::tan(T(S(3.141592653589793238462643383279502884)) * frac);
        constexpr auto p = detail::cot_derivative_polynomial<N>();
        T poly = T(S(p[N + 1]));
        for (int i = N; i >= 0; --i) poly = poly * cot + T(S(p[i]));
        T reflected = direct - T(S(detail::pi_power(N + 1))) * poly;
        if constexpr (N % 2 == 1) reflected = -reflected;
        const T r = M::select(reflect, reflected, direct);
        if constexpr (N == 0) return M::select(reflect && frac == zero, T(S(NAN)), r);
        else return r;
    }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_unary<polygamma_op<N + 1>>(a);
    }
};

}  // namespace ctgrad::expr
