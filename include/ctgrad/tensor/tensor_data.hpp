#pragma once
// The values of torch::tensor's nested braced lists, collected on the host: tensor(3),
// tensor({1, 2}), tensor({{1., 2.}, {3., 4.}}), tensor(std::vector<float>{...}).
#include <initializer_list>
#include <type_traits>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "tensor.hpp"

namespace ctgrad {

// The dtype of the values follows libtorch's torch::tensor: int and int64_t values give kLong,
// float and double the default dtype (kFloat unless set_default_dtype chose kDouble), bool,
// uint8_t, int8_t and int16_t their own dtype. As in libtorch, every value of one list has the
// same C++ type: tensor({1, 2.5}) is an Error (write 1. or 1.0), and so is tensor({1, 2L}).
class TensorData {
public:
    template <class T>
        requires std::is_arithmetic_v<T>
    TensorData(T v) {  // NOLINT
        type_ = source_type<T>();
        push(v);
    }
    TensorData(std::initializer_list<TensorData> rows) {  // NOLINT
        init_rows(rows.begin(), rows.end());
    }
    template <class T>
        requires std::is_arithmetic_v<T>
    TensorData(const std::vector<T>& v) {  // NOLINT
        type_ = source_type<T>();
        sizes_ = {static_cast<std::int64_t>(v.size())};
        for (const T& x : v) push(x);
    }

    // The tensor of these values: dtype from the options, or the values' type.
    Tensor make(const TensorOptions& options) const;

    // The dtype the values take without a dtype in the options (libtorch's compute_desired_dtype).
    ScalarType desired_dtype() const;

private:
    // The dtype of the C++ type the values were written in (libtorch's TensorDataContainer
    // scalar type); integer types libtorch has no dtype for take the signed one of their width.
    template <class T> static constexpr ScalarType source_type() {
        if constexpr (std::is_same_v<T, bool>) return kBool;
        else if constexpr (std::is_floating_point_v<T>) return sizeof(T) == sizeof(float) ? kFloat : kDouble;
        else if constexpr (sizeof(T) == 1) return std::is_unsigned_v<T> ? kByte : kChar;
        else if constexpr (std::is_unsigned_v<T>) {
            static_assert(sizeof(T) == 1, "tensor(): unsigned integers wider than uint8_t have no dtype (as in libtorch); "
                                          "convert the values to a signed type first");
            return kLong;
        }
        else if constexpr (sizeof(T) == 2) return kShort;
        else if constexpr (sizeof(T) == 4) return kInt;
        else return kLong;
    }
    template <class T> void push(T v) {
        doubles_.push_back(static_cast<double>(v));
        longs_.push_back(static_cast<std::int64_t>(v));
    }
    void init_rows(const TensorData* b, const TensorData* e);
    std::vector<std::int64_t> sizes_;
    ScalarType type_ = kFloat;
    std::vector<double> doubles_;
    std::vector<std::int64_t> longs_;
};

// The tensor holding `data` (tensor/factories.hpp).
Tensor tensor(const TensorData& data, const TensorOptions& options = {});

}  // namespace ctgrad

#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad {

CTGRAD_API ScalarType TensorData::desired_dtype() const {
    if (type_ == kInt || type_ == kLong) return kLong;
    if (is_floating_point(type_)) return get_default_dtype_as_scalartype();
    return type_;
}

CTGRAD_API void TensorData::init_rows(const TensorData* b, const TensorData* e) {
    sizes_ = {static_cast<std::int64_t>(e - b)};
    if (b == e) {  // tensor({}): an empty float tensor, as libtorch's
        type_ = kFloat;
        return;
    }
    type_ = b->type_;
    for (const TensorData* r = b; r != e; ++r) {
        if (r->type_ != type_)
            throw Error(std::string("tensor: Expected all elements of the tensor to have the same scalar type: ") +
                        dtype_name(type_) + ", but got element of scalar type: " + dtype_name(r->type_));
        if (r->sizes_ != b->sizes_)
            throw Error("tensor: expected all sub-lists to have the same shape " + shape_str(b->sizes_) + ", got " +
                        shape_str(r->sizes_));
    }
    // All checked before anything is copied: an Error leaves nothing half-built.
    for (const TensorData* r = b; r != e; ++r) {
        doubles_.insert(doubles_.end(), r->doubles_.begin(), r->doubles_.end());
        longs_.insert(longs_.end(), r->longs_.begin(), r->longs_.end());
    }
    sizes_.insert(sizes_.end(), b->sizes_.begin(), b->sizes_.end());
}

}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS
