#pragma once
// ExpandingArray<D>: D numbers given as one number (repeated) or a list of D, as libtorch's
// torch::ExpandingArray: the kernel sizes, strides and paddings of the convolution and pooling
// options (`Conv2dOptions(1, 10, 5)` or `Conv2dOptions(1, 10, {5, 3})`). Reads as an
// IntArrayRef and prints as one ("[5, 5]").
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../tensor/int_array_ref.hpp"

namespace ctgrad {

template <std::size_t D, class T = std::int64_t>
class ExpandingArray {
public:
    ExpandingArray(T single) { values_.fill(single); }  // NOLINT: libtorch's kernel_size(5)
    ExpandingArray(std::initializer_list<T> list) : ExpandingArray(std::vector<T>(list)) {}  // NOLINT
    ExpandingArray(const std::vector<T>& values) {  // NOLINT
        if (values.size() != D)
            throw Error("Expected " + std::to_string(D) + " values, but instead got " + std::to_string(values.size()));
        for (std::size_t i = 0; i < D; ++i) values_[i] = values[i];
    }
    ExpandingArray(const std::array<T, D>& values) : values_(values) {}  // NOLINT

    std::array<T, D>& operator*() { return values_; }
    const std::array<T, D>& operator*() const { return values_; }
    std::array<T, D>* operator->() { return &values_; }
    const std::array<T, D>* operator->() const { return &values_; }
    T operator[](std::size_t i) const { return values_[i]; }
    static constexpr std::size_t size() { return D; }

    // The numbers as libtorch's ArrayRef (valid while this array lives).
    operator IntArrayRef() const { return IntArrayRef(values_.data(), D); }  // NOLINT

    friend bool operator==(const ExpandingArray& a, const ExpandingArray& b) { return a.values_ == b.values_; }
    friend std::ostream& operator<<(std::ostream& os, const ExpandingArray& a) { return os << IntArrayRef(a); }

private:
    std::array<T, D> values_{};
};

}  // namespace ctgrad
