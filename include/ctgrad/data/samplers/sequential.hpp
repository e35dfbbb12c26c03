#pragma once
// samplers::SequentialSampler(size): the indices 0, 1, ..., size - 1 in order, batch_size at a
// time (libtorch's torch::data::samplers::SequentialSampler).
#include <cstddef>
#include <optional>
#include <vector>

#include "../../core/config.hpp"
#include "base.hpp"

namespace ctgrad::data::samplers {

class SequentialSampler : public Sampler<> {
public:
    explicit SequentialSampler(std::size_t size) : size_(size) {}

    void reset(std::optional<std::size_t> new_size = std::nullopt) override;

    std::optional<std::vector<std::size_t>> next(std::size_t batch_size) override;

    // The index of the next example to be returned.
    std::size_t index() const noexcept { return index_; }

private:
    std::size_t size_;
    std::size_t index_ = 0;
};

}  // namespace ctgrad::data::samplers

// Compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <algorithm>
#include <numeric>

namespace ctgrad::data::samplers {

CTGRAD_API void SequentialSampler::reset(std::optional<std::size_t> new_size) {
    if (new_size) size_ = *new_size;
    index_ = 0;
}

CTGRAD_API std::optional<std::vector<std::size_t>> SequentialSampler::next(std::size_t batch_size) {
    const std::size_t remaining = size_ - index_;
    if (remaining == 0) return std::nullopt;
    std::vector<std::size_t> batch(std::min(remaining, batch_size));
    std::iota(batch.begin(), batch.end(), index_);
    index_ += batch.size();
    return batch;
}

}  // namespace ctgrad::data::samplers
#endif  // CTGRAD_RUNTIME_DEFINITIONS
