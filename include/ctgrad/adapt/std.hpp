#pragma once
// std::vector, std::array and std::span bind as one-dimensional contiguous arrays.
#include <array>
#include <span>
#include <vector>

#include "../expr/binding.hpp"

namespace ctgrad::expr {

template <class T, class Alloc>
struct container_traits<std::vector<T, Alloc>, std::enable_if_t<std::is_arithmetic_v<T>>> {
    static constexpr bool known = true;
    static constexpr bool is_array = true;
    static constexpr memory_space space = memory_space::host;
    using value_type = T;
    static const T* data(const std::vector<T, Alloc>& c) { return c.data(); }
    static T* data(std::vector<T, Alloc>& c) { return c.data(); }
    static shape_t shape(const std::vector<T, Alloc>& c) { return shape_t{1, {c.size()}}; }
    static void resize(std::vector<T, Alloc>& c, const shape_t& s) { c.resize(s.size()); }
};

template <class T, std::size_t N>
struct container_traits<std::array<T, N>, std::enable_if_t<std::is_arithmetic_v<T>>> {
    static constexpr bool known = true;
    static constexpr bool is_array = true;
    static constexpr memory_space space = memory_space::host;
    using value_type = T;
    using fixed_shape_type = fixed_shape<N>;
    static const T* data(const std::array<T, N>& c) { return c.data(); }
    static T* data(std::array<T, N>& c) { return c.data(); }
    static shape_t shape(const std::array<T, N>&) { return shape_t{1, {N}}; }
};

template <class T, std::size_t Extent>
struct container_traits<std::span<T, Extent>, std::enable_if_t<std::is_arithmetic_v<std::remove_const_t<T>>>> {
    static constexpr bool known = true;
    static constexpr bool is_array = true;
    static constexpr memory_space space = memory_space::host;
    using value_type = std::remove_const_t<T>;
    static const value_type* data(const std::span<T, Extent>& c) { return c.data(); }
    static T* data(std::span<T, Extent>& c) { return c.data(); }
    static shape_t shape(const std::span<T, Extent>& c) { return shape_t{1, {c.size()}}; }
};

}  // namespace ctgrad::expr
