#pragma once
// The static expressions the dynamic layer's element-wise ops run: each op over the variables
// g, a, b, o (incoming gradient, operands, output), its forward body and its backward
// formulas g * partial. Kept apart from the Tensor code so that the CUDA translation units can
// instantiate exactly these expressions (device_expressions) without compiling the dynamic layer.
#include <cstdint>
#include <type_traits>

#include "../detail/type_list.hpp"
#include "../expr/core.hpp"
#include "../expr/kernel.hpp"
#include "kernels.hpp"

namespace ctgrad::detail {

// var<"g">, spelled as the node type: nvcc cannot use the var<"..."> alias at namespace scope.
using G = expr::variable<'g'>;
using A = expr::variable<'a'>;
using B = expr::variable<'b'>;
using O = expr::variable<'o'>;
using operand_vars = ctgrad::detail::type_list<G, A, B, O>;

// The local partials of an op, as static expressions of the variables a, b, o, multiplied by
// the incoming gradient g and simplified at compile time (g * 1 is just g).
template <class Op>
using unary_gradient_t = decltype(expr::make_mul(G{}, Op::partial(A{}, O{})));
template <class Op>
using lhs_gradient_t = decltype(expr::make_mul(G{}, Op::partial_lhs(A{}, B{}, O{})));
template <class Op>
using rhs_gradient_t = decltype(expr::make_mul(G{}, Op::partial_rhs(A{}, B{}, O{})));

// Ops whose body is plain arithmetic, valid on integer tensors; the others compute in float.
template <class Op>
inline constexpr bool integer_op_v = std::is_same_v<Op, expr::add_op> || std::is_same_v<Op, expr::sub_op> ||
                                     std::is_same_v<Op, expr::mul_op> || std::is_same_v<Op, expr::neg_op>;

// Every op the dynamic layer runs element-wise (including those its gradient formulas use).
using unary_ops = type_list<expr::neg_op, expr::exp_op, expr::log_op, expr::sin_op, expr::cos_op, expr::tan_op,
                            expr::tanh_op, expr::sigmoid_op, expr::relu_op, expr::sqrt_op, expr::abs_op,
                            expr::sign_op, expr::heaviside_op, expr::ipow_op<2>, expr::ipow_op<3>, expr::ipow_op<4>>;
using binary_ops = type_list<expr::add_op, expr::sub_op, expr::mul_op, expr::div_op, expr::pow_op, expr::max_op,
                             expr::min_op, expr::above_op>;

template <class... Lists> struct concat;
template <class... Ts> struct concat<type_list<Ts...>> { using type = type_list<Ts...>; };
template <class... Ts, class... Us, class... Rest>
struct concat<type_list<Ts...>, type_list<Us...>, Rest...> : concat<type_list<Ts..., Us...>, Rest...> {};

template <class List> struct unary_expressions;
template <class... Ops>
struct unary_expressions<type_list<Ops...>> {
    using type = type_list<expr::unary<Ops, A>..., unary_gradient_t<Ops>...>;
};
template <class List> struct binary_expressions;
template <class... Ops>
struct binary_expressions<type_list<Ops...>> {
    using type = type_list<expr::binary<Ops, A, B>..., lhs_gradient_t<Ops>..., rhs_gradient_t<Ops>...>;
};

// mse_loss: (a - b)^2, and its gradient g * o * (a - b) where o carries the constant factor (2,
// or 2/n for the mean).
using mse_value_t = expr::unary<expr::ipow_op<2>, expr::binary<expr::sub_op, A, B>>;
using mse_grad_t = expr::binary<expr::mul_op, expr::binary<expr::mul_op, G, O>, expr::binary<expr::sub_op, A, B>>;

// The expressions a device backend compiles, numbered by position: A alone (a copy, or a sum
// of one tensor), each op's forward body and its gradient formulas, and the fused losses. A device kernel is asked
// for expression `device_expression_index<E>`; the CUDA library instantiates every entry.
using device_expressions = typename concat<type_list<A>, typename unary_expressions<unary_ops>::type,
                                           typename binary_expressions<binary_ops>::type,
                                           type_list<mse_value_t, mse_grad_t>>::type;

template <class E>
inline constexpr int device_expression_index = index_in_v<E, device_expressions>;

// Whether entry E runs on int64 data too (the forward bodies of the integer ops).
template <class E> inline constexpr bool integer_expression_v = std::is_same_v<E, A>;
template <class Op> inline constexpr bool integer_expression_v<expr::unary<Op, A>> = integer_op_v<Op>;
template <class Op> inline constexpr bool integer_expression_v<expr::binary<Op, A, B>> = integer_op_v<Op>;

// The integer expressions (a variable, or one op over variables) evaluated directly:
// kernel::evaluate computes through math<T>, which exists for floating-point types only.
template <class T, class E, class Ctx>
CTGRAD_INLINE CTGRAD_HOST_DEVICE T evaluate_integer(const Ctx& ctx) {
    if constexpr (expr::is_var_v<E>) return expr::kernel::load<T, E>(ctx);
    else if constexpr (expr::is_unary_v<E>) return E::op::apply(evaluate_integer<T, decltype(E::a)>(ctx));
    else {
        static_assert(expr::is_binary_v<E>, "internal: an integer device expression is a variable or one op");
        return E::op::apply(evaluate_integer<T, decltype(E::a)>(ctx), evaluate_integer<T, decltype(E::b)>(ctx));
    }
}

// A kernel's operands (device_operands) as the evaluators read them: element i of each is
// data[i * stride], or the number passed by value. Both backends bind them so.
template <class S>
using operand_source = expr::kernel::device_source<S>;
template <class S, std::size_t R>
using operand_context =
    expr::kernel::context<operand_vars,
                          ctgrad::detail::tuple<operand_source<S>, operand_source<S>, operand_source<S>, operand_source<S>>,
                          S, R>;

template <class S>
operand_source<S> operand_source_of(const device_operand& op) {
    return {static_cast<const S*>(op.data), op.stride, static_cast<S>(op.value)};
}

template <class S, std::size_t R>
operand_context<S, R> bind_operands(const device_operands& ops, std::int64_t n) {
    return {{operand_source_of<S>(ops.items[0]), operand_source_of<S>(ops.items[1]), operand_source_of<S>(ops.items[2]),
             operand_source_of<S>(ops.items[3])},
            {},
            0,
            static_cast<std::size_t>(n)};
}

}  // namespace ctgrad::detail
