#pragma once
// The law checker every op of the static layer goes through (test/expr/test_ops.cpp).
//
// Given an expression e over K scalar variables and an independent reference f (plain <cmath>
// code), at random points of the op's domain it checks, in float64:
//   value        eval(e)                                  == f
//   gradient     eval(derivative(e, v_i))                 == central differences of f
//                value_and_grad(e, wrt(v...))              == the same
//   Hessian      eval(derivative(derivative(e, v_i), v_j)) == central second differences of f
//                value_and_grad(derivative(e, v_i), wrt(v...)) == the same row
// and then, with every variable bound to an array of all the points at once (the SIMD bodies
// of the op and of its derivatives, with a scalar tail):
//   eval(e), eval(derivative(e, v_i)), eval(derivative(derivative(e, v_i), v_j)) element-wise,
//   value_and_grad(sum(e)) and value_and_grad(mean(e)) with per-element gradients,
//   value_and_grad(derivative(sum(e), v_i)) whose per-element gradients are Hessian entries.
// Finite differences use 4th-order stencils (h = 1e-3): truncation ~1e-12, rounding ~1e-10.
#include <array>
#include <cmath>
#include <cstddef>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <ctgrad/expr.hpp>
#include <doctest/doctest.h>

#include "reference.hpp"

namespace ctgrad_test {

namespace ce = ctgrad::expr;

template <std::size_t K>
using point = std::array<double, K>;

// Element k of an eval() result: an array, or a number when the expression reads no array
// (a derivative that folded to a constant).
template <class R>
double element(const R& r, std::size_t k) {
    if constexpr (std::is_arithmetic_v<R>) return static_cast<double>(r);
    else return static_cast<double>(r(k));
}

struct interval {
    double lo, hi;
};

inline std::string describe(const double* p, std::size_t k) {
    std::ostringstream out;
    out.precision(17);
    out << "(";
    for (std::size_t i = 0; i < k; ++i) out << (i ? ", " : "") << p[i];
    out << ")";
    return out.str();
}
template <std::size_t K>
std::string describe(const point<K>& p) { return describe(p.data(), K); }

// |actual - expected| <= tol * (1 + |expected|): relative for large values, absolute near 0.
inline bool close(double actual, double expected, double tol) {
    if (std::isnan(expected)) return std::isnan(actual);
    if (std::isinf(expected)) return actual == expected;
    return std::abs(actual - expected) <= tol * (1.0 + std::abs(expected));
}

#define CTGRAD_CHECK_CLOSE(actual, expected, tol, what)                                                   \
    do {                                                                                                  \
        const double ctgrad_a_ = static_cast<double>(actual);                                             \
        const double ctgrad_e_ = static_cast<double>(expected);                                           \
        CHECK_MESSAGE(::ctgrad_test::close(ctgrad_a_, ctgrad_e_, (tol)), (what), ": got ", ctgrad_a_,         \
                      ", expected ", ctgrad_e_);                                                          \
    } while (0)

// 4th-order central difference of f along coordinate i.
template <class F, std::size_t K>
double fd_partial(const F& f, point<K> p, std::size_t i, double h = 1e-3) {
    auto at = [&](double d) {
        point<K> q = p;
        q[i] += d;
        return f(q);
    };
    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
}

// 4th-order second difference: the 5-point stencil on the diagonal, nested first differences off it.
template <class F, std::size_t K>
double fd_second(const F& f, point<K> p, std::size_t i, std::size_t j, double h = 1e-3) {
    if (i == j) {
        auto at = [&](double d) {
            point<K> q = p;
            q[i] += d;
            return f(q);
        };
        return (-at(2 * h) + 16 * at(h) - 30 * at(0) + 16 * at(-h) - at(-2 * h)) / (12 * h * h);
    }
    return fd_partial([&](const point<K>& q) { return fd_partial(f, q, j, h); }, p, i, h);
}

// The variables of an op, each bound to the matching coordinate of a point (or column of arrays).
template <class... Vs>
struct variables {
    static constexpr std::size_t K = sizeof...(Vs);
    template <std::size_t I>
    using at = std::tuple_element_t<I, std::tuple<Vs...>>;

