// max/min/argmax/argmin (ops/minmax.hpp): the golden cases of test/reference/reduce.txt, gradients
// against finite differences, ties and NaN, create_graph through their gradients, errors.
#include "../support/errors.hpp"
#include "../support/gradcheck.hpp"
#include "../support/reduce_golden.hpp"
#include "../support/reference.hpp"
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

// ---- gather and scatter_add (ops/gather.hpp): the golden cases of test/reference/gather.txt ----

namespace {

const ctgrad_test::golden_tensor_file& gather_golden() {
    static const ctgrad_test::golden_tensor_file file = ctgrad_test::read_golden_tensors("gather.txt");
    return file;
}

Tensor golden_tensor(const std::string& name, const std::string& label, ScalarType dtype = kDouble) {
    const auto& g = gather_golden().cases.at(name).at(label);
    return ctgrad::tensor(g.values, TensorOptions().dtype(kDouble)).reshape(g.sizes).to(dtype);
}

// The message ctgrad gives contains PyTorch's, less an "op(): " prefix naming another op.
std::string golden_message(const std::string& name) {
    std::string message = gather_golden().errors.at(name);
    const auto colon = message.find("(): ");
    if (colon != std::string::npos && colon < 16) message.erase(0, colon + 4);
    return message;
}

bool same_values(const Tensor& a, const Tensor& b) {
    return a.sizes() == b.sizes() && ctgrad::allclose(a.to(kDouble), b.to(kDouble), 1e-12, 1e-12);
}

}  // namespace

TEST_CASE("golden: gather along every kind of dim, its gradient, on float and double") {
    const std::vector<std::pair<std::string, std::int64_t>> cases{
        {"last", 1}, {"first", 0}, {"middle", 1}, {"negative_dim", -1}, {"smaller_index", 1}, {"vector", 0}};
    for (const auto& [name, dim] : cases) {
        CAPTURE(name);
        const std::string c = "gather/" + name;
        for (ScalarType dtype : {kDouble, kFloat}) {
            const Tensor x = golden_tensor(c, "x", dtype).requires_grad_(true);
            const Tensor index = golden_tensor(c, "index", kLong);
            const Tensor out = ctgrad::gather(x, dim, index);
            CHECK(out.scalar_type() == dtype);
            CHECK(same_values(out, golden_tensor(c, "out", dtype)));  // gathered exactly
            CHECK(out.grad_fn()->name() == "GatherBackward0");
            (out * golden_tensor(c, "gout", dtype)).sum().backward();
            const double tol = dtype == kFloat ? 1e-6 : 1e-12;
            CHECK(ctgrad::allclose(x.grad().to(kDouble), golden_tensor(c, "gx"), tol, tol));
        }
    }
}

TEST_CASE("golden: scatter_add with repeated indices, a smaller index, its gradients") {
    const std::vector<std::pair<std::string, std::int64_t>> cases{
        {"last", 1}, {"first_repeats", 0}, {"middle", 1}, {"smaller_index", 2}, {"vector", 0}};
    for (const auto& [name, dim] : cases) {
        CAPTURE(name);
        const std::string c = "scatter_add/" + name;
        const Tensor x = golden_tensor(c, "x").requires_grad_(true);
        const Tensor src = golden_tensor(c, "src").requires_grad_(true);
        const Tensor index = golden_tensor(c, "index", kLong);
        const Tensor out = ctgrad::scatter_add(x, dim, index, src);
        CHECK(same_values(out, golden_tensor(c, "out")));
        if (!gather_golden().cases.at(c).count("gout")) continue;
        (out * golden_tensor(c, "gout")).sum().backward();
        CHECK(same_values(x.grad(), golden_tensor(c, "gx")));
        CHECK(same_values(src.grad(), golden_tensor(c, "gsrc")));
    }
}

