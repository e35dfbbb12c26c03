#pragma once
// nn::MaxPool2d and nn::AvgPool2d: ctgrad::max_pool2d / avg_pool2d (ops/pooling.hpp) with their
// options; no parameters. `MaxPool2d(2)` pools 2x2 windows with stride 2.
#include <ostream>
#include <tuple>

#include "functional.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

class MaxPool2dImpl : public Module {
public:
    MaxPool2dImpl(ExpandingArray<2> kernel_size) : MaxPool2dImpl(MaxPool2dOptions(kernel_size)) {}  // NOLINT
    explicit MaxPool2dImpl(const MaxPool2dOptions& options_) : options(options_) {}
    void reset() {}
    Tensor forward(const Tensor& input) { return functional::max_pool2d(input, options); }
    // The maxima and their flat indices h * W + w in each input plane.
    std::tuple<Tensor, Tensor> forward_with_indices(const Tensor& input) {
        return functional::max_pool2d_with_indices(input, options);
    }
    void pretty_print(std::ostream& stream) const override;
    MaxPool2dOptions options;
};
CTGRAD_MODULE(MaxPool2d);

class AvgPool2dImpl : public Module {
public:
    AvgPool2dImpl(ExpandingArray<2> kernel_size) : AvgPool2dImpl(AvgPool2dOptions(kernel_size)) {}  // NOLINT
    explicit AvgPool2dImpl(const AvgPool2dOptions& options_) : options(options_) {}
    void reset() {}
    Tensor forward(const Tensor& input) { return functional::avg_pool2d(input, options); }
    void pretty_print(std::ostream& stream) const override;
    AvgPool2dOptions options;
};
CTGRAD_MODULE(AvgPool2d);

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <ios>

namespace ctgrad::nn {

CTGRAD_API void MaxPool2dImpl::pretty_print(std::ostream& stream) const {
    stream << std::boolalpha << "ctgrad::nn::MaxPool2d(kernel_size=" << options.kernel_size()
           << ", stride=" << options.stride() << ", padding=" << options.padding()
           << ", dilation=" << options.dilation() << ", ceil_mode=" << options.ceil_mode() << ")";
}

CTGRAD_API void AvgPool2dImpl::pretty_print(std::ostream& stream) const {
    stream << "ctgrad::nn::AvgPool2d(kernel_size=" << options.kernel_size() << ", stride=" << options.stride()
           << ", padding=" << options.padding() << ")";
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
