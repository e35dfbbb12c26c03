#pragma once
// exp, log, and the functions built on exp: tanh and sigmoid (whose derivatives are cheapest
// written with their own value), and log1p/expm1, which keep full precision for arguments near 0
// where log(1 + a) and exp(a) - 1 would cancel.
#include "../simplify.hpp"
#include "op_traits.hpp"

namespace ctgrad::expr {

struct exp_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "exp";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::exp(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A&, const Out& out) { return out; }
};

struct log_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "log";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::log(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_div(one_t{}, a);
    }
};

struct tanh_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "tanh";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::tanh(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A&, const Out& out) {
        return make_sub(one_t{}, make_pow<2>(out));
    }
};

struct sigmoid_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "sigmoid";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) {
        const T one(scalar_type_t<T>(1));
        return one / (one + math<T>::exp(-a));
    }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A&, const Out& out) {
        return make_mul(out, make_sub(one_t{}, out));
    }
};

struct log1p_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "log1p";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::log1p(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_div(one_t{}, make_add(a, one_t{}));
    }
};

// expm1' = exp(a), written as out + 1 so that the gradient reuses the value instead of a second exp.
struct expm1_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "expm1";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::expm1(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A&, const Out& out) {
        return make_add(out, one_t{});
    }
};

}  // namespace ctgrad::expr
