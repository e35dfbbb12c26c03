#pragma once
// nn::Flatten: flattens dims start_dim..end_dim into one (libtorch's defaults: 1 and -1, so a
// batch stays a batch). The result is a view of the input.
#include <ostream>

#include "../tensor/functions.hpp"
#include "options.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

class FlattenImpl : public Module {
public:
    explicit FlattenImpl(const FlattenOptions& options_ = {}) : options(options_) {}
    void reset() {}
    Tensor forward(const Tensor& input) { return input.flatten(options.start_dim(), options.end_dim()); }
    void pretty_print(std::ostream& stream) const override;
    FlattenOptions options;
};

CTGRAD_MODULE(Flatten);

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::nn {

CTGRAD_API void FlattenImpl::pretty_print(std::ostream& stream) const {
    stream << "ctgrad::nn::Flatten(start_dim=" << options.start_dim() << ", end_dim=" << options.end_dim() << ")";
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
