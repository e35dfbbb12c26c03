#pragma once
// The user's vocabulary: operators and functions that build (simplified) expression nodes.
// A plain number next to an expression becomes a runtime scalar node.
#include "ops/arithmetic.hpp"
#include "ops/exponential.hpp"
#include "ops/piecewise.hpp"
#include "ops/power.hpp"
#include "ops/reductions.hpp"
#include "ops/special.hpp"
#include "ops/trigonometric.hpp"

namespace ctgrad::expr {

template <class A, class B>
concept operand_pair = operand<A> && operand<B> && (expression<A> || expression<B>);

template <class A, class B> requires operand_pair<A, B>
CTGRAD_HOST_DEVICE constexpr auto operator+(const A& a, const B& b) { return make_add(as_expr(a), as_expr(b)); }
template <class A, class B> requires operand_pair<A, B>
CTGRAD_HOST_DEVICE constexpr auto operator-(const A& a, const B& b) { return make_sub(as_expr(a), as_expr(b)); }
template <class A, class B> requires operand_pair<A, B>
CTGRAD_HOST_DEVICE constexpr auto operator*(const A& a, const B& b) { return make_mul(as_expr(a), as_expr(b)); }
template <class A, class B> requires operand_pair<A, B>
CTGRAD_HOST_DEVICE constexpr auto operator/(const A& a, const B& b) { return make_div(as_expr(a), as_expr(b)); }
template <expression A>
CTGRAD_HOST_DEVICE constexpr auto operator-(const A& a) { return make_neg(a); }
template <expression A>
CTGRAD_HOST_DEVICE constexpr auto operator+(const A& a) { return a; }

// pow<N>(e): integer power, N may be negative; computed by N-1 multiplications at most.
template <int N, expression A>
CTGRAD_HOST_DEVICE constexpr auto pow(const A& a) { return make_pow<N>(a); }
// pow(e, s): a run-time (or expression) exponent.
template <class A, class B> requires operand_pair<A, B>
CTGRAD_HOST_DEVICE constexpr auto pow(const A& a, const B& b) { return make_binary<pow_op>(as_expr(a), as_expr(b)); }
template <expression A>
CTGRAD_HOST_DEVICE constexpr auto square(const A& a) { return make_pow<2>(a); }

template <expression A> CTGRAD_HOST_DEVICE constexpr auto sqrt(const A& a) { return make_unary<sqrt_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto exp(const A& a) { return make_unary<exp_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto log(const A& a) { return make_unary<log_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto sin(const A& a) { return make_unary<sin_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto cos(const A& a) { return make_unary<cos_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto tan(const A& a) { return make_unary<tan_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto tanh(const A& a) { return make_unary<tanh_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto sigmoid(const A& a) { return make_unary<sigmoid_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto relu(const A& a) { return make_unary<relu_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto abs(const A& a) { return make_unary<abs_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto atan(const A& a) { return make_unary<atan_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto log1p(const A& a) { return make_unary<log1p_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto expm1(const A& a) { return make_unary<expm1_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto erf(const A& a) { return make_unary<erf_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto lgamma(const A& a) { return make_unary<lgamma_op>(a); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto digamma(const A& a) { return make_unary<polygamma_op<0>>(a); }
// polygamma<N>(e): the N-th derivative of digamma (polygamma<0> is digamma).
template <int N, expression A> CTGRAD_HOST_DEVICE constexpr auto polygamma(const A& a) { return make_unary<polygamma_op<N>>(a); }

template <class A, class B> requires operand_pair<A, B>
CTGRAD_HOST_DEVICE constexpr auto min(const A& a, const B& b) { return make_binary<min_op>(as_expr(a), as_expr(b)); }
template <class A, class B> requires operand_pair<A, B>
CTGRAD_HOST_DEVICE constexpr auto max(const A& a, const B& b) { return make_binary<max_op>(as_expr(a), as_expr(b)); }

// Reductions over all elements of the evaluation.
template <expression A> CTGRAD_HOST_DEVICE constexpr auto sum(const A& a) { return reduction<sum_op, A>{a}; }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto mean(const A& a) { return reduction<mean_op, A>{a}; }
// The largest and smallest element (torch.amax / amin over every element); max(a, b) and
// min(a, b) with two operands are element-wise.
template <expression A> CTGRAD_HOST_DEVICE constexpr auto max(const A& a) { return reduction<amax_op, A>{a}; }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto min(const A& a) { return reduction<amin_op, A>{a}; }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto amax(const A& a) { return reduction<amax_op, A>{a}; }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto amin(const A& a) { return reduction<amin_op, A>{a}; }
// log(sum(exp(e))) without overflow, as torch.logsumexp: the largest element is subtracted
// before exp and added back, as a constant (the shift changes no derivative).
template <expression A> CTGRAD_HOST_DEVICE constexpr auto logsumexp(const A& a) {
    const reduction<max_shift_op, A> shift{a};
    return make_add(shift, make_unary<log_op>(reduction<sum_op, decltype(make_unary<exp_op>(make_sub(a, shift)))>{
                               make_unary<exp_op>(make_sub(a, shift))}));
}
// Over every element: e - logsumexp(e), and its exp.
template <expression A> CTGRAD_HOST_DEVICE constexpr auto log_softmax(const A& a) { return make_sub(a, logsumexp(a)); }
template <expression A> CTGRAD_HOST_DEVICE constexpr auto softmax(const A& a) { return make_unary<exp_op>(log_softmax(a)); }

}  // namespace ctgrad::expr
