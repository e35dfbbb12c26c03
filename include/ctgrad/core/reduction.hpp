#pragma once
// ATen's reduction codes (at::Reduction::Reduction), taken by the free loss functions
// (ctgrad::mse_loss(input, target, Reduction::Sum)); nn's options spell them kMean, kSum, kNone.
#include <cstdint>

namespace ctgrad::Reduction {
enum Reduction : std::int64_t { None = 0, Mean = 1, Sum = 2, END };
}  // namespace ctgrad::Reduction
