// The simplifier, derivative() and the printer, at the level of types: every rule listed in
// include/ctgrad/expr/simplify.hpp, checked both as a type (static_assert, so a regression
// fails the build) and as printed text (CHECK, so a failure shows the rendering).
#include <string>
#include <type_traits>

#include <ctgrad/expr.hpp>
#include <doctest/doctest.h>

using namespace ctgrad::expr;

namespace {
constexpr var<"x"> x;
constexpr var<"y"> y;
using X = var<"x">;
using Y = var<"y">;

template <class A, class B>
constexpr bool same(const A&, const B&) { return std::is_same_v<A, B>; }
}  // namespace

TEST_CASE("variables, constants and literals") {
    static_assert(std::is_same_v<X, variable<'x'>>);
    static_assert(std::is_empty_v<X>);
    static_assert(std::is_same_v<decltype(2_c), constant<2, 1>>);
    static_assert(same(2_c, lit<2>));
    static_assert(std::is_same_v<rational<2, 4>, constant<1, 2>>);
    static_assert(std::is_same_v<rational<3, -6>, constant<-1, 2>>);
    static_assert(std::is_same_v<rational<0, 5>, zero_t>);
    CHECK(to_string(x) == "x");
    CHECK(to_string(var<"alpha">{}) == "alpha");
    CHECK(to_string(12_c) == "12");
    CHECK(to_string(rational<-3, 4>{}) == "-3/4");
    CHECK(to_string(x * 0.5) == "0.5*x");  // a run-time scalar moves to the front
}

TEST_CASE("derivative of a constant, a variable and the identity") {
    static_assert(std::is_same_v<decltype(derivative(3_c, x)), zero_t>);
    CHECK(std::is_same_v<decltype(derivative(3_c, x)), zero_t>);
    static_assert(std::is_same_v<decltype(derivative(x, x)), one_t>);
    static_assert(std::is_same_v<decltype(derivative(y, x)), zero_t>);
    static_assert(std::is_same_v<decltype(derivative(x * 2.0, y)), zero_t>);
    static_assert(std::is_same_v<decltype(derivative(sin(y) * exp(y), x)), zero_t>);
    CHECK(to_string(derivative(x * x, x)) == "2*x");
    static_assert(std::is_same_v<decltype(derivative(x * x, x)), binary<mul_op, constant<2, 1>, X>>);
}

TEST_CASE("0 and 1 folding") {
    static_assert(same(0_c * x, 0_c));
    static_assert(same(x * 0_c, 0_c));
    static_assert(same(1_c * x, x));
    static_assert(same(x * 1_c, x));
    static_assert(same(x + 0_c, x));
    static_assert(same(0_c + x, x));
    static_assert(same(x - 0_c, x));
    static_assert(same(0_c - x, -x));
    static_assert(same(pow<1>(x), x));
    static_assert(same(pow<0>(x), 1_c));
    static_assert(same(x / 1_c, x));
    static_assert(same(0_c / x, 0_c));
    static_assert(same(x / x, 1_c));
    CHECK(to_string(0_c - x) == "-x");
    CHECK(to_string(pow<0>(sin(x))) == "1");
}

TEST_CASE("constant folding over the rationals") {
    static_assert(same(2_c * 3_c, 6_c));
    static_assert(same(2_c + 3_c, 5_c));
    static_assert(same(2_c - 3_c, constant<-1, 1>{}));
    static_assert(same(1_c / 2_c + 1_c / 3_c, rational<5, 6>{}));
    static_assert(same(1_c / 2_c - 1_c / 3_c, rational<1, 6>{}));
    static_assert(same(2_c / 4_c, rational<1, 2>{}));
    static_assert(same(pow<3>(2_c), 8_c));
    static_assert(same(pow<-2>(2_c), rational<1, 4>{}));
    static_assert(same(pow<3>(rational<-2, 3>{}), rational<-8, 27>{}));
    static_assert(same(-(3_c), constant<-3, 1>{}));
    static_assert(same(-(rational<-1, 2>{}), rational<1, 2>{}));
    CHECK(to_string(1_c / 2_c + 1_c / 3_c) == "5/6");
    CHECK(to_string(pow<-2>(2_c)) == "1/4");
    // (x + 1) + 2 -> x + 3; (x - 1) + 3 -> x + 2; (x + 1) - 3 -> x - 2; (x - 1) - 2 -> x - 3
    static_assert(same((x + 1_c) + 2_c, x + 3_c));
    CHECK(to_string((x + 1_c) + 2_c) == "x + 3");
    CHECK(to_string((x - 1_c) + 3_c) == "x + 2");
    CHECK(to_string((x + 1_c) - 3_c) == "x - 2");
    CHECK(to_string((x - 1_c) - 2_c) == "x - 3");
    CHECK(to_string(2_c + x) == "x + 2");  // constants of a sum go last
}

