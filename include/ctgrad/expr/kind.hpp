#pragma once
// What an expression is. Every node type carries a `kind` member: nodes are recognised by that
// tag (or a concept over it), never by partial specialisation on a class-type template
// parameter, which nvcc's front end does not match.
#include <concepts>
#include <type_traits>

#include "../core/config.hpp"
#include "fwd.hpp"

namespace ctgrad::expr {

enum class node_kind { variable, constant, scalar, unary, binary, reduction };

// How a pass combines one reduction's elements (each reduction op names its kind): summed (sum,
// mean), the largest or smallest kept (max, min), or the largest kept as a shift that carries
// no gradient (logsumexp's).
enum class reduction_kind { sum, max, min, shift };

template <class T>
concept expression = requires {
    { std::remove_cvref_t<T>::kind } -> std::convertible_to<node_kind>;
};

template <class T>
concept arithmetic = std::is_arithmetic_v<std::remove_cvref_t<T>>;

// An operand of an operator: an expression, or a plain number that becomes a runtime scalar.
template <class T>
concept operand = expression<T> || arithmetic<T>;

namespace detail {

template <class T, node_kind K>
inline constexpr bool has_kind = [] {
    if constexpr (expression<T>) return std::remove_cvref_t<T>::kind == K;
    else return false;
}();

template <class...> inline constexpr bool always_false = false;

}  // namespace detail

template <class T> inline constexpr bool is_var_v = detail::has_kind<T, node_kind::variable>;
template <class T> inline constexpr bool is_constant_v = detail::has_kind<T, node_kind::constant>;
template <class T> inline constexpr bool is_scalar_v = detail::has_kind<T, node_kind::scalar>;
template <class T> inline constexpr bool is_unary_v = detail::has_kind<T, node_kind::unary>;
template <class T> inline constexpr bool is_binary_v = detail::has_kind<T, node_kind::binary>;
template <class T> inline constexpr bool is_reduction_v = detail::has_kind<T, node_kind::reduction>;

// A "static" expression holds no run-time data (no scalar anywhere in it): two static
// expressions of the same type are the same value, which is what lets the simplifier merge them.
// (Not std::is_empty: a node holding an empty operand still has a member, and so a size.)
template <class E>
constexpr bool is_static() {
    using T = std::remove_cvref_t<E>;
    if constexpr (!expression<T> || T::kind == node_kind::scalar) return false;
    else if constexpr (T::kind == node_kind::unary || T::kind == node_kind::reduction) return is_static<decltype(T::a)>();
    else if constexpr (T::kind == node_kind::binary) return is_static<decltype(T::a)>() && is_static<decltype(T::b)>();
    else return true;  // variables and compile-time constants
}
template <class E>
inline constexpr bool is_static_v = is_static<E>();

template <class A, class B>
inline constexpr bool same_static_v = std::is_same_v<std::remove_cvref_t<A>, std::remove_cvref_t<B>> && is_static_v<A>;

// A runtime scalar node: a number known only when the program runs (`0.5 * x`), also used to
// feed computed values back into derivative rules during evaluation.
template <class T>
struct scalar {
    static constexpr node_kind kind = node_kind::scalar;
    using value_type = T;
    T value;
};

template <class T>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr auto as_expr(const T& t) {
    if constexpr (expression<T>) return t;
    else return scalar<T>{t};
}

template <class T>
using as_expr_t = decltype(as_expr(std::declval<T>()));

}  // namespace ctgrad::expr
