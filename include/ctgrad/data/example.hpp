#pragma once
// data::Example: one sample of a dataset, its data and its target (libtorch's torch::data::Example).
// Example<> holds two Tensors; Example<Tensor, NoTarget> (TensorExample) holds data only.
#include <utility>

#include "../tensor/tensor.hpp"

namespace ctgrad::data {

// The target type of an example that has none.
struct NoTarget {};

template <class Data = Tensor, class Target = Tensor>
struct Example {
    using DataType = Data;
    using TargetType = Target;

    Example() = default;
    Example(Data data, Target target) : data(std::move(data)), target(std::move(target)) {}

    Data data;
    Target target;
};

template <class Data>
struct Example<Data, NoTarget> {
    using DataType = Data;
    using TargetType = NoTarget;

    Example() = default;
    Example(Data data) : data(std::move(data)) {}  // NOLINT: implicit, as libtorch

    operator Data&() { return data; }              // NOLINT
    operator const Data&() const { return data; }  // NOLINT

    Data data;
};

using TensorExample = Example<Tensor, NoTarget>;

}  // namespace ctgrad::data
