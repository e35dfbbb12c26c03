#pragma once
// nn::Conv2d: a 2-d convolution (ctgrad::conv2d, ops/conv.hpp) with weight [out_channels,
// in_channels / groups, kH, kW] and bias [out_channels], initialised as PyTorch 1.13's
// _ConvNd.reset_parameters (kaiming_uniform_(W, a = sqrt(5)), b ~ U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) with fan_in = in_channels / groups * kH * kW), so that after manual_seed(s)
// the weights are PyTorch's, as Linear's are. Also nn::ConvTranspose2d, its adjoint.
#include <ostream>
#include <string>

#include "../core/error.hpp"
#include "../tensor/functions.hpp"
#include "functional.hpp"
#include "init.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

class Conv2dImpl : public Module {
public:
    Conv2dImpl(std::int64_t input_channels, std::int64_t output_channels, ExpandingArray<2> kernel_size)
        : Conv2dImpl(Conv2dOptions(input_channels, output_channels, kernel_size)) {}
    explicit Conv2dImpl(const Conv2dOptions& options_);

    // Registers fresh parameters and initialises them (libtorch's checks first).
    void reset();
    void reset_parameters();

    Tensor forward(const Tensor& input) {
        return ctgrad::conv2d(input, weight, bias, options.stride(), options.padding(), options.dilation(),
                              options.groups());
    }

    // libtorch's text: padding, dilation, groups and bias only where they differ from the defaults.
    void pretty_print(std::ostream& stream) const override;

    Conv2dOptions options;
    Tensor weight;
    Tensor bias;
};

CTGRAD_MODULE(Conv2d);

// nn::ConvTranspose2d: ctgrad::conv_transpose2d (ops/conv_transpose.hpp) with weight
// [in_channels, out_channels / groups, kH, kW] and bias [out_channels], initialised by the same
// _ConvNd.reset_parameters as Conv2d (the fans of this weight's shape: fan_in =
// out_channels / groups * kH * kW), so that after manual_seed(s) the weights are PyTorch's.
class ConvTranspose2dImpl : public Module {
public:
    ConvTranspose2dImpl(std::int64_t input_channels, std::int64_t output_channels, ExpandingArray<2> kernel_size)
        : ConvTranspose2dImpl(ConvTranspose2dOptions(input_channels, output_channels, kernel_size)) {}
    explicit ConvTranspose2dImpl(const ConvTranspose2dOptions& options_);

    void reset();
    void reset_parameters();

    Tensor forward(const Tensor& input) {
        return ctgrad::conv_transpose2d(input, weight, bias, options.stride(), options.padding(),
                                        options.output_padding(), options.groups(), options.dilation());
    }

    // libtorch's text: the options that differ from their defaults after the stride.
    void pretty_print(std::ostream& stream) const override;

    ConvTranspose2dOptions options;
    Tensor weight;
    Tensor bias;
};

CTGRAD_MODULE(ConvTranspose2d);

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <cmath>

namespace ctgrad::nn {

CTGRAD_API Conv2dImpl::Conv2dImpl(const Conv2dOptions& options_) : options(options_) { reset(); }

CTGRAD_API void Conv2dImpl::reset() {
    if (options.in_channels() <= 0 || options.groups() <= 0 || options.out_channels() <= 0)
        throw Error("nn::Conv2d: in_channels, groups and out_channels must be a positive integer.");
    if (options.in_channels() % options.groups() != 0)
        throw Error("nn::Conv2d: in_channels must be divisible by groups");
    if (options.out_channels() % options.groups() != 0)
        throw Error("nn::Conv2d: out_channels must be divisible by groups");
    const ExpandingArray<2>& k = options.kernel_size();
    weight = register_or_replace_parameter(
        "weight", ctgrad::empty({options.out_channels(), options.in_channels() / options.groups(), k[0], k[1]}));
    bias = options.bias() ? register_or_replace_parameter("bias", ctgrad::empty({options.out_channels()})) : Tensor();
    reset_parameters();
}

CTGRAD_API void Conv2dImpl::reset_parameters() {
    init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
        const auto [fan_in, fan_out] = init::calculate_fan_in_and_fan_out(weight);
        const double bound = fan_in > 0 ? 1 / std::sqrt(static_cast<double>(fan_in)) : 0;
        init::uniform_(bias, -bound, bound);
    }
}

CTGRAD_API void Conv2dImpl::pretty_print(std::ostream& stream) const {
    stream << "ctgrad::nn::Conv2d(" << options.in_channels() << ", " << options.out_channels()
           << ", kernel_size=" << options.kernel_size() << ", stride=" << options.stride();
    if (!(options.padding() == ExpandingArray<2>(0))) stream << ", padding=" << options.padding();
    if (!(options.dilation() == ExpandingArray<2>(1))) stream << ", dilation=" << options.dilation();
    if (options.groups() != 1) stream << ", groups=" << options.groups();
    if (!options.bias()) stream << ", bias=false";
    stream << ")";
}

CTGRAD_API ConvTranspose2dImpl::ConvTranspose2dImpl(const ConvTranspose2dOptions& options_) : options(options_) {
    reset();
}

CTGRAD_API void ConvTranspose2dImpl::reset() {
    if (options.in_channels() <= 0 || options.groups() <= 0 || options.out_channels() <= 0)
        throw Error("nn::ConvTranspose2d: in_channels, groups and out_channels must be a positive integer.");
    if (options.in_channels() % options.groups() != 0)
        throw Error("nn::ConvTranspose2d: in_channels must be divisible by groups");
    if (options.out_channels() % options.groups() != 0)
        throw Error("nn::ConvTranspose2d: out_channels must be divisible by groups");
    const ExpandingArray<2>& k = options.kernel_size();
    weight = register_or_replace_parameter(
        "weight", ctgrad::empty({options.in_channels(), options.out_channels() / options.groups(), k[0], k[1]}));
    bias = options.bias() ? register_or_replace_parameter("bias", ctgrad::empty({options.out_channels()})) : Tensor();
    reset_parameters();
}

CTGRAD_API void ConvTranspose2dImpl::reset_parameters() {
    init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
        const auto [fan_in, fan_out] = init::calculate_fan_in_and_fan_out(weight);
        const double bound = fan_in > 0 ? 1 / std::sqrt(static_cast<double>(fan_in)) : 0;
        init::uniform_(bias, -bound, bound);
    }
}

CTGRAD_API void ConvTranspose2dImpl::pretty_print(std::ostream& stream) const {
    stream << "ctgrad::nn::ConvTranspose2d(" << options.in_channels() << ", " << options.out_channels()
           << ", kernel_size=" << options.kernel_size() << ", stride=" << options.stride();
    if (!(options.padding() == ExpandingArray<2>(0))) stream << ", padding=" << options.padding();
    if (!(options.dilation() == ExpandingArray<2>(1))) stream << ", dilation=" << options.dilation();
    if (!(options.output_padding() == ExpandingArray<2>(0))) stream << ", output_padding=" << options.output_padding();
    if (options.groups() != 1) stream << ", groups=" << options.groups();
    if (!options.bias()) stream << ", bias=false";
    stream << ")";
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
