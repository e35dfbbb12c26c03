#pragma once
// Symbolic differentiation: derivative(e, v) is a new expression, built through the simplifier,
// so its type is already simplified. Each op contributes only its local partials (expr/ops);
// the chain rule is applied here, once for all ops.
#include "operators.hpp"

namespace ctgrad::expr {

namespace detail {
template <class Var>
struct not_a_variable {
    static constexpr bool value = false;  // a plain member, so that the compiler's note names Var
};
}  // namespace detail

template <expression E, class V>
CTGRAD_HOST_DEVICE constexpr auto derivative(const E& e, const V& v) {
    static_assert(is_var_v<V> || detail::not_a_variable<V>::value,
                  "derivative(e, v): v must be a variable declared as var<\"name\">, not an expression or a number");
    if constexpr (!is_var_v<V>) {
        return zero_t{};  // already reported; stop before the recursion reports it again
    } else if constexpr (is_var_v<E>) {
        if constexpr (std::is_same_v<E, V>) return one_t{};
        else return zero_t{};
    } else if constexpr (is_constant_v<E> || is_scalar_v<E>) {
        return zero_t{};
    } else if constexpr (is_unary_v<E>) {
        auto da = derivative(e.a, v);
        if constexpr (is_zero_v<decltype(da)>) return zero_t{};
        else return make_mul(E::op::partial(e.a, e), da);
    } else if constexpr (is_binary_v<E>) {
        auto da = derivative(e.a, v);
        auto db = derivative(e.b, v);
        auto lhs = [&] {
            if constexpr (is_zero_v<decltype(da)>) return zero_t{};
            else return make_mul(E::op::partial_lhs(e.a, e.b, e), da);
        }();
        auto rhs = [&] {
            if constexpr (is_zero_v<decltype(db)>) return zero_t{};
            else return make_mul(E::op::partial_rhs(e.a, e.b, e), db);
        }();
        return make_add(lhs, rhs);
    } else {
        static_assert(is_reduction_v<E>);
        constexpr reduction_kind kind = E::op::kind;
        static_assert(kind != reduction_kind::max && kind != reduction_kind::min,
                      "derivative(e, v) of a max() or min() reduction has no expression here (it depends on which "
                      "elements tie): value_and_grad computes its gradient");
        if constexpr (kind == reduction_kind::shift) return zero_t{};  // logsumexp's shift is a constant
        else return make_reduction<typename E::op>(derivative(e.a, v));
    }
}

}  // namespace ctgrad::expr