TEST_CASE("gather and scatter_add: finite differences, create_graph, a larger src, integer dtypes") {
    ctgrad::manual_seed(3);
    const Tensor index = ctgrad::randint(0, 4, {3, 6});
    check_gradient([&](const TensorList& in) { return ctgrad::gather(in[0], 1, index); }, {random_tensor({3, 4}, 1)},
                   "gather");
    check_gradient([&](const TensorList& in) { return ctgrad::scatter_add(in[0], 1, index, in[1]); },
                   {random_tensor({3, 4}, 2), random_tensor({3, 6}, 3)}, "scatter_add");
    // Second order: gather's gradient (a scatter_add) is itself differentiable.
    const Tensor x = random_tensor({3, 4}, 4).requires_grad_(true);
    const Tensor y = ctgrad::gather(x, 1, index).pow(2).sum();
    const Tensor gx = ctgrad::autograd::grad({y}, {x}, {}, std::nullopt, true)[0];
    const Tensor ggx = ctgrad::autograd::grad({gx.sum()}, {x})[0];
    // d/dx sum(2 * count(x_i) * x_i) = 2 * (how often each element is gathered)
    const Tensor counts = ctgrad::scatter_add(ctgrad::zeros({3, 4}, kDouble), 1, index, ctgrad::ones({3, 6}, kDouble));
    CHECK(ctgrad::allclose(ggx, 2 * counts));
    // src larger than index: only index's extent is read; the rest of src gets no gradient.
    const Tensor big = random_tensor({3, 8}, 5).requires_grad_(true);
    const Tensor sum = ctgrad::scatter_add(ctgrad::zeros({3, 4}, kDouble), 1, index, big).sum();
    sum.backward();
    CHECK(ctgrad::allclose(big.grad().narrow(1, 0, 6), ctgrad::ones({3, 6}, kDouble)));
    CHECK(ctgrad::allclose(big.grad().narrow(1, 6, 2), ctgrad::zeros({3, 2}, kDouble)));
    // int64 values gather exactly.
    const Tensor ints = ctgrad::arange(12).reshape({3, 4});
    const Tensor picked = ctgrad::gather(ints, 1, index);
    CHECK(picked.scalar_type() == kLong);
    CHECK(ctgrad::equal(picked, index + ctgrad::arange(3).reshape({3, 1}) * 4));
}

TEST_CASE("gather and scatter_add: bad input raises PyTorch's message and changes nothing") {
    const Tensor x = ctgrad::zeros({2, 3});
    CHECK_ERROR_CONTAINS(ctgrad::gather(x, 1, ctgrad::zeros({2, 3})), golden_message("gather_float_index"));
    CHECK_ERROR_CONTAINS(ctgrad::gather(x, 1, ctgrad::zeros({2}, kLong)), golden_message("gather_rank"));
    CHECK_ERROR_CONTAINS(ctgrad::gather(x, 1, ctgrad::zeros({3, 2}, kLong)), golden_message("gather_too_large"));
    const Tensor out_of_bounds = ctgrad::tensor({0, 3, 1, 2}).reshape({2, 2});
    CHECK_ERROR_CONTAINS(ctgrad::gather(x, 1, out_of_bounds), golden_message("gather_out_of_bounds"));
    const Tensor negative = ctgrad::tensor({0, -1, 1, 2}).reshape({2, 2});
    CHECK_ERROR_CONTAINS(ctgrad::gather(x, 1, negative), golden_message("gather_negative"));
    CHECK_ERROR_CONTAINS(ctgrad::gather(x, 2, ctgrad::zeros({2, 3}, kLong)), golden_message("gather_dim"));
    const Tensor self = ctgrad::zeros({3, 4}).requires_grad_(true);
    CHECK_ERROR_CONTAINS(ctgrad::scatter_add(self, 0, ctgrad::zeros({2, 4}, kLong), ctgrad::zeros({2, 3})),
                         golden_message("scatter_add_src_small"));
    CHECK_ERROR_CONTAINS(ctgrad::scatter_add(self, 0, ctgrad::tensor({3, 0, 0, 0}).reshape({1, 4}), ctgrad::zeros({1, 4})),
                         golden_message("scatter_add_out_of_bounds"));
    CHECK_ERROR_CONTAINS(ctgrad::scatter_add(self, 0, ctgrad::zeros({1, 4}, kLong), ctgrad::zeros({1, 4}, kDouble)),
                         golden_message("scatter_add_dtype"));
    CHECK(ctgrad::equal(self, ctgrad::zeros({3, 4})));
    CHECK(!self.grad().defined());
}

