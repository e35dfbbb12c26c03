#pragma once
// DataLoaderOptions: how a data loader batches (libtorch's torch::data::DataLoaderOptions), set
// by chained calls: DataLoaderOptions().batch_size(64).workers(2).drop_last(true); a plain
// number converts to the options with that batch size, so make_data_loader(dataset, 64) reads
// as libtorch's.
//
//   batch_size        examples per batch (1); must be positive
//   workers           libtorch's number of loader threads (0). ctgrad accepts any number and
//                     always loads on the calling thread, in order (docs/data.md)
//   max_jobs          libtorch's bound on batches in flight (2 * workers); kept, unused
//   timeout           libtorch's bound on the wait for a worker's batch; kept, unused
//   enforce_ordering  whether batches come in the sampler's order (true); with one thread,
//                     they always do
//   drop_last         whether a last batch smaller than batch_size is left out (false)
//
// FullDataLoaderOptions is the same with max_jobs resolved, as a loader's options() report them.
#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>

namespace ctgrad::data {

// The options' accessors, in the style of libtorch's TORCH_ARG (nn/arg.hpp's CTGRAD_ARG, which
// this layer does not include): name(value) sets and returns the options, name() reads.
#define CTGRAD_DATA_ARG(T, name)                                  \
public:                                                           \
    DataLoaderOptions& name(T new_##name) {                       \
        name##_ = std::move(new_##name);                          \
        return *this;                                             \
    }                                                             \
    const T& name() const noexcept { return name##_; }            \
    T& name() noexcept { return name##_; }                        \
    T name##_

struct DataLoaderOptions {
    DataLoaderOptions() = default;
    DataLoaderOptions(std::size_t batch_size) : batch_size_(batch_size) {}  // NOLINT: implicit, as libtorch

    CTGRAD_DATA_ARG(std::size_t, batch_size) = 1;
    CTGRAD_DATA_ARG(std::size_t, workers) = 0;
    CTGRAD_DATA_ARG(std::optional<std::size_t>, max_jobs);
    CTGRAD_DATA_ARG(std::optional<std::chrono::milliseconds>, timeout);
    CTGRAD_DATA_ARG(bool, enforce_ordering) = true;
    CTGRAD_DATA_ARG(bool, drop_last) = false;
};

#undef CTGRAD_DATA_ARG

struct FullDataLoaderOptions {
    explicit FullDataLoaderOptions(DataLoaderOptions options)
        : batch_size(options.batch_size()),
          workers(options.workers()),
          max_jobs(options.max_jobs().value_or(2 * options.workers())),
          timeout(options.timeout()),
          enforce_ordering(options.enforce_ordering()),
          drop_last(options.drop_last()) {}

    std::size_t batch_size;
    std::size_t workers;
    std::size_t max_jobs;
    std::optional<std::chrono::milliseconds> timeout;
    bool enforce_ordering;
    bool drop_last;
};

}  // namespace ctgrad::data
