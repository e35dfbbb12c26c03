#pragma once
// Compile-time questions about an expression: which variables it reads, whether it depends on
// some of them, how many reductions it holds.
#include "../detail/type_list.hpp"
#include "nodes.hpp"

namespace ctgrad::expr {

namespace detail {
using ctgrad::detail::type_list;

template <class E>
struct variables_of {
    using type = type_list<>;
};
template <class E> requires is_var_v<E>
struct variables_of<E> {
    using type = type_list<E>;
};
template <class E> requires(is_unary_v<E> || is_reduction_v<E>)
struct variables_of<E> {
    using type = typename variables_of<decltype(E::a)>::type;
};
template <class E> requires is_binary_v<E>
struct variables_of<E> {
    using type = typename ctgrad::detail::merge_unique<typename variables_of<decltype(E::a)>::type,
                                                       typename variables_of<decltype(E::b)>::type>::type;
};
}  // namespace detail

// The distinct variables of E, in order of first appearance.
template <class E>
using variables_t = typename detail::variables_of<E>::type;

template <class E, class Vars> struct depends_on;
template <class E, class... Vs> struct depends_on<E, detail::type_list<Vs...>> {
    static constexpr bool value = (... || (ctgrad::detail::index_in_v<Vs, variables_t<E>> >= 0));
};
// Whether E reads any of the variables in the type_list Vars.
template <class E, class Vars>
inline constexpr bool depends_on_v = depends_on<E, Vars>::value;

// Reductions are numbered in pre-order: a reduction, then the reductions inside its operand,
// then its siblings. Every loop and every adjoint array uses these numbers.
template <class E>
constexpr int count_reductions() {
    if constexpr (is_reduction_v<E>) return 1 + count_reductions<decltype(E::a)>();
    else if constexpr (is_unary_v<E>) return count_reductions<decltype(E::a)>();
    else if constexpr (is_binary_v<E>) return count_reductions<decltype(E::a)>() + count_reductions<decltype(E::b)>();
    else return 0;
}
template <class E>
inline constexpr int reduction_count_v = count_reductions<E>();

// How deeply reductions nest in E: 0 without reductions, 1 for sum(x), 2 for sum(x - mean(x)).
// A reduction of depth d can only be summed once those of depth d - 1 inside it are known, so
// it is summed in pass d (expr/plan.hpp).
// Values computed once before any pass (hoisted_op) have depth 0.
template <class E>
inline constexpr bool is_hoisted_v = [] {
    if constexpr (is_reduction_v<E>) return requires { E::op::once; };
    else return false;
}();

template <class E>
constexpr int reduction_depth() {
    if constexpr (is_hoisted_v<E>) return 0;
    else if constexpr (is_reduction_v<E>) return 1 + reduction_depth<decltype(E::a)>();
    else if constexpr (is_unary_v<E>) return reduction_depth<decltype(E::a)>();
    else if constexpr (is_binary_v<E>) {
        constexpr int a = reduction_depth<decltype(E::a)>(), b = reduction_depth<decltype(E::b)>();
        return a > b ? a : b;
    } else return 0;
}
template <class E>
inline constexpr int reduction_depth_v = reduction_depth<E>();

// The kinds of E's reductions, in reduction order.
template <reduction_kind... K>
struct kinds_list {
    // The k-th kind (a fold, not an array member: CUDA device code cannot read those).
    CTGRAD_HOST_DEVICE static constexpr reduction_kind at(std::size_t k) {
        reduction_kind found = reduction_kind::sum;
        std::size_t i = 0;
        ((i++ == k ? (found = K, 0) : 0), ...);
        return found;
    }
    // Whether a max() or min() is among them: its gradient needs the count of its ties.
    static constexpr bool has_ties = ((K == reduction_kind::max || K == reduction_kind::min) || ...);
    static constexpr bool all_sums = ((K == reduction_kind::sum) && ...);
};

namespace detail {
template <class A, class B> struct concat_kinds;
template <reduction_kind... A, reduction_kind... B>
struct concat_kinds<kinds_list<A...>, kinds_list<B...>> { using type = kinds_list<A..., B...>; };

template <class E> struct kinds_of { using type = kinds_list<>; };
template <class E> requires is_reduction_v<E>
struct kinds_of<E> {
    using type = typename concat_kinds<kinds_list<E::op::kind>, typename kinds_of<decltype(E::a)>::type>::type;
};
template <class E> requires is_unary_v<E>
struct kinds_of<E> { using type = typename kinds_of<decltype(E::a)>::type; };
template <class E> requires is_binary_v<E>
struct kinds_of<E> {
    using type = typename concat_kinds<typename kinds_of<decltype(E::a)>::type, typename kinds_of<decltype(E::b)>::type>::type;
};
}  // namespace detail

template <class E>
using reduction_kinds_t = typename detail::kinds_of<E>::type;

template <class E>
inline constexpr bool has_ties_v = [] {
    if constexpr (is_reduction_v<E>) return E::op::kind == reduction_kind::max || E::op::kind == reduction_kind::min;
    else return false;
}();

// The passes over the data that E takes: one per depth, and with Grad one more after a max() or
// min() of the deepest level (its ties are found once its value is known).
template <class E, bool Grad>
constexpr int pass_count() {
    if constexpr (is_reduction_v<E>) {
        constexpr int own = reduction_depth_v<E> + (Grad && has_ties_v<E> ? 1 : 0);
        constexpr int inner = pass_count<decltype(E::a), Grad>();
        return own > inner ? own : inner;
    } else if constexpr (is_unary_v<E>) return pass_count<decltype(E::a), Grad>();
    else if constexpr (is_binary_v<E>) {
        constexpr int a = pass_count<decltype(E::a), Grad>(), b = pass_count<decltype(E::b), Grad>();
        return a > b ? a : b;
    } else return 0;
}

// The first sum()/mean() inside another one, or void (for callers that take one level only).
template <class E>
constexpr auto nested_reduction() {
    if constexpr (is_reduction_v<E>) {
        if constexpr (reduction_count_v<decltype(E::a)> > 0) return static_cast<E*>(nullptr);
        else return static_cast<void*>(nullptr);
    } else if constexpr (is_unary_v<E>) return nested_reduction<decltype(E::a)>();
    else if constexpr (is_binary_v<E>) {
        if constexpr (!std::is_void_v<std::remove_pointer_t<decltype(nested_reduction<decltype(E::a)>())>>)
            return nested_reduction<decltype(E::a)>();
        else return nested_reduction<decltype(E::b)>();
    } else return static_cast<void*>(nullptr);
}
template <class E>
using nested_reduction_t = std::remove_pointer_t<decltype(nested_reduction<E>())>;

}  // namespace ctgrad::expr
