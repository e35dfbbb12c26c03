#pragma once
// ArrayRef<T>: a non-owning view of a list of T, as libtorch's c10::ArrayRef, for the signatures
// that take one (a dataset's `get_batch(ArrayRef<size_t> indices)`, `Normalize(ArrayRef<double>
// mean, ...)`). It binds to a braced list, a std::vector or a single value, and is only valid for
// the duration of the call it is passed to. (Sizes and dims keep their own IntArrayRef.)
#include <cstddef>
#include <initializer_list>
#include <vector>

namespace ctgrad {

template <class T>
class ArrayRef {
public:
    using value_type = T;
    using const_iterator = const T*;

    constexpr ArrayRef() = default;
    constexpr ArrayRef(const T& one) : data_(&one), size_(1) {}  // NOLINT: implicit, as libtorch
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
    // Refers to the list's array, which lives until the end of the call's full expression.
    constexpr ArrayRef(std::initializer_list<T> list) : data_(list.begin()), size_(list.size()) {}  // NOLINT
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    template <class Allocator>
    ArrayRef(const std::vector<T, Allocator>& v) : data_(v.data()), size_(v.size()) {}  // NOLINT
    constexpr ArrayRef(const T* data, std::size_t size) : data_(data), size_(size) {}

    constexpr const T* begin() const { return data_; }
    constexpr const T* end() const { return data_ + size_; }
    constexpr const T* data() const { return data_; }
    constexpr std::size_t size() const { return size_; }
    constexpr bool empty() const { return size_ == 0; }
    constexpr const T& operator[](std::size_t i) const { return data_[i]; }
    constexpr const T& front() const { return data_[0]; }
    constexpr const T& back() const { return data_[size_ - 1]; }
    std::vector<T> vec() const { return {begin(), end()}; }

private:
    const T* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace ctgrad
