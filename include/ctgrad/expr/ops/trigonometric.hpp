#pragma once
#include "../simplify.hpp"
#include "op_traits.hpp"

namespace ctgrad::expr {

struct sin_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "sin";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::sin(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_unary<cos_op>(a);
    }
};

struct cos_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "cos";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::cos(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_neg(make_unary<sin_op>(a));
    }
};

struct tan_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "tan";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::tan(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A&, const Out& out) {
        return make_add(one_t{}, make_pow<2>(out));
    }
};

struct atan_op {
    static constexpr print_style style = print_style::function;
    static constexpr const char* symbol = "atan";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static T apply(const T& a) { return math<T>::atan(a); }
    template <class A, class Out> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr auto partial(const A& a, const Out&) {
        return make_div(one_t{}, make_add(one_t{}, make_pow<2>(a)));
    }
};

}  // namespace ctgrad::expr
