// Comparisons, all/any, equal, allclose and masked_fill (ops/compare.hpp): the golden cases of
// test/reference/reduce.txt, operators on both sides, bool results without history, errors.
#include "../support/dtype_golden.hpp"
#include "../support/errors.hpp"
#include "../support/gradcheck.hpp"
#include "../support/reduce_golden.hpp"
#include "../support/values.hpp"
#include <doctest/doctest.h>

#include <limits>
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
using ctgrad_test::gradcheck::unchanged;
using ctgrad_test::reduce_golden::check_golden_ops;

#define CHECK_ERROR_CONTAINS(statement, part) CTGRAD_CHECK_ERROR(statement, part)

}  // namespace

TEST_CASE("golden: comparisons, all and any as PyTorch 1.13") {
    CHECK(check_golden_ops({"eq", "ne", "lt", "le", "gt", "ge"}) == 102);
    CHECK(check_golden_ops({"all", "any"}) == 18);
}

TEST_CASE("comparisons: operators on both sides, bool results without history") {
    const Tensor x = leaf(tensor({1., 2., 3.}, kDouble));
    const Tensor y = tensor({{3.}, {2.}});
    const Tensor gt2 = x > 2;
    CHECK(gt2.scalar_type() == kBool);
    CHECK_FALSE(gt2.requires_grad());
    CHECK(gt2.is_leaf());
    CHECK(values_of(gt2) == std::vector<double>{0, 0, 1});
    CHECK(values_of(2 < x) == std::vector<double>{0, 0, 1});
    CHECK(values_of(2 <= x) == std::vector<double>{0, 1, 1});
    CHECK(values_of(2 > x) == std::vector<double>{1, 0, 0});
    CHECK(values_of(2 >= x) == std::vector<double>{1, 1, 0});
    CHECK(values_of(2 == x) == std::vector<double>{0, 1, 0});
    CHECK(values_of(2 != x) == std::vector<double>{1, 0, 1});
    CHECK(values_of(x == 2.0) == std::vector<double>{0, 1, 0});
    CHECK(values_of(x != 2) == std::vector<double>{1, 0, 1});
    CHECK(values_of(x < 2.5) == std::vector<double>{1, 1, 0});
    CHECK(values_of(x <= 2) == std::vector<double>{1, 1, 0});
    CHECK(values_of(x >= 3) == std::vector<double>{0, 0, 1});
    // tensor against tensor, broadcast to [2, 3]; float64 against float32 compares in float64
    CHECK(values_of(x == y) == std::vector<double>{0, 0, 1, 0, 1, 0});
    CHECK(values_of(x != y) == std::vector<double>{1, 1, 0, 1, 0, 1});
    CHECK(values_of(x < y) == std::vector<double>{1, 1, 0, 1, 0, 0});
    CHECK(values_of(x <= y) == std::vector<double>{1, 1, 1, 1, 1, 0});
    CHECK(values_of(x > y) == std::vector<double>{0, 0, 0, 0, 0, 1});
    CHECK(values_of(x >= y) == std::vector<double>{0, 0, 1, 0, 1, 1});
    // a transposed (non-contiguous) operand
    const Tensor m = random_tensor({3, 4}, 8);
    CHECK(values_of(m.t() > 0) == values_of((m > 0).t()));
    CHECK(values_of(lt(m.t(), m.t().contiguous())) == std::vector<double>(12, 0.0));
}

TEST_CASE("comparisons: all, any, equal, allclose") {
    CHECK((tensor({1., 2.}) > 0).all().item<bool>());
    CHECK_FALSE((tensor({1., 2.}) > 1).all().item<bool>());
    CHECK((tensor({1., 2.}) > 1).any().item<bool>());
    CHECK(all(empty({0})).item<bool>());
    CHECK_FALSE(any(empty({0})).item<bool>());
    CHECK(any(tensor({0., nan_v})).item<bool>());
    CHECK(tensor({1, 2}).all().dim() == 0);
    CHECK(tensor({1, 2}).all().scalar_type() == kBool);

    const Tensor a = tensor({1., 2., 3.});
    CHECK(a.equal(a.clone()));
    CHECK(a.equal(tensor({1, 2, 3})));                // values compared in the promoted dtype
    CHECK_FALSE(a.equal(tensor({1., 2., 3.5})));
    CHECK_FALSE(a.equal(tensor({{1., 2., 3.}})));     // same values, other shape
    CHECK_FALSE(tensor({nan_v}).equal(tensor({nan_v})));
    CHECK_FALSE(tensor({0.1}).equal(tensor({0.1}, kDouble)));
    CHECK(tensor({-0.}).equal(tensor({0.})));

    CHECK(a.allclose(a + 1e-6));
    CHECK_FALSE(a.allclose(a + 1e-3));
    CHECK(a.allclose(a + 1e-3, 1e-3));
    CHECK(a.allclose(a + 0.5, 0, 0.5));
    CHECK(tensor({100.f}).allclose(tensor({101.f}), 0.01, 0));
    CHECK_FALSE(tensor({100.f}).allclose(tensor({102.f}), 0.01, 0));
    CHECK(tensor({inf}).allclose(tensor({inf})));
    CHECK_FALSE(tensor({inf}).allclose(tensor({-inf})));
    CHECK_FALSE(tensor({nan_v}).allclose(tensor({nan_v})));
    CHECK(tensor({{1.}, {1.}}).allclose(tensor({1., 1., 1.})));  // broadcast
    CHECK(tensor({1, 2}).allclose(tensor({1, 3}), 0.5));
    CHECK_FALSE(tensor({1, 2}).allclose(tensor({1, 4}), 0.4));
    CHECK(tensor({true}).allclose(tensor({true})));
}

