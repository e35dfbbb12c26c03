#pragma once
// Host-callable entry points of the CUDA translation units in kernels/.
#include <thrust/device_vector.h>

namespace ctgrad::kernels {

struct cubic_fit_result {
    float loss;
    float grads[4];  // d loss / d a, b, c, d
};

// sum((a + b x + c x^2 + d x^3 - y)^2) and its partials, in one kernel over device data.
cubic_fit_result cubic_fit_value_and_grad(const thrust::device_vector<float>& xs, const thrust::device_vector<float>& ys,
                                          const float (&coefficients)[4]);
// The same over raw device pointers (n floats each), bound as ctgrad::expr::device_span.
cubic_fit_result cubic_fit_value_and_grad(const float* xs, const float* ys, std::size_t n,
                                          const float (&coefficients)[4]);

// sum((x - mean(x))^2) + max(x) and its gradient, written into grad (resized to x's length):
// a nested reduction and a max with its ties, each pass one kernel (the plan of
// ctgrad/expr/plan.hpp as nvcc compiles it).
float variance_plus_max_value_and_grad(const thrust::device_vector<float>& xs, thrust::device_vector<float>& grad);

}  // namespace ctgrad::kernels
