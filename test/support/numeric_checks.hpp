#pragma once
// Numbers and tensors within a tolerance, and the central difference of a scalar function along
// one element of a float64 tensor: what the tests of custom Functions and of ctgrad::fuse check
// values and gradients with.
#include <cmath>
#include <cstdint>
#include <functional>

#include <ctgrad/tensor.hpp>
#include <doctest/doctest.h>

// A namespace of their own: laws.hpp's ctgrad_test::close treats NaN and inf differently.
namespace ctgrad_test::numeric_checks {

using ctgrad::Tensor;

inline double value(const Tensor& t) { return t.item().to_double(); }

inline bool close(double a, double b, double tol) { return std::abs(a - b) <= tol * (1 + std::abs(b)); }

// Every element of a and b within tol (relative, absolute near 0), same shape.
inline void check_all_close(const Tensor& a, const Tensor& b, double tol) {
    REQUIRE(a.defined());
    REQUIRE(b.defined());
    REQUIRE(a.sizes() == b.sizes());
    const Tensor da = a.to(ctgrad::kDouble).contiguous(), db = b.to(ctgrad::kDouble).contiguous();
    const double* pa = da.data_ptr<double>();
    const double* pb = db.data_ptr<double>();
    for (std::int64_t i = 0; i < a.numel(); ++i)
        CHECK_MESSAGE(close(pa[i], pb[i], tol), "element ", i, ": ", pa[i], " vs ", pb[i]);
}

// Central difference of the scalar f() along element i of t (float64 tensors, changed in place
// under no_grad and restored).
inline double central_difference(const std::function<double()>& f, Tensor& t, std::int64_t i, double h = 1e-6) {
    ctgrad::NoGradGuard no_grad;
    double* p = t.data_ptr<double>() + i;
    const double keep = *p;
    *p = keep + h;
    const double up = f();
    *p = keep - h;
    const double down = f();
    *p = keep;
    return (up - down) / (2 * h);
}

}  // namespace ctgrad_test::numeric_checks
