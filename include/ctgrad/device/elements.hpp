#pragma once
// What one element of a kernel computes, shared by every backend's kernels (device/cpu/,
// device/thrust/) so that the CPU and a GPU agree by construction: dtype conversion, NaN,
// the comparisons, and the order max/min select by.
#include <type_traits>

#include "../core/config.hpp"
#include "kernels.hpp"

namespace ctgrad::detail {

// The dtype conversion of a copy, as PyTorch's (c10's static_cast_with_inter_type): to bool is
// "not zero"; floating point to an integer truncates toward zero, and to uint8 it goes through
// int64 (so -1.5 gives 255: a negative float cast straight to an unsigned type is undefined).
// Values beyond the target's range are undefined in C++ as in PyTorch; on x86-64 both give
// what the conversion instruction gives.
template <class To, class From>
CTGRAD_INLINE CTGRAD_HOST_DEVICE To convert_element(From v) {
    if constexpr (std::is_same_v<To, bool>) return v != From(0);
    else if constexpr (std::is_same_v<To, unsigned char> && std::is_floating_point_v<From>)
        return static_cast<To>(static_cast<long long>(v));
    else return static_cast<To>(v);
}

// NaN is the one value unequal to itself; integers and bools have none.
template <class T>
CTGRAD_INLINE CTGRAD_HOST_DEVICE bool is_nan(T v) {
    if constexpr (std::is_floating_point_v<T>) return v != v;
    else return false;
}

template <class T>
CTGRAD_INLINE CTGRAD_HOST_DEVICE bool holds(device_relation r, T a, T b) {
    switch (r) {
        case device_relation::eq: return a == b;
        case device_relation::ne: return a != b;
        case device_relation::lt: return a < b;
        case device_relation::le: return a <= b;
        case device_relation::gt: return a > b;
        case device_relation::ge: return a >= b;
        case device_relation::same: return a == b || (is_nan(a) && is_nan(b));
    }
    return false;
}

// Whether `a` replaces the best element so far `b` in a max (Largest) or min: NaN beats every
// number, and ties keep the earlier element.
template <class T, bool Largest>
CTGRAD_INLINE CTGRAD_HOST_DEVICE bool beats(T a, T b) {
    if constexpr (Largest) return a > b || (is_nan(a) && !is_nan(b));
    else return a < b || (is_nan(a) && !is_nan(b));
}

// a + b, as accumulate adds: bool adds as "or".
template <class T>
CTGRAD_INLINE CTGRAD_HOST_DEVICE T accumulated(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) return a || b;
    else return a + b;
}

// The fill value as element type T (an integer fill stays exact beyond 2^53).
template <class T>
T fill_as(const fill_value& v) {
    return v.integral ? convert_element<T>(v.integer) : convert_element<T>(v.real);
}

}  // namespace ctgrad::detail
