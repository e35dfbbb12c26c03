#pragma once
// Forward declarations of the static layer's types, so that headers can name each other
// (the simplifier names op tags, the op definitions call the simplifier) without include cycles.
#include <cstddef>
#include <cstdint>

namespace ctgrad::expr {

template <std::size_t N> struct fixed_string;
template <char... Chars> struct variable;
template <std::intmax_t Num, std::intmax_t Den> struct constant;
template <class T> struct scalar;
template <class Op, class A> struct unary;
template <class Op, class A, class B> struct binary;
template <class Op, class A> struct reduction;
template <class Var, class Value> struct binding;

// Operation tags: each is one plain struct with a scalar body and its derivative rule
// (see expr/ops/). Declared here so that the simplifier can recognise them by name.
struct neg_op;
template <int N> struct ipow_op;
struct sqrt_op;
struct exp_op;
struct log_op;
struct sin_op;
struct cos_op;
struct tan_op;
struct tanh_op;
struct sigmoid_op;
struct atan_op;
struct log1p_op;
struct expm1_op;
struct erf_op;
struct lgamma_op;
template <int N> struct polygamma_op;  // N = 0: digamma
struct relu_op;
struct abs_op;
struct heaviside_op;  // derivative of relu: 1 where x > 0
struct sign_op;       // derivative of abs
struct add_op;
struct sub_op;
struct mul_op;
struct div_op;
struct pow_op;        // runtime exponent
struct min_op;
struct max_op;
struct above_op;      // derivative of min/max: 1 where a > b, 1/2 on ties, else 0
struct sum_op;
struct mean_op;
struct amax_op;
struct amin_op;
struct max_shift_op;

}  // namespace ctgrad::expr
