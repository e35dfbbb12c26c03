#pragma once
// make_data_loader: a data loader over a dataset, owned by a std::unique_ptr, as libtorch's
// torch::data::make_data_loader:
//
//   auto loader = make_data_loader<samplers::SequentialSampler>(std::move(dataset), 64);
//   auto loader = make_data_loader(std::move(dataset), DataLoaderOptions().batch_size(64));
//   for (auto& batch : *loader) { ... batch.data ... batch.target ... }
//
// The sampler defaults to RandomSampler and is built from the dataset's size(), which must be
// known; or pass a sampler of your own.
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"
#include "dataloader/stateless.hpp"
#include "dataloader_options.hpp"
#include "samplers/random.hpp"

namespace ctgrad::data {

template <class Dataset, class Sampler>
std::unique_ptr<StatelessDataLoader<Dataset, Sampler>> make_data_loader(Dataset dataset, Sampler sampler,
                                                                         DataLoaderOptions options) {
    return std::make_unique<StatelessDataLoader<Dataset, Sampler>>(std::move(dataset), std::move(sampler),
                                                                    std::move(options));
}

template <class Sampler = samplers::RandomSampler, class Dataset>
    requires requires(const Dataset& d) { typename Dataset::BatchType; d.size(); }
std::unique_ptr<StatelessDataLoader<Dataset, Sampler>> make_data_loader(Dataset dataset,
                                                                         DataLoaderOptions options = DataLoaderOptions()) {
    const auto size = dataset.size();
    if (!size.has_value()) throw Error("make_data_loader: expected the dataset to be sized in order to construct the Sampler");
    Sampler sampler(*size);
    return make_data_loader(std::move(dataset), std::move(sampler), std::move(options));
}

}  // namespace ctgrad::data
