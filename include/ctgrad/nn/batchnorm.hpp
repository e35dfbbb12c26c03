#pragma once
// nn::BatchNorm1d (input [N, C] or [N, C, L]) and nn::BatchNorm2d ([N, C, H, W]), libtorch's
// BatchNormImplBase: per channel, (x - mean) / sqrt(var + eps) * weight + bias
// (ctgrad::batch_norm, ops/batch_norm.hpp).
//  - parameters weight (ones) and bias (zeros) when affine; buffers running_mean (zeros),
//    running_var (ones) and num_batches_tracked (int64 0) when track_running_stats, registered
//    in PyTorch's order (undefined otherwise, as libtorch registers them);
//  - training: the batch's statistics normalise; the running ones move towards them with
//    momentum, or, with momentum nullopt, become the cumulative average over
//    num_batches_tracked batches; eval(): the running statistics normalise (without
//    track_running_stats the batch's always do).
// The input's rank and channel count are checked first, naming the module, and a call that
// fails changes no buffer.
#include <cstdint>
#include <ostream>
#include <string>

#include "../autograd/grad_mode.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../tensor/functions.hpp"
#include "functional.hpp"
#include "init.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

template <std::size_t D, class Derived>
class BatchNormImplBase : public Module {
public:
    explicit BatchNormImplBase(const BatchNormOptions& options_);

    void reset();
    void reset_running_stats();
    void reset_parameters();

    Tensor forward(const Tensor& input);

    // libtorch's text: "ctgrad::nn::BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=true,
    // track_running_stats=true)" (momentum=None for the cumulative average).
    void pretty_print(std::ostream& stream) const override;

    BatchNormOptions options;
    Tensor weight;
    Tensor bias;
    Tensor running_mean;
    Tensor running_var;
    Tensor num_batches_tracked;
};

class BatchNorm1dImpl : public BatchNormImplBase<1, BatchNorm1dImpl> {
public:
    static constexpr const char* module_name = "BatchNorm1d";
    explicit BatchNorm1dImpl(std::int64_t num_features) : BatchNorm1dImpl(BatchNormOptions(num_features)) {}
    explicit BatchNorm1dImpl(const BatchNormOptions& options_) : BatchNormImplBase(options_) {}
    void check_input_dim(const Tensor& input) const;
};
CTGRAD_MODULE(BatchNorm1d);

class BatchNorm2dImpl : public BatchNormImplBase<2, BatchNorm2dImpl> {
public:
    static constexpr const char* module_name = "BatchNorm2d";
    explicit BatchNorm2dImpl(std::int64_t num_features) : BatchNorm2dImpl(BatchNormOptions(num_features)) {}
    explicit BatchNorm2dImpl(const BatchNormOptions& options_) : BatchNormImplBase(options_) {}
    void check_input_dim(const Tensor& input) const;
};
CTGRAD_MODULE(BatchNorm2d);

// BatchNormImplBase is compiled into the library for BatchNorm1d and BatchNorm2d, as libtorch
// compiles it for its own: a program does not instantiate its members.
#if !defined(CTGRAD_HEADER_ONLY) && !defined(CTGRAD_BUILDING_RUNTIME)
extern template class BatchNormImplBase<1, BatchNorm1dImpl>;
extern template class BatchNormImplBase<2, BatchNorm2dImpl>;
#endif

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::nn {

template <std::size_t D, class Derived>
BatchNormImplBase<D, Derived>::BatchNormImplBase(const BatchNormOptions& options_) : options(options_) { reset(); }

template <std::size_t D, class Derived>
void BatchNormImplBase<D, Derived>::reset() {
    if (options.num_features() < 0)
        throw Error(std::string(Derived::module_name) + ": num_features must be non-negative, got " +
                    std::to_string(options.num_features()));
    const std::int64_t c = options.num_features();
    weight = register_or_replace_parameter("weight", options.affine() ? ctgrad::empty({c}) : Tensor());
    bias = register_or_replace_parameter("bias", options.affine() ? ctgrad::empty({c}) : Tensor());
    const bool track = options.track_running_stats();
    running_mean = register_or_replace_buffer("running_mean", track ? ctgrad::zeros({c}) : Tensor());
    running_var = register_or_replace_buffer("running_var", track ? ctgrad::ones({c}) : Tensor());
    num_batches_tracked = register_or_replace_buffer(
        "num_batches_tracked", track ? ctgrad::zeros({}, TensorOptions().dtype(kLong)) : Tensor());
    reset_parameters();
}

template <std::size_t D, class Derived>
void BatchNormImplBase<D, Derived>::reset_running_stats() {
    if (!options.track_running_stats()) return;
    NoGradGuard no_grad;
    running_mean.zero_();
    running_var.fill_(1);
    num_batches_tracked.zero_();
}

template <std::size_t D, class Derived>
void BatchNormImplBase<D, Derived>::reset_parameters() {
    reset_running_stats();
    if (options.affine()) {
        init::ones_(weight);
        init::zeros_(bias);
    }
}

template <std::size_t D, class Derived>
Tensor BatchNormImplBase<D, Derived>::forward(const Tensor& input) {
    static_cast<const Derived*>(this)->check_input_dim(input);
    const Tensor& per_channel = weight.defined() ? weight : running_mean;
    if (per_channel.defined() && input.size(1) != options.num_features())
        throw Error(std::string(Derived::module_name) + ": expected an input with " +
                    std::to_string(options.num_features()) + " channels (num_features, dim 1), got input of shape " +
                    shape_str(input.sizes()));
    const bool update = is_training() && options.track_running_stats();
    double factor = options.momentum().value_or(0.0);
    if (update && !options.momentum())  // the cumulative average, this batch included
        factor = 1.0 / static_cast<double>(num_batches_tracked.template item<std::int64_t>() + 1);
    Tensor out = functional::batch_norm(input, running_mean, running_var,
                                        functional::BatchNormFuncOptions()
                                            .weight(weight)
                                            .bias(bias)
                                            .training(is_training() || !options.track_running_stats())
                                            .momentum(factor)
                                            .eps(options.eps()));
    if (update) {
        NoGradGuard no_grad;
        num_batches_tracked.add_(Scalar(std::int64_t{1}));
    }
    return out;
}

template <std::size_t D, class Derived>
void BatchNormImplBase<D, Derived>::pretty_print(std::ostream& stream) const {
    stream << std::boolalpha << "ctgrad::nn::" << Derived::module_name << "(" << options.num_features()
           << ", eps=" << options.eps() << ", momentum=";
    if (options.momentum()) stream << *options.momentum();
    else stream << "None";
    stream << ", affine=" << options.affine() << ", track_running_stats=" << options.track_running_stats() << ")";
}

CTGRAD_API void BatchNorm1dImpl::check_input_dim(const Tensor& input) const {
    if (input.dim() != 2 && input.dim() != 3)
        throw Error("BatchNorm1d: expected 2D or 3D input (got " + std::to_string(input.dim()) + "D input of shape " +
                    shape_str(input.sizes()) + ")");
}

CTGRAD_API void BatchNorm2dImpl::check_input_dim(const Tensor& input) const {
    if (input.dim() != 4)
        throw Error("BatchNorm2d: expected 4D input (got " + std::to_string(input.dim()) + "D input of shape " +
                    shape_str(input.sizes()) + ")");
}

#if defined(CTGRAD_BUILDING_RUNTIME)
template class BatchNormImplBase<1, BatchNorm1dImpl>;
template class BatchNormImplBase<2, BatchNorm2dImpl>;
#endif

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
