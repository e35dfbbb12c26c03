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

// LeakyReLU: negative_slope * x where x <= 0.
struct LeakyReLUOptions {
    CTGRAD_ARG(double, negative_slope) = 1e-2;
    CTGRAD_ARG(bool, inplace) = false;
};

// BatchNorm1d and BatchNorm2d. momentum nullopt: the running statistics are the cumulative
// average of the batches' (factor 1 / num_batches_tracked).
struct BatchNormOptions {
    BatchNormOptions(std::int64_t num_features) : num_features_(num_features) {}  // NOLINT: libtorch's BatchNorm1d(3)
    CTGRAD_ARG(std::int64_t, num_features);
    CTGRAD_ARG(double, eps) = 1e-5;
    CTGRAD_ARG(std::optional<double>, momentum) = 0.1;
    CTGRAD_ARG(bool, affine) = true;
    CTGRAD_ARG(bool, track_running_stats) = true;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

// Embedding: a table [num_embeddings, embedding_dim]. padding_idx (negative counts from the
// end): that row starts at zero and gets no gradient. max_norm: each row looked up is first
// rescaled in place to a norm_type-norm of at most max_norm. _weight: the table to use
// instead of a fresh one. sparse gradients are not supported (an error).
struct EmbeddingOptions {
    EmbeddingOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
        : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
    CTGRAD_ARG(std::int64_t, num_embeddings);
    CTGRAD_ARG(std::int64_t, embedding_dim);
    CTGRAD_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;
    CTGRAD_ARG(std::optional<double>, max_norm) = std::nullopt;
    CTGRAD_ARG(double, norm_type) = 2.;
    CTGRAD_ARG(bool, scale_grad_by_freq) = false;
    CTGRAD_ARG(bool, sparse) = false;
    CTGRAD_ARG(Tensor, _weight) = {};
};
// Embedding::from_pretrained's options: freeze (the default) leaves the table without grad.
struct EmbeddingFromPretrainedOptions {
    CTGRAD_ARG(bool, freeze) = true;
    CTGRAD_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;
    CTGRAD_ARG(std::optional<double>, max_norm) = std::nullopt;
    CTGRAD_ARG(double, norm_type) = 2.;
    CTGRAD_ARG(bool, scale_grad_by_freq) = false;
    CTGRAD_ARG(bool, sparse) = false;
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

// ConvTranspose2d: weight [in_channels, out_channels / groups, kH, kW]; output_padding adds
// rows and columns at the end of the output (each smaller than the stride or the dilation).
// (zeros padding_mode only, as Conv2d.)
struct ConvTranspose2dOptions {
    ConvTranspose2dOptions(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<2> kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
    CTGRAD_ARG(std::int64_t, in_channels);
    CTGRAD_ARG(std::int64_t, out_channels);
    CTGRAD_ARG(ExpandingArray<2>, kernel_size);
    CTGRAD_ARG(ExpandingArray<2>, stride) = 1;
    CTGRAD_ARG(ExpandingArray<2>, padding) = 0;
    CTGRAD_ARG(ExpandingArray<2>, output_padding) = 0;
    CTGRAD_ARG(std::int64_t, groups) = 1;
    CTGRAD_ARG(bool, bias) = true;
    CTGRAD_ARG(ExpandingArray<2>, dilation) = 1;
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
// BCELoss: input holds probabilities; weight rescales each element's loss (broadcast).
struct BCELossOptions {
    CTGRAD_NN_REDUCTION_OPTIONS(BCELossOptions);
    CTGRAD_ARG(Tensor, weight) = {};
};
// BCEWithLogitsLoss: input holds logits; pos_weight weighs the positive term (broadcast,
// usually one per class along the last dim).
struct BCEWithLogitsLossOptions {
    CTGRAD_NN_REDUCTION_OPTIONS(BCEWithLogitsLossOptions);
    CTGRAD_ARG(Tensor, weight) = {};
    CTGRAD_ARG(Tensor, pos_weight) = {};
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
// conv_transpose2d's options (libtorch's order of the fields).
struct ConvTranspose2dFuncOptions {
    CTGRAD_ARG(Tensor, bias) = {};
    CTGRAD_ARG(ExpandingArray<2>, stride) = 1;
    CTGRAD_ARG(ExpandingArray<2>, padding) = 0;
    CTGRAD_ARG(ExpandingArray<2>, output_padding) = 0;
    CTGRAD_ARG(std::int64_t, groups) = 1;
    CTGRAD_ARG(ExpandingArray<2>, dilation) = 1;
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
// batch_norm's options: the module's weight and bias, and training (false by default).
struct BatchNormFuncOptions {
    CTGRAD_ARG(Tensor, weight) = {};
    CTGRAD_ARG(Tensor, bias) = {};
    CTGRAD_ARG(bool, training) = false;
    CTGRAD_ARG(std::optional<double>, momentum) = 0.1;
    CTGRAD_ARG(double, eps) = 1e-5;
};
struct EmbeddingFuncOptions {
    CTGRAD_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;
    CTGRAD_ARG(std::optional<double>, max_norm) = std::nullopt;
    CTGRAD_ARG(double, norm_type) = 2.;
    CTGRAD_ARG(bool, scale_grad_by_freq) = false;
    CTGRAD_ARG(bool, sparse) = false;
};
using LeakyReLUFuncOptions = LeakyReLUOptions;
using BinaryCrossEntropyFuncOptions = BCELossOptions;
using BinaryCrossEntropyWithLogitsFuncOptions = BCEWithLogitsLossOptions;
using NLLLossFuncOptions = NLLLossOptions;
using CrossEntropyFuncOptions = CrossEntropyLossOptions;
using ReLUFuncOptions = ReLUOptions;
using MSELossFuncOptions = MSELossOptions;
using L1LossFuncOptions = L1LossOptions;
using SmoothL1LossFuncOptions = SmoothL1LossOptions;
using HuberLossFuncOptions = HuberLossOptions;
}  // namespace functional

}  // namespace ctgrad::nn
