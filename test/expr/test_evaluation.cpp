// eval, value_and_grad and assign: bindings of every supported container, broadcasting,
// outputs, shape errors (message and no write), IEEE domain behaviour, no heap allocation
// during evaluation, and expressions that outlive the temporaries they were built from.
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <ctgrad/expr.hpp>
#include <doctest/doctest.h>
#include <xtensor/xarray.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xtensor.hpp>

#include "../support/laws.hpp"

// Every heap allocation in this program goes through these, so a test can count them.
namespace {
std::atomic<long> allocations{0};
void* counted_alloc(std::size_t n) {
    ++allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* counted_aligned_alloc(std::size_t n, std::align_val_t a) {
    ++allocations;
    const std::size_t al = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
    throw std::bad_alloc();
}
}  // namespace
void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_aligned_alloc(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_aligned_alloc(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
// The non-throwing forms too: a sanitizer's runtime replaces each form on its own, so a form
// left out would pair its new with the free above.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    try {
        return counted_aligned_alloc(n, a);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept { return operator new(n, a, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace ctgrad::expr;

namespace {
constexpr var<"x"> x;
constexpr var<"y"> y;
constexpr var<"a"> a;
constexpr var<"b"> b;

std::vector<double> random_vector(std::size_t n, std::uint32_t seed, double lo = -1, double hi = 1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<double> v(n);
    for (auto& e : v) e = u(rng);
    return v;
}

// The message of the ctgrad::Error that fn throws ("" and a failed check when it throws none).
template <class Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const ctgrad::Error& e) {
        return e.what();
    }
    FAIL_CHECK("expected a ctgrad::Error");
    return "";
}
}  // namespace

TEST_CASE("scalar bindings: numbers of any arithmetic type") {
    CHECK(eval(x * y, x = 2.0, y = 3.0) == 6.0);
    CHECK(eval(x * y + 1_c, x = 2, y = 3) == 7.0);  // integers evaluate in double
    static_assert(std::is_same_v<decltype(eval(x * y, x = 2, y = 3)), double>);
    static_assert(std::is_same_v<decltype(eval(x * y, x = 2.0f, y = 3.0f)), float>);
    CHECK(eval(x * y, x = 2.5f, y = 4.0f) == 10.0f);
    CHECK(eval(2.5 * x - x / 4.0, x = 2.0) == doctest::Approx(4.5));
    CHECK(eval(exec::scalar, sin(x) + y, x = 0.0, y = 1.5) == 1.5);
    auto [v, g] = value_and_grad(x * x * y, wrt(y, x), x = 3.0, y = 2.0);
    CHECK(v == 18.0);
    CHECK(std::get<0>(g) == 9.0);
    CHECK(std::get<1>(g) == 12.0);
    // A variable bound but absent from the expression has gradient 0.
    auto [v2, g2] = value_and_grad(x * 2.0, wrt(x, y), x = 1.0, y = 5.0);
    CHECK(v2 == 2.0);
    CHECK(std::get<0>(g2) == 2.0);
    CHECK(std::get<1>(g2) == 0.0);
}

TEST_CASE("array bindings of every container, scalars broadcast") {
    const std::vector<double> xs{1, 2, 3, 4, 5, 6};
    const auto expected = [&](std::size_t i) { return 2.0 * xs[i] + 1.0; };
    auto check_result = [&](const auto& r, std::vector<std::size_t> shape) {
        REQUIRE(r.size() == xs.size());
        CHECK(std::vector<std::size_t>(r.shape().begin(), r.shape().end()) == shape);
        for (std::size_t i = 0; i < xs.size(); ++i) CHECK(r.data()[i] == expected(i));
    };
    SUBCASE("std::vector") { check_result(eval(a * x + b, x = xs, a = 2.0, b = 1), {6}); }
    SUBCASE("std::span") {
        std::span<const double> s(xs);
        check_result(eval(a * x + b, x = s, a = 2.0, b = 1.0), {6});
    }
    SUBCASE("std::array") {
        const std::array<double, 6> arr{1, 2, 3, 4, 5, 6};
        check_result(eval(a * x + b, x = arr, a = 2.0, b = 1.0), {6});
    }
    SUBCASE("xt::xarray keeps its shape") {
        const xt::xarray<double> xa = {{1, 2, 3}, {4, 5, 6}};
        check_result(eval(a * x + b, x = xa, a = 2.0, b = 1.0), {2, 3});
    }
    SUBCASE("xt::xtensor") {
        const xt::xtensor<double, 2> xt2 = {{1, 2}, {3, 4}, {5, 6}};
        check_result(eval(a * x + b, x = xt2, a = 2.0, b = 1.0), {3, 2});
    }
    SUBCASE("xt::xtensor_fixed with xt::xarray of the same run-time shape") {
        const xt::xtensor_fixed<double, xt::xshape<2, 3>> xf = {{1, 2, 3}, {4, 5, 6}};
        const xt::xarray<double> ones = xt::ones<double>({2, 3});
        check_result(eval(a * x + b * y, x = xf, y = ones, a = 2.0, b = 1.0), {2, 3});
    }
    SUBCASE("temporaries live until the end of the full expression") {
        check_result(eval(a * x + b, x = std::vector<double>(xs), a = 2.0, b = 1.0), {6});
    }
    SUBCASE("float arrays give float results") {
        const std::vector<float> xf{1, 2, 3, 4, 5, 6};
        const auto r = eval(a * x + b, x = xf, a = 2.0f, b = 1.0f);
        static_assert(std::is_same_v<std::remove_cvref_t<decltype(r)>, xt::xarray<float>>);
        for (std::size_t i = 0; i < xf.size(); ++i) CHECK(r(i) == static_cast<float>(expected(i)));
    }
    SUBCASE("element-wise expressions may read reductions") {
        const auto r = eval(x - mean(x), x = xs);
        for (std::size_t i = 0; i < xs.size(); ++i) CHECK(r(i) == doctest::Approx(xs[i] - 3.5));
        CHECK(eval(sum(x) / mean(x), x = xs) == doctest::Approx(6.0));
    }
    SUBCASE("a scalar-valued expression over arrays is a number") {
        static_assert(std::is_same_v<decltype(eval(sum(x * a), x = xs, a = 2.0)), double>);
        CHECK(eval(sum(x * a), x = xs, a = 2.0) == 42.0);
        CHECK(eval(mean(x) * a, x = xs, a = 2.0) == 7.0);
    }
}

TEST_CASE("assign writes the expression into an output in one pass") {
    const std::vector<double> xs{1, 2, 3, 4}, ys{10, 20, 30, 40};
    SUBCASE("std::vector is resized") {
        std::vector<double> out;
        assign(out, x * y + a, x = xs, y = ys, a = 0.5);
        CHECK(out == std::vector<double>{10.5, 40.5, 90.5, 160.5});
        std::vector<double> big(100, 7.0);
        assign(big, x + y, x = xs, y = ys);
        CHECK(big == std::vector<double>{11, 22, 33, 44});
    }
    SUBCASE("xt::xarray is reshaped") {
        xt::xarray<double> out = xt::zeros<double>({3, 3});
        const xt::xarray<double> m = {{1, 2}, {3, 4}};
        assign(out, -x, x = m);
        CHECK(out == xt::xarray<double>{{-1, -2}, {-3, -4}});
    }
    SUBCASE("a std::span of the right size, through both CPU loops") {
        std::vector<double> storage(4, 0.0);
        std::span<double> out(storage);
        assign(out, x - y, x = xs, y = ys);
        CHECK(storage == std::vector<double>{-9, -18, -27, -36});
        assign(exec::scalar, out, x * 2.0, x = xs);
        CHECK(storage == std::vector<double>{2, 4, 6, 8});
    }
    SUBCASE("a std::span of the wrong size throws and is left untouched") {
        std::vector<double> storage(3, -1.0);
        std::span<double> out(storage);
        CHECK(error_of([&] { assign(out, x + y, x = xs, y = ys); }) ==
              "ctgrad::expr::assign: the output has shape (3) but the expression has shape (4)");
        CHECK(storage == std::vector<double>(3, -1.0));
    }
    SUBCASE("a std::array of the wrong size throws") {
        std::array<double, 5> out{};
        CHECK(error_of([&] { assign(out, x * 2.0, x = xs); }) ==
              "ctgrad::expr::assign: the output has shape (5) but the expression has shape (4)");
        CHECK(out == std::array<double, 5>{});
    }
    SUBCASE("an xt::xtensor of fixed rank throws on a result of another rank") {
        xt::xtensor<double, 1> out = {1, 2, 3};
        const xt::xarray<double> m = {{1, 2}, {3, 4}};
        CHECK(error_of([&] { assign(out, x, x = m); }) ==
              "ctgrad::expr::assign: the output's rank is fixed at 1 but the result has shape (2, 2)");
        CHECK(out == xt::xtensor<double, 1>{1, 2, 3});
    }
    SUBCASE("a scalar expression fills the whole output") {
        std::vector<double> out(5, 0.0);
        assign(out, a * 2.0 + 1_c, a = 1.5);
        CHECK(out == std::vector<double>(5, 4.0));
    }
}

TEST_CASE("value_and_grad with array variables gives per-element gradients") {
    const auto xs = random_vector(23, 1);
    const auto ys = random_vector(23, 2, 0.5, 2);
    const double a0 = 0.8;
    const auto loss = mean(sin(a * x) * y) + sum(x * x) / sum(y);
    auto f = [&](const std::vector<double>& xv, const std::vector<double>& yv, double av) {
        double m = 0, sxx = 0, sy = 0;
        for (std::size_t i = 0; i < xv.size(); ++i) {
            m += std::sin(av * xv[i]) * yv[i];
            sxx += xv[i] * xv[i];
            sy += yv[i];
        }
        return m / static_cast<double>(xv.size()) + sxx / sy;
    };
    auto [v, grads] = value_and_grad(loss, wrt(x, a, y), x = xs, y = ys, a = a0);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(std::get<0>(grads))>, xt::xarray<double>>);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(std::get<1>(grads))>, double>);
    CTGRAD_CHECK_CLOSE(v, f(xs, ys, a0), 1e-13, "value");
    const auto& gx = std::get<0>(grads);
    const auto& gy = std::get<2>(grads);
    REQUIRE(gx.size() == xs.size());
    REQUIRE(gy.size() == ys.size());
    CHECK(gx.shape()[0] == 23);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        INFO("element ", i);
        auto fx = [&](const ctgrad_test::point<1>& p) {
            auto xv = xs;
            xv[i] = p[0];
            return f(xv, ys, a0);
        };
        auto fy = [&](const ctgrad_test::point<1>& p) {
            auto yv = ys;
            yv[i] = p[0];
            return f(xs, yv, a0);
        };
        CTGRAD_CHECK_CLOSE(gx(i), ctgrad_test::fd_partial(fx, ctgrad_test::point<1>{xs[i]}, 0), 1e-9, "d/dx_i");
        CTGRAD_CHECK_CLOSE(gy(i), ctgrad_test::fd_partial(fy, ctgrad_test::point<1>{ys[i]}, 0), 1e-9, "d/dy_i");
    }
    auto fa = [&](const ctgrad_test::point<1>& p) { return f(xs, ys, p[0]); };
    CTGRAD_CHECK_CLOSE(std::get<1>(grads), ctgrad_test::fd_partial(fa, ctgrad_test::point<1>{a0}, 0), 1e-9, "d/da");

