#pragma once
// Thrust vectors bind as one-dimensional arrays, in the memory of their system (GPU memory for
// thrust::device_vector under CUDA; host memory under the OpenMP, TBB and CPP systems). Raw
// device memory (from cudaMalloc, a CUDA tensor's data_ptr(), another library) binds through
// device_span: `x = device_span(p, n)`.
#include <thrust/device_vector.h>
#include <thrust/host_vector.h>
#include <thrust/iterator/iterator_traits.h>

#include "thrust_system.hpp"

namespace ctgrad::expr {

template <class T, class Alloc>
struct container_traits<thrust::detail::vector_base<T, Alloc>, std::enable_if_t<std::is_arithmetic_v<T>>> {
    using vector = thrust::detail::vector_base<T, Alloc>;
    static constexpr bool known = true;
    static constexpr bool is_array = true;
    static constexpr memory_space space =
        thrust_backend::space_of<typename thrust::iterator_system<typename vector::iterator>::type>();
    using value_type = T;
    static const T* data(const vector& c) { return thrust::raw_pointer_cast(c.data()); }
    static T* data(vector& c) { return thrust::raw_pointer_cast(c.data()); }
    static shape_t shape(const vector& c) { return shape_t{1, {c.size()}}; }
    static void resize(vector& c, const shape_t& s) { c.resize(s.size()); }
};

template <class T, class Alloc>
struct container_traits<thrust::host_vector<T, Alloc>> : container_traits<thrust::detail::vector_base<T, Alloc>> {};
template <class T, class Alloc>
struct container_traits<thrust::device_vector<T, Alloc>> : container_traits<thrust::detail::vector_base<T, Alloc>> {};

// n elements at p in the memory of Thrust's device system. A raw pointer cannot say where it
// points, so the span says it; the backend then checks at compile time that it can read there.
template <class T>
struct device_span {
    T* data;
    std::size_t size;
};
template <class T>
device_span(T*, std::size_t) -> device_span<T>;

template <class T>
struct container_traits<device_span<T>, std::enable_if_t<std::is_arithmetic_v<std::remove_const_t<T>>>> {
    static constexpr bool known = true;
    static constexpr bool is_array = true;
    static constexpr memory_space space = thrust_backend::space_of<thrust::device_system_tag>();
    using value_type = std::remove_const_t<T>;
    static const value_type* data(const device_span<T>& c) { return c.data; }
    static T* data(device_span<T>& c) { return c.data; }
    static shape_t shape(const device_span<T>& c) { return shape_t{1, {c.size}}; }
};

}  // namespace ctgrad::expr
