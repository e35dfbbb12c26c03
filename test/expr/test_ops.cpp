// Every op of the static layer through one law checker (test/support/laws.hpp): value, first
// and second derivatives against central finite differences at random points of the op's domain,
// and against PyTorch's float64 values (test/reference/expr_ops.txt, tools/make_reference.py).
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../support/laws.hpp"

using namespace ctgrad::expr;
using ctgrad_test::check_op;
using ctgrad_test::law_options;
using ctgrad_test::point;

namespace {

constexpr var<"x"> x;
constexpr var<"y"> y;
using X = var<"x">;
using Y = var<"y">;

const ctgrad_test::reference_table& goldens() {
    static const auto table = ctgrad_test::read_reference("expr_ops.txt");
    return table;
}

law_options<1> on(double lo, double hi) { return {{{{lo, hi}}}}; }
law_options<2> on(double xlo, double xhi, double ylo, double yhi) { return {{{{xlo, xhi}, {ylo, yhi}}}}; }

// Finite differences reach 4e-3 from the point in each coordinate: keep kinks 0.05 away.
bool away_from_zero(const point<1>& p) { return std::abs(p[0]) > 0.05; }
bool away_from_tie(const point<2>& p) { return std::abs(p[0] - p[1]) > 0.05; }

// Polygamma of order n at x > 0, computed apart from the library: in long double, the recurrence
// until x >= 40, then five terms of the asymptotic series (their error there is below 1e-19).
double polygamma_reference(int n, double xd) {
    long double x = xd, steps = 0;
    while (x < 40) {
        steps += 1 / std::pow(x, static_cast<long double>(n + 1));
        x += 1;
    }
    const long double bernoulli[] = {1.0L / 6, -1.0L / 30, 1.0L / 42, -1.0L / 30, 5.0L / 66};
    auto factorial = [](int k) {
        long double f = 1;
        for (int i = 2; i <= k; ++i) f *= i;
        return f;
    };
    long double series = 0;
    for (int k = 1; k <= 5; ++k)
        series += bernoulli[k - 1] * factorial(2 * k + n - 1) / factorial(2 * k) / std::pow(x, static_cast<long double>(2 * k + n));
    if (n == 0) return static_cast<double>(std::log(x) - 1 / (2 * x) - series - steps);
    const long double tail = factorial(n - 1) / std::pow(x, static_cast<long double>(n)) +
                             factorial(n) / (2 * std::pow(x, static_cast<long double>(n + 1))) + series;
    const long double r = factorial(n) * steps + tail;
    return static_cast<double>(n % 2 == 1 ? r : -r);
}


}  // namespace

