// Gradients against central finite differences for the public ops that had no such check:
// the `_as` views and sum_to_size (ops/views.hpp, ops/reduction.hpp), a dtype conversion's
// gradient (ops/conversion.hpp), the in-place sub_, div_ and fill_ (ops/inplace.hpp) and
// nn::ReLU(inplace). Each in-place op is applied to a non-leaf, as a model would, and its
// gradient must reach both the overwritten tensor's history and the other operand.
#include "../support/gradcheck.hpp"
#include <doctest/doctest.h>

#include <ctgrad/ctgrad.hpp>

namespace {

using namespace ctgrad;
using ctgrad_test::gradcheck::check_gradient;
using ctgrad_test::gradcheck::random_tensor;
using ctgrad_test::gradcheck::separated_tensor;

}  // namespace

TEST_CASE("view_as, reshape_as, expand_as and sum_to_size against finite differences") {
    const Tensor x = random_tensor({2, 3}, 1);
    const Tensor shape6 = zeros({6}), shape32 = zeros({3, 2}), shape423 = zeros({4, 2, 3});
    check_gradient([&](const TensorList& t) { return t[0].view_as(shape6) * t[0].view_as(shape6); }, {x}, "view_as");
    check_gradient([&](const TensorList& t) { return t[0].t().reshape_as(shape32).exp(); }, {x},
                   "reshape_as of a transposed tensor (a copy)");
    check_gradient([&](const TensorList& t) { return t[0].reshape_as(shape32).sin(); }, {x}, "reshape_as (a view)");
    const Tensor row = random_tensor({1, 3}, 2);
    check_gradient([&](const TensorList& t) { return t[0].expand_as(shape423) * t[1]; }, {row, random_tensor({4, 2, 3}, 3)},
                   "expand_as: the gradient sums over the broadcast dims");
    const Tensor big = random_tensor({4, 2, 3}, 4);
    check_gradient([](const TensorList& t) { return t[0].sum_to_size({2, 1}).square(); }, {big},
                   "sum_to_size over a leading dim and a stretched one");
    check_gradient([](const TensorList& t) { return t[0].sum_to_size({3}) * t[0].sum_to_size({3}); }, {big},
                   "sum_to_size to the last dim");
}

TEST_CASE("a dtype conversion passes its gradient back in the input's dtype") {
    const Tensor x = random_tensor({5}, 5, 0.5, 2);
    // float rounds the values: a wider step and a looser tolerance than for double.
    check_gradient([](const TensorList& t) { return (t[0].to(kFloat) * t[0].to(kFloat)).to(kDouble); }, {x},
                   "to(kFloat) and back", 1e-2, 1e-3);
    Tensor leaf = x.clone().requires_grad_(true);
    leaf.to(kFloat).sum().backward();
    CHECK(leaf.grad().scalar_type() == kDouble);
}

TEST_CASE("in-place sub_, div_ and fill_ on a non-leaf against finite differences") {
    const Tensor a = random_tensor({2, 3}, 6), b = random_tensor({3}, 7, 0.5, 2);
    check_gradient([](const TensorList& t) {
        Tensor y = t[0] * 1;
        y.sub_(t[1], 2.5);
        return y;
    }, {a, b}, "sub_ with alpha and a broadcast operand");
    check_gradient([](const TensorList& t) {
        Tensor y = t[0] * t[0];
        y.div_(t[1]);
        return y;
    }, {a, b}, "div_ by a broadcast tensor");
    check_gradient([](const TensorList& t) {
        Tensor y = t[0] * t[1];
        y.div_(3.0);
        y.sub_(0.5);
        return y;
    }, {a, b}, "div_ and sub_ by numbers");
    check_gradient([](const TensorList& t) {
        Tensor y = t[0] * 2;
        y.narrow(1, 0, 2).fill_(1.5);  // through a view: the filled window has no gradient
        return y * t[1];
    }, {a, b}, "fill_ of a window");
    check_gradient([](const TensorList& t) {
        Tensor y = t[0].sin();
        y.fill_(4);
        return y + t[1];
    }, {a, b}, "fill_ of the whole tensor cuts its history");
}

TEST_CASE("nn::ReLU(inplace) against finite differences, and the same values as out of place") {
    const Tensor x = separated_tensor({3, 4}, 8);  // no element near the kink at 0
    nn::ReLU relu_inplace(nn::ReLUOptions().inplace(true));
    nn::ReLU relu;
    check_gradient([&](const TensorList& t) { return relu_inplace(t[0] * 1.5) * t[0]; }, {x}, "ReLU(inplace) of a non-leaf");
    Tensor y = x * 1.5;
    const Tensor out = relu_inplace(y);
    CHECK(out.is_same(y));
    CHECK(out.equal(relu(x * 1.5)));
}
