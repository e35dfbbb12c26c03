#pragma once
// A tensor's elements as doubles, in row-major order, whatever its dtype, layout and device: what tests
// compare with golden values and finite differences.
#include <vector>

#include <ctgrad/tensor.hpp>

namespace ctgrad_test {

inline std::vector<double> values_of(const ctgrad::Tensor& t) {
    ctgrad::NoGradGuard no_grad;
    const ctgrad::Tensor c = t.detach().to(ctgrad::TensorOptions().dtype(ctgrad::kDouble).device(ctgrad::kCPU)).contiguous();
    const double* p = c.data_ptr<double>();
    return {p, p + c.numel()};
}

}  // namespace ctgrad_test
