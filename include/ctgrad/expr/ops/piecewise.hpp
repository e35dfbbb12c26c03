#pragma once
// Functions with kinks: relu, abs, min, max, and the step functions that are their derivatives.
// At the kink the derivative is PyTorch's: relu'(0) = 0, abs'(0) = 0, and min/max split the
// gradient evenly between tied operands.
#include "../simplify.hpp"
#include "op_traits.hpp"

namespace ctgrad::expr {

struct heaviside_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "step";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::heaviside(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A&, const Out&) { return zero_t{}; }
};

struct sign_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "sign";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::sign(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A&, const Out&) { return zero_t{}; }
};

struct relu_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "relu";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::relu(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_unary<heaviside_op>(a);
    }
};

struct abs_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "abs";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::abs(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_unary<sign_op>(a);
    }
};

struct above_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "above";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a, const T& b) { return math<T>::above(a, b); }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_lhs(const A&, const B&, const Out&) { return zero_t{}; }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_rhs(const A&, const B&, const Out&) { return zero_t{}; }
};

struct max_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "max";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a, const T& b) { return math<T>::max(a, b); }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_lhs(const A& a, const B& b, const Out&) {
        return make_binary<above_op>(a, b);
    }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_rhs(const A& a, const B& b, const Out&) {
        return make_binary<above_op>(b, a);
    }
};

struct min_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "min";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a, const T& b) { return math<T>::min(a, b); }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_lhs(const A& a, const B& b, const Out&) {
        return make_binary<above_op>(b, a);
    }
    template <class A, class B, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial_rhs(const A& a, const B& b, const Out&) {
        return make_binary<above_op>(a, b);
    }
};

}  // namespace ctgrad::expr
