#pragma once
// transforms::BatchLambda and transforms::Lambda: a transform from a function, of a whole batch
// or of each example (libtorch's torch::data::transforms::BatchLambda / Lambda).
//   dataset.map(Lambda<Example<>>([](Example<> e) { e.data = e.data * 2; return e; }))
#include <functional>
#include <utility>

#include "base.hpp"

namespace ctgrad::data::transforms {

template <class Input, class Output = Input>
class BatchLambda : public BatchTransform<Input, Output> {
public:
    using typename BatchTransform<Input, Output>::InputBatchType;
    using typename BatchTransform<Input, Output>::OutputBatchType;
    using FunctionType = std::function<OutputBatchType(InputBatchType)>;

    explicit BatchLambda(FunctionType function) : function_(std::move(function)) {}

    OutputBatchType apply_batch(InputBatchType input_batch) override { return function_(std::move(input_batch)); }

private:
    FunctionType function_;
};

template <class Input, class Output = Input>
class Lambda : public Transform<Input, Output> {
public:
    using typename Transform<Input, Output>::InputType;
    using typename Transform<Input, Output>::OutputType;
    using FunctionType = std::function<Output(Input)>;

    explicit Lambda(FunctionType function) : function_(std::move(function)) {}

    OutputType apply(InputType input) override { return function_(std::move(input)); }

private:
    FunctionType function_;
};

}  // namespace ctgrad::data::transforms
