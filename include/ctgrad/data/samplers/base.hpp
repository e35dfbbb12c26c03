#pragma once
// samplers::Sampler<BatchRequest>: what a data loader asks for the indices of its next batch
// (libtorch's torch::data::samplers::Sampler). next(batch_size) gives up to batch_size indices,
// or nullopt once the epoch is exhausted; reset(new_size) starts a new epoch (over new_size
// examples when given). libtorch's save/load of a sampler's position (serialize archives) is not
// provided.
#include <cstddef>
#include <optional>
#include <vector>

namespace ctgrad::data::samplers {

template <class BatchRequest = std::vector<std::size_t>>
class Sampler {
public:
    using BatchRequestType = BatchRequest;

    virtual ~Sampler() = default;

    virtual void reset(std::optional<std::size_t> new_size) = 0;

    virtual std::optional<BatchRequest> next(std::size_t batch_size) = 0;
};

}  // namespace ctgrad::data::samplers
