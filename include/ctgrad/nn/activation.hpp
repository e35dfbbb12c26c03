#pragma once
// Activation layers: nn::ReLU (ReLUOptions().inplace(true) optional), nn::LeakyReLU
// (LeakyReLUOptions().negative_slope(0.2), 0.01 by default), nn::Tanh, nn::Sigmoid,
// nn::Softmax(dim) and nn::LogSoftmax(dim).
#include <ostream>

#include "functional.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

class ReLUImpl : public Module {
public:
    explicit ReLUImpl(const ReLUOptions& options_ = {}) : options(options_) {}
    void reset() {}
    Tensor forward(Tensor input) { return functional::relu(std::move(input), options); }
    void pretty_print(std::ostream& stream) const override;
    ReLUOptions options;
};
CTGRAD_MODULE(ReLU);

class LeakyReLUImpl : public Module {
public:
    explicit LeakyReLUImpl(const LeakyReLUOptions& options_ = {}) : options(options_) {}
    void reset() {}
    Tensor forward(Tensor input) { return functional::leaky_relu(std::move(input), options); }
    void pretty_print(std::ostream& stream) const override;
    LeakyReLUOptions options;
};
CTGRAD_MODULE(LeakyReLU);

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

class SoftmaxImpl : public Module {
public:
    explicit SoftmaxImpl(std::int64_t dim) : SoftmaxImpl(SoftmaxOptions(dim)) {}
    explicit SoftmaxImpl(const SoftmaxOptions& options_) : options(options_) {}
    void reset() {}
    Tensor forward(const Tensor& input) { return ctgrad::softmax(input, options.dim()); }
    void pretty_print(std::ostream& stream) const override;
    SoftmaxOptions options;
};
CTGRAD_MODULE(Softmax);

class LogSoftmaxImpl : public Module {
public:
    explicit LogSoftmaxImpl(std::int64_t dim) : LogSoftmaxImpl(LogSoftmaxOptions(dim)) {}
    explicit LogSoftmaxImpl(const LogSoftmaxOptions& options_) : options(options_) {}
    void reset() {}
    Tensor forward(const Tensor& input) { return ctgrad::log_softmax(input, options.dim()); }
    void pretty_print(std::ostream& stream) const override;
    LogSoftmaxOptions options;
};
CTGRAD_MODULE(LogSoftmax);

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::nn {

CTGRAD_API void ReLUImpl::pretty_print(std::ostream& stream) const {
    stream << "ctgrad::nn::ReLU(";
    if (options.inplace()) stream << "inplace=true";
    stream << ")";
}

CTGRAD_API void LeakyReLUImpl::pretty_print(std::ostream& stream) const {
    stream << "ctgrad::nn::LeakyReLU(negative_slope=" << options.negative_slope();
    if (options.inplace()) stream << ", inplace=true";
    stream << ")";
}

CTGRAD_API void SoftmaxImpl::pretty_print(std::ostream& stream) const {
    stream << "ctgrad::nn::Softmax(dim=" << options.dim() << ")";
}

CTGRAD_API void LogSoftmaxImpl::pretty_print(std::ostream& stream) const {
    stream << "ctgrad::nn::LogSoftmax(dim=" << options.dim() << ")";
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