TEST_CASE("every op: value, first and second derivatives vs finite differences and PyTorch") {
    std::mt19937 rng(20240611);
    const auto& g = goldens();
    auto f1 = [](auto fn) { return [fn](const point<1>& p) { return fn(p[0]); }; };
    auto f2 = [](auto fn) { return [fn](const point<2>& p) { return fn(p[0], p[1]); }; };

    SUBCASE("neg") { check_op<X>("neg", -x, f1([](double a) { return -a; }), on(-3, 3), rng, g); }
    SUBCASE("square") { check_op<X>("square", square(x), f1([](double a) { return a * a; }), on(-3, 3), rng, g); }
    SUBCASE("pow3") { check_op<X>("pow3", pow<3>(x), f1([](double a) { return a * a * a; }), on(-3, 3), rng, g); }
    SUBCASE("pow5") { check_op<X>("pow5", pow<5>(x), f1([](double a) { return std::pow(a, 5); }), on(-2, 2), rng, g); }
    SUBCASE("pow_m1") { check_op<X>("pow_m1", pow<-1>(x), f1([](double a) { return 1 / a; }), on(0.3, 3), rng, g); }
    SUBCASE("pow_m2") {
        check_op<X>("pow_m2", pow<-2>(x), f1([](double a) { return 1 / (a * a); }), on(-3, -0.3), rng, g);
    }
    SUBCASE("sqrt") { check_op<X>("sqrt", sqrt(x), f1([](double a) { return std::sqrt(a); }), on(0.1, 4), rng, g); }
    SUBCASE("exp") { check_op<X>("exp", exp(x), f1([](double a) { return std::exp(a); }), on(-3, 3), rng, g); }
    SUBCASE("log") { check_op<X>("log", log(x), f1([](double a) { return std::log(a); }), on(0.1, 5), rng, g); }
    SUBCASE("sin") { check_op<X>("sin", sin(x), f1([](double a) { return std::sin(a); }), on(-4, 4), rng, g); }
    SUBCASE("cos") { check_op<X>("cos", cos(x), f1([](double a) { return std::cos(a); }), on(-4, 4), rng, g); }
    SUBCASE("tan") { check_op<X>("tan", tan(x), f1([](double a) { return std::tan(a); }), on(-1.3, 1.3), rng, g); }
    SUBCASE("tanh") { check_op<X>("tanh", tanh(x), f1([](double a) { return std::tanh(a); }), on(-3, 3), rng, g); }
    SUBCASE("sigmoid") {
        check_op<X>("sigmoid", sigmoid(x), f1([](double a) { return 1 / (1 + std::exp(-a)); }), on(-6, 6), rng, g);
    }
    SUBCASE("relu") {
        auto o = on(-3, 3);
        o.admissible = away_from_zero;
        check_op<X>("relu", relu(x), f1([](double a) { return a > 0 ? a : 0.0; }), o, rng, g);
    }
    SUBCASE("abs") {
        auto o = on(-3, 3);
        o.admissible = away_from_zero;
        check_op<X>("abs", abs(x), f1([](double a) { return std::abs(a); }), o, rng, g);
    }
    SUBCASE("pow_scalar_exponent") {
        check_op<X>("pow_scalar_exponent", pow(x, 2.5), f1([](double a) { return std::pow(a, 2.5); }), on(0.2, 3), rng, g);
    }
    SUBCASE("pow_scalar_base") {
        check_op<X>("pow_scalar_base", pow(1.7, x), f1([](double a) { return std::pow(1.7, a); }), on(-2, 2), rng, g);
    }
    SUBCASE("scalar_mix") {
        auto o = on(-3, 3);
        o.admissible = [](const point<1>& p) { return std::abs(p[0]) > 0.3; };
        check_op<X>("scalar_mix", 2.5 * x - 1.5 / x + 0.5, f1([](double a) { return 2.5 * a - 1.5 / a + 0.5; }), o, rng, g);
    }

    SUBCASE("erf") { check_op<X>("erf", erf(x), f1([](double a) { return std::erf(a); }), on(-3, 3), rng, g); }
    SUBCASE("atan") { check_op<X>("atan", atan(x), f1([](double a) { return std::atan(a); }), on(-4, 4), rng, g); }
    SUBCASE("log1p") { check_op<X>("log1p", log1p(x), f1([](double a) { return std::log1p(a); }), on(-0.8, 4), rng, g); }
    SUBCASE("expm1") { check_op<X>("expm1", expm1(x), f1([](double a) { return std::expm1(a); }), on(-3, 3), rng, g); }
    // PyTorch's records of trigamma (lgamma'', digamma', polygamma(1, x)) carry its own error
    // of up to 3e-10 relative; the finite-difference checks keep the default tolerances.
    SUBCASE("lgamma") {
        auto o = on(0.2, 6);
        o.golden_hessian = 1e-9;
        check_op<X>("lgamma", lgamma(x), f1([](double a) { return std::lgamma(a); }), o, rng, g);
    }
    SUBCASE("digamma") {
        auto o = on(0.2, 6);
        o.golden_grad = 1e-9;
        check_op<X>("digamma", digamma(x), f1([](double a) { return polygamma_reference(0, a); }), o, rng, g);
    }
    SUBCASE("polygamma1") {
        auto o = on(0.3, 6);
        o.golden_value = 1e-9;
        check_op<X>("polygamma1", polygamma<1>(x), f1([](double a) { return polygamma_reference(1, a); }), o, rng, g);
    }

    SUBCASE("add") { check_op<X, Y>("add", x + y, f2([](double a, double b) { return a + b; }), on(-3, 3, -3, 3), rng, g); }
    SUBCASE("sub") { check_op<X, Y>("sub", x - y, f2([](double a, double b) { return a - b; }), on(-3, 3, -3, 3), rng, g); }
    SUBCASE("mul") { check_op<X, Y>("mul", x * y, f2([](double a, double b) { return a * b; }), on(-3, 3, -3, 3), rng, g); }
    SUBCASE("div") {
        auto o = on(-3, 3, -3, 3);
        o.admissible = [](const point<2>& p) { return std::abs(p[1]) > 0.3; };
        check_op<X, Y>("div", x / y, f2([](double a, double b) { return a / b; }), o, rng, g);
    }
    SUBCASE("pow") {
        check_op<X, Y>("pow", pow(x, y), f2([](double a, double b) { return std::pow(a, b); }), on(0.2, 3, -2, 2), rng, g);
    }
    SUBCASE("min") {
        auto o = on(-3, 3, -3, 3);
        o.admissible = away_from_tie;
        check_op<X, Y>("min", min(x, y), f2([](double a, double b) { return std::min(a, b); }), o, rng, g);
    }
    SUBCASE("max") {
        auto o = on(-3, 3, -3, 3);
        o.admissible = away_from_tie;
        check_op<X, Y>("max", max(x, y), f2([](double a, double b) { return std::max(a, b); }), o, rng, g);
    }
    SUBCASE("chain") {
        auto o = on(-2, 2, 0.5, 3);
        check_op<X, Y>("chain", sin(x * y) + exp(-x) / y,
                       f2([](double a, double b) { return std::sin(a * b) + std::exp(-a) / b; }), o, rng, g);
    }
    SUBCASE("chain2") {
        auto o = on(-2, 2, 0.5, 3);
        check_op<X, Y>(
            "chain2", log(1_c + sigmoid(x) * tanh(y)) * sqrt(x * x + y * y),
            f2([](double a, double b) { return std::log(1 + std::tanh(b) / (1 + std::exp(-a))) * std::sqrt(a * a + b * b); }),
            o, rng, g);
    }
}

