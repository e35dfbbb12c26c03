#pragma once
// Element types of the dynamic layer, spelled as libtorch spells them (ctgrad::kFloat, ...).
// `dispatch_dtype` turns a run-time dtype into a compile-time element type, the one place
// where the runtime meets the templated loops.
#include <cstdint>
#include <string>
#include <type_traits>

#include "error.hpp"

namespace ctgrad {

enum class ScalarType : std::int8_t { Bool, Long, Float, Double };
using Dtype = ScalarType;

inline constexpr ScalarType kBool = ScalarType::Bool;
inline constexpr ScalarType kLong = ScalarType::Long;
inline constexpr ScalarType kInt64 = ScalarType::Long;
inline constexpr ScalarType kFloat = ScalarType::Float;
inline constexpr ScalarType kFloat32 = ScalarType::Float;
inline constexpr ScalarType kDouble = ScalarType::Double;
inline constexpr ScalarType kFloat64 = ScalarType::Double;

// The C++ type that holds one element of each dtype (bool is stored as one byte, as in PyTorch).
template <ScalarType S> struct element_of;
template <> struct element_of<kBool> { using type = bool; };
template <> struct element_of<kLong> { using type = std::int64_t; };
template <> struct element_of<kFloat> { using type = float; };
template <> struct element_of<kDouble> { using type = double; };
template <ScalarType S> using element_t = typename element_of<S>::type;

template <class T> inline constexpr bool is_element_type_v =
    std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
constexpr ScalarType dtype_of() {
    static_assert(is_element_type_v<T>, "ctgrad tensors hold bool, int64_t, float or double elements");
    if constexpr (std::is_same_v<T, bool>) return kBool;
    else if constexpr (std::is_same_v<T, std::int64_t>) return kLong;
    else if constexpr (std::is_same_v<T, float>) return kFloat;
    else return kDouble;
}

constexpr std::size_t element_size(ScalarType s) {
    switch (s) {
        case kBool: return 1;
        case kFloat: return 4;
        default: return 8;
    }
}

constexpr bool is_floating_point(ScalarType s) { return s == kFloat || s == kDouble; }

// ATen's names, as its messages spell them ("expected scalar type Float but found Double"), and
// Python's when printing ("torch.float32").
inline const char* dtype_name(ScalarType s) {
    switch (s) {
        case kBool: return "Bool";
        case kLong: return "Long";
        case kFloat: return "Float";
        case kDouble: return "Double";
    }
    return "?";
}
inline const char* dtype_python_name(ScalarType s) {
    switch (s) {
        case kBool: return "torch.bool";
        case kLong: return "torch.int64";
        case kFloat: return "torch.float32";
        case kDouble: return "torch.float64";
    }
    return "?";
}
inline std::string to_string(ScalarType s) { return dtype_name(s); }

// The dtype an operation on two dtypes computes in (PyTorch's type promotion for these four):
// bool < long < float < double.
constexpr ScalarType promote_types(ScalarType a, ScalarType b) { return a < b ? b : a; }

// Calls f(type_tag<T>{}) with T the element type of s.
template <class T> struct type_tag { using type = T; };

template <class F>
decltype(auto) dispatch_dtype(ScalarType s, F&& f) {
    switch (s) {
        case kBool: return f(type_tag<bool>{});
        case kLong: return f(type_tag<std::int64_t>{});
        case kFloat: return f(type_tag<float>{});
        case kDouble: return f(type_tag<double>{});
    }
    throw Error("internal: unknown dtype");
}

// The same, for operations defined only on floating-point tensors; `op` names the operation
// in the error for the other dtypes.
template <class F>
decltype(auto) dispatch_floating(ScalarType s, const char* op, F&& f) {
    switch (s) {
        case kFloat: return f(type_tag<float>{});
        case kDouble: return f(type_tag<double>{});
        default:
            throw Error(std::string(op) + ": expected a floating-point tensor (float or double), got " + dtype_name(s));
    }
}

}  // namespace ctgrad
