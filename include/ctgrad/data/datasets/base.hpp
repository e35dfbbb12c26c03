#pragma once
// The dataset interfaces of libtorch's torch::data::datasets, as CRTP bases:
//
//   BatchDataset<Self, Batch, BatchRequest>  get_batch(request) -> Batch; size() -> optional<size_t>
//   Dataset<Self, SingleExample>             get(index) -> SingleExample; get_batch(indices) calls
//                                            get for each index, in order
//
// A dataset is a value (the data loader takes it by value and owns it); `.map(transform)` wraps
// it in a MapDataset (datasets/map.hpp) that applies a transform to each batch. Only stateless
// datasets (random access by index) exist here: libtorch's StatefulDataset and StreamDataset are
// not provided.
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "../../tensor/array_ref.hpp"
#include "../example.hpp"

namespace ctgrad::data::datasets {

template <class Source, class Transform>
class MapDataset;
template <class Source, class Transform>
MapDataset<Source, Transform> map(Source dataset, Transform transform);

template <class Self, class Batch = std::vector<Example<>>, class BatchRequest = ArrayRef<std::size_t>>
class BatchDataset {
public:
    using SelfType = Self;
    using BatchType = Batch;
    using BatchRequestType = BatchRequest;
    static constexpr bool is_stateful = false;

    virtual ~BatchDataset() = default;

    // The batch of data that `request` asks for.
    virtual Batch get_batch(BatchRequest request) = 0;

    // The number of examples, or nullopt for a dataset of unknown size.
    virtual std::optional<std::size_t> size() const = 0;

    // A MapDataset that applies `transform` to each batch of this dataset (a copy of it; from
    // an rvalue, the dataset itself, moved).
    template <class Transform>
    MapDataset<Self, Transform> map(Transform transform) & {
        return datasets::map(static_cast<Self&>(*this), std::move(transform));
    }
    template <class Transform>
    MapDataset<Self, Transform> map(Transform transform) && {
        return datasets::map(std::move(static_cast<Self&>(*this)), std::move(transform));
    }
};

// A dataset with random access: get(index) gives one example, and a batch is the examples at
// the requested indices.
template <class Self, class SingleExample = Example<>>
class Dataset : public BatchDataset<Self, std::vector<SingleExample>> {
public:
    using ExampleType = SingleExample;

    virtual ExampleType get(std::size_t index) = 0;

    std::vector<ExampleType> get_batch(ArrayRef<std::size_t> indices) override;
};

// Defined out of the class, so not inline: a dataset of the library's (MNIST, datasets/mnist.hpp)
// declares its instantiation extern, and programs use the library's.
template <class Self, class SingleExample>
std::vector<SingleExample> Dataset<Self, SingleExample>::get_batch(ArrayRef<std::size_t> indices) {
    std::vector<ExampleType> batch;
    batch.reserve(indices.size());
    for (const std::size_t i : indices) batch.push_back(get(i));
    return batch;
}

}  // namespace ctgrad::data::datasets