    template <class Values, class Fn>
    static decltype(auto) bind(const Values& values, Fn&& fn) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
            return fn((at<I>{} = values[I])...);
        }(std::make_index_sequence<K>{});
    }
};

template <std::size_t K>
struct law_options {
    std::array<interval, K> domain;
    bool (*admissible)(const point<K>&) = nullptr;  // e.g. away from a kink
    int points = 12;
    double tol_value = 1e-13;
    double tol_grad = 1e-8;
    double tol_hessian = 1e-6;
    // Against PyTorch's records: both sides are float64 library code, so the default is tight. An
    // op may loosen one where PyTorch itself is less accurate (its trigamma truncates its series
    // early: about 3e-10 relative error near x = 1).
    double golden_value = 1e-13;
    double golden_grad = 1e-12;
    double golden_hessian = 1e-12;
};

template <std::size_t K>
std::vector<point<K>> sample(const law_options<K>& opt, std::mt19937& rng) {
    std::vector<point<K>> out;
    int guard = 0;
    while (static_cast<int>(out.size()) < opt.points) {
        REQUIRE(++guard < 100000);
        point<K> p;
        for (std::size_t i = 0; i < K; ++i)
            p[i] = std::uniform_real_distribution<double>(opt.domain[i].lo, opt.domain[i].hi)(rng);
        if (!opt.admissible || opt.admissible(p)) out.push_back(p);
    }
    return out;
}

// What an op should give at one point: value, gradient and Hessian. Computed once (from finite
// differences of the reference, or read from the golden file), so that the checks above are
// instantiated once per expression.
template <std::size_t K>
struct expectation {
    double value = 0;
    std::array<double, K> grad{};
    std::array<std::array<double, K>, K> hessian{};
};

template <std::size_t K, class F>
expectation<K> from_finite_differences(const F& f, const point<K>& p) {
    expectation<K> x;
    x.value = f(p);
    for (std::size_t i = 0; i < K; ++i) {
        x.grad[i] = fd_partial(f, p, i);
        for (std::size_t j = 0; j < K; ++j) x.hessian[i][j] = fd_second(f, p, i, j);
    }
    return x;
}

template <std::size_t K>
expectation<K> from_record(const reference_record& r) {
    expectation<K> x;
    x.value = r.value;
    for (std::size_t i = 0; i < K; ++i) {
        x.grad[i] = r.grad[i];
        for (std::size_t j = 0; j < K; ++j) x.hessian[i][j] = r.h(i, j);
    }
    return x;
}

