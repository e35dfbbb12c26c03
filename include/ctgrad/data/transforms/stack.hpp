#pragma once
// transforms::Stack<>: collates a batch (a vector of examples) into one example whose data and
// target are the examples' tensors stacked along a new first dim (libtorch's
// torch::data::transforms::Stack). N examples of data [1, 28, 28] and target [] give data
// [N, 1, 28, 28] and target [N]. Stack<TensorExample> stacks data only. The tensors of a batch
// must have one shape (ctgrad::stack's error otherwise).
#include <vector>

#include "../../core/config.hpp"
#include "../example.hpp"
#include "collate.hpp"

namespace ctgrad::data::transforms {

template <class T = Example<>>
struct Stack;

template <>
struct Stack<Example<>> : public Collation<Example<>> {
    Example<> apply_batch(std::vector<Example<>> examples) override;
};

template <>
struct Stack<TensorExample> : public Collation<TensorExample> {
    TensorExample apply_batch(std::vector<TensorExample> examples) override;
};

}  // namespace ctgrad::data::transforms

// Both collations are of the library's own types: compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <utility>

#include "../../tensor/functions.hpp"

namespace ctgrad::data::transforms {

CTGRAD_API Example<> Stack<Example<>>::apply_batch(std::vector<Example<>> examples) {
    std::vector<Tensor> data, targets;
    data.reserve(examples.size());
    targets.reserve(examples.size());
    for (auto& example : examples) {
        data.push_back(std::move(example.data));
        targets.push_back(std::move(example.target));
    }
    return {ctgrad::stack(data), ctgrad::stack(targets)};
}

CTGRAD_API TensorExample Stack<TensorExample>::apply_batch(std::vector<TensorExample> examples) {
    std::vector<Tensor> data;
    data.reserve(examples.size());
    for (auto& example : examples) data.push_back(std::move(example.data));
    return ctgrad::stack(data);
}

}  // namespace ctgrad::data::transforms
#endif  // CTGRAD_RUNTIME_DEFINITIONS
