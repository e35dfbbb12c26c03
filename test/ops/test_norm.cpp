// norm (ops/norm.hpp): the golden cases of test/reference/reduce.txt with second derivatives,
// gradients and second derivatives against finite differences, PyTorch's conventions, errors.
#include "../support/errors.hpp"
#include "../support/gradcheck.hpp"
#include "../support/reduce_golden.hpp"
#include "../support/values.hpp"
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <ctgrad/tensor.hpp>

namespace {

using namespace ctgrad;

constexpr double inf = std::numeric_limits<double>::infinity();
const double nan_v = std::numeric_limits<double>::quiet_NaN();

using ctgrad_test::values_of;
using ctgrad_test::gradcheck::check_gradient;
using ctgrad_test::gradcheck::leaf;
using ctgrad_test::gradcheck::random_tensor;
using ctgrad_test::gradcheck::separated_tensor;
using ctgrad_test::gradcheck::tensor_function;
using ctgrad_test::gradcheck::unchanged;
using ctgrad_test::reduce_golden::check_golden_ops;

#define CHECK_ERROR_CONTAINS(statement, part) CTGRAD_CHECK_ERROR(statement, part)

// x -> d sum(f(x) * w) / dx with create_graph: its own gradient is f's second derivative.
tensor_function gradient_of(const tensor_function& f, std::uint64_t seed) {
    return [f, seed](const TensorList& xs) {
        const Tensor y = f(xs);
        const Tensor w = random_tensor(y.sizes(), seed, 0.5, 1.5);
        return autograd::grad({(y * w).sum()}, {xs[0]}, {}, std::nullopt, true)[0];
    };
}

}  // namespace

TEST_CASE("golden: norm as PyTorch 1.13, with second derivatives") {
    CHECK(check_golden_ops({"norm"}) == 118);
}

TEST_CASE("norm: gradients and second derivatives against finite differences") {
    const Tensor x = separated_tensor({3, 4, 2}, 11);
    for (double p : {2.0, 1.0, inf, -inf, 3.0, 0.5, 1.5, -1.0, 4.0, 2.5}) {
        const std::string ps = std::to_string(p);
        check_gradient([=](const TensorList& t) { return t[0].norm(p); }, {x}, "norm(" + ps + ")");
        check_gradient([=](const TensorList& t) { return t[0].norm(p, {1}); }, {x}, "norm(" + ps + ", 1)");
        check_gradient([=](const TensorList& t) { return t[0].norm(p, {-1, 0}, true); }, {x}, "norm(" + ps + ", {-1, 0}, keepdim)");
        // second derivatives: the gradient, built with create_graph, differentiated again
        check_gradient(gradient_of([=](const TensorList& t) { return t[0].norm(p); }, 5), {x},
                       "second derivative of norm(" + ps + ")", 1e-6, 1e-5);
        check_gradient(gradient_of([=](const TensorList& t) { return t[0].norm(p, {2}, true); }, 6), {x},
                       "second derivative of norm(" + ps + ", 2, keepdim)", 1e-6, 1e-5);
    }
    // a non-contiguous input
    check_gradient([](const TensorList& t) { return t[0].permute({2, 0, 1}).norm(3, {0, 2}); }, {x}, "norm of a permute");
}

TEST_CASE("norm: PyTorch's conventions at 0 and for p = 0") {
    const Tensor z = leaf(zeros({2, 3}, kDouble));
    for (double p : {2.0, 1.0, inf, 3.0, 0.5, 1.5}) {
        INFO("p = " << p);
        const Tensor n = z.norm(p);
        CHECK(n.item<double>() == 0);
        const Tensor g = autograd::grad({n}, {z}, {}, std::nullopt, true)[0];
        CHECK(values_of(g) == std::vector<double>(6, 0.0));
    }
    // p = 0 counts the nonzeros (NaN included) and has no gradient (None in PyTorch)
    const Tensor x = leaf(tensor({{0., 2., nan_v}, {0., 0., -1.}}, kDouble));
    const Tensor n0 = x.norm(0, {1});
    CHECK(values_of(n0) == std::vector<double>{2, 1});
    n0.sum().backward();
    CHECK_FALSE(x.grad().defined());
    CHECK_ERROR_CONTAINS(autograd::grad({x.norm(0)}, {x}), "appears to not have been used in the graph");
    CHECK(x.norm(0).grad_fn()->name() == "NormBackward0");
    CHECK(x.norm(0, {0}).grad_fn()->name() == "NormBackward1");
    // over no elements every norm is 0
    for (double p : {2.0, -inf, -1.0, inf}) CHECK(values_of(empty({2, 0}, kDouble).norm(p, {1})) == std::vector<double>{0, 0});
    // float32 terms overflow and underflow as in torch
    CHECK(std::isinf(tensor({1e30f, 1e30f}).norm().item<double>()));
    CHECK(tensor({3e-30f, 4e-30f}).norm().item<double>() == 0);
    CHECK(tensor({3e-30, 4e-30}, kDouble).norm().item<double>() == doctest::Approx(5e-30));
}

TEST_CASE("norm: errors, with the inputs unchanged") {
    const Tensor x = leaf(random_tensor({2, 3}, 4));
    const Tensor l = tensor({1, 2});
    const unchanged before({x, l});
    CHECK_ERROR_CONTAINS(l.norm(), "norm(): input dtype should be either floating point or complex. Got Long instead.");
    CHECK_ERROR_CONTAINS(tensor({true}).norm(2, {0}), "Got Bool instead.");
    CHECK_ERROR_CONTAINS(x.norm(2, {2}), "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    CHECK_ERROR_CONTAINS(x.norm(2, {1, -1}), "dim 1 appears multiple times in the list of dims");
    before.check();
    Tensor y = x * 1;
    const Tensor n = y.norm(3);
    y.mul_(2);
    CHECK_ERROR_CONTAINS(n.backward(), "modified by an inplace operation");
}
