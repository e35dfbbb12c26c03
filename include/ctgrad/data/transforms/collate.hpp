#pragma once
// transforms::Collation and transforms::Collate: a batch transform from a vector of examples to
// one batch value (libtorch's torch::data::transforms::Collation / Collate). Stack<>
// (transforms/stack.hpp) is the collation a data loader usually ends with.
#include <vector>

#include "lambda.hpp"

namespace ctgrad::data::transforms {

template <class BatchType, class T = std::vector<BatchType>>
using Collation = BatchTransform<T, BatchType>;

template <class BatchType, class T = std::vector<BatchType>>
using Collate = BatchLambda<T, BatchType>;

}  // namespace ctgrad::data::transforms