    // xt::xarray of rank 2: gradients come back in the bound shape.
    const xt::xarray<double> m = {{1, 2, 3}, {4, 5, 6}};
    auto [mv, mg] = value_and_grad(sum(x * x), wrt(x), x = m);
    CHECK(mv == 91.0);
    CHECK(std::get<0>(mg) == xt::xarray<double>{{2, 4, 6}, {8, 10, 12}});
}

TEST_CASE("bound arrays of different run-time shapes: ctgrad::Error naming both, nothing written") {
    const std::vector<double> x3{1, 2, 3}, y4{1, 2, 3, 4};
    CHECK(error_of([&] { (void)eval(x + y, x = x3, y = y4); }) ==
          "ctgrad::expr::eval: bound arrays have different shapes: x has shape (3) but y has shape (4)");
    CHECK(error_of([&] { (void)eval(sum(x * y), y = y4, x = x3); }) ==
          "ctgrad::expr::eval: bound arrays have different shapes: y has shape (4) but x has shape (3)");
    CHECK(error_of([&] { (void)value_and_grad(sum(x * y), wrt(x), x = x3, y = y4); }) ==
          "ctgrad::expr::value_and_grad: bound arrays have different shapes: x has shape (3) but y has shape (4)");
    const xt::xarray<double> m23 = xt::zeros<double>({2, 3});
    const xt::xarray<double> m32 = xt::zeros<double>({3, 2});
    CHECK(error_of([&] { (void)eval(x * a + y, x = m23, a = 1.0, y = m32); }) ==
          "ctgrad::expr::eval: bound arrays have different shapes: x has shape (2, 3) but y has shape (3, 2)");
    const xt::xtensor_fixed<double, xt::xshape<2, 3>> f23{};
    const std::vector<double> v6(6, 1.0);
    CHECK(error_of([&] { (void)eval(x + y, x = f23, y = v6); }) ==
          "ctgrad::expr::eval: bound arrays have different shapes: x has shape (2, 3) but y has shape (6)");

    std::vector<double> out{-1, -1, -1};
    CHECK(error_of([&] { assign(out, x + y, x = x3, y = y4); }) ==
          "ctgrad::expr::assign: bound arrays have different shapes: x has shape (3) but y has shape (4)");
    CHECK(out == std::vector<double>{-1, -1, -1});
    std::vector<double> empty;
    CHECK(error_of([&] { assign(empty, x + y, x = x3, y = y4); }).find("x has shape (3) but y has shape (4)") !=
          std::string::npos);
    CHECK(empty.empty());  // not even resized
}