// Checks of e at one point with scalar bindings: value, gradient and Hessian, through
// derivative() + eval and through value_and_grad. `expect` gives the expected value, gradient
// and Hessian at p.
template <class Vars, class E>
void check_at_point(const E& e, const point<Vars::K>& p, const expectation<Vars::K>& expect, double tv, double tg, double th) {
    constexpr std::size_t K = Vars::K;
    INFO("at point ", describe(p));
    const double value = expect.value;
    CTGRAD_CHECK_CLOSE(Vars::bind(p, [&](auto... b) { return ce::eval(e, b...); }), value, tv, "eval(e)");

    auto [v, grads] = Vars::bind(p, [&](auto... b) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return ce::value_and_grad(e, ce::wrt(typename Vars::template at<I>{}...), b...);
        }(std::make_index_sequence<K>{});
    });
    CTGRAD_CHECK_CLOSE(v, value, tv, "value_and_grad(e).value");

    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
                constexpr std::size_t i = I;
                INFO("partial ", i);
                const double g = expect.grad[i];
                const auto de = ce::derivative(e, typename Vars::template at<i>{});
                CTGRAD_CHECK_CLOSE(Vars::bind(p, [&](auto... b) { return ce::eval(de, b...); }), g, tg,
                                   "eval(derivative(e, v_i)) [" + ce::to_string(de) + "]");
                CTGRAD_CHECK_CLOSE(std::get<i>(grads), g, tg, "value_and_grad(e) partial i");

                auto [dv, dgrads] = Vars::bind(p, [&](auto... b) {
                    return ce::value_and_grad(de, ce::wrt(typename Vars::template at<I>{}...), b...);
                });
                CTGRAD_CHECK_CLOSE(dv, g, tg, "value_and_grad(derivative(e, v_i)).value");
                [&]<std::size_t... J>(std::index_sequence<J...>) {
                    (
                        [&] {
                            constexpr std::size_t j = J;
                            INFO("second partial (", i, ", ", j, ")");
                            const double hij = expect.hessian[i][j];
                            const auto dde = ce::derivative(de, typename Vars::template at<j>{});
                            CTGRAD_CHECK_CLOSE(Vars::bind(p, [&](auto... b) { return ce::eval(dde, b...); }), hij, th,
                                               "eval(derivative(derivative(e, v_i), v_j)) [" + ce::to_string(dde) + "]");
                            CTGRAD_CHECK_CLOSE(std::get<j>(dgrads), hij, th, "value_and_grad(derivative(e, v_i)) partial j");
                        }(),
                        ...);
                }(std::make_index_sequence<K>{});
            }(),
            ...);
    }(std::make_index_sequence<K>{});
}

// The same quantities with every variable bound to an array holding all points at once.
template <class Vars, class E>
void check_on_arrays(const E& e, const std::vector<point<Vars::K>>& pts,
                     const std::vector<expectation<Vars::K>>& expect, double tv, double tg,
                     double th) {
    constexpr std::size_t K = Vars::K;
    const std::size_t n = pts.size();
    std::array<std::vector<double>, K> columns;
    for (std::size_t i = 0; i < K; ++i)
        for (const auto& p : pts) columns[i].push_back(p[i]);
    auto at = [&](std::size_t k) { return describe(pts[k]); };

    const auto values = Vars::bind(columns, [&](auto... b) { return ce::eval(e, b...); });
    REQUIRE(values.size() == n);
    double total = 0;
    for (std::size_t k = 0; k < n; ++k) {
        total += expect[k].value;
        CTGRAD_CHECK_CLOSE(values(k), expect[k].value, tv, "array eval(e) at " + at(k));
    }

    auto wrt_all = []<std::size_t... I>(std::index_sequence<I...>) {
        return ce::wrt(typename Vars::template at<I>{}...);
    }(std::make_index_sequence<K>{});
    auto [sv, sgrads] = Vars::bind(columns, [&](auto... b) { return ce::value_and_grad(ce::sum(e), wrt_all, b...); });
    auto [mv, mgrads] = Vars::bind(columns, [&](auto... b) { return ce::value_and_grad(ce::mean(e), wrt_all, b...); });
    CTGRAD_CHECK_CLOSE(sv, total, tv * static_cast<double>(n), "value_and_grad(sum(e)).value");
    CTGRAD_CHECK_CLOSE(mv, total / static_cast<double>(n), tv * static_cast<double>(n), "value_and_grad(mean(e)).value");

    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
                constexpr std::size_t i = I;
                INFO("partial ", i);
                const auto de = ce::derivative(e, typename Vars::template at<i>{});
                const auto dvalues = Vars::bind(columns, [&](auto... b) { return ce::eval(de, b...); });
                const auto& gsum = std::get<i>(sgrads);
                const auto& gmean = std::get<i>(mgrads);
                REQUIRE(gsum.size() == n);
                REQUIRE(gmean.size() == n);
                // d/dv_i of sum(e) per element; its gradient per element is the Hessian row.
                auto [hv, hgrads] =
                    Vars::bind(columns, [&](auto... b) { return ce::value_and_grad(ce::sum(de), wrt_all, b...); });
                double gtotal = 0;
                for (std::size_t k = 0; k < n; ++k) {
                    const double g = expect[k].grad[i];
                    gtotal += g;
                    CTGRAD_CHECK_CLOSE(element(dvalues, k), g, tg, "array eval(derivative(e, v_i)) at " + at(k));
                    CTGRAD_CHECK_CLOSE(gsum(k), g, tg, "value_and_grad(sum(e)) element gradient at " + at(k));
                    CTGRAD_CHECK_CLOSE(gmean(k) * static_cast<double>(n), g, tg,
                                       "n * value_and_grad(mean(e)) element gradient at " + at(k));
                }
                CTGRAD_CHECK_CLOSE(hv, gtotal, tg * static_cast<double>(n), "value_and_grad(sum(derivative(e, v_i))).value");
                [&]<std::size_t... J>(std::index_sequence<J...>) {
                    (
                        [&] {
                            constexpr std::size_t j = J;
                            INFO("second partial (", i, ", ", j, ")");
                            const auto dde = ce::derivative(de, typename Vars::template at<j>{});
                            const auto ddvalues = Vars::bind(columns, [&](auto... b) { return ce::eval(dde, b...); });
                            const auto& hrow = std::get<j>(hgrads);
                            for (std::size_t k = 0; k < n; ++k) {
                                const double hij = expect[k].hessian[i][j];
                                CTGRAD_CHECK_CLOSE(element(ddvalues, k), hij, th, "array eval(second derivative) at " + at(k));
                                CTGRAD_CHECK_CLOSE(hrow(k), hij, th,
                                                   "value_and_grad(sum(derivative(e, v_i))) element gradient at " + at(k));
                            }
                        }(),
                        ...);
                }(std::make_index_sequence<K>{});
            }(),
            ...);
    }(std::make_index_sequence<K>{});
}