// A checker that cannot fail proves nothing: a wrong reference must be caught.
TEST_CASE("the law checker fails on a wrong derivative") {
    std::mt19937 rng(7);
    const auto pts = ctgrad_test::sample(on(0.5, 2), rng);
    // sin(x) against the expectations of f = sin(x) + 1e-5 x^3: the derivatives differ by ~1e-5.
    auto wrong = [](const point<1>& p) { return std::sin(p[0]) + 1e-5 * p[0] * p[0] * p[0]; };
    auto right = [](const point<1>& p) { return std::sin(p[0]); };
    for (const auto& p : pts) {
        const auto w = ctgrad_test::from_finite_differences(wrong, p);
        const auto r = ctgrad_test::from_finite_differences(right, p);
        CHECK_FALSE(ctgrad_test::close(eval(derivative(sin(x), x), x = p[0]), w.grad[0], 1e-8));
        CHECK(ctgrad_test::close(eval(derivative(sin(x), x), x = p[0]), r.grad[0], 1e-8));
        CHECK_FALSE(ctgrad_test::close(eval(derivative(derivative(sin(x), x), x), x = p[0]), w.hessian[0][0], 1e-6));
        CHECK(ctgrad_test::close(eval(derivative(derivative(sin(x), x), x), x = p[0]), r.hessian[0][0], 1e-6));
    }
}

TEST_CASE("every golden record is used by the op tests") {
    std::set<std::string> known{"neg", "square", "pow3", "pow5", "pow_m1", "pow_m2", "sqrt", "exp", "log", "sin", "cos",
                                "tan", "tanh", "sigmoid", "relu", "abs", "pow_scalar_exponent", "pow_scalar_base",
                                "scalar_mix", "erf", "atan", "lgamma", "log1p", "expm1", "digamma", "polygamma1", "add", "sub", "mul", "div", "pow", "min", "max", "chain", "chain2",
                                "sum_sin", "mean_square", "sum_square_over_mean", "variance", "skewness",
                                "log_sum_exp", "amax", "amin_scaled", "centred_by_max", "logsumexp",
                                "neg_entropy"};
    for (const auto& [name, records] : goldens()) {
        CHECK_MESSAGE(known.count(name) == 1, "golden op ", name, " has no test");
        CHECK(!records.empty());
    }
    CHECK(goldens().size() == known.size());
}

// Kinks, where finite differences do not apply: PyTorch's conventions, also pinned by the golden
// records at these points.
TEST_CASE("derivatives at kinks follow PyTorch") {
    CHECK(eval(derivative(relu(x), x), x = 0.0) == 0.0);
    CHECK(eval(derivative(abs(x), x), x = 0.0) == 0.0);
    CHECK(eval(derivative(relu(x), x), x = 1e-300) == 1.0);
    CHECK(eval(derivative(abs(x), x), x = -1e-300) == -1.0);
    auto [mv, mg] = value_and_grad(min(x, y), wrt(x, y), x = 1.5, y = 1.5);
    CHECK(mv == 1.5);
    CHECK(std::get<0>(mg) == 0.5);
    CHECK(std::get<1>(mg) == 0.5);
    auto [Mv, Mg] = value_and_grad(max(x, y), wrt(x, y), x = -2.0, y = -2.0);
    CHECK(Mv == -2.0);
    CHECK(std::get<0>(Mg) == 0.5);
    CHECK(std::get<1>(Mg) == 0.5);
    // max(x, x): both halves reach the same variable.
    auto [sv, sg] = value_and_grad(max(x, x), wrt(x), x = 3.0);
    CHECK(sv == 3.0);
    CHECK(std::get<0>(sg) == 1.0);
    // Ties inside arrays, through the SIMD select and the scalar tail (9 elements).
    std::vector<double> xs{1, 2, 3, 4, 5, 6, 7, 8, 9}, ys{1, 0, 3, 9, 5, 0, 7, 9, 9};
    auto [av, ag] = value_and_grad(sum(max(x, y)), wrt(x, y), x = xs, y = ys);
    CHECK(av == 1 + 2 + 3 + 9 + 5 + 6 + 7 + 9 + 9);
    const std::vector<double> gx{0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0, 0.5}, gy{0.5, 0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5};
    for (std::size_t i = 0; i < xs.size(); ++i) {
        CHECK(std::get<0>(ag)(i) == gx[i]);
        CHECK(std::get<1>(ag)(i) == gy[i]);
    }
    std::vector<double> ks{-2, -1, 0, 0, 1, 0, 3, -0.0, 2};
    auto [rv, rg] = value_and_grad(sum(relu(x) + abs(x)), wrt(x), x = ks);
    CHECK(rv == 0 + 0 + 0 + 0 + 2 + 0 + 6 + 0 + 4 + 2 + 1);
    const std::vector<double> rgrad{-1, -1, 0, 0, 2, 0, 2, 0, 2};
    for (std::size_t i = 0; i < ks.size(); ++i) CHECK(std::get<0>(rg)(i) == rgrad[i]);
}

// sum and mean over arrays against PyTorch, including a quotient of two reductions whose
// Hessian is dense: value_and_grad(derivative(L, x)) per element is a row sum of the Hessian.
// One golden record of a reduction over x: the value by eval and value_and_grad and the gradient,
// on the SIMD and the scalar loops.
template <class E, class Record>
void check_value_and_gradient(const E& loss, const Record& r) {
    const std::vector<double>& xs = r.inputs;
    CTGRAD_CHECK_CLOSE(eval(loss, x = xs), r.value, 1e-13, "eval");
    CTGRAD_CHECK_CLOSE(eval(exec::scalar, loss, x = xs), r.value, 1e-13, "eval (scalar loop)");
    auto [v, grads] = value_and_grad(loss, wrt(x), x = xs);
    auto [sv, sgrads] = value_and_grad(exec::scalar, loss, wrt(x), x = xs);
    CTGRAD_CHECK_CLOSE(v, r.value, 1e-13, "value_and_grad value");
    CTGRAD_CHECK_CLOSE(sv, r.value, 1e-13, "value_and_grad value (scalar loop)");
    REQUIRE(std::get<0>(grads).size() == xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) {
        CTGRAD_CHECK_CLOSE(std::get<0>(grads)(i), r.grad[i], 1e-12, "element gradient");
        CTGRAD_CHECK_CLOSE(std::get<0>(sgrads)(i), r.grad[i], 1e-12, "element gradient (scalar loop)");
    }
}

TEST_CASE("reductions vs PyTorch") {
    auto check = [](const char* name, const auto& loss) {
        INFO("reduction ", name, ": ", to_string(loss));
        const auto it = goldens().find(name);
        REQUIRE(it != goldens().end());
        for (const auto& r : it->second) {
            check_value_and_gradient(loss, r);
            const std::vector<double>& xs = r.inputs;
            const std::size_t n = xs.size();
            double gsum = 0;
            for (std::size_t i = 0; i < n; ++i) gsum += r.grad[i];
            const auto dloss = derivative(loss, x);
            CTGRAD_CHECK_CLOSE(eval(dloss, x = xs), gsum, 1e-12, "eval(derivative(L, x)) = sum of the gradient");
            auto [dv, dgrads] = value_and_grad(dloss, wrt(x), x = xs);
            CTGRAD_CHECK_CLOSE(dv, gsum, 1e-12, "value_and_grad(derivative(L, x)).value");
            for (std::size_t i = 0; i < n; ++i) {
                double row = 0;
                for (std::size_t j = 0; j < n; ++j) row += r.h(i, j);
                CTGRAD_CHECK_CLOSE(std::get<0>(dgrads)(i), row, 1e-12, "Hessian row sum");
            }
        }
    };
    check("sum_sin", sum(sin(x)));
    check("mean_square", mean(x * x));
    check("sum_square_over_mean", sum(x * x) / mean(x));
    check("variance", sum(pow<2>(x - mean(x))));
    check("skewness", mean(pow<3>((x - mean(x)) / sqrt(mean(pow<2>(x - mean(x)))))));
    check("log_sum_exp", log(sum(exp(x))));
}

