#pragma once
// StatelessDataLoader<Dataset, Sampler>: batches of a random-access dataset in the order a
// sampler gives (libtorch's torch::data::StatelessDataLoader). make_data_loader (dataloader.hpp)
// builds one.
//
// Each begin() starts an epoch: it resets the sampler (a RandomSampler draws a new permutation)
// and returns an iterator whose every step asks the sampler for up to batch_size indices and
// returns dataset.get_batch(indices), with the dataset's transforms applied. An epoch ends when
// the sampler is exhausted, or before a last short batch under drop_last. Batches are loaded on
// the calling thread, when the iterator reaches them, whatever `workers` says (docs/data.md).
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "../../core/error.hpp"
#include "../dataloader_options.hpp"
#include "../iterator.hpp"

namespace ctgrad::data {

template <class Dataset, class Sampler>
class StatelessDataLoader {
public:
    using BatchType = typename Dataset::BatchType;
    using BatchRequestType = typename Sampler::BatchRequestType;

    StatelessDataLoader(Dataset dataset, Sampler sampler, DataLoaderOptions options)
        : options_(std::move(options)), dataset_(std::move(dataset)), sampler_(std::move(sampler)) {
        if (options_.batch_size == 0) throw Error("DataLoader: batch_size must be positive, got 0");
    }

    // Copying would share nothing and surprise: a loader is held by its unique_ptr.
    StatelessDataLoader(const StatelessDataLoader&) = delete;
    StatelessDataLoader& operator=(const StatelessDataLoader&) = delete;

    // A new epoch: the sampler starts over. Iterators of an earlier epoch share the sampler and
    // continue from where it now is.
    Iterator<BatchType> begin() {
        sampler_.reset(std::nullopt);
        return Iterator<BatchType>([this] { return next(); });
    }

    Iterator<BatchType> end() { return Iterator<BatchType>(); }

    // libtorch joins its worker threads here; ctgrad has none.
    void join() noexcept {}

    const FullDataLoaderOptions& options() const noexcept { return options_; }

private:
    std::optional<BatchType> next() {
        auto indices = sampler_.next(options_.batch_size);
        if (!indices || (indices->size() < options_.batch_size && options_.drop_last)) return std::nullopt;
        return dataset_.get_batch(std::move(*indices));
    }

    FullDataLoaderOptions options_;
    Dataset dataset_;
    Sampler sampler_;
};

}  // namespace ctgrad::data