TEST_CASE("IEEE domain behaviour like PyTorch") {
    const double inf = std::numeric_limits<double>::infinity();
    CHECK(std::isnan(eval(log(x), x = -1.0)));
    CHECK(eval(log(x), x = 0.0) == -inf);
    CHECK(std::isnan(eval(sqrt(x), x = -1.0)));
    CHECK(eval(sqrt(x), x = 0.0) == 0.0);
    CHECK(eval(derivative(log(x), x), x = 0.0) == inf);
    CHECK(eval(derivative(sqrt(x), x), x = 0.0) == inf);
    CHECK(eval(x / y, x = 1.0, y = 0.0) == inf);
    CHECK(eval(exp(x), x = 1000.0) == inf);
    CHECK(eval(sigmoid(x), x = -1000.0) == 0.0);
    CHECK(eval(sigmoid(x), x = 1000.0) == 1.0);
    // NaN propagates through relu, min and max (torch.relu, torch.minimum/maximum do the same).
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(std::isnan(eval(relu(x), x = nan)));
    CHECK(std::isnan(eval(max(x, y), x = nan, y = 1.0)));
    CHECK(std::isnan(eval(min(x, y), x = 1.0, y = nan)));
    // The same through the SIMD loop and its scalar tail (10 elements).
    const std::vector<double> xs{-1, 0, 4, -1, 0, 4, -1, 0, 4, -1};
    const auto logs = eval(log(x), x = xs);
    const auto roots = eval(sqrt(x), x = xs);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        INFO("element ", i, " = ", xs[i]);
        if (xs[i] < 0) {
            CHECK(std::isnan(logs(i)));
            CHECK(std::isnan(roots(i)));
        } else if (xs[i] == 0) {
            CHECK(logs(i) == -inf);
            CHECK(roots(i) == 0.0);
        } else {
            CHECK(logs(i) == doctest::Approx(std::log(4.0)));
            CHECK(roots(i) == 2.0);
        }
    }
    const std::vector<double> ns{nan, 1, nan, 1, nan, 1, nan, 1, nan};
    const auto maxes = eval(max(x, y), x = ns, y = std::vector<double>(9, 0.0));
    const auto mins = eval(min(y, x), x = ns, y = std::vector<double>(9, 0.0));
    for (std::size_t i = 0; i < ns.size(); ++i) {
        CHECK(std::isnan(maxes(i)) == std::isnan(ns[i]));
        CHECK(std::isnan(mins(i)) == std::isnan(ns[i]));
    }
}