TEST_CASE("golden: index_select, where and clamp, values and gradients") {
    for (const auto& [name, dim] : std::vector<std::pair<std::string, std::int64_t>>{{"rows", 0}, {"columns", 1}, {"middle", 1}}) {
        CAPTURE(name);
        const std::string c = "index_select/" + name;
        const Tensor x = golden_tensor(c, "x").requires_grad_(true);
        const Tensor out = x.index_select(dim, golden_tensor(c, "index", kLong));
        CHECK(same_values(out, golden_tensor(c, "out")));
        (out * golden_tensor(c, "gout")).sum().backward();
        CHECK(same_values(x.grad(), golden_tensor(c, "gx")));
    }
    for (const std::string name : {"same", "broadcast", "scalar_other"}) {
        CAPTURE(name);
        const std::string c = "where/" + name;
        const Tensor condition = golden_tensor(c, "condition", kBool);
        const Tensor x = golden_tensor(c, "x").requires_grad_(true), y = golden_tensor(c, "y").requires_grad_(true);
        const Tensor out = ctgrad::where(condition, x, y);
        CHECK(same_values(out, golden_tensor(c, "out")));
        CHECK(out.grad_fn()->name() == "WhereBackward0");
        (out * golden_tensor(c, "gout")).sum().backward();
        CHECK(same_values(x.grad(), golden_tensor(c, "gx")));
        CHECK(same_values(y.grad(), golden_tensor(c, "gy")));
    }
    const std::vector<std::tuple<std::string, std::optional<double>, std::optional<double>>> clamps{
        {"both", -0.5, 1.0}, {"min_only", 0.25, std::nullopt}, {"max_only", std::nullopt, -0.25}, {"min_above_max", 1.0, -1.0}};
    for (const auto& [name, lo, hi] : clamps) {
        CAPTURE(name);
        const std::string c = "clamp/" + name;
        const Tensor x = golden_tensor(c, "x").requires_grad_(true);
        const std::optional<Scalar> min = lo ? std::optional<Scalar>(*lo) : std::nullopt;
        const std::optional<Scalar> max = hi ? std::optional<Scalar>(*hi) : std::nullopt;
        const Tensor out = x.clamp(min, max);
        CHECK(same_values(out, golden_tensor(c, "out")));
        (out * golden_tensor(c, "gout")).sum().backward();
        CHECK(same_values(x.grad(), golden_tensor(c, "gx")));
    }
}

