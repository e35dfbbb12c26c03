#pragma once
// Integer powers, runtime powers and square roots.
#include "../simplify.hpp"
#include "op_traits.hpp"

namespace ctgrad::expr {

template <int N>
struct ipow_op {
    static constexpr print_style style = print_style::power;
    static constexpr int exponent = N;
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return ipow<N>(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_mul(constant<N, 1>{}, make_pow<N - 1>(a));
    }
};

struct sqrt_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "sqrt";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::sqrt(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A&, const Out& out) {
        return make_div(constant<1, 1>{}, make_mul(constant<2, 1>{}, out));
    }
};

// a^b with a run-time exponent. d/da = b*a^(b-1); d/db = a^b*log(a) (NaN for a < 0, as in PyTorch).
struct pow_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "pow";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a, const T& b) { return math<T>::pow(a, b); }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_lhs(const A& a, const B& b, const Out&) {
        return make_mul(b, make_binary<pow_op>(a, make_sub(b, one_t{})));
    }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_rhs(const A& a, const B&, const Out& out) {
        return make_mul(out, make_unary<log_op>(a));
    }
};

}  // namespace ctgrad::expr