TEST_CASE("evaluation performs no heap allocation") {
    const auto xs = random_vector(1003, 3);
    const auto ys = random_vector(1003, 4);
    std::vector<double> storage(xs.size(), 0.0);
    std::span<double> out(storage);
    const auto loss = mean(pow<2>(a * x + b - y)) + sum(abs(x - y)) / 100.0;
    double value = 0, ga = 0, gb = 0, s = 0;

    const long before = allocations.load();
    {
        auto [v, g] = value_and_grad(loss, wrt(a, b), x = xs, y = ys, a = 0.5, b = -0.25);
        value = v;
        ga = std::get<0>(g);
        gb = std::get<1>(g);
    }
    {
        auto [v, g] = value_and_grad(exec::scalar, loss, wrt(b, a), x = xs, y = ys, a = 0.5, b = -0.25);
        value += v;
        ga += std::get<1>(g);
        gb += std::get<0>(g);
    }
    assign(out, a * x + b - y, x = xs, y = ys, a = 0.5, b = -0.25);
    assign(exec::scalar, out, a * x + b - y + mean(x), x = xs, y = ys, a = 0.5, b = -0.25);
    s = eval(sum(x * y) * a, x = xs, y = ys, a = 2.0);
    const long during = allocations.load() - before;
    CHECK(during == 0);

    // The results are real (not optimised away) and agree between the loops.
    double mx = 0;
    for (double v : xs) mx += v;
    mx /= static_cast<double>(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) REQUIRE(storage[i] == doctest::Approx(0.5 * xs[i] - 0.25 - ys[i] + mx));
    CHECK(value > 0);
    CHECK(ga != 0);
    CHECK(gb != 0);
    CHECK(std::isfinite(s));

    // The counter does count: an xarray result allocates.
    const long before2 = allocations.load();
    const auto r = eval(x * 2.0, x = xs);
    CHECK(allocations.load() - before2 > 0);
    CHECK(r(0) == 2 * xs[0]);
}