// max and min over every element (the gradient split among ties) and logsumexp / log_softmax at
// magnitudes where exp alone overflows, on the SIMD and scalar loops. (No symbolic derivative:
// a max's depends on which elements tie.)
TEST_CASE("max, min and logsumexp reductions vs PyTorch") {
    auto check = [](const char* name, const auto& loss) {
        INFO("reduction ", name, ": ", to_string(loss));
        const auto it = goldens().find(name);
        REQUIRE(it != goldens().end());
        for (const auto& r : it->second) check_value_and_gradient(loss, r);
    };
    check("amax", max(x));
    check("amin_scaled", min(x * x - x));
    check("centred_by_max", sum(exp(x - max(x))));
    check("logsumexp", logsumexp(x));
    check("neg_entropy", sum(softmax(x) * log_softmax(x)));
}

// A reduction with scalar variables around and inside it: the fused pass and the backward walk
// outside the reductions, against finite differences of the plain-C++ loss.
TEST_CASE("reductions with scalar variables vs finite differences") {
    constexpr var<"a"> a;
    constexpr var<"b"> b;
    std::mt19937 rng(99);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> xs(37), ys(37);
    for (auto& v : xs) v = u(rng);
    for (auto& v : ys) v = u(rng);
    const auto loss = a * mean(pow<2>(a * x + b - y)) + sum(tanh(b * x)) / b;
    auto f = [&](const point<2>& p) {
        double m = 0, s = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            m += std::pow(p[0] * xs[i] + p[1] - ys[i], 2);
            s += std::tanh(p[1] * xs[i]);
        }
        return p[0] * m / static_cast<double>(xs.size()) + s / p[1];
    };
    const point<2> p{0.7, 1.3};
    auto [v, grads] = value_and_grad(loss, wrt(a, b), x = xs, y = ys, a = p[0], b = p[1]);
    CTGRAD_CHECK_CLOSE(v, f(p), 1e-13, "value");
    CTGRAD_CHECK_CLOSE(std::get<0>(grads), ctgrad_test::fd_partial(f, p, 0), 1e-9, "d/da");
    CTGRAD_CHECK_CLOSE(std::get<1>(grads), ctgrad_test::fd_partial(f, p, 1), 1e-9, "d/db");
    CTGRAD_CHECK_CLOSE(eval(derivative(loss, a), x = xs, y = ys, a = p[0], b = p[1]), ctgrad_test::fd_partial(f, p, 0),
                       1e-9, "eval(derivative(L, a))");
    const auto dldb = derivative(loss, b);
    auto [hv, hgrads] = value_and_grad(dldb, wrt(a, b), x = xs, y = ys, a = p[0], b = p[1]);
    CTGRAD_CHECK_CLOSE(hv, ctgrad_test::fd_partial(f, p, 1), 1e-9, "value of dL/db");
    CTGRAD_CHECK_CLOSE(std::get<0>(hgrads), ctgrad_test::fd_second(f, p, 1, 0), 1e-6, "d2L/db da");
    CTGRAD_CHECK_CLOSE(std::get<1>(hgrads), ctgrad_test::fd_second(f, p, 1, 1), 1e-6, "d2L/db2");
}