TEST_CASE("constants to the front of a product") {
    static_assert(same(x * 2_c, 2_c * x));
    static_assert(same(2_c * (3_c * x), 6_c * x));
    static_assert(same((2_c * x) * 3_c, 6_c * x));
    static_assert(same(x / 2_c, rational<1, 2>{} * x));
    static_assert(same((2_c * x) * (3_c * y), 6_c * (x * y)));
    CHECK(to_string(x * 2_c) == "2*x");
    CHECK(to_string(x / 2_c) == "1/2*x");
    CHECK(to_string((2_c * x) * (3_c * y)) == "6*x*y");
    CHECK(to_string(x * 2.5) == "2.5*x");
}

TEST_CASE("like terms") {
    static_assert(same(x + x, 2_c * x));
    static_assert(same(2_c * x - x, x));
    static_assert(same(x - x, 0_c));
    static_assert(same(3_c * x + 2_c * x, 5_c * x));
    static_assert(same(-x + x, 0_c));
    static_assert(same(x - 3_c * x, constant<-2, 1>{} * x));
    CHECK(to_string(x + x) == "2*x");
    CHECK(to_string(x - 3_c * x) == "-2*x");
    // Different subexpressions stay apart; run-time scalars never merge (they may differ).
    CHECK(to_string(x + y) == "x + y");
    CHECK(to_string(2.0 * x + 2.0 * x) == "2*x + 2*x");
}

TEST_CASE("powers") {
    static_assert(same(x * x, pow<2>(x)));
    static_assert(same(square(x), pow<2>(x)));
    static_assert(same(pow<2>(x) * x, pow<3>(x)));
    static_assert(same(x * pow<2>(x), pow<3>(x)));
    static_assert(same(pow<2>(x) * pow<3>(x), pow<5>(x)));
    static_assert(same(pow<3>(pow<2>(x)), pow<6>(x)));
    static_assert(same(pow<-1>(pow<2>(x)), pow<-2>(x)));
    static_assert(same(pow<2>(x) * pow<-2>(x), 1_c));
    static_assert(std::is_same_v<decltype(pow<2>(x)), unary<ipow_op<2>, X>>);
    CHECK(to_string(x * x) == "x^2");
    CHECK(to_string(pow<3>(pow<2>(x))) == "x^6");
    CHECK(to_string(pow<-2>(x)) == "x^-2");
    CHECK(to_string(x * y) == "x*y");  // different bases stay a product
}

TEST_CASE("sign rules") {
    static_assert(same(-(-x), x));
    static_assert(same(x + -y, x - y));
    static_assert(same(x - -y, x + y));
    static_assert(same(constant<-1, 1>{} * x, -x));
    static_assert(same(-(2_c * x), constant<-2, 1>{} * x));
    static_assert(same(x + constant<-2, 1>{} * y, x - 2_c * y));
    static_assert(same(x - constant<-2, 1>{} * y, x + 2_c * y));
    static_assert(same(x + constant<-3, 1>{}, x - 3_c));
    static_assert(same(2_c * -x, constant<-2, 1>{} * x));
    static_assert(same((-x) * y, -(x * y)));
    static_assert(same(x * (-y), -(x * y)));
    CHECK(to_string(-(-x)) == "x");
    CHECK(to_string(x + -y) == "x - y");
    CHECK(to_string(x - -y) == "x + y");
    CHECK(to_string((-x) * y) == "-(x*y)");
    CHECK(to_string(x + constant<-3, 1>{}) == "x - 3");
}

