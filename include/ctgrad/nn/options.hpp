#pragma once
// The options structs of the layers and losses, in libtorch's spelling: `LinearOptions(3, 1)
// .bias(false)`, `FlattenOptions().start_dim(0).end_dim(1)`, `MSELossOptions(ctgrad::kSum)` or
// `MSELossOptions().reduction(ctgrad::kSum)`. The functional forms take the same structs under
// their *FuncOptions names (nn::functional::MSELossFuncOptions).
#include <concepts>
#include <cstdint>
#include <optional>

#include "../tensor/tensor.hpp"
#include "arg.hpp"
#include "enum.hpp"

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
using NLLLossFuncOptions = NLLLossOptions;
using CrossEntropyFuncOptions = CrossEntropyLossOptions;
using ReLUFuncOptions = ReLUOptions;
using MSELossFuncOptions = MSELossOptions;
using L1LossFuncOptions = L1LossOptions;
using SmoothL1LossFuncOptions = SmoothL1LossOptions;
using HuberLossFuncOptions = HuberLossOptions;
}  // namespace functional

}  // namespace ctgrad::nn
