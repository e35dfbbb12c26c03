#pragma once
// A number passed where libtorch takes a `Scalar` (`full({2}, 3)`, `t.add_(1.5)`, `t * 2`): it
// remembers whether it was written as a bool, an integer or a floating-point number, which is
// what decides the result dtype (PyTorch's "wrapped number" promotion).
#include <cstdint>
#include <type_traits>

#include "../core/dtype.hpp"

namespace ctgrad {

class Scalar {
public:
    Scalar() = default;
    template <class T>
        requires std::is_arithmetic_v<T>
    Scalar(T v) {  // NOLINT: numbers convert implicitly, as in libtorch
        if constexpr (std::is_same_v<T, bool>) { kind_ = kBool; i_ = v; d_ = v; }
        else if constexpr (std::is_integral_v<T>) { kind_ = kLong; i_ = static_cast<std::int64_t>(v); d_ = static_cast<double>(v); }
        else { kind_ = kDouble; d_ = static_cast<double>(v); i_ = static_cast<std::int64_t>(v); }
    }

    bool is_floating_point() const { return kind_ == kDouble; }
    bool is_integral() const { return kind_ == kLong; }
    bool is_boolean() const { return kind_ == kBool; }
    // kBool, kLong or kDouble: the kind of number written.
    ScalarType kind() const { return kind_; }

    double to_double() const { return d_; }
    std::int64_t to_long() const { return i_; }
    template <class T> T to() const {
        if constexpr (std::is_floating_point_v<T>) return static_cast<T>(d_);
        else if constexpr (std::is_same_v<T, bool>) return kind_ == kDouble ? d_ != 0 : i_ != 0;
        else return kind_ == kDouble ? static_cast<T>(d_) : static_cast<T>(i_);
    }

private:
    ScalarType kind_ = kLong;
    double d_ = 0;
    std::int64_t i_ = 0;
};

}  // namespace ctgrad
