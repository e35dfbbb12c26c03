#pragma once
// The values of torch::tensor's nested braced lists, collected on the host: tensor(3),
// tensor({1, 2}), tensor({{1., 2.}, {3., 4.}}), tensor(std::vector<float>{...}).
#include <initializer_list>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "tensor.hpp"

namespace ctgrad {

// Integers give kLong, floating point kFloat, bools kBool.
class TensorData {
public:
    template <class T>
        requires std::is_arithmetic_v<T>
    TensorData(T v) {  // NOLINT
        kind_ = std::is_same_v<T, bool> ? kBool : std::is_integral_v<T> ? kLong : kFloat;
        push(v);
    }
    TensorData(std::initializer_list<TensorData> rows) {  // NOLINT
        init_rows(rows.begin(), rows.end());
    }
    template <class T>
        requires std::is_arithmetic_v<T>
    TensorData(const std::vector<T>& v) {  // NOLINT
        kind_ = std::is_same_v<T, bool> ? kBool : std::is_integral_v<T> ? kLong : kFloat;
        sizes_ = {static_cast<std::int64_t>(v.size())};
        for (const T& x : v) push(x);
    }

    // The tensor of these values: dtype from the options, or the values' kind.
    Tensor make(const TensorOptions& options) const;

private:
    template <class T> void push(T v) {
        doubles_.push_back(static_cast<double>(v));
        longs_.push_back(static_cast<std::int64_t>(v));
    }
    void init_rows(const TensorData* b, const TensorData* e) {
        sizes_ = {static_cast<std::int64_t>(e - b)};
        kind_ = kBool;
        for (const TensorData* r = b; r != e; ++r) {
            if (r != b && r->sizes_ != b->sizes_)
                throw Error("tensor: expected all sub-lists to have the same shape " + shape_str(b->sizes_) + ", got " +
                            shape_str(r->sizes_));
            kind_ = promote_types(kind_, r->kind_);
            doubles_.insert(doubles_.end(), r->doubles_.begin(), r->doubles_.end());
            longs_.insert(longs_.end(), r->longs_.begin(), r->longs_.end());
        }
        if (b != e) sizes_.insert(sizes_.end(), b->sizes_.begin(), b->sizes_.end());
        if (b == e) kind_ = kFloat;
    }
    std::vector<std::int64_t> sizes_;
    ScalarType kind_ = kFloat;
    std::vector<double> doubles_;
    std::vector<std::int64_t> longs_;
};

// The tensor holding `data` (tensor/factories.hpp).
Tensor tensor(const TensorData& data, const TensorOptions& options = {});

}  // namespace ctgrad
