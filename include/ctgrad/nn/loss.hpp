#pragma once
// Loss modules: nn::MSELoss, nn::L1Loss, nn::SmoothL1Loss, nn::HuberLoss; `loss_fn(input,
// target)` with the reduction (and beta / delta) of their options.
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

}  // namespace ctgrad::nn
