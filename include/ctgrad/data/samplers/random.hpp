#pragma once
// samplers::RandomSampler(size): the indices 0 .. size - 1 in a random order, a new order each
// epoch (libtorch's torch::data::samplers::RandomSampler). The order is ctgrad::randperm's,
// drawn from the default CPU generator: once at construction and once at each reset(), as
// libtorch does, so that after ctgrad::manual_seed(s) the epochs repeat, and match libtorch's
// under torch::manual_seed(s). `index_dtype` is the dtype the permutation is stored in.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "../../core/config.hpp"
#include "../../tensor/tensor.hpp"
#include "base.hpp"

namespace ctgrad::data::samplers {

class RandomSampler : public Sampler<> {
public:
    explicit RandomSampler(std::int64_t size, Dtype index_dtype = kInt64);

    void reset(std::optional<std::size_t> new_size = std::nullopt) override;

    std::optional<std::vector<std::size_t>> next(std::size_t batch_size) override;

    // The index (into this epoch's permutation) of the next example to be returned.
    std::size_t index() const noexcept { return static_cast<std::size_t>(index_); }

private:
    Tensor indices_;
    std::int64_t index_ = 0;
};

}  // namespace ctgrad::data::samplers

// The permutation's draws and slices, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <algorithm>

#include "../../tensor/functions.hpp"

namespace ctgrad::data::samplers {

CTGRAD_API RandomSampler::RandomSampler(std::int64_t size, Dtype index_dtype)
    : indices_(ctgrad::randperm(size, ctgrad::dtype(index_dtype))) {}

CTGRAD_API void RandomSampler::reset(std::optional<std::size_t> new_size) {
    const auto size = new_size.value_or(static_cast<std::size_t>(indices_.numel()));
    indices_ = ctgrad::randperm(static_cast<std::int64_t>(size), indices_.options());
    index_ = 0;
}

CTGRAD_API std::optional<std::vector<std::size_t>> RandomSampler::next(std::size_t batch_size) {
    const auto remaining = static_cast<std::size_t>(indices_.numel() - index_);
    if (remaining == 0) return std::nullopt;
    std::vector<std::size_t> batch(std::min(batch_size, remaining));
    const auto count = static_cast<std::int64_t>(batch.size());
    const Tensor slice = indices_.slice(0, index_, index_ + count).to(kLong).contiguous();
    const std::int64_t* data = slice.data_ptr<std::int64_t>();
    std::copy(data, data + count, batch.begin());
    index_ += count;
    return batch;
}

}  // namespace ctgrad::data::samplers
#endif  // CTGRAD_RUNTIME_DEFINITIONS
