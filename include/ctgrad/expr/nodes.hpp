#pragma once
// The three composite node shapes. A node only describes: its operands (held by value, so
// `auto e = x * y;` never dangles) and the op tag. How to compute it, differentiate it or
// print it lives elsewhere (expr/ops, expr/derivative.hpp, expr/to_string.hpp, backend/).
#include "kind.hpp"

namespace ctgrad::expr {

template <class Op, class A>
struct unary {
    static constexpr node_kind kind = node_kind::unary;
    using op = Op;
    A a;
};

template <class Op, class A, class B>
struct binary {
    static constexpr node_kind kind = node_kind::binary;
    using op = Op;
    A a;
    B b;
};

// `sum(e)` or `mean(e)` over every element of the evaluation (all bound arrays share one
// shape; scalars broadcast over it).
template <class Op, class A>
struct reduction {
    static constexpr node_kind kind = node_kind::reduction;
    using op = Op;
    A a;
};

template <class T, class Op>
inline constexpr bool is_unary_op_v = [] {
    if constexpr (is_unary_v<T>) return std::is_same_v<typename std::remove_cvref_t<T>::op, Op>;
    else return false;
}();

template <class T, class Op>
inline constexpr bool is_binary_op_v = [] {
    if constexpr (is_binary_v<T>) return std::is_same_v<typename std::remove_cvref_t<T>::op, Op>;
    else return false;
}();

}  // namespace ctgrad::expr
