#pragma once
// The simplifier: constructors that build a node already simplified. Every operator and every
// derivative rule goes through them, so simplification happens as types are formed, once.
//
// Rules (all at compile time; only "static" subexpressions, holding no run-time data, merge):
//   0 and 1 folding            0*a -> 0, 1*a -> a, a+0 -> a, a^1 -> a, a^0 -> 1, a/1 -> a
//   constant folding           2*3 -> 6, 1/2 + 1/3 -> 5/6, (2)^3 -> 8, -(3) -> -3
//   constants to the front     a*2 -> 2*a, 2*(3*a) -> 6*a, a/2 -> 1/2*a
//   like terms                 a + a -> 2*a, 2*a - a -> a, a - a -> 0
//   powers                     a*a -> a^2, a^2*a -> a^3, (a^2)^3 -> a^6
//   signs                      -(-a) -> a, a + -b -> a - b, a - -b -> a + b, (-1)*a -> -a
#include "constant.hpp"
#include "nodes.hpp"

namespace ctgrad::expr {

namespace detail {

// Guarded pattern tests: `&&` in `if constexpr` does not stop the right side from being formed,
// so each pattern that looks inside a node is one trait.
template <class T>
inline constexpr bool is_scaled_v = [] {  // c * e, c a constant
    if constexpr (is_binary_op_v<T, mul_op>) return is_constant_v<decltype(T::a)>;
    else return false;
}();
template <class T>
inline constexpr bool is_negative_constant_v = [] {
    if constexpr (is_constant_v<T>) return T::num < 0;
    else return false;
}();
template <class T>
inline constexpr bool is_nonzero_constant_v = [] {
    if constexpr (is_constant_v<T>) return T::num != 0;
    else return false;
}();
template <class T>
inline constexpr bool is_reciprocal_v = [] {  // 1 / e
    if constexpr (is_binary_op_v<T, div_op>) return is_one_v<decltype(T::a)>;
    else return false;
}();
template <class T, class Op>
inline constexpr bool ends_in_constant_v = [] {  // e + c or e - c
    if constexpr (is_binary_op_v<T, Op>) return is_constant_v<decltype(T::b)>;
    else return false;
}();
template <class T>
inline constexpr bool is_minus_one_v = std::is_same_v<T, constant<-1, 1>>;
template <class T>
inline constexpr bool is_negatively_scaled_v = [] {
    if constexpr (is_scaled_v<T>) return is_negative_constant_v<decltype(T::a)>;
    else return false;
}();

template <class Op> struct ipow_exponent { static constexpr bool is_ipow = false; };
template <int N> struct ipow_exponent<ipow_op<N>> {
    static constexpr bool is_ipow = true;
    static constexpr int value = N;
};

template <class T>
inline constexpr bool is_ipow_v = [] {
    if constexpr (is_unary_v<T>) return ipow_exponent<typename T::op>::is_ipow;
    else return false;
}();

// a == c * base, with c a constant; c is 1 where there is no constant factor.
template <class A>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto coefficient_of(const A&) {
    if constexpr (detail::is_scaled_v<A>) return decltype(A::a){};
    else if constexpr (is_unary_op_v<A, neg_op>) return constant<-1, 1>{};
    else return one_t{};
}
template <class A>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto base_of(const A& a) {
    if constexpr (detail::is_scaled_v<A>) return a.b;
    else if constexpr (is_unary_op_v<A, neg_op>) return a.a;
    else return a;
}

// a == base ^ n; n is 1 where a is no integer power.
template <class A>
inline constexpr int power_of = [] {
    if constexpr (is_ipow_v<A>) return ipow_exponent<typename A::op>::value;
    else return 1;
}();
template <class A>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto power_base_of(const A& a) {
    if constexpr (is_ipow_v<A>) return a.a;
    else return a;
}

}  // namespace detail

template <class A>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto make_neg(const A& a) {
    if constexpr (is_constant_v<A>) return constant_negation<A>{};
    else if constexpr (is_unary_op_v<A, neg_op>) return a.a;
    else if constexpr (detail::is_scaled_v<A>)
        return make_mul(constant_negation<decltype(A::a)>{}, a.b);
    else return unary<neg_op, A>{a};
}

template <int N, class A>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto make_pow(const A& a) {
    if constexpr (N == 0) return one_t{};
    else if constexpr (N == 1) return a;
    else if constexpr (is_constant_v<A> && N > 0) return constant_power<A, N>{};
    else if constexpr (detail::is_nonzero_constant_v<A>) return constant_quotient<one_t, constant_power<A, -N>>{};
    else if constexpr (detail::is_ipow_v<A>) return make_pow<N * detail::power_of<A>>(a.a);
    else return unary<ipow_op<N>, A>{a};
}

template <class A, class B>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto make_mul(const A& a, const B& b) {
    if constexpr (is_zero_v<A> || is_zero_v<B>) return zero_t{};
    else if constexpr (is_one_v<A>) return b;
    else if constexpr (is_one_v<B>) return a;
    else if constexpr (is_constant_v<A> && is_constant_v<B>) return constant_product<A, B>{};
    else if constexpr (is_constant_v<B>) return make_mul(b, a);
    else if constexpr (is_constant_v<A>) {
        if constexpr (detail::is_scaled_v<B>)
            return make_mul(constant_product<A, decltype(B::a)>{}, b.b);
        else if constexpr (is_unary_op_v<B, neg_op>) return make_mul(constant_negation<A>{}, b.a);
        else if constexpr (detail::is_minus_one_v<A>) return make_neg(b);
        else return binary<mul_op, A, B>{a, b};
    } else if constexpr (detail::is_scaled_v<A>)
        return make_mul(a.a, make_mul(a.b, b));
    else if constexpr (detail::is_scaled_v<B>)
        return make_mul(b.a, make_mul(a, b.b));
    else if constexpr (is_scalar_v<B> && !is_scalar_v<A>) return make_mul(b, a);
    else if constexpr (detail::is_reciprocal_v<B>) return make_div(a, b.b);
    else if constexpr (detail::is_reciprocal_v<A>) return make_div(b, a.b);
    else if constexpr (is_unary_op_v<A, neg_op>) return make_neg(make_mul(a.a, b));
    else if constexpr (is_unary_op_v<B, neg_op>) return make_neg(make_mul(a, b.a));
    else if constexpr (same_static_v<decltype(detail::power_base_of(a)), decltype(detail::power_base_of(b))>)
        return make_pow<detail::power_of<A> + detail::power_of<B>>(detail::power_base_of(a));
    else return binary<mul_op, A, B>{a, b};
}

template <class A, class B>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto make_div(const A& a, const B& b) {
    if constexpr (is_one_v<B>) return a;
    else if constexpr (is_zero_v<A> && !is_zero_v<B>) return zero_t{};
    else if constexpr (is_constant_v<A> && detail::is_nonzero_constant_v<B>) return constant_quotient<A, B>{};
    else if constexpr (same_static_v<A, B>) return one_t{};
    else if constexpr (detail::is_nonzero_constant_v<B>) return make_mul(constant_quotient<one_t, B>{}, a);
    else return binary<div_op, A, B>{a, b};
}

template <class A, class B>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto make_add(const A& a, const B& b) {
    using base_a = decltype(detail::base_of(a));
    using base_b = decltype(detail::base_of(b));
    if constexpr (is_zero_v<A>) return b;
    else if constexpr (is_zero_v<B>) return a;
    else if constexpr (is_constant_v<A> && is_constant_v<B>) return constant_sum<A, B>{};
    else if constexpr (is_constant_v<A>) return make_add(b, a);
    else if constexpr (is_constant_v<B> && detail::ends_in_constant_v<A, add_op>)
        return make_add(a.a, constant_sum<decltype(A::b), B>{});
    else if constexpr (is_constant_v<B> && detail::ends_in_constant_v<A, sub_op>)
        return make_add(a.a, constant_difference<B, decltype(A::b)>{});
    else if constexpr (same_static_v<base_a, base_b>)
        return make_mul(constant_sum<decltype(detail::coefficient_of(a)), decltype(detail::coefficient_of(b))>{},
                        detail::base_of(a));
    else if constexpr (is_unary_op_v<B, neg_op>) return make_sub(a, b.a);
    else if constexpr (detail::is_negatively_scaled_v<B>)
        return make_sub(a, make_mul(constant_negation<decltype(B::a)>{}, b.b));
    else if constexpr (detail::is_negative_constant_v<B>) return make_sub(a, constant_negation<B>{});
    else return binary<add_op, A, B>{a, b};
}

template <class A, class B>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto make_sub(const A& a, const B& b) {
    using base_a = decltype(detail::base_of(a));
    using base_b = decltype(detail::base_of(b));
    if constexpr (is_zero_v<B>) return a;
    else if constexpr (is_zero_v<A>) return make_neg(b);
    else if constexpr (is_constant_v<A> && is_constant_v<B>) return constant_difference<A, B>{};
    else if constexpr (is_constant_v<B> && detail::ends_in_constant_v<A, add_op>)
        return make_add(a.a, constant_difference<decltype(A::b), B>{});
    else if constexpr (is_constant_v<B> && detail::ends_in_constant_v<A, sub_op>)
        return make_sub(a.a, constant_sum<decltype(A::b), B>{});
    else if constexpr (same_static_v<base_a, base_b>)
        return make_mul(
            constant_difference<decltype(detail::coefficient_of(a)), decltype(detail::coefficient_of(b))>{},
            detail::base_of(a));
    else if constexpr (is_unary_op_v<B, neg_op>) return make_add(a, b.a);
    else if constexpr (detail::is_negatively_scaled_v<B>)
        return make_add(a, make_mul(constant_negation<decltype(B::a)>{}, b.b));
    else return binary<sub_op, A, B>{a, b};
}

// Ops with no algebraic rules of their own are built as plain nodes.
template <class Op, class A>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto make_unary(const A& a) {
    if constexpr (std::is_same_v<Op, neg_op>) return make_neg(a);
    else return unary<Op, A>{a};
}

template <class Op, class A, class B>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto make_binary(const A& a, const B& b) {
    if constexpr (std::is_same_v<Op, add_op>) return make_add(a, b);
    else if constexpr (std::is_same_v<Op, sub_op>) return make_sub(a, b);
    else if constexpr (std::is_same_v<Op, mul_op>) return make_mul(a, b);
    else if constexpr (std::is_same_v<Op, div_op>) return make_div(a, b);
    else return binary<Op, A, B>{a, b};
}

// The derivative of a reduction is the reduction of the derivative; a reduction of 0 is 0.
template <class Op, class A>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto make_reduction(const A& a) {
    if constexpr (is_zero_v<A>) return zero_t{};
    else return reduction<Op, A>{a};
}

}  // namespace ctgrad::expr
