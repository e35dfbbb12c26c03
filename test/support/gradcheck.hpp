#pragma once
// Float64 inputs (random, or with magnitudes well apart), autograd's gradients against central
// finite differences (second derivatives too), and `unchanged` (a failed call left its inputs as
// they were): what the tests of ops/minmax.hpp, norm.hpp, compare.hpp and join.hpp share.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <ctgrad/tensor.hpp>
#include <doctest/doctest.h>

#include "values.hpp"

namespace ctgrad_test::gradcheck {

using namespace ctgrad;

// a and b equal within atol + rtol * |b|; NaN equals NaN, an infinity only itself.
inline bool same_number(double a, double b, double rtol, double atol) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::abs(a - b) <= atol + rtol * std::abs(b);
}

// Remembers tensors' values and versions, to show that a failed call changed nothing.
struct unchanged {
    std::vector<Tensor> tensors;
    std::vector<std::vector<double>> values;
    std::vector<std::uint32_t> versions;
    explicit unchanged(std::vector<Tensor> ts) : tensors(std::move(ts)) {
        for (const Tensor& t : tensors) {
            values.push_back(values_of(t));
            versions.push_back(t._version());
        }
    }
    void check() const {
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            CHECK(tensors[i]._version() == versions[i]);
            const std::vector<double> now = values_of(tensors[i]);
            REQUIRE(now.size() == values[i].size());
            for (std::size_t k = 0; k < now.size(); ++k) CHECK(same_number(now[k], values[i][k], 0, 0));
        }
    }
};

inline Tensor random_tensor(IntArrayRef sizes, std::uint64_t seed, double lo = -2, double hi = 2) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    Tensor t = empty(sizes, kDouble);
    double* p = t.data_ptr<double>();
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = u(rng);
    return t;
}

// Random values whose magnitudes stay away from 0 and from each other by at least `gap` (so
// no kink of max, min, |x| or an inf-norm lies within a finite-difference step).
inline Tensor separated_tensor(IntArrayRef sizes, std::uint64_t seed, double gap = 0.05) {
    Tensor t = empty(sizes, kDouble);
    const std::int64_t n = t.numel();
    std::vector<double> mags;
    for (std::int64_t i = 0; i < n; ++i) mags.push_back(0.3 + gap * static_cast<double>(i));
    std::mt19937_64 rng(seed);
    std::shuffle(mags.begin(), mags.end(), rng);
    double* p = t.data_ptr<double>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = (rng() & 1) ? mags[static_cast<std::size_t>(i)] : -mags[static_cast<std::size_t>(i)];
    return t;
}

inline Tensor leaf(const Tensor& t) { return t.detach().clone().requires_grad_(true); }

// The finite-difference checker: for f from float64 tensors to a tensor, the gradient of
// sum(f(xs) * w) (w random) that autograd gives against central differences of the same sum.
// Applied to a function that itself returns a create_graph gradient, it checks second derivatives.

using tensor_function = std::function<Tensor(const TensorList&)>;

inline double weighted_sum(const Tensor& y, const Tensor& w) { return (y.detach() * w).sum().item<double>(); }

inline void check_gradient(const tensor_function& f, const TensorList& points, const std::string& what,
                           double h = 1e-6, double tol = 1e-6) {
    INFO(what);
    TensorList xs;
    for (const Tensor& p : points) xs.push_back(leaf(p));
    const Tensor y = f(xs);
    const Tensor w = random_tensor(y.sizes(), 99, 0.5, 1.5);
    REQUIRE(y.requires_grad());
    const variable_list grads = autograd::grad({(y * w).sum()}, xs, {}, std::nullopt, false, true);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const std::vector<double> analytic = grads[i].defined() ? values_of(grads[i]) : std::vector<double>(xs[i].numel(), 0.0);
        for (std::int64_t j = 0; j < xs[i].numel(); ++j) {
            auto shifted = [&](double by) {
                TensorList moved;
                for (const Tensor& x : xs) moved.push_back(leaf(x));
                Tensor flat = moved[i].detach().view({-1});  // shares the leaf's storage
                flat.data_ptr<double>()[j] += by;
                return weighted_sum(f(moved), w);
            };
            const double numeric = (shifted(h) - shifted(-h)) / (2 * h);
            INFO("input " << i << ", element " << j << ": autograd " << analytic[static_cast<std::size_t>(j)]
                          << ", finite differences " << numeric);
            CHECK(std::abs(analytic[static_cast<std::size_t>(j)] - numeric) <= tol * (1 + std::abs(numeric)));
        }
    }
}

}  // namespace ctgrad_test::gradcheck
