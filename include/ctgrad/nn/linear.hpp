#pragma once
// nn::Linear: y = x W^T + b, W of shape [out_features, in_features], initialised as PyTorch
// 1.13's reset_parameters (kaiming_uniform_(W, a = sqrt(5)), b ~ U(-1/sqrt(in), 1/sqrt(in))),
// so that after manual_seed(s) the weights are PyTorch's.
#include <ostream>
#include <string>

#include "../tensor/functions.hpp"
#include "functional.hpp"
#include "init.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

class LinearImpl : public Module {
public:
    LinearImpl(std::int64_t in_features, std::int64_t out_features)
        : LinearImpl(LinearOptions(in_features, out_features)) {}
    explicit LinearImpl(const LinearOptions& options_);

    // Registers fresh parameters and initialises them.
    void reset();
    void reset_parameters();

    Tensor forward(const Tensor& input) { return functional::linear(input, weight, bias); }

    void pretty_print(std::ostream& stream) const override;

    LinearOptions options;
    Tensor weight;
    Tensor bias;
};

CTGRAD_MODULE(Linear);

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <cmath>
#include <ios>

namespace ctgrad::nn {

CTGRAD_API LinearImpl::LinearImpl(const LinearOptions& options_) : options(options_) { reset(); }

CTGRAD_API void LinearImpl::reset() {
    // Checked here, before any parameter is registered, so that the error names the module
    // and the option rather than the empty() that would fail on its shape.
    if (options.in_features() < 0 || options.out_features() < 0)
        throw Error("nn::Linear: in_features and out_features must be non-negative, got in_features=" +
                    std::to_string(options.in_features()) + ", out_features=" + std::to_string(options.out_features()));
    weight = register_or_replace_parameter("weight", ctgrad::empty({options.out_features(), options.in_features()}));
    bias = options.bias() ? register_or_replace_parameter("bias", ctgrad::empty({options.out_features()})) : Tensor();
    reset_parameters();
}
CTGRAD_API void LinearImpl::reset_parameters() {
    init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
        const auto [fan_in, fan_out] = init::calculate_fan_in_and_fan_out(weight);
        const double bound = fan_in > 0 ? 1 / std::sqrt(static_cast<double>(fan_in)) : 0;
        init::uniform_(bias, -bound, bound);
    }
}

CTGRAD_API void LinearImpl::pretty_print(std::ostream& stream) const {
    stream << std::boolalpha << "ctgrad::nn::Linear(in_features=" << options.in_features()
           << ", out_features=" << options.out_features() << ", bias=" << options.bias() << ")";
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