namespace {
// Built from temporaries and returned by value: the expression owns copies of its operands.
auto make_expression(double scale, double shift) {
    auto scaled = var<"x">{} * scale;
    auto shifted = sin(var<"y">{}) + shift;
    auto product = scaled * shifted;
    return product - pow(scaled, shifted * 0.5);
}
}  // namespace

TEST_CASE("expressions own their operands") {
    auto e = make_expression(1.5, 2.0);
    {
        // Overwrite the stack where the helper's temporaries lived.
        volatile double noise[64];
        for (int i = 0; i < 64; ++i) noise[i] = -1e300;
        (void)noise[0];
    }
    const double xv = 0.7, yv = 0.3;
    const double expected = 1.5 * xv * (std::sin(yv) + 2.0) - std::pow(1.5 * xv, (std::sin(yv) + 2.0) * 0.5);
    CHECK(eval(e, x = xv, y = yv) == doctest::Approx(expected).epsilon(1e-14));
    auto [v, g] = value_and_grad(e, wrt(x), x = xv, y = yv);
    CHECK(v == doctest::Approx(expected).epsilon(1e-14));
    auto f = [&](const ctgrad_test::point<1>& p) {
        return 1.5 * p[0] * (std::sin(yv) + 2.0) - std::pow(1.5 * p[0], (std::sin(yv) + 2.0) * 0.5);
    };
    CTGRAD_CHECK_CLOSE(std::get<0>(g), ctgrad_test::fd_partial(f, ctgrad_test::point<1>{xv}, 0), 1e-9, "d/dx");
    const auto copy = e;  // trivially copyable, still the same value
    CHECK(eval(copy, x = xv, y = yv) == eval(e, x = xv, y = yv));
    const std::vector<double> xs{0.1, 0.2, 0.3, 0.4, 0.5};
    const auto r = eval(make_expression(2.0, 1.0), x = xs, y = 0.5);
    for (std::size_t i = 0; i < xs.size(); ++i)
        CHECK(r(i) == doctest::Approx(2.0 * xs[i] * (std::sin(0.5) + 1.0) - std::pow(2.0 * xs[i], (std::sin(0.5) + 1.0) * 0.5)));
}

