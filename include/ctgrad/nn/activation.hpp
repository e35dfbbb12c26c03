#pragma once
// Activation layers: nn::ReLU (ReLUOptions().inplace(true) optional), nn::Tanh, nn::Sigmoid.
#include <ostream>

#include "functional.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

class ReLUImpl : public Module {
public:
    explicit ReLUImpl(const ReLUOptions& options_ = {}) : options(options_) {}
    void reset() {}
    Tensor forward(Tensor input) { return functional::relu(std::move(input), options); }
    void pretty_print(std::ostream& stream) const override {
        stream << "ctgrad::nn::ReLU(";
        if (options.inplace()) stream << "inplace=true";
        stream << ")";
    }
    ReLUOptions options;
};
CTGRAD_MODULE(ReLU);

class TanhImpl : public Module {
public:
    void reset() {}
    Tensor forward(const Tensor& input) { return ctgrad::tanh(input); }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::Tanh()"; }
};
CTGRAD_MODULE(Tanh);

class SigmoidImpl : public Module {
public:
    void reset() {}
    Tensor forward(const Tensor& input) { return ctgrad::sigmoid(input); }
    void pretty_print(std::ostream& stream) const override { stream << "ctgrad::nn::Sigmoid()"; }
};
CTGRAD_MODULE(Sigmoid);

}  // namespace ctgrad::nn
