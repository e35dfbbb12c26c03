#pragma once
// The options structs of the layers and losses, in libtorch's spelling: `LinearOptions(3, 1)
// .bias(false)`, `FlattenOptions().start_dim(0).end_dim(1)`, `MSELossOptions(ctgrad::kSum)` or
// `MSELossOptions().reduction(ctgrad::kSum)`. The functional forms take the same structs under
// their *FuncOptions names (nn::functional::MSELossFuncOptions).
#include <concepts>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "../tensor/tensor.hpp"
#include "arg.hpp"
#include "enum.hpp"
#include "expanding_array.hpp"

namespace ctgrad::nn {

struct LinearOptions {
    LinearOptions(std::int64_t in_features, std::int64_t out_features)
        : in_features_(in_features), out_features_(out_features) {}
    CTGRAD_ARG(std::int64_t, in_features);
    CTGRAD_ARG(std::int64_t, out_features);
    CTGRAD_ARG(bool, bias) = true;
};

struct FlattenOptions {
    CTGRAD_ARG(std::int64_t, start_dim) = 1;
    CTGRAD_ARG(std::int64_t, end_dim) = -1;
};

struct ReLUOptions {
    ReLUOptions(bool inplace = false) : inplace_(inplace) {}  // NOLINT: libtorch's ReLUOptions(true)
    CTGRAD_ARG(bool, inplace);
};

struct SoftmaxOptions {
    SoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT: libtorch's Softmax(1)
    CTGRAD_ARG(std::int64_t, dim);
};
struct LogSoftmaxOptions {
    LogSoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT: libtorch's LogSoftmax(1)
    CTGRAD_ARG(std::int64_t, dim);
};

// Dropout and Dropout2d: the probability p of zeroing an element (a channel for Dropout2d).
struct DropoutOptions {
    DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT: libtorch's Dropout(0.25)
    CTGRAD_ARG(double, p);
    CTGRAD_ARG(bool, inplace) = false;
};
using Dropout2dOptions = DropoutOptions;

// Conv2d: weight [out_channels, in_channels / groups, kH, kW]; the sizes one number or {h, w}.
// (libtorch's padding also takes kSame / kValid and a padding_mode: not here, zeros only.)
struct Conv2dOptions {
    Conv2dOptions(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<2> kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
    CTGRAD_ARG(std::int64_t, in_channels);
    CTGRAD_ARG(std::int64_t, out_channels);
    CTGRAD_ARG(ExpandingArray<2>, kernel_size);
    CTGRAD_ARG(ExpandingArray<2>, stride) = 1;
    CTGRAD_ARG(ExpandingArray<2>, padding) = 0;
    CTGRAD_ARG(ExpandingArray<2>, dilation) = 1;
    CTGRAD_ARG(std::int64_t, groups) = 1;
    CTGRAD_ARG(bool, bias) = true;
};

// MaxPool2d and AvgPool2d: the stride defaults to the kernel size.
struct MaxPool2dOptions {
    MaxPool2dOptions(ExpandingArray<2> kernel_size)  // NOLINT: libtorch's MaxPool2d(2)
        : kernel_size_(kernel_size), stride_(kernel_size) {}
    CTGRAD_ARG(ExpandingArray<2>, kernel_size);
    CTGRAD_ARG(ExpandingArray<2>, stride);
    CTGRAD_ARG(ExpandingArray<2>, padding) = 0;
    CTGRAD_ARG(ExpandingArray<2>, dilation) = 1;
    CTGRAD_ARG(bool, ceil_mode) = false;
};
struct AvgPool2dOptions {
    AvgPool2dOptions(ExpandingArray<2> kernel_size)  // NOLINT: libtorch's AvgPool2d(2)
        : kernel_size_(kernel_size), stride_(kernel_size) {}
    CTGRAD_ARG(ExpandingArray<2>, kernel_size);
    CTGRAD_ARG(ExpandingArray<2>, stride);
    CTGRAD_ARG(ExpandingArray<2>, padding) = 0;
    CTGRAD_ARG(bool, ceil_mode) = false;
    CTGRAD_ARG(bool, count_include_pad) = true;
    CTGRAD_ARG(std::optional<std::int64_t>, divisor_override) = std::nullopt;
};

// A loss's reduction option, constructible from ctgrad::kNone / kMean / kSum directly.
#define CTGRAD_NN_REDUCTION_OPTIONS(Options)                                                   \
    using reduction_t = enumtype::reduction_t;                                                  \
    Options() = default;                                                                        \
    template <class R>                                                                          \
        requires std::constructible_from<reduction_t, R>                                        \
    Options(R reduction) : reduction_(reduction) {} /* NOLINT: libtorch's Options(torch::kSum) */ \
    CTGRAD_ARG(reduction_t, reduction) = ctgrad::kMean

struct MSELossOptions {
    CTGRAD_NN_REDUCTION_OPTIONS(MSELossOptions);
};
struct L1LossOptions {
    CTGRAD_NN_REDUCTION_OPTIONS(L1LossOptions);
};
struct SmoothL1LossOptions {
    CTGRAD_NN_REDUCTION_OPTIONS(SmoothL1LossOptions);
    CTGRAD_ARG(double, beta) = 1.0;
};
struct HuberLossOptions {
    CTGRAD_NN_REDUCTION_OPTIONS(HuberLossOptions);
    CTGRAD_ARG(double, delta) = 1.0;
};
// weight: one per class (undefined: all 1); targets equal to ignore_index count for nothing.
struct NLLLossOptions {
    CTGRAD_NN_REDUCTION_OPTIONS(NLLLossOptions);
    CTGRAD_ARG(Tensor, weight) = {};
    CTGRAD_ARG(std::int64_t, ignore_index) = -100;
};
struct CrossEntropyLossOptions {
    CTGRAD_NN_REDUCTION_OPTIONS(CrossEntropyLossOptions);
    CTGRAD_ARG(Tensor, weight) = {};
    CTGRAD_ARG(std::int64_t, ignore_index) = -100;
    CTGRAD_ARG(double, label_smoothing) = 0.0;
};
#undef CTGRAD_NN_REDUCTION_OPTIONS

namespace functional {
struct SoftmaxFuncOptions {
    SoftmaxFuncOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT: libtorch's spelling
    CTGRAD_ARG(std::int64_t, dim);
    CTGRAD_ARG(std::optional<ScalarType>, dtype) = std::nullopt;
};
struct LogSoftmaxFuncOptions {
    LogSoftmaxFuncOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT: libtorch's spelling
    CTGRAD_ARG(std::int64_t, dim);
    CTGRAD_ARG(std::optional<ScalarType>, dtype) = std::nullopt;
};
// The functional forms take `training` (default true) where the modules read is_training().
struct DropoutFuncOptions {
    CTGRAD_ARG(double, p) = 0.5;
    CTGRAD_ARG(bool, training) = true;
    CTGRAD_ARG(bool, inplace) = false;
};
using Dropout2dFuncOptions = DropoutFuncOptions;
// conv2d's options; the bias is one of them, as in libtorch.
struct Conv2dFuncOptions {
    CTGRAD_ARG(Tensor, bias) = {};
    CTGRAD_ARG(ExpandingArray<2>, stride) = 1;
    CTGRAD_ARG(ExpandingArray<2>, padding) = 0;
    CTGRAD_ARG(ExpandingArray<2>, dilation) = 1;
    CTGRAD_ARG(std::int64_t, groups) = 1;
};
using MaxPool2dFuncOptions = MaxPool2dOptions;
using AvgPool2dFuncOptions = AvgPool2dOptions;
// pad's options: the amounts ({left, right, top, bottom, ...}, last dim first) and the value.
// Constant padding only (libtorch also has kReflect, kReplicate, kCircular).
struct PadFuncOptions {
    PadFuncOptions(std::vector<std::int64_t> pad) : pad_(std::move(pad)) {}  // NOLINT: libtorch's spelling
    CTGRAD_ARG(std::vector<std::int64_t>, pad);
    CTGRAD_ARG(double, value) = 0;
};
using NLLLossFuncOptions = NLLLossOptions;
using CrossEntropyFuncOptions = CrossEntropyLossOptions;
using ReLUFuncOptions = ReLUOptions;
using MSELossFuncOptions = MSELossOptions;
using L1LossFuncOptions = L1LossOptions;
using SmoothL1LossFuncOptions = SmoothL1LossOptions;
using HuberLossFuncOptions = HuberLossOptions;
}  // namespace functional

}  // namespace ctgrad::nn