// Reductions inside reductions: one pass per depth (expr/plan.hpp), checked against direct sums
// and finite differences, on the scalar and SIMD loops (lengths with a SIMD tail).
TEST_CASE("nested reductions: values and gradients at any depth") {
    const auto xs = random_vector(37, 11);
    const double mu0 = 0.4;
    auto direct = [](const std::vector<double>& xv, double m0) {
        double m = 0;
        for (double v : xv) m += v;
        m /= static_cast<double>(xv.size());
        double var = 0, cross = 0;
        for (double v : xv) {
            var += (v - m) * (v - m);
            cross += v * m * m0;
        }
        return var / static_cast<double>(xv.size()) * cross;  // mean((x - mean(x))^2) * sum(x * mean(x) * mu)
    };
    const auto loss = mean(pow<2>(x - mean(x))) * sum(x * mean(x) * a);
    CHECK(to_string(plan(loss)) ==
          "pass 1: mean(x), mean(x)\npass 2: mean((x - mean(x))^2), sum(x*mean(x)*a)\n"
          "once: mean((x - mean(x))^2)*sum(x*mean(x)*a)\n");
    CTGRAD_CHECK_CLOSE(eval(loss, x = xs, a = mu0), direct(xs, mu0), 1e-12, "value");
    auto check_backend = [&](auto backend) {
        auto [v, grads] = value_and_grad(backend, loss, wrt(x, a), x = xs, a = mu0);
        CTGRAD_CHECK_CLOSE(v, direct(xs, mu0), 1e-12, "value");
        auto fa = [&](const ctgrad_test::point<1>& p) { return direct(xs, p[0]); };
        CTGRAD_CHECK_CLOSE(std::get<1>(grads), ctgrad_test::fd_partial(fa, ctgrad_test::point<1>{mu0}, 0), 1e-8, "d/da");
        for (std::size_t i = 0; i < xs.size(); ++i) {
            INFO("element ", i);
            auto fx = [&](const ctgrad_test::point<1>& p) {
                auto xv = xs;
                xv[i] = p[0];
                return direct(xv, mu0);
            };
            CTGRAD_CHECK_CLOSE(std::get<0>(grads)(i), ctgrad_test::fd_partial(fx, ctgrad_test::point<1>{xs[i]}, 0), 1e-8,
                               "d/dx_i");
        }
    };
    SUBCASE("simd") { check_backend(exec::simd); }
    SUBCASE("scalar") { check_backend(exec::scalar); }
    SUBCASE("the variance: gradient 2(x - mean), the term through the mean vanishing") {
        auto [v, grads] = value_and_grad(sum(pow<2>(x - mean(x))), wrt(x), x = xs);
        double m = 0;
        for (double xv : xs) m += xv;
        m /= static_cast<double>(xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i) CTGRAD_CHECK_CLOSE(std::get<0>(grads)(i), 2 * (xs[i] - m), 1e-12, "grad");
    }
    SUBCASE("element-wise results with a nested reduction") {
        std::vector<double> out;
        assign(out, (x - mean(x)) / sqrt(mean(pow<2>(x - mean(x)))), x = xs);
        double m = 0, s = 0;
        for (double xv : xs) m += xv;
        m /= static_cast<double>(xs.size());
        for (double xv : xs) s += (xv - m) * (xv - m);
        s = std::sqrt(s / static_cast<double>(xs.size()));
        for (std::size_t i = 0; i < xs.size(); ++i) CTGRAD_CHECK_CLOSE(out[i], (xs[i] - m) / s, 1e-12, "standardised");
    }
}

