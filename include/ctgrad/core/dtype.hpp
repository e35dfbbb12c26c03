#pragma once
// Element types of the dynamic layer, spelled as libtorch spells them (ctgrad::kFloat, ...).
// `dispatch_dtype` turns a run-time dtype into a compile-time element type, the one place
// where the runtime meets the templated loops.
#include <atomic>
#include <cstdint>
#include <string>
#include <type_traits>

#include "config.hpp"
#include "error.hpp"

namespace ctgrad {

// The enumerators' values are not PyTorch's: the four first dtypes keep the values they had
// before the narrower integers were added (after them), and no code orders dtypes by value.
enum class ScalarType : std::int8_t { Bool, Long, Float, Double, Byte, Char, Short, Int };
using Dtype = ScalarType;

inline constexpr ScalarType kBool = ScalarType::Bool;
inline constexpr ScalarType kByte = ScalarType::Byte;
inline constexpr ScalarType kUInt8 = ScalarType::Byte;
inline constexpr ScalarType kChar = ScalarType::Char;
inline constexpr ScalarType kInt8 = ScalarType::Char;
inline constexpr ScalarType kShort = ScalarType::Short;
inline constexpr ScalarType kInt16 = ScalarType::Short;
inline constexpr ScalarType kInt = ScalarType::Int;
inline constexpr ScalarType kInt32 = ScalarType::Int;
inline constexpr ScalarType kLong = ScalarType::Long;
inline constexpr ScalarType kInt64 = ScalarType::Long;
inline constexpr ScalarType kFloat = ScalarType::Float;
inline constexpr ScalarType kFloat32 = ScalarType::Float;
inline constexpr ScalarType kDouble = ScalarType::Double;
inline constexpr ScalarType kFloat64 = ScalarType::Double;

// The C++ type that holds one element of each dtype (bool is stored as one byte, as in PyTorch).
template <ScalarType S> struct element_of;
template <> struct element_of<kBool> { using type = bool; };
template <> struct element_of<kByte> { using type = std::uint8_t; };
template <> struct element_of<kChar> { using type = std::int8_t; };
template <> struct element_of<kShort> { using type = std::int16_t; };
template <> struct element_of<kInt> { using type = std::int32_t; };
template <> struct element_of<kLong> { using type = std::int64_t; };
template <> struct element_of<kFloat> { using type = float; };
template <> struct element_of<kDouble> { using type = double; };
template <ScalarType S> using element_t = typename element_of<S>::type;

template <class T> inline constexpr bool is_element_type_v =
    std::is_same_v<T, bool> || std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int8_t> ||
    std::is_same_v<T, std::int16_t> || std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t> ||
    std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
constexpr ScalarType dtype_of() {
    static_assert(is_element_type_v<T>,
                  "ctgrad tensors hold bool, uint8_t, int8_t, int16_t, int32_t, int64_t, float or double elements");
    if constexpr (std::is_same_v<T, bool>) return kBool;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return kByte;
    else if constexpr (std::is_same_v<T, std::int8_t>) return kChar;
    else if constexpr (std::is_same_v<T, std::int16_t>) return kShort;
    else if constexpr (std::is_same_v<T, std::int32_t>) return kInt;
    else if constexpr (std::is_same_v<T, std::int64_t>) return kLong;
    else if constexpr (std::is_same_v<T, float>) return kFloat;
    else return kDouble;
}

constexpr std::size_t element_size(ScalarType s) {
    switch (s) {
        case kBool:
        case kByte:
        case kChar: return 1;
        case kShort: return 2;
        case kInt:
        case kFloat: return 4;
        case kLong:
        case kDouble: return 8;
    }
    return 8;
}

constexpr bool is_floating_point(ScalarType s) { return s == kFloat || s == kDouble; }
// c10's isIntegralType: the integer dtypes, and bool where `include_bool` says so.
constexpr bool is_integral(ScalarType s, bool include_bool) {
    return s == kByte || s == kChar || s == kShort || s == kInt || s == kLong || (include_bool && s == kBool);
}

// ATen's names, as its messages spell them ("expected scalar type Float but found Double"), and
// Python's when printing ("torch.float32").
inline const char* dtype_name(ScalarType s) {
    switch (s) {
        case kBool: return "Bool";
        case kByte: return "Byte";
        case kChar: return "Char";
        case kShort: return "Short";
        case kInt: return "Int";
        case kLong: return "Long";
        case kFloat: return "Float";
        case kDouble: return "Double";
    }
    return "?";
}
inline const char* dtype_python_name(ScalarType s) {
    switch (s) {
        case kBool: return "torch.bool";
        case kByte: return "torch.uint8";
        case kChar: return "torch.int8";
        case kShort: return "torch.int16";
        case kInt: return "torch.int32";
        case kLong: return "torch.int64";
        case kFloat: return "torch.float32";
        case kDouble: return "torch.float64";
    }
    return "?";
}
// c10's names of the element types (as some of ATen's messages spell them: "long int").
inline const char* element_type_name(ScalarType s) {
    switch (s) {
        case kBool: return "bool";
        case kByte: return "unsigned char";
        case kChar: return "signed char";
        case kShort: return "short int";
        case kInt: return "int";
        case kLong: return "long int";
        case kFloat: return "float";
        case kDouble: return "double";
    }
    return "?";
}
inline std::string to_string(ScalarType s) { return dtype_name(s); }

// The dtype an operation on two dtypes computes in: PyTorch's promote_types (torch.promote_types).
// Bool < integers < floating point; among floating point and among signed integers the wider
// wins; uint8 with a signed integer gives the signed one, at least int16 wide (uint8 with int8
// is int16, since neither holds the other's values).
constexpr ScalarType promote_types(ScalarType a, ScalarType b) {
    if (a == b) return a;
    if (a == kBool) return b;
    if (b == kBool) return a;
    if (is_floating_point(a) || is_floating_point(b)) {
        if (a == kDouble || b == kDouble) return kDouble;
        return kFloat;
    }
    if (a == kByte || b == kByte) {
        const ScalarType other = a == kByte ? b : a;
        return other == kChar ? kShort : other;
    }
    return element_size(a) >= element_size(b) ? a : b;
}

// The dtype of floating-point results computed from integers (`int_tensor / 2`, `exp(int_tensor)`)
// and of factories given no dtype: float unless set_default_dtype chose double. Process-wide, as
// in PyTorch.
namespace detail {
inline std::atomic<ScalarType>& default_dtype_slot() {
    static std::atomic<ScalarType> dtype{ScalarType::Float};
    return dtype;
}
}  // namespace detail

// caffe2::TypeMeta as far as libtorch's default-dtype functions use it:
// `set_default_dtype(scalarTypeToTypeMeta(kDouble))`, `get_default_dtype() == kFloat`.
class TypeMeta {
public:
    constexpr TypeMeta() = default;
    constexpr explicit TypeMeta(ScalarType s) : s_(s) {}
    constexpr ScalarType toScalarType() const { return s_; }
    const char* name() const { return element_type_name(s_); }
    std::size_t itemsize() const { return element_size(s_); }
    friend constexpr bool operator==(TypeMeta a, TypeMeta b) { return a.s_ == b.s_; }
    friend constexpr bool operator==(TypeMeta a, ScalarType b) { return a.s_ == b; }

private:
    ScalarType s_ = ScalarType::Float;
};
constexpr TypeMeta scalarTypeToTypeMeta(ScalarType s) { return TypeMeta(s); }
constexpr ScalarType typeMetaToScalarType(TypeMeta m) { return m.toScalarType(); }

// PyTorch allows only floating-point default dtypes (float and double here).
void set_default_dtype(ScalarType s);
inline void set_default_dtype(TypeMeta m) { set_default_dtype(m.toScalarType()); }
inline TypeMeta get_default_dtype() { return TypeMeta(detail::default_dtype_slot().load(std::memory_order_relaxed)); }
inline ScalarType get_default_dtype_as_scalartype() { return get_default_dtype().toScalarType(); }

// Calls f(type_tag<T>{}) with T the element type of s.
template <class T> struct type_tag { using type = T; };

template <class F>
decltype(auto) dispatch_dtype(ScalarType s, F&& f) {
    switch (s) {
        case kBool: return f(type_tag<bool>{});
        case kByte: return f(type_tag<std::uint8_t>{});
        case kChar: return f(type_tag<std::int8_t>{});
        case kShort: return f(type_tag<std::int16_t>{});
        case kInt: return f(type_tag<std::int32_t>{});
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

#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad {

CTGRAD_API void set_default_dtype(ScalarType s) {
    if (!is_floating_point(s))
        throw Error(std::string("set_default_dtype: only floating-point types are supported as the default type, got ") +
                    dtype_name(s) + " (expected Float or Double)");
    detail::default_dtype_slot().store(s, std::memory_order_relaxed);
}

}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS
