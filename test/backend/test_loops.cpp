// The loops of every backend agree with each other and with a plain reference loop: the SIMD
// loop (exec::simd, with its alignment prologue, 4096-element blocks and scalar tail), the scalar
// loop (exec::scalar) and, where Thrust is found, Thrust on its OpenMP system (thrust::omp::par),
// for value_and_grad (scalar and array targets), eval and assign, at lengths that are not
// multiples of any batch width and that cross the block size. Built twice by meson: with the
// default flags and with -march=native (test_loops_native) for the AVX2/AVX-512 paths.
#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <ctgrad/expr.hpp>
#include <doctest/doctest.h>

#if CTGRAD_TEST_THRUST
#include <ctgrad/backend/thrust.hpp>
#include <thrust/host_vector.h>
#include <thrust/system/omp/execution_policy.h>
#endif

using namespace ctgrad::expr;

namespace {

constexpr var<"x"> x;
constexpr var<"y"> y;
constexpr var<"a"> a;
constexpr var<"b"> b;

const std::size_t lengths[] = {0, 1, 3, 7, 8, 15, 16, 17, 1000, 4097, 10007};

template <class T>
double tolerance() {
    return std::is_same_v<T, float> ? 2e-5 : 1e-12;
}

// |got - want| <= tol * (1 + scale), scale the sum of magnitudes that went into `want`
// (NaN equals NaN: the mean over zero elements is NaN everywhere, as in PyTorch).
#define CHECK_NEAR(got, want, scale, tol, what)                                                              \
    do {                                                                                                     \
        const double g_ = static_cast<double>(got), w_ = static_cast<double>(want);                          \
        if (std::isnan(w_)) CHECK_MESSAGE(std::isnan(g_), (what), ": got ", g_, ", want NaN");               \
        else CHECK_MESSAGE(std::abs(g_ - w_) <= (tol) * (1.0 + (scale)), (what), ": got ", g_, ", want ", w_); \
    } while (0)

template <class T>
struct data {
    std::vector<T> xs, ys;
    T av = T(0.75), bv = T(-0.5);
    explicit data(std::size_t n) : xs(n), ys(n) {
        std::mt19937 rng(static_cast<std::uint32_t>(1000 + n));
        std::uniform_real_distribution<double> u(-2, 2);
        for (auto& v : xs) v = static_cast<T>(u(rng));
        for (auto& v : ys) v = static_cast<T>(u(rng));
        // Ties and zeros exercise the kinks of max and abs on every path.
        for (std::size_t i = 0; i < n; i += 5) ys[i] = xs[i];
        for (std::size_t i = 3; i < n; i += 11) xs[i] = T(0);
    }
};

// The loss and the element-wise expression every backend evaluates.
constexpr auto loss = mean(pow<2>(a * x + b - y)) + sum(tanh(b * x) * abs(x) + max(x, y)) * a;
constexpr auto elementwise = a * x + sin(y) - max(x, y) * b + abs(x) / (1_c + x * x);

// The reference, in double, with the magnitudes that bound the rounding of each sum.
struct reference {
    double value = 0, value_scale = 0, da = 0, db = 0, grad_scale = 0;
    std::vector<double> dx, dy, elements;
};

template <class T>
reference compute_reference(const data<T>& d) {
    const std::size_t n = d.xs.size();
    const double av = d.av, bv = d.bv;
    reference r;
    r.dx.resize(n);
    r.dy.resize(n);
    r.elements.resize(n);
    double m = 0, s = 0, dm_da = 0, dm_db = 0, ds_db = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double xi = d.xs[i], yi = d.ys[i];
        const double res = av * xi + bv - yi;
        const double th = std::tanh(bv * xi);
        const double mx = xi > yi ? xi : yi;
        const double above = xi > yi ? 1.0 : (xi == yi ? 0.5 : 0.0);
        const double sgn = xi > 0 ? 1.0 : (xi < 0 ? -1.0 : 0.0);
        m += res * res;
        s += th * std::abs(xi) + mx;
        r.value_scale += res * res / static_cast<double>(n) + std::abs(av) * (std::abs(th * xi) + std::abs(mx));
        dm_da += 2 * res * xi;
        dm_db += 2 * res;
        ds_db += (1 - th * th) * xi * std::abs(xi);
        r.grad_scale += std::abs(2 * res * xi) + std::abs(2 * res) + std::abs(th * xi) + std::abs(mx) + std::abs(xi * xi);
        // per element: d/dx_i and d/dy_i
        r.dx[i] = 2 * res * av / static_cast<double>(n) +
                  av * ((1 - th * th) * bv * std::abs(xi) + th * sgn + above);
        r.dy[i] = -2 * res / static_cast<double>(n) + av * (1 - above);
        r.elements[i] = av * xi + std::sin(yi) - mx * bv + std::abs(xi) / (1 + xi * xi);
    }
    const double nd = static_cast<double>(n);
    r.value = m / nd + s * av;
    r.da = dm_da / nd + s;
    r.db = dm_db / nd + ds_db * av;
    r.value_scale /= 1.0;
    return r;
}

// One backend against the reference: value_and_grad (scalar targets, then array targets with a
// scalar one), eval and assign.
template <class T, class Backend, class Bind, class Out>
void check_backend(const char* name, const Backend& backend, const data<T>& d, const reference& r, const Bind& xs_bound,
                   const Bind& ys_bound, Out& out) {
    INFO("backend ", name);
    const std::size_t n = d.xs.size();
    const double tol = tolerance<T>();
    {
        auto [v, g] = value_and_grad(backend, loss, wrt(a, b), x = xs_bound, y = ys_bound, a = d.av, b = d.bv);
        static_assert(std::is_same_v<decltype(v), T>);
        CHECK_NEAR(v, r.value, r.value_scale, tol, "value");
        CHECK_NEAR(std::get<0>(g), r.da, r.grad_scale, tol, "dL/da");
        CHECK_NEAR(std::get<1>(g), r.db, r.grad_scale, tol, "dL/db");
    }
    {
        auto [v, g] = value_and_grad(backend, loss, wrt(x, a, y), x = xs_bound, y = ys_bound, a = d.av, b = d.bv);
        CHECK_NEAR(v, r.value, r.value_scale, tol, "value (array targets)");
        CHECK_NEAR(std::get<1>(g), r.da, r.grad_scale, tol, "dL/da (with array targets)");
        const auto& gx = std::get<0>(g);
        const auto& gy = std::get<2>(g);
        REQUIRE(gx.size() == n);
        REQUIRE(gy.size() == n);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK_NEAR(gx[i], r.dx[i], 4.0, tol, "dL/dx_" + std::to_string(i));
            CHECK_NEAR(gy[i], r.dy[i], 4.0, tol, "dL/dy_" + std::to_string(i));
        }
    }
    {
        const auto e = eval(backend, elementwise, x = xs_bound, y = ys_bound, a = d.av, b = d.bv);
        REQUIRE(e.size() == n);
        for (std::size_t i = 0; i < n; ++i) CHECK_NEAR(e[i], r.elements[i], 4.0, tol, "eval element " + std::to_string(i));
        CHECK_NEAR(eval(backend, sum(elementwise), x = xs_bound, y = ys_bound, a = d.av, b = d.bv),
                   [&] {
                       double s = 0;
                       for (double v : r.elements) s += v;
                       return s;
                   }(),
                   4.0 * static_cast<double>(n), tol, "eval(sum(e))");
    }
    {
        out.resize(n / 2 + 3);  // assign resizes
        assign(backend, out, elementwise, x = xs_bound, y = ys_bound, a = d.av, b = d.bv);
        REQUIRE(out.size() == n);
        for (std::size_t i = 0; i < n; ++i) CHECK_NEAR(out[i], r.elements[i], 4.0, tol, "assign element " + std::to_string(i));
    }
}

}  // namespace

TEST_CASE_TEMPLATE("simd, scalar and Thrust loops agree with a reference loop", T, float, double) {
    for (const std::size_t n : lengths) {
        CAPTURE(n);
        const data<T> d(n);
        const reference r = compute_reference(d);
        {
            std::vector<T> out;
            check_backend<T>("exec::simd", exec::simd, d, r, d.xs, d.ys, out);
        }
        {
            std::vector<T> out;
            check_backend<T>("exec::scalar", exec::scalar, d, r, d.xs, d.ys, out);
        }
        {
            // Default backend (no tag) is the SIMD loop.
            auto [v, g] = value_and_grad(loss, wrt(b), x = d.xs, y = d.ys, a = d.av, b = d.bv);
            CHECK_NEAR(v, r.value, r.value_scale, tolerance<T>(), "default backend value");
            CHECK_NEAR(std::get<0>(g), r.db, r.grad_scale, tolerance<T>(), "default backend dL/db");
        }
        {
            // A misaligned view: the SIMD loop's alignment prologue starts elsewhere.
            if (n > 1) {
                const std::vector<T> xs1(d.xs.begin() + 1, d.xs.end()), ys1(d.ys.begin() + 1, d.ys.end());
                std::span<const T> xspan(d.xs.data() + 1, n - 1), yspan(d.ys.data() + 1, n - 1);
                auto [v1, g1] = value_and_grad(exec::scalar, loss, wrt(a, b), x = xs1, y = ys1, a = d.av, b = d.bv);
                auto [v2, g2] = value_and_grad(exec::simd, loss, wrt(a, b), x = xspan, y = yspan, a = d.av, b = d.bv);
                CHECK_NEAR(v2, v1, r.value_scale, tolerance<T>(), "misaligned value");
                CHECK_NEAR(std::get<0>(g2), std::get<0>(g1), r.grad_scale, tolerance<T>(), "misaligned dL/da");
                CHECK_NEAR(std::get<1>(g2), std::get<1>(g1), r.grad_scale, tolerance<T>(), "misaligned dL/db");
            }
        }
#if CTGRAD_TEST_THRUST
        {
            const thrust::host_vector<T> hx(d.xs.begin(), d.xs.end()), hy(d.ys.begin(), d.ys.end());
            thrust::host_vector<T> out;
            check_backend<T>("thrust::omp::par (thrust::host_vector)", thrust::omp::par, d, r, hx, hy, out);
            std::vector<T> out2;
            check_backend<T>("thrust::omp::par (std::vector)", thrust::omp::par, d, r, d.xs, d.ys, out2);
            // Raw pointers into the device system's memory (host memory under OpenMP).
            std::vector<T> out3;
            check_backend<T>("thrust::omp::par (device_span)", thrust::omp::par, d, r,
                             device_span(d.xs.data(), d.xs.size()), device_span(d.ys.data(), d.ys.size()), out3);
        }
#endif
    }
}

#if CTGRAD_TEST_THRUST
TEST_CASE("Thrust backend: results are Thrust vectors and shape errors are reported") {
    const std::vector<double> x3{1, 2, 3}, y4{1, 2, 3, 4};
    const auto e = eval(thrust::omp::par, x * 2.0, x = x3);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(e)>, thrust::host_vector<double>>);
    CHECK(e.size() == 3);
    CHECK(e[2] == 6.0);
    thrust::host_vector<double> out(4, -1.0);
    try {
        assign(thrust::omp::par, out, x + y, x = x3, y = y4);
        FAIL("expected a ctgrad::Error");
    } catch (const ctgrad::Error& err) {
        CHECK(std::string(err.what()) ==
              "ctgrad::expr::assign: bound arrays have different shapes: x has shape (3) but y has shape (4)");
    }
    for (double v : out) CHECK(v == -1.0);
}

// The multi-pass plan on Thrust: a nested reduction, logsumexp's shift and a max with ties (its
// transform_reduce starts at -inf, not 0), against the scalar loop.
TEST_CASE("Thrust backend: nested reductions, max and logsumexp agree with the scalar loop") {
    std::vector<double> xs(301), ys(301);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        xs[i] = std::sin(0.37 * static_cast<double>(i)) * 3;
        ys[i] = i % 50 == 7 ? 2.0 : 0.5;  // all positive: a min started at 0 would be caught
    }
    const auto loss = logsumexp(x - mean(x)) + max(x * y) - 0.5 * min(y);
    auto [v, g] = value_and_grad(thrust::omp::par, loss, wrt(x, y), x = xs, y = ys);
    auto [sv, sg] = value_and_grad(ctgrad::expr::exec::scalar, loss, wrt(x, y), x = xs, y = ys);
    CHECK(v == doctest::Approx(sv).epsilon(1e-13));
    REQUIRE(std::get<0>(g).size() == xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) {
        CHECK(std::get<0>(g)[i] == doctest::Approx(std::get<0>(sg)(i)).epsilon(1e-12));
        CHECK(std::get<1>(g)[i] == doctest::Approx(std::get<1>(sg)(i)).epsilon(1e-12));
    }
}
#endif