TEST_CASE("reciprocals and quotients") {
    static_assert(same(x * (1_c / y), x / y));
    static_assert(same((1_c / y) * x, x / y));
    static_assert(same(derivative(x / y, x), 1_c / y));
    CHECK(to_string(derivative(x / y, x)) == "1/y");
    CHECK(to_string(derivative(x / y, y)) == "-(x/y/y)");
    CHECK(to_string(derivative(1_c / x, x)) == "-(1/x/x)");
}

TEST_CASE("derivative rules print as expected") {
    CHECK(to_string(derivative(sin(x), x)) == "cos(x)");
    CHECK(to_string(derivative(cos(x), x)) == "-sin(x)");
    CHECK(to_string(derivative(tan(x), x)) == "tan(x)^2 + 1");
    CHECK(to_string(derivative(exp(x), x)) == "exp(x)");
    CHECK(to_string(derivative(log(x), x)) == "1/x");
    CHECK(to_string(derivative(sqrt(x), x)) == "1/(2*sqrt(x))");
    CHECK(to_string(derivative(tanh(x), x)) == "1 - tanh(x)^2");
    CHECK(to_string(derivative(sigmoid(x), x)) == "sigmoid(x)*(1 - sigmoid(x))");
    CHECK(to_string(derivative(relu(x), x)) == "step(x)");
    CHECK(to_string(derivative(abs(x), x)) == "sign(x)");
    CHECK(to_string(derivative(max(x, y), x)) == "above(x, y)");
    CHECK(to_string(derivative(max(x, y), y)) == "above(y, x)");
    CHECK(to_string(derivative(min(x, y), x)) == "above(y, x)");
    CHECK(to_string(derivative(min(x, y), y)) == "above(x, y)");
    CHECK(to_string(derivative(pow<3>(x), x)) == "3*x^2");
    CHECK(to_string(derivative(pow<-1>(x), x)) == "-x^-2");
    CHECK(to_string(derivative(pow(x, y), x)) == "y*pow(x, y - 1)");
    CHECK(to_string(derivative(pow(x, y), y)) == "pow(x, y)*log(x)");
    CHECK(to_string(derivative(sum(x * x), x)) == "sum(2*x)");
    CHECK(to_string(derivative(mean(sin(x)), x)) == "mean(cos(x))");
    static_assert(same(derivative(sum(y), x), 0_c));
    // The chain rule multiplies by the inner derivative, folded where it is constant.
    CHECK(to_string(derivative(sin(2_c * x), x)) == "2*cos(2*x)");
    CHECK(to_string(derivative(exp(x * y), x)) == "exp(x*y)*y");
    CHECK(to_string(derivative(x * y, x)) == "y");
    CHECK(to_string(derivative(x * y + sin(y), y)) == "x + cos(y)");
}

TEST_CASE("higher-order derivatives") {
    static_assert(same(derivative(derivative(x * x, x), x), 2_c));
    static_assert(same(derivative(derivative(derivative(x * x, x), x), x), 0_c));
    static_assert(same(derivative(derivative(pow<3>(x), x), x), 6_c * x));
    static_assert(same(derivative(derivative(pow<4>(x), x), x), 12_c * pow<2>(x)));
    static_assert(same(derivative(derivative(x * y, x), y), 1_c));
    static_assert(same(derivative(derivative(sin(x), x), x), -sin(x)));
    static_assert(same(derivative(derivative(derivative(derivative(sin(x), x), x), x), x), sin(x)));
    static_assert(same(derivative(derivative(exp(x), x), x), exp(x)));
    CHECK(to_string(derivative(derivative(pow<3>(x), x), x)) == "6*x");
    CHECK(to_string(derivative(derivative(pow<-1>(x), x), x)) == "2*x^-3");
    CHECK(to_string(derivative(derivative(log(x), x), x)) == "-(1/x/x)");
    CHECK(to_string(derivative(derivative(relu(x), x), x)) == "0");
    CHECK(to_string(derivative(derivative(sin(x) * x, x), x)) == "cos(x) - x*sin(x) + cos(x)");
}