TEST_CASE("masked_fill: the value where the mask holds, the gradient elsewhere") {
    // torch.tensor([[1., -2., 3.], [-4., 5., -6.]]).masked_fill(mask, value), mask broadcast
    // from [3]: [[9, -2, 9], [9, 5, 9]] for the mask [T, F, T] and 9.
    const Tensor x = tensor({{1., -2., 3.}, {-4., 5., -6.}}, kDouble);
    const Tensor mask = tensor({true, false, true});
    const Tensor filled = masked_fill(x, mask, 9);
    CHECK(values_of(filled) == std::vector<double>{9, -2, 9, 9, 5, 9});
    CHECK(filled.scalar_type() == kDouble);
    CHECK(values_of(x.masked_fill(x > 0, -inf)) == std::vector<double>{-inf, -2, -inf, -4, -inf, -6});
    CHECK_FALSE(filled.requires_grad());
    // Differentiable in self: 1 where the mask does not hold, 0 where it does (an inf fill does
    // not turn into NaN in the gradient).
    const Tensor r = random_tensor({2, 3}, 5);
    check_gradient([&](const TensorList& t) { return masked_fill(t[0], mask, 9); }, {r}, "masked_fill");
    const Tensor l = leaf(x);
    masked_fill(l, mask, inf).sum().backward();
    CHECK(values_of(l.grad()) == std::vector<double>{0, 1, 0, 0, 1, 0});
    CHECK(masked_fill(l, mask, 0).grad_fn()->name() == "MaskedFillBackward0");
}

TEST_CASE("masked_fill: errors, with the inputs unchanged") {
    const Tensor x = tensor({1., 2., 3.});
    const unchanged before({x});
    CHECK_ERROR_CONTAINS(masked_fill(x, tensor({1., 0., 1.}), 0), "masked_fill: expected a bool mask, got Float");
    CHECK_ERROR_CONTAINS(masked_fill(x, tensor({true, false}), 0), "masked_fill");
    CHECK_ERROR_CONTAINS(x.masked_fill(tensor({{true}, {false}}), 0), "does not broadcast to the shape of the tensor, [3]");
    before.check();
}

TEST_CASE("comparisons: errors, with the inputs unchanged") {
    const Tensor a = tensor({{1., 2., 3.}, {4., 5., 6.}});
    const Tensor b = tensor({{1., 2.}, {3., 4.}});
    const unchanged before({a, b});
    CHECK_ERROR_CONTAINS(a == b, "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1");
    CHECK_ERROR_CONTAINS(a == b, "[2, 3]");
    CHECK_ERROR_CONTAINS(a == b, "[2, 2]");
    CHECK_ERROR_CONTAINS(a.lt(b), "lt:");
    CHECK_ERROR_CONTAINS(a.allclose(a.to(kDouble)), "Float did not match Double");
    CHECK_ERROR_CONTAINS(a.allclose(a, -1), "rtol must be greater than or equal to zero, but got -1");
    CHECK_ERROR_CONTAINS(a.allclose(a, 0, -0.5), "atol must be greater than or equal to zero, but got -0.5");
    CHECK_ERROR_CONTAINS(a.allclose(b), "The size of tensor a (3) must match the size of tensor b (2)");
    CHECK_ERROR_CONTAINS(b >= a, "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1");
    before.check();
}

// The integer dtypes: eq, lt and gt between every pair of dtypes and operand kinds compare in
// the promoted dtype and give bool, as PyTorch's (test/reference/dtype.txt).
TEST_CASE("comparisons on every pair of dtypes, 0-d tensors and numbers match PyTorch (dtype.txt)") {
    int checked = 0;
    for (const auto& r : ctgrad_test::read_dtype_records()) {
        if (r.kind != "binary" || (r.op != "eq" && r.op != "lt" && r.op != "gt")) continue;
        INFO(r.op << " " << r.lhs << " " << r.rhs);
        REQUIRE_FALSE(r.error);
        const auto a = ctgrad_test::dtype_operand_of(r.lhs, true);
        const auto b = ctgrad_test::dtype_operand_of(r.rhs, false);
        Tensor out;
        if (b.is_scalar) out = r.op == "eq" ? a.tensor == b.scalar : r.op == "lt" ? a.tensor < b.scalar : a.tensor > b.scalar;
        else out = r.op == "eq" ? eq(a.tensor, b.tensor) : r.op == "lt" ? lt(a.tensor, b.tensor) : gt(a.tensor, b.tensor);
        CHECK(dtype_name(out.scalar_type()) == r.to);
        CHECK(values_of(out) == r.values);
        ++checked;
    }
    CHECK(checked == 3 * 8 * (8 * 4 + 2 * 3));
}

TEST_CASE("comparisons of the narrower integers: mixed signedness compares values, equal() and allclose() work") {
    const Tensor u8 = tensor(std::vector<std::uint8_t>{200, 1});
    const Tensor i8 = tensor(std::vector<std::int8_t>{-56, 1});
    CHECK(values_of(u8 > i8) == std::vector<double>{1, 0});  // in int16: 200 > -56
    CHECK(values_of(u8 == i8) == std::vector<double>{0, 1});
    CHECK(u8.equal(tensor(std::vector<std::uint8_t>{200, 1})));
    CHECK_FALSE(u8.equal(i8));
    CHECK(tensor(std::vector<std::int16_t>{5, 7}).allclose(tensor(std::vector<std::int16_t>{5, 7})));
    CHECK_FALSE(tensor(std::vector<std::int16_t>{5, 7}).allclose(tensor(std::vector<std::int16_t>{5, 8})));
    CHECK(values_of(ones({3}, kInt).any()) == std::vector<double>{1});
    CHECK(values_of(zeros({3}, kShort).all()) == std::vector<double>{0});
}