// Parts that read no array are computed once; a division by one becomes a product with its
// reciprocal; when the adjoints are known before the last pass, it writes the arrays' gradients.
TEST_CASE("the plan: hoisted parts, fused gradient pass, into(x, out)") {
    const auto xs = random_vector(29, 5);
    const double m0 = 0.3, s0 = 1.7;
    const auto density = sum(-0.5 * pow<2>((x - a) / b) - log(b));
    using arrays = ctgrad::detail::type_list<var<"x">>;
    using planned = decltype(hoist<arrays>(density));
    static_assert(kernel::scatter_fuses_v<planned, arrays>);
    static_assert(!kernel::scatter_fuses_v<decltype(hoist<arrays>(log(sum(exp(x))))), arrays>);
    static_assert(!kernel::scatter_fuses_v<decltype(hoist<arrays>(sum(pow<2>(x - mean(x))))), arrays>);
    static_assert(reduction_count_v<planned> == 3);  // the sum, 1/b and log(b)
    double value = 0, dmu = 0, dsigma = 0;
    for (double v : xs) {
        const double z = (v - m0) / s0;
        value += -0.5 * z * z - std::log(s0);
        dmu += z / s0;
        dsigma += z * z / s0 - 1 / s0;
    }
    std::vector<double> gx(3, 99.0);  // resized
    auto [v, grads] = value_and_grad(density, wrt(into(x, gx), a, b), x = xs, a = m0, b = s0);
    CHECK(&std::get<0>(grads) == &gx);
    REQUIRE(gx.size() == xs.size());
    CTGRAD_CHECK_CLOSE(v, value, 1e-13, "value");
    CTGRAD_CHECK_CLOSE(std::get<1>(grads), dmu, 1e-13, "d/dmu");
    CTGRAD_CHECK_CLOSE(std::get<2>(grads), dsigma, 1e-13, "d/dsigma");
    for (std::size_t i = 0; i < xs.size(); ++i) CTGRAD_CHECK_CLOSE(gx[i], -(xs[i] - m0) / (s0 * s0), 1e-13, "d/dx_i");
    // The scalar loop runs the same plan: it agrees to rounding.
    auto [v2, g2] = value_and_grad(exec::scalar, density, wrt(x, a, b), x = xs, a = m0, b = s0);
    CTGRAD_CHECK_CLOSE(v2, v, 1e-13, "scalar value");
    for (std::size_t i = 0; i < xs.size(); ++i) CTGRAD_CHECK_CLOSE(std::get<0>(g2)(i), gx[i], 1e-13, "scalar d/dx_i");

    SUBCASE("an output of the wrong fixed size is refused before anything is written") {
        std::array<double, 3> fixed{1, 2, 3};
        CHECK_THROWS_WITH_AS(value_and_grad(density, wrt(into(x, fixed)), x = xs, a = m0, b = s0),
                             "ctgrad::expr::value_and_grad: into(x, out): out has shape (3) but x has shape (29)",
                             ctgrad::Error);
        CHECK(fixed == std::array<double, 3>{1, 2, 3});
    }
    SUBCASE("a max of no elements is refused, and nothing is written") {
        const std::vector<double> none;
        std::vector<double> g{7.0};
        std::array<double, 1> fixed{7.0};
        CHECK_THROWS_WITH_AS(eval(max(x), x = none), "ctgrad::expr::eval: max() or min() over no elements: x has shape (0)",
                             ctgrad::Error);
        CHECK_THROWS_WITH_AS(value_and_grad(min(x * a), wrt(into(x, fixed)), x = none, a = 1.0),
                             "ctgrad::expr::value_and_grad: max() or min() over no elements: x has shape (0)",
                             ctgrad::Error);
        CHECK_THROWS_AS(value_and_grad(sum(x) + max(x), wrt(into(x, g)), x = none), ctgrad::Error);
        CHECK(g == std::vector<double>{7.0});
        CHECK(fixed == std::array<double, 1>{7.0});
        CHECK(eval(logsumexp(x), x = none) == -std::numeric_limits<double>::infinity());  // torch.logsumexp's value
    }
    SUBCASE("log-sum-exp into a span: two passes") {
        std::vector<double> storage(xs.size());
        std::span<double> g(storage);
        auto [lse, gl] = value_and_grad(log(sum(exp(x))), wrt(into(x, g)), x = xs);
        double s = 0;
        for (double xv : xs) s += std::exp(xv);
        CTGRAD_CHECK_CLOSE(lse, std::log(s), 1e-13, "value");
        for (std::size_t i = 0; i < xs.size(); ++i) CTGRAD_CHECK_CLOSE(storage[i], std::exp(xs[i]) / s, 1e-13, "grad");
    }
}

// value_and_jacobian: the residuals of an exponential model and their Jacobian (what a
// Gauss-Newton step needs), against the hand-derived columns, with a reduction of the data inside.
TEST_CASE("value_and_jacobian of an element-wise expression") {
    const auto xs = random_vector(19, 8);
    const auto ys = random_vector(19, 9, 0.5, 2);
    double my = 0;
    for (double v : ys) my += v;
    my /= static_cast<double>(ys.size());
    const auto residual = a * exp(b * x) - y / mean(y);
    auto check_backend = [&](auto backend) {
        auto [values, columns] = value_and_jacobian(backend, residual, wrt(a, b, x), x = xs, y = ys, a = 1.5, b = -0.7);
        REQUIRE(values.size() == xs.size());
        REQUIRE(std::get<0>(columns).size() == xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double e = std::exp(-0.7 * xs[i]);
            CTGRAD_CHECK_CLOSE(values(i), 1.5 * e - ys[i] / my, 1e-13, "value");
            CTGRAD_CHECK_CLOSE(std::get<0>(columns)(i), e, 1e-13, "d r_i / d a");
            CTGRAD_CHECK_CLOSE(std::get<1>(columns)(i), 1.5 * xs[i] * e, 1e-13, "d r_i / d b");
            CTGRAD_CHECK_CLOSE(std::get<2>(columns)(i), 1.5 * -0.7 * e, 1e-13, "d r_i / d x_i");
        }
    };
    SUBCASE("simd") { check_backend(exec::simd); }
    SUBCASE("scalar") { check_backend(exec::scalar); }
}