// The law check of one op: random points against f and finite differences, then the golden
// PyTorch points of `name` (which must exist), with scalar and with array bindings.
template <class... Vs, class E, class F>
void check_op(const char* name, const E& e, const F& f, const law_options<sizeof...(Vs)>& opt, std::mt19937& rng,
              const reference_table& goldens) {
    using Vars = variables<Vs...>;
    constexpr std::size_t K = Vars::K;
    INFO("op ", name, ": ", ce::to_string(e));
    const auto pts = sample(opt, rng);
    std::vector<expectation<K>> expected;
    for (const auto& p : pts) expected.push_back(from_finite_differences(f, p));
    for (std::size_t k = 0; k < pts.size(); ++k)
        check_at_point<Vars>(e, pts[k], expected[k], opt.tol_value, opt.tol_grad, opt.tol_hessian);
    check_on_arrays<Vars>(e, pts, expected, opt.tol_value, opt.tol_grad, opt.tol_hessian);

    const auto it = goldens.find(name);
    REQUIRE_MESSAGE(it != goldens.end(), "no golden records for ", name, " in expr_ops.txt");
    std::vector<point<K>> golden_points;
    std::vector<expectation<K>> golden;
    for (const auto& r : it->second) {
        REQUIRE(r.inputs.size() == K);
        point<K> p;
        std::copy(r.inputs.begin(), r.inputs.end(), p.begin());
        golden_points.push_back(p);
        golden.push_back(from_record<K>(r));
        // The reference function itself agrees with PyTorch (both float64; libm and Sleef may
        // differ in the last bits).
        CTGRAD_CHECK_CLOSE(f(p), r.value, opt.golden_value, "reference function vs PyTorch");
    }
    INFO("golden (PyTorch) points");
    for (std::size_t k = 0; k < golden_points.size(); ++k)
        check_at_point<Vars>(e, golden_points[k], golden[k], opt.golden_value, opt.golden_grad, opt.golden_hessian);
    check_on_arrays<Vars>(e, golden_points, golden, opt.golden_value, opt.golden_grad, opt.golden_hessian);
}

}  // namespace ctgrad_test
