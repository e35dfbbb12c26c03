#pragma once
// Loss modules: nn::MSELoss, nn::L1Loss, nn::SmoothL1Loss, nn::HuberLoss, nn::NLLLoss,
// nn::CrossEntropyLoss, nn::BCELoss, nn::BCEWithLogitsLoss; `loss_fn(input, target)` with the
// reduction (and beta / delta, weight, ignore_index, label_smoothing, pos_weight) of their
// options. The weights are buffers ("weight", "pos_weight"), as in libtorch, so that `to()`
// moves them with the module.
#include <ostream>

#include "functional.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

class MSELossImpl : public Module {
public:
    explicit MSELossImpl(const MSELossOptions& options_ = {}) : options(options_) {}
    void reset() {}
    Tensor forward(const Tensor& input, const Tensor& target) { return functional::mse_loss(input, target, options); }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::MSELoss()"; }
    MSELossOptions options;
};
CTGRAD_MODULE(MSELoss);

class L1LossImpl : public Module {
public:
    explicit L1LossImpl(const L1LossOptions& options_ = {}) : options(options_) {}
    void reset() {}
    Tensor forward(const Tensor& input, const Tensor& target) { return functional::l1_loss(input, target, options); }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::L1Loss()"; }
    L1LossOptions options;
};
CTGRAD_MODULE(L1Loss);

class SmoothL1LossImpl : public Module {
public:
    explicit SmoothL1LossImpl(const SmoothL1LossOptions& options_ = {}) : options(options_) {}
    void reset() {}
    Tensor forward(const Tensor& input, const Tensor& target) {
        return functional::smooth_l1_loss(input, target, options);
    }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::SmoothL1Loss"; }
    SmoothL1LossOptions options;
};
CTGRAD_MODULE(SmoothL1Loss);

class HuberLossImpl : public Module {
public:
    explicit HuberLossImpl(const HuberLossOptions& options_ = {}) : options(options_) {}
    void reset() {}
    Tensor forward(const Tensor& input, const Tensor& target) { return functional::huber_loss(input, target, options); }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::HuberLoss"; }
    HuberLossOptions options;
};
CTGRAD_MODULE(HuberLoss);

class NLLLossImpl : public Module {
public:
    explicit NLLLossImpl(const NLLLossOptions& options_ = {});
    void reset() { weight = register_buffer("weight", options.weight()); }
    Tensor forward(const Tensor& input, const Tensor& target) {
        return functional::nll_loss(input, target, functional::NLLLossFuncOptions(options).weight(weight));
    }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::NLLLoss()"; }
    NLLLossOptions options;
    Tensor weight;
};
CTGRAD_MODULE(NLLLoss);

class CrossEntropyLossImpl : public Module {
public:
    explicit CrossEntropyLossImpl(const CrossEntropyLossOptions& options_ = {});
    void reset() { weight = register_buffer("weight", options.weight()); }
    Tensor forward(const Tensor& input, const Tensor& target) {
        return functional::cross_entropy(input, target, functional::CrossEntropyFuncOptions(options).weight(weight));
    }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::CrossEntropyLoss()"; }
    CrossEntropyLossOptions options;
    Tensor weight;
};
CTGRAD_MODULE(CrossEntropyLoss);

class BCELossImpl : public Module {
public:
    explicit BCELossImpl(const BCELossOptions& options_ = {});
    void reset() { weight = register_or_replace_buffer("weight", options.weight()); }
    Tensor forward(const Tensor& input, const Tensor& target) {
        return functional::binary_cross_entropy(input, target,
                                                functional::BinaryCrossEntropyFuncOptions(options).weight(weight));
    }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::BCELoss()"; }
    BCELossOptions options;
    Tensor weight;
};
CTGRAD_MODULE(BCELoss);

class BCEWithLogitsLossImpl : public Module {
public:
    explicit BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options_ = {});
    void reset() {
        weight = register_or_replace_buffer("weight", options.weight());
        pos_weight = register_or_replace_buffer("pos_weight", options.pos_weight());
    }
    Tensor forward(const Tensor& input, const Tensor& target) {
        return functional::binary_cross_entropy_with_logits(
            input, target,
            functional::BinaryCrossEntropyWithLogitsFuncOptions(options).weight(weight).pos_weight(pos_weight));
    }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::BCEWithLogitsLoss()"; }
    BCEWithLogitsLossOptions options;
    Tensor weight;
    Tensor pos_weight;
};
CTGRAD_MODULE(BCEWithLogitsLoss);

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::nn {

CTGRAD_API NLLLossImpl::NLLLossImpl(const NLLLossOptions& options_) : options(options_) { reset(); }

CTGRAD_API CrossEntropyLossImpl::CrossEntropyLossImpl(const CrossEntropyLossOptions& options_) : options(options_) {
    reset();
}

CTGRAD_API BCELossImpl::BCELossImpl(const BCELossOptions& options_) : options(options_) { reset(); }

CTGRAD_API BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options_)
    : options(options_) {
    reset();
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
