// cat and stack (ops/join.hpp): the golden cases of test/reference/reduce.txt, gradients against
// finite differences, inputs of several dtypes and legacy empties, errors.
#include "../support/errors.hpp"
#include "../support/gradcheck.hpp"
#include "../support/reduce_golden.hpp"
#include "../support/values.hpp"
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ctgrad/tensor.hpp>

namespace {

using namespace ctgrad;

using ctgrad_test::values_of;
using ctgrad_test::gradcheck::check_gradient;
using ctgrad_test::gradcheck::leaf;
using ctgrad_test::gradcheck::random_tensor;
using ctgrad_test::gradcheck::unchanged;
using ctgrad_test::reduce_golden::check_golden_ops;

#define CHECK_ERROR_CONTAINS(statement, part) CTGRAD_CHECK_ERROR(statement, part)

}  // namespace

TEST_CASE("golden: cat and stack as PyTorch 1.13") {
    CHECK(check_golden_ops({"cat", "stack"}) == 17);
}

TEST_CASE("cat and stack: gradients against finite differences") {
    const Tensor a = random_tensor({2, 3}, 21), b = random_tensor({2, 4}, 22), c = random_tensor({2, 3}, 23);
    check_gradient([](const TensorList& t) { return cat({t[0], t[1]}, 1); }, {a, b}, "cat dim 1");
    check_gradient([](const TensorList& t) { return cat({t[0], t[1].t(), t[0]}, 0) * t[1].sum(); },
                   {a, random_tensor({3, 2}, 24)}, "cat dim 0 with a transpose and a repeated input");
    for (std::int64_t d : {0, 1, 2, -1, -3})
        check_gradient([=](const TensorList& t) { return stack({t[0], t[1]}, d); }, {a, c}, "stack dim " + std::to_string(d));
    // create_graph: the gradient of cat is a slice of its upstream gradient
    check_gradient(
        [&](const TensorList& t) {
            const Tensor al = leaf(a), bl = leaf(b);
            const variable_list g = autograd::grad({(cat({al, bl}, -1) * t[0]).sum()}, {al, bl}, {}, std::nullopt, true);
            return g[0].sum(0) * g[1].sum();
        },
        {random_tensor({2, 7}, 25)}, "cat gradient wrt its upstream");
}

TEST_CASE("cat and stack: inputs that do not require grad, dtypes, legacy empties") {
    const Tensor a = leaf(random_tensor({2, 2}, 31));
    const Tensor f = tensor({{1.f, 2.f}}, requires_grad());
    const Tensor l = tensor({{7, 8}});
    const Tensor out = cat({a, f, l}, 0);
    CHECK(out.scalar_type() == kDouble);
    CHECK(out.grad_fn()->name() == "CatBackward0");
    out.sum().backward();
    CHECK(a.grad().scalar_type() == kDouble);
    CHECK(f.grad().scalar_type() == kFloat);  // each input's gradient in its own dtype
    CHECK(values_of(f.grad()) == std::vector<double>{1, 1});
    const Tensor e = empty({0}, kDouble).requires_grad_(true);
    cat({e, a}, 1).sum().backward();
    CHECK(shape_str(e.grad().sizes()) == "[0]");
    CHECK(shape_str(cat({empty({0}), empty({0})}, 3).sizes()) == "[0]");  // dim unchecked: all skipped
    const Tensor s = stack({f, f.to(kDouble)}, 1);
    CHECK(s.scalar_type() == kDouble);
    CHECK(shape_str(s.sizes()) == "[1, 2, 2]");
    CHECK(s.grad_fn()->name() == "StackBackward0");
    CHECK_FALSE(cat({l, l}).requires_grad());
}

TEST_CASE("cat and stack: errors, with the inputs unchanged") {
    const Tensor a = leaf(random_tensor({2, 3}, 41));
    const Tensor b = random_tensor({2, 4}, 42);
    const Tensor v = random_tensor({3}, 43);
    const unchanged before({a, b, v});
    CHECK_ERROR_CONTAINS(cat({}), "torch.cat(): expected a non-empty list of Tensors");
    CHECK_ERROR_CONTAINS(cat({a, b}), "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list");
    CHECK_ERROR_CONTAINS(cat({a, b}), "[2, 3]");
    CHECK_ERROR_CONTAINS(cat({a, b}), "[2, 4]");
    CHECK_ERROR_CONTAINS(cat({a, b}, 2), "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    CHECK_ERROR_CONTAINS(cat({a, b}, -3), "but got -3)");
    CHECK_ERROR_CONTAINS(cat({a, v}, 1), "Tensors must have same number of dimensions: got 2 and 1");
    CHECK_ERROR_CONTAINS(cat({tensor(1.), tensor(2.)}), "zero-dimensional tensor (at position 0) cannot be concatenated");
    CHECK_ERROR_CONTAINS(stack({}), "stack expects a non-empty TensorList");
    CHECK_ERROR_CONTAINS(stack({a, a, b}), "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at entry 2");
    CHECK_ERROR_CONTAINS(stack({a, a}, 3), "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
    CHECK_ERROR_CONTAINS(stack({a, a}, -4), "but got -4)");
    before.check();
}