TEST_CASE("printing: precedence and parentheses") {
    CHECK(to_string(x - (y - x)) == "x - (y - x)");
    CHECK(to_string((x - y) - x) == "x - y - x");
    CHECK(to_string(x + (y + sin(x))) == "x + y + sin(x)");
    CHECK(to_string((x + y) * sin(x)) == "(x + y)*sin(x)");
    CHECK(to_string(sin(x) * (x + y)) == "sin(x)*(x + y)");
    CHECK(to_string(x / (y * sin(x))) == "x/(y*sin(x))");
    CHECK(to_string((x * y) / sin(x)) == "x*y/sin(x)");
    CHECK(to_string(x / (y / sin(x))) == "x/(y/sin(x))");
    CHECK(to_string(-(x + y)) == "-(x + y)");
    CHECK(to_string(-sin(x)) == "-sin(x)");
    CHECK(to_string(pow<2>(x + y)) == "(x + y)^2");
    CHECK(to_string(pow<2>(x * y)) == "(x*y)^2");
    CHECK(to_string(pow<2>(-x)) == "(-x)^2");
    CHECK(to_string(pow<2>(pow(x, y))) == "pow(x, y)^2");
    CHECK(to_string(pow<2>(sin(x)) + 1_c) == "sin(x)^2 + 1");
    CHECK(to_string(2_c * pow<2>(x)) == "2*x^2");
    CHECK(to_string(rational<1, 2>{} * (x + y)) == "1/2*(x + y)");
    CHECK(to_string(y * (rational<1, 2>{} * x)) == "1/2*y*x");
    CHECK(to_string(sum(pow<2>(x - y))) == "sum((x - y)^2)");
    CHECK(to_string(max(x, y + 1_c)) == "max(x, y + 1)");
    CHECK(to_string(sigmoid(x) - -1.5 * y) == "sigmoid(x) - -1.5*y");
}

TEST_CASE("expressions are small values; the ones without run-time numbers are empty or static") {
    static_assert(std::is_empty_v<decltype(x)> && std::is_empty_v<decltype(3_c)>);
    static_assert(!std::is_empty_v<decltype(2.0 * x)>);
    static_assert(std::is_trivially_copyable_v<decltype(2.0 * x + sin(y * 3.0f))>);
    // Merging needs static operands: two scalars of the same type are different values.
    static_assert(is_binary_op_v<decltype(2.0 * x + 3.0 * x), add_op>);
    CHECK(eval(2.0 * x + 3.0 * x, x = 1.0) == 5.0);
}

// simplify.hpp: "only static subexpressions, holding no run-time data, merge". A compound node
// built only from variables and constants holds no run-time data either, so it merges like a
// variable does.
TEST_CASE("like terms, powers and quotients of compound static subexpressions") {
    static_assert(is_static_v<decltype(sin(x) * (x + y))>);
    static_assert(!is_static_v<decltype(sin(x) * (x + 1.0))>);
    static_assert(std::is_same_v<decltype(sin(x) + sin(x)), decltype(2_c * sin(x))>);
    CHECK(to_string(sin(x) + sin(x)) == "2*sin(x)");
    static_assert(std::is_same_v<decltype(sin(x) * sin(x)), decltype(pow<2>(sin(x)))>);
    CHECK(to_string(sin(x) * sin(x)) == "sin(x)^2");
    CHECK(to_string(exp(x) / exp(x)) == "1");
    CHECK(to_string((x + y) - (x + y)) == "0");
    static_assert(same_static_v<decltype(sin(x)), decltype(sin(x))>);
    static_assert(!same_static_v<decltype(sin(2.0 * x)), decltype(sin(2.0 * x))>);
}
