#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../core/config.hpp"

namespace ctgrad::detail {

template <class... Ts> struct type_list { static constexpr std::size_t size = sizeof...(Ts); };

template <class T, class List> struct index_in;
template <class T, class... Ts> struct index_in<T, type_list<Ts...>> {
    static constexpr int value = [] {
        int i = 0, found = -1;
        ((std::is_same_v<T, Ts> ? (found = found < 0 ? i : found, ++i) : ++i), ...);
        return found;
    }();
};
// Position of T in List, or -1.
template <class T, class List> inline constexpr int index_in_v = index_in<T, List>::value;

template <class List, class T> struct push_unique;
template <class... Ts, class T> struct push_unique<type_list<Ts...>, T> {
    using type = std::conditional_t<(std::is_same_v<T, Ts> || ...), type_list<Ts...>, type_list<Ts..., T>>;
};

template <class A, class B> struct merge_unique;
template <class A> struct merge_unique<A, type_list<>> { using type = A; };
template <class A, class T, class... Ts> struct merge_unique<A, type_list<T, Ts...>> {
    using type = typename merge_unique<typename push_unique<A, T>::type, type_list<Ts...>>::type;
};

// A fixed-size array usable in device code; N may be 0.
template <class T, std::size_t N>
struct array {
    T items[N == 0 ? 1 : N];
    CTGRAD_HOST_DEVICE constexpr T& operator[](std::size_t i) { return items[i]; }
    CTGRAD_HOST_DEVICE constexpr const T& operator[](std::size_t i) const { return items[i]; }
};

// A tuple usable in device code (std::tuple's members are not __device__).
template <std::size_t I, class T> struct tuple_leaf { T item; };
template <class Indices, class... Ts> struct tuple_base;
template <std::size_t... Is, class... Ts>
struct tuple_base<std::index_sequence<Is...>, Ts...> : tuple_leaf<Is, Ts>... {};
template <class... Ts>
struct tuple : tuple_base<std::index_sequence_for<Ts...>, Ts...> {};

template <std::size_t I, class T>
CTGRAD_HOST_DEVICE constexpr const T& get(const tuple_leaf<I, T>& leaf) { return leaf.item; }

}  // namespace ctgrad::detail
