// GPU check of the static layer's Thrust/CUDA path: the cubic-fit value and partials from one
// kernel against a float64 loop on the host. Exits 77 (meson's "skipped") where no GPU is found.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "static_kernels.hpp"

int main() {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("no CUDA device found: skipping the GPU test of the static layer\n");
        return 77;
    }
    const std::size_t n = 1'000'003;
    std::vector<float> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
        x[i] = -3.14159265f + 6.2831853f * static_cast<float>(i) / static_cast<float>(n - 1);
        y[i] = std::sin(x[i]);
    }
    const float coefficients[4] = {0.1f, -0.2f, 0.05f, 0.01f};
    double loss = 0, grads[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) {
        const double xi = x[i];
        const double r = coefficients[0] + coefficients[1] * xi + coefficients[2] * xi * xi +
                         coefficients[3] * xi * xi * xi - y[i];
        loss += r * r;
        grads[0] += 2 * r;
        grads[1] += 2 * r * xi;
        grads[2] += 2 * r * xi * xi;
        grads[3] += 2 * r * xi * xi * xi;
    }
    const thrust::device_vector<float> d_x(x.begin(), x.end()), d_y(y.begin(), y.end());
    const auto result = ctgrad::kernels::cubic_fit_value_and_grad(d_x, d_y, coefficients);
    int failures = 0;
    auto check = [&](const char* what, double got, double want) {
        const bool ok = std::fabs(got - want) <= 1e-4 * std::fabs(want) + 1e-3;
        std::printf("%-8s gpu %.7g  host %.7g  %s\n", what, got, want, ok ? "ok" : "MISMATCH");
        failures += !ok;
    };
    const char* names[4] = {"d/da", "d/db", "d/dc", "d/dd"};
    const auto from_pointers = ctgrad::kernels::cubic_fit_value_and_grad(
        thrust::raw_pointer_cast(d_x.data()), thrust::raw_pointer_cast(d_y.data()), n, coefficients);
    for (const auto* r : {&result, &from_pointers}) {
        std::printf("%s\n", r == &result ? "thrust::device_vector:" : "device_span over raw pointers:");
        check("loss", r->loss, loss);
        for (int j = 0; j < 4; ++j) check(names[j], r->grads[j], grads[j]);
    }
    std::printf("%d passed, %d failed\n", 10 - failures, failures);
    return failures == 0 ? 0 : 1;
}
