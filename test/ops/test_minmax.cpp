// max/min/argmax/argmin (ops/minmax.hpp): the golden cases of test/reference/reduce.txt, gradients
// against finite differences, ties and NaN, create_graph through their gradients, errors.
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
#include <tuple>
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
using ctgrad_test::gradcheck::unchanged;
using ctgrad_test::reduce_golden::check_golden_ops;

#define CHECK_ERROR_CONTAINS(statement, part) CTGRAD_CHECK_ERROR(statement, part)

}  // namespace

TEST_CASE("golden: max, min, argmax, argmin as PyTorch 1.13") {
    // every dtype, ties, NaN, keepdim, negative dims, 0-d inputs
    CHECK(check_golden_ops({"max", "min"}) == 62);
    CHECK(check_golden_ops({"argmax", "argmin"}) == 56);
}

TEST_CASE("max and min: gradients against finite differences") {
    const Tensor x = separated_tensor({3, 4, 5}, 1);
    check_gradient([](const TensorList& t) { return t[0].max(); }, {x}, "max()");
    check_gradient([](const TensorList& t) { return t[0].min(); }, {x}, "min()");
    for (std::int64_t d : {0, 1, 2, -1, -3})
        for (bool keep : {false, true}) {
            check_gradient([=](const TensorList& t) { return std::get<0>(t[0].max(d, keep)); }, {x},
                           "max(" + std::to_string(d) + ", " + std::to_string(keep) + ")");
            check_gradient([=](const TensorList& t) { return std::get<0>(t[0].min(d, keep)); }, {x},
                           "min(" + std::to_string(d) + ", " + std::to_string(keep) + ")");
        }
    // a non-contiguous input and a chain through other ops
    check_gradient([](const TensorList& t) { return std::get<0>(t[0].transpose(0, 2).max(1)) * t[0].min(); }, {x},
                   "max(dim) of a transpose, times min()");
}

TEST_CASE("max and min: ties share the gradient of max(), max(dim) gives it to the first index") {
    const Tensor x = leaf(tensor({{1., 3., 3.}, {3., 0., -1.}}, kDouble));
    x.max().backward();
    CHECK(values_of(x.grad()) == std::vector<double>{0, 1. / 3, 1. / 3, 1. / 3, 0, 0});
    x.mutable_grad() = Tensor();
    auto [v, i] = x.max(1, true);
    CHECK(values_of(i) == std::vector<double>{1, 0});
    CHECK(i.scalar_type() == kLong);
    v.sum().backward();
    CHECK(values_of(x.grad()) == std::vector<double>{0, 1, 0, 1, 0, 0});
    // NaN wins: max() of a tensor with NaNs is NaN and its gradient goes to the NaNs
    const Tensor y = leaf(tensor({1., nan_v, 5., nan_v}, kDouble));
    const Tensor m = y.max();
    CHECK(std::isnan(m.item<double>()));
    m.backward();
    CHECK(values_of(y.grad()) == std::vector<double>{0, 0.5, 0, 0.5});
    CHECK(y.argmin().item<std::int64_t>() == 1);
}

TEST_CASE("max and min: a non-finite upstream gradient reaches only the selected elements") {
    // PyTorch fills (masked_fill, scatter) rather than multiplies by a mask: 0 * inf would be NaN
    const Tensor x = leaf(tensor({{1., 3.}, {4., 2.}}, kDouble));
    x.max().backward(tensor(inf, kDouble));
    CHECK(values_of(x.grad()) == std::vector<double>{0, 0, inf, 0});
    x.mutable_grad() = Tensor();
    std::get<0>(x.min(1)).backward(tensor({inf, -inf}, kDouble));
    CHECK(values_of(x.grad()) == std::vector<double>{inf, 0, 0, -inf});
}

TEST_CASE("max and min: create_graph through their gradients") {
    const Tensor x = separated_tensor({3, 4}, 7);
    // d/dw of the gradient of sum(max(x, dim) * w): the backward of the scatter is a gather.
    for (bool keep : {false, true}) {
        check_gradient(
            [&](const TensorList& t) {
                const Tensor xl = leaf(x);
                return autograd::grad({(std::get<0>(xl.min(1, keep)) * t[0]).sum()}, {xl}, {}, std::nullopt, true)[0];
            },
            {random_tensor(keep ? IntArrayRef{3, 1} : IntArrayRef{3}, 3)}, "min(dim) gradient wrt its upstream");
    }
    // the even split of max() passes its upstream gradient through a masked_fill
    const Tensor ties = tensor({{2., 5.}, {5., -1.}}, kDouble);
    check_gradient(
        [&](const TensorList& t) {
            const Tensor xl = leaf(ties);
            return autograd::grad({xl.max() * t[0]}, {xl}, {}, std::nullopt, true)[0];
        },
        {tensor(1.5, kDouble)}, "max() gradient wrt its upstream");
    CHECK(leaf(ties).max().grad_fn()->name() == "MaxBackward1");
    auto [v, i] = leaf(ties).min(0);
    CHECK(v.grad_fn()->name() == "MinBackward0");
    CHECK_FALSE(i.requires_grad());
}

TEST_CASE("max and min: errors, with the inputs unchanged") {
    const Tensor x = leaf(tensor({{1., 2.}, {3., 4.}}, kDouble));
    const Tensor e = empty({2, 0}, kDouble);
    const unchanged before({x, e});
    CHECK_ERROR_CONTAINS(e.max(), "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
    CHECK_ERROR_CONTAINS(e.min(), "min(): Expected reduction dim to be specified for input.numel() == 0.");
    CHECK_ERROR_CONTAINS(e.max(1), "max(): Expected reduction dim 1 to have non-zero size.");
    CHECK_ERROR_CONTAINS(e.min(-1), "min(): Expected reduction dim 1 to have non-zero size.");
    CHECK_ERROR_CONTAINS(e.argmax(1), "argmax(): Expected reduction dim 1 to have non-zero size.");
    CHECK_ERROR_CONTAINS(e.argmin(), "argmin(): Expected reduction dim to be specified for input.numel() == 0.");
    CHECK_ERROR_CONTAINS(x.max(2), "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    CHECK_ERROR_CONTAINS(x.argmin(-3), "Dimension out of range (expected to be in range of [-2, 1], but got -3)");
    CHECK_ERROR_CONTAINS(tensor({true, false}).argmax(), "\"argmax_cpu\" not implemented for 'Bool'");
    CHECK_ERROR_CONTAINS(tensor({true, false}).argmin(0), "\"argmin_cpu\" not implemented for 'Bool'");
    before.check();
    // a reduction over a non-empty dim of an empty tensor is empty, not an error
    auto [v, i] = e.max(0);
    CHECK(shape_str(v.sizes()) == "[0]");
    CHECK(shape_str(i.sizes()) == "[0]");
}

TEST_CASE("max and min: saved tensors are version-checked and freed after backward") {
    Tensor x = leaf(tensor({1., 4., 2.}, kDouble));
    Tensor y = x * 2;
    const Tensor m = y.max();
    y.add_(1);
    CHECK_ERROR_CONTAINS(m.backward(), "modified by an inplace operation");
    const Tensor n = (x * 2).max();
    n.backward();
    CHECK_ERROR_CONTAINS(n.backward(), "Trying to backward through the graph a second time");
}
