#pragma once
// A tensor's elements as doubles, in row-major order, whatever its dtype, layout and device: what tests
// compare with golden values and finite differences; and back, a tensor made from such values.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <ctgrad/tensor.hpp>

namespace ctgrad_test {

inline std::vector<double> values_of(const ctgrad::Tensor& t) {
    ctgrad::NoGradGuard no_grad;
    const ctgrad::Tensor c = t.detach().to(ctgrad::TensorOptions().dtype(ctgrad::kDouble).device(ctgrad::kCPU)).contiguous();
    const double* p = c.data_ptr<double>();
    return {p, p + c.numel()};
}

// A new contiguous CPU tensor of these sizes and dtype holding `values` (row-major), converted.
inline ctgrad::Tensor from_values(const std::vector<std::int64_t>& sizes, const std::vector<double>& values,
                                  ctgrad::ScalarType dtype) {
    ctgrad::Tensor t = ctgrad::empty(sizes, dtype);
    ctgrad::dispatch_dtype(dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = t.data_ptr<T>();
        for (std::size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
    });
    return t;
}

}  // namespace ctgrad_test