TEST_CASE("where and clamp: NaN, numbers, one-sided forms, finite differences, create_graph, errors") {
    const Tensor x = ctgrad::tensor({-2.0, nan_v, 0.5, 3.0});
    const Tensor clamped = ctgrad::clamp(x, -1.0, 1.0);
    CHECK(std::isnan(clamped[1].item<double>()));  // NaN stays NaN
    CHECK(ctgrad::clamp_min(x, 0.0)[0].item<double>() == 0.0);
    CHECK(ctgrad::clamp_max(x, 0.0)[3].item<double>() == 0.0);
    CHECK(ctgrad::clamp(ctgrad::arange(5), 1, 3).scalar_type() == kLong);
    CHECK(ctgrad::equal(ctgrad::clamp(ctgrad::arange(5), 1, 3), ctgrad::tensor({1, 1, 2, 3, 3})));
    const Tensor condition = ctgrad::tensor({1.0, 0.0, 1.0, 0.0}) > 0.5;
    CHECK(ctgrad::allclose(ctgrad::where(condition, x, 7.0), ctgrad::tensor({-2.0, 7.0, 0.5, 7.0})));
    const Tensor picked = ctgrad::where(condition, 1.5, x);
    CHECK(picked[0].item<double>() == 1.5);
    CHECK(std::isnan(picked[1].item<double>()));
    CHECK(picked[3].item<double>() == 3.0);
    ctgrad::manual_seed(5);
    const Tensor mask = ctgrad::rand({3, 4}) > 0.5;
    check_gradient([&](const TensorList& in) { return ctgrad::where(mask, in[0], in[1]); },
                   {random_tensor({3, 4}, 6), random_tensor({1, 4}, 7)}, "where");
    check_gradient([&](const TensorList& in) { return ctgrad::clamp(in[0], -0.73, 0.91); },  // off separated_tensor's grid
                   {separated_tensor({3, 4}, 8)}, "clamp");
    check_gradient([&](const TensorList& in) { return ctgrad::index_select(in[0], 1, ctgrad::tensor({2, 0, 2})); },
                   {random_tensor({3, 4}, 9)}, "index_select");
    // create_graph: d/dx of sum(clamp(x)^2)'s gradient is 2 where it passes
    const Tensor v = ctgrad::tensor({-2.0, 0.25, 0.5, 3.0}).requires_grad_(true);
    const Tensor gv = ctgrad::autograd::grad({ctgrad::clamp(v, -1.0, 1.0).pow(2).sum()}, {v}, {}, std::nullopt, true)[0];
    const Tensor ggv = ctgrad::autograd::grad({gv.sum()}, {v})[0];
    CHECK(ctgrad::allclose(ggv, ctgrad::tensor({0.0, 2.0, 2.0, 0.0})));
    CHECK_ERROR_CONTAINS(ctgrad::index_select(ctgrad::zeros({3, 4}), 0, ctgrad::zeros({2, 2}, kLong)),
                         golden_message("index_select_matrix"));
    CHECK_ERROR_CONTAINS(ctgrad::index_select(ctgrad::zeros({3, 4}), 0, ctgrad::tensor({0, 3})),
                         golden_message("index_select_out_of_range"));
    CHECK_ERROR_CONTAINS(ctgrad::where(ctgrad::zeros({2, 2}), ctgrad::zeros({2, 2}), ctgrad::zeros({2, 2})),
                         golden_message("where_condition_dtype"));
    CHECK_ERROR_CONTAINS(ctgrad::where(ctgrad::zeros({2, 3}, kBool), ctgrad::zeros({2, 3}), ctgrad::zeros({4, 3})),
                         golden_message("where_shapes"));
    CHECK(golden_message("clamp_none").find("At least one of 'min' or 'max' must not be None") != std::string::npos);
    CHECK_ERROR_CONTAINS(ctgrad::clamp(ctgrad::zeros({2}), std::nullopt, std::nullopt),
                         "At least one of 'min' or 'max' must not be None");
}

TEST_CASE("gather and scatter_add with a 0-d index, as PyTorch takes it") {
    const Tensor x = ctgrad::tensor({1.0, 2.0, 3.0}).requires_grad_(true);
    const Tensor picked = ctgrad::gather(x, 0, ctgrad::tensor(std::int64_t{2}).reshape({}));
    CHECK(picked.dim() == 0);
    CHECK(picked.item<double>() == 3.0);
    picked.backward();
    CHECK(ctgrad::equal(x.grad(), ctgrad::tensor({0.0, 0.0, 1.0})));
    const Tensor added = ctgrad::scatter_add(ctgrad::zeros({3}, kDouble), 0, ctgrad::tensor(std::int64_t{1}).reshape({}),
                                             ctgrad::tensor(5.0, TensorOptions().dtype(kDouble)).reshape({}));
    CHECK(ctgrad::equal(added, ctgrad::tensor({0.0, 5.0, 0.0})));
}
