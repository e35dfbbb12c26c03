#pragma once
// + - * / and unary minus. Each op: how to compute it (`apply`), its partial derivatives as
// expressions of its operands `a`, `b` and its own value `out` (used symbolically by
// derivative() and numerically by value_and_grad), and how it prints.
#include "../simplify.hpp"
#include "op_traits.hpp"

namespace ctgrad::expr {

struct neg_op {
    static constexpr print_style style = print_style::prefix;
    static constexpr const char* symbol = "-";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return -a; }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A&, const Out&) {
        return constant<-1, 1>{};
    }
};

struct add_op {
    static constexpr print_style style = print_style::infix_sum;
    static constexpr const char* symbol = " + ";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a, const T& b) { return a + b; }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_lhs(const A&, const B&, const Out&) { return one_t{}; }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_rhs(const A&, const B&, const Out&) { return one_t{}; }
};

struct sub_op {
    static constexpr print_style style = print_style::infix_difference;
    static constexpr const char* symbol = " - ";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a, const T& b) { return a - b; }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_lhs(const A&, const B&, const Out&) { return one_t{}; }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_rhs(const A&, const B&, const Out&) { return constant<-1, 1>{}; }
};

struct mul_op {
    static constexpr print_style style = print_style::infix_product;
    static constexpr const char* symbol = "*";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a, const T& b) { return a * b; }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_lhs(const A&, const B& b, const Out&) { return b; }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_rhs(const A& a, const B&, const Out&) { return a; }
};

struct div_op {
    static constexpr print_style style = print_style::infix_quotient;
    static constexpr const char* symbol = "/";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a, const T& b) { return a / b; }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_lhs(const A&, const B& b, const Out&) {
        return make_div(one_t{}, b);
    }
    // d(a/b)/db = -a/b^2, written with the quotient itself: -(a/b)/b.
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_rhs(const A&, const B& b, const Out& out) {
        return make_neg(make_div(out, b));
    }
};

}  // namespace ctgrad::expr
