#pragma once
// The regression losses as ctgrad:: functions, their reduction an int (Reduction::Mean, ...) as
// ATen's are; nn::functional's option forms and the loss modules call these. Defined in
// nn/loss_ops.hpp.
#include <cstdint>

#include "../tensor/tensor.hpp"
#include "enum.hpp"

namespace ctgrad {

Tensor mse_loss(const Tensor& input, const Tensor& target, std::int64_t reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, std::int64_t reduction = Reduction::Mean);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, std::int64_t reduction = Reduction::Mean,
                      double beta = 1.0);
Tensor huber_loss(const Tensor& input, const Tensor& target, std::int64_t reduction = Reduction::Mean,
                  double delta = 1.0);

}  // namespace ctgrad
