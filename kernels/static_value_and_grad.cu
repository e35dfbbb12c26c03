// The static layer on the GPU: the seeds' cubic-fit loss and its four partials computed by one
// thrust::transform_reduce, i.e. one CUDA kernel reading x and y once. Built on every CI run
// (without a GPU) so the node types, kernels and Thrust backend stay compilable by nvcc.
#include <ctgrad/backend/thrust.hpp>
#include <ctgrad/expr/core.hpp>

#include "static_kernels.hpp"

namespace ctgrad::kernels {

namespace {
using namespace ctgrad::expr;
constexpr var<"x"> x;
constexpr var<"y"> y;
constexpr var<"a"> a;
constexpr var<"b"> b;
constexpr var<"c"> c;
constexpr var<"d"> d;
constexpr auto cubic_loss = sum(pow<2>(a + b * x + c * pow<2>(x) + d * pow<3>(x) - y));
}  // namespace

cubic_fit_result cubic_fit_value_and_grad(const thrust::device_vector<float>& xs,
                                          const thrust::device_vector<float>& ys, const float (&coefficients)[4]) {
    auto [loss, grads] = value_and_grad(thrust::device, cubic_loss, wrt(a, b, c, d), x = xs, y = ys,
                                        a = coefficients[0], b = coefficients[1], c = coefficients[2],
                                        d = coefficients[3]);
    return {loss, {std::get<0>(grads), std::get<1>(grads), std::get<2>(grads), std::get<3>(grads)}};
}

cubic_fit_result cubic_fit_value_and_grad(const float* xs, const float* ys, std::size_t n,
                                          const float (&coefficients)[4]) {
    auto [loss, grads] = value_and_grad(thrust::device, cubic_loss, wrt(a, b, c, d), x = device_span(xs, n),
                                        y = device_span(ys, n), a = coefficients[0], b = coefficients[1],
                                        c = coefficients[2], d = coefficients[3]);
    return {loss, {std::get<0>(grads), std::get<1>(grads), std::get<2>(grads), std::get<3>(grads)}};
}

float variance_plus_max_value_and_grad(const thrust::device_vector<float>& xs, thrust::device_vector<float>& grad) {
    auto [value, grads] = value_and_grad(thrust::device, sum(pow<2>(x - mean(x))) + max(x), wrt(into(x, grad)), x = xs);
    return value;
}

}  // namespace ctgrad::kernels
