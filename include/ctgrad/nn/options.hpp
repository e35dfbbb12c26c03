#pragma once
// The options structs of the layers and losses, in libtorch's spelling: `LinearOptions(3, 1)
// .bias(false)`, `FlattenOptions().start_dim(0).end_dim(1)`, `MSELossOptions(ctgrad::kSum)` or
// `MSELossOptions().reduction(ctgrad::kSum)`. The functional forms take the same structs under
// their *FuncOptions names (nn::functional::MSELossFuncOptions).
#include <concepts>
#include <cstdint>

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
#undef CTGRAD_NN_REDUCTION_OPTIONS

namespace functional {
using ReLUFuncOptions = ReLUOptions;
using MSELossFuncOptions = MSELossOptions;
using L1LossFuncOptions = L1LossOptions;
using SmoothL1LossFuncOptions = SmoothL1LossOptions;
using HuberLossFuncOptions = HuberLossOptions;
}  // namespace functional

}  // namespace ctgrad::nn
