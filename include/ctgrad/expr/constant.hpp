#pragma once
// Compile-time rational constants. They are empty types, so the simplifier folds them
// (0*x -> 0, 2*3 -> 6, x^1 -> x) entirely at compile time.
#include <cstdint>
#include <numeric>

#include "kind.hpp"

namespace ctgrad::expr {

template <std::intmax_t Num, std::intmax_t Den = 1>
struct constant {
    static_assert(Den > 0, "a constant is stored with a positive denominator");
    static_assert(std::gcd(Num, Den) == 1 || Num == 0, "a constant is stored in lowest terms");
    static constexpr node_kind kind = node_kind::constant;
    static constexpr std::intmax_t num = Num;
    static constexpr std::intmax_t den = Den;

    template <class T>
    CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T as() {
        if constexpr (Den == 1) return T(Num);
        else return T(Num) / T(Den);
    }
};

namespace detail {
constexpr std::intmax_t abs_int(std::intmax_t v) { return v < 0 ? -v : v; }

template <std::intmax_t Num, std::intmax_t Den>
struct make_rational {
    static_assert(Den != 0, "a compile-time constant divides by zero");
    static constexpr std::intmax_t g = Num == 0 ? 1 : std::gcd(abs_int(Num), abs_int(Den));
    static constexpr std::intmax_t sign = Den < 0 ? -1 : 1;
    using type = constant<(Num == 0 ? 0 : sign * Num / g), (Num == 0 ? 1 : sign * Den / g)>;
};
}  // namespace detail

// `rational<1, 2>` is the normalised constant 1/2.
template <std::intmax_t Num, std::intmax_t Den = 1>
using rational = typename detail::make_rational<Num, Den>::type;

// `lit<2>` is the compile-time integer 2 (and `2_c` spells the same).
template <std::intmax_t N>
inline constexpr constant<N, 1> lit{};

using zero_t = constant<0, 1>;
using one_t = constant<1, 1>;

template <class T> inline constexpr bool is_zero_v = std::is_same_v<std::remove_cvref_t<T>, zero_t>;
template <class T> inline constexpr bool is_one_v = std::is_same_v<std::remove_cvref_t<T>, one_t>;

template <class A, class B>
using constant_sum = rational<A::num * B::den + B::num * A::den, A::den * B::den>;
template <class A, class B>
using constant_difference = rational<A::num * B::den - B::num * A::den, A::den * B::den>;
template <class A, class B>
using constant_product = rational<A::num * B::num, A::den * B::den>;
template <class A, class B>
using constant_quotient = rational<A::num * B::den, A::den * B::num>;
template <class A>
using constant_negation = constant<-A::num, A::den>;

namespace detail {
template <class C, int N>
struct constant_power {
    using half = typename constant_power<C, N / 2>::type;
    using squared = constant_product<half, half>;
    using type = std::conditional_t<N % 2 == 0, squared, constant_product<squared, C>>;
};
template <class C>
struct constant_power<C, 0> { using type = one_t; };
}  // namespace detail

// C^N for a non-negative integer N.
template <class C, int N>
using constant_power = typename detail::constant_power<C, N>::type;

inline namespace literals {
namespace literal_parsing {
template <char... Digits>
constexpr std::intmax_t parse_integer() {
    std::intmax_t value = 0;
    for (char c : {Digits...}) {
        if (c == '\'') continue;
        if (c < '0' || c > '9') throw "the _c literal takes a decimal integer, e.g. 2_c";
        value = value * 10 + (c - '0');
    }
    return value;
}
}  // namespace literal_parsing

// `2_c` is the compile-time integer 2.
template <char... Digits>
constexpr auto operator""_c() {
    return constant<literal_parsing::parse_integer<Digits...>(), 1>{};
}
}  // namespace literals

}  // namespace ctgrad::expr
