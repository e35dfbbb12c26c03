#pragma once
// datasets::MapDataset: a dataset whose batches are another dataset's batches passed through a
// transform's apply_batch (libtorch's torch::data::datasets::MapDataset). `dataset.map(t)` makes
// one; maps chain, innermost first:
//   MNIST(root).map(Normalize<>(0.1307, 0.3081)).map(Stack<>())
// is MapDataset<MapDataset<MNIST, Normalize<>>, Stack<>>, whose batch is one stacked Example.
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

#include "base.hpp"

namespace ctgrad::data::datasets {

template <class Source, class Transform>
class MapDataset : public BatchDataset<MapDataset<Source, Transform>, typename Transform::OutputBatchType,
                                       typename Source::BatchRequestType> {
public:
    using DatasetType = Source;
    using TransformType = Transform;
    using BatchRequestType = typename Source::BatchRequestType;
    using OutputBatchType = typename Transform::OutputBatchType;

    MapDataset(Source dataset, Transform transform) : dataset_(std::move(dataset)), transform_(std::move(transform)) {}

    OutputBatchType get_batch(BatchRequestType request) override {
        return transform_.apply_batch(dataset_.get_batch(std::move(request)));
    }

    std::optional<std::size_t> size() const override { return dataset_.size(); }

    const Source& dataset() noexcept { return dataset_; }
    const Transform& transform() noexcept { return transform_; }

private:
    Source dataset_;
    Transform transform_;
};

template <class Source, class Transform>
MapDataset<Source, Transform> map(Source dataset, Transform transform) {
    static_assert(std::is_same_v<typename Source::BatchType, typename Transform::InputBatchType>,
                  "datasets::map: the transform's input batch type is not the dataset's batch type "
                  "(a per-example transform after Stack<>, or a Stack<> of another example type?)");
    return {std::move(dataset), std::move(transform)};
}

}  // namespace ctgrad::data::datasets
