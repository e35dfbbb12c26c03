#pragma once
// The transform interfaces of libtorch's torch::data::transforms:
//
//   BatchTransform<InputBatch, OutputBatch>  apply_batch(batch) -> batch   (the whole batch)
//   Transform<Input, Output>                 apply(example) -> example, applied to each example
//                                            of a std::vector batch by apply_batch
//
// A MapDataset (datasets/map.hpp) calls apply_batch. Transforms are values: map() copies or
// moves them into the dataset.
#include <utility>
#include <vector>

namespace ctgrad::data::transforms {

template <class InputBatch, class OutputBatch>
class BatchTransform {
public:
    using InputBatchType = InputBatch;
    using OutputBatchType = OutputBatch;

    virtual ~BatchTransform() = default;

    virtual OutputBatch apply_batch(InputBatch input_batch) = 0;
};

template <class Input, class Output>
class Transform : public BatchTransform<std::vector<Input>, std::vector<Output>> {
public:
    using InputType = Input;
    using OutputType = Output;

    virtual OutputType apply(InputType input) = 0;

    std::vector<Output> apply_batch(std::vector<Input> input_batch) override;
};

// Defined out of the class, so not inline: where a header declares an instantiation extern
// (Transform<Example<>, Example<>>, transforms/tensor.hpp), programs use the library's.
template <class Input, class Output>
std::vector<Output> Transform<Input, Output>::apply_batch(std::vector<Input> input_batch) {
    std::vector<Output> output_batch;
    output_batch.reserve(input_batch.size());
    for (auto& input : input_batch) output_batch.push_back(apply(std::move(input)));
    return output_batch;
}

}  // namespace ctgrad::data::transforms