// The special functions on the SIMD path (xsimd's erf, atan, lgamma, log1p, expm1; polygamma's
// selects over lanes) against the scalar loop (the C library), element by element: 37 values, so
// both full batches and the scalar tail run, in double and in float.
TEST_CASE("special functions: SIMD batches agree with the scalar loop") {
    auto compare = [](const char* name, const auto& e, const auto& xs, double tol) {
        INFO(name, ": ", to_string(e));
        const auto s = eval(exec::scalar, e, x = xs);
        const auto v = eval(exec::simd, e, x = xs);
        REQUIRE(s.size() == xs.size());
        REQUIRE(v.size() == xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i)
            CTGRAD_CHECK_CLOSE(v(i), s(i), tol, "at x = " + std::to_string(static_cast<double>(xs[i])));
    };
    auto run = [&](auto zero, double tol) {
        using T = decltype(zero);
        std::vector<T> wide(37), positive(37);
        // -3.71 + 0.2713 i stays 0.01 or more away from every integer; 0.05 + 0.163 i is positive.
        for (std::size_t i = 0; i < 37; ++i) {
            wide[i] = static_cast<T>(-3.71 + 0.2713 * static_cast<double>(i));
            positive[i] = static_cast<T>(0.05 + 0.163 * static_cast<double>(i));
        }
        std::vector<T> above_minus_one(37);
        for (std::size_t i = 0; i < 37; ++i) above_minus_one[i] = static_cast<T>(-0.95 + 0.13 * static_cast<double>(i));
        compare("erf", erf(x), wide, tol);
        compare("atan", atan(x), wide, tol);
        compare("expm1", expm1(x), wide, tol);
        compare("log1p", log1p(x), above_minus_one, tol);
        compare("lgamma", lgamma(x), wide, tol);
        compare("digamma", digamma(x), wide, tol);
        compare("polygamma<1>", polygamma<1>(x), wide, tol);
        compare("polygamma<2>", polygamma<2>(x), positive, tol);
        compare("d2 lgamma", derivative(derivative(lgamma(x), x), x), positive, tol);
        compare("d2 erf", derivative(derivative(erf(x), x), x), wide, tol);
    };
    run(0.0, 1e-14);
    run(0.0f, 1e-5);
}

// IEEE results at the edges of the domains, as PyTorch gives them, on both paths (the values are
// repeated so that they fill whole batches as well as the tail).
TEST_CASE("special functions at the edges of their domains follow PyTorch") {
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto both = [](const char* name, const auto& e, double at, double expected) {
        INFO(name, " at ", at);
        std::vector<double> xs(19, at);
        const auto s = eval(exec::scalar, e, x = xs);
        const auto v = eval(exec::simd, e, x = xs);
        for (std::size_t i = 0; i < xs.size(); ++i) {
            CTGRAD_CHECK_CLOSE(s(i), expected, 0, "scalar loop");
            CTGRAD_CHECK_CLOSE(v(i), expected, 0, "SIMD");
        }
        CTGRAD_CHECK_CLOSE(eval(e, x = at), expected, 0, "scalar binding");
    };
    both("digamma", digamma(x), 0.0, -inf);
    both("digamma", digamma(x), -0.0, inf);
    both("digamma", digamma(x), -1.0, nan);
    both("digamma", digamma(x), -7.0, nan);
    both("digamma", digamma(x), inf, inf);
    both("digamma", digamma(x), -inf, nan);
    both("digamma", digamma(x), nan, nan);
    both("polygamma<1>", polygamma<1>(x), 0.0, inf);
    both("polygamma<1>", polygamma<1>(x), inf, 0.0);
    both("polygamma<2>", polygamma<2>(x), 0.0, -inf);
    both("lgamma", lgamma(x), 0.0, inf);
    both("lgamma", lgamma(x), -2.0, inf);
    both("lgamma", lgamma(x), inf, inf);
    both("log1p", log1p(x), -1.0, -inf);
    both("log1p", log1p(x), -2.0, nan);
    both("expm1", expm1(x), -inf, -1.0);
    both("expm1", expm1(x), inf, inf);
    both("erf", erf(x), inf, 1.0);
    both("erf", erf(x), -inf, -1.0);
    both("atan", atan(x), inf, std::atan(inf));
    both("atan", atan(x), -inf, -std::atan(inf));
}

TEST_CASE("special functions print as functions") {
    CHECK(to_string(derivative(atan(x), x)) == "1/(x^2 + 1)");
    CHECK(to_string(derivative(log1p(x), x)) == "1/(x + 1)");
    CHECK(to_string(derivative(expm1(x), x)) == "expm1(x) + 1");
    CHECK(to_string(derivative(lgamma(x), x)) == "digamma(x)");
    CHECK(to_string(derivative(derivative(lgamma(x), x), x)) == "polygamma<1>(x)");
    CHECK(to_string(derivative(polygamma<1>(x), x)) == "polygamma<2>(x)");
    CHECK(to_string(derivative(erf(x), x)).find("exp(-x^2)") != std::string::npos);
}
