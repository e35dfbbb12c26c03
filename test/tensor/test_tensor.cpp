// ctgrad::Tensor itself: factories and options, metadata, views sharing storage, contiguous(),
// to(dtype), item(), in-place ops (through const handles too) and version counters, indexing and
// assigning through it, the free functions beside the methods, and every error message of
// these, each followed by a check that the tensors involved did not change. Expectations are
// PyTorch 1.13's (checked with torch in Python; messages follow ATen's wording).
#include "../support/values.hpp"
#include "../support/errors.hpp"
#include "../support/gradcheck.hpp"
#include <ctgrad/tensor.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using ctgrad::kBool;
using ctgrad::kDouble;
using ctgrad::kFloat;
using ctgrad::kLong;
using ctgrad::Tensor;
using ctgrad::indexing::Ellipsis;
using ctgrad::indexing::None;
using ctgrad::indexing::Slice;
using shape = std::vector<std::int64_t>;

shape sizes_of(const Tensor& t) { return t.sizes().vec(); }
shape strides_of(const Tensor& t) { return t.strides().vec(); }

// Row-major values as doubles, whatever the layout and dtype.
auto* const values = &ctgrad_test::values_of;

// 0, 1, 2, ... in a fresh tensor of these sizes.
Tensor iota(const shape& sizes, ctgrad::ScalarType dtype = kFloat) {
    std::int64_t n = 1;
    for (auto s : sizes) n *= s;
    return ctgrad::arange(n, ctgrad::dtype(dtype)).view(sizes);
}

#define CHECK_ERROR(statement, part) CTGRAD_CHECK_ERROR(statement, part)

// What must not change when an op refuses its input.
struct state {
    shape sizes, strides;
    std::int64_t offset;
    std::uint32_t version;
    std::vector<double> data;
    explicit state(const Tensor& t)
        : sizes(sizes_of(t)), strides(strides_of(t)), offset(t.storage_offset()), version(t._version()), data(values(t)) {}
    bool operator==(const state&) const = default;
};

TEST_CASE("factories: dtypes, options, *_like and full's dtype inference") {
    CHECK(ctgrad::zeros({2, 3}).scalar_type() == kFloat);
    CHECK(ctgrad::zeros({2, 3}, kDouble).scalar_type() == kDouble);  // a bare dtype is an option
    CHECK(values(ctgrad::zeros({2, 3})) == std::vector<double>(6, 0.0));
    CHECK(values(ctgrad::ones({2}, ctgrad::dtype(kLong))) == std::vector<double>{1, 1});
    CHECK(ctgrad::ones({2}, kLong).scalar_type() == kLong);
    CHECK(ctgrad::empty({4, 0}).numel() == 0);
    // full infers its dtype from the value: integer -> int64, floating -> float32, bool -> bool.
    CHECK(ctgrad::full({2}, 7).scalar_type() == kLong);
    CHECK(ctgrad::full({2}, 1.5).scalar_type() == kFloat);
    CHECK(ctgrad::full({2}, true).scalar_type() == kBool);
    CHECK(ctgrad::full({2}, 7, kDouble).scalar_type() == kDouble);
    CHECK(values(ctgrad::full({2, 2}, 2.5)) == std::vector<double>(4, 2.5));
    CHECK(ctgrad::scalar_tensor(2).scalar_type() == kFloat);
    CHECK(ctgrad::scalar_tensor(2).dim() == 0);
    CHECK(ctgrad::arange(5).scalar_type() == kLong);
    CHECK(ctgrad::arange(0.5, 3).scalar_type() == kFloat);
    CHECK(values(ctgrad::arange(1, 3, 0.5)) == std::vector<double>{1, 1.5, 2, 2.5});
    CHECK(ctgrad::linspace(0, 1, 3).scalar_type() == kFloat);
    CHECK(values(ctgrad::linspace(0, 1, 3)) == std::vector<double>{0, 0.5, 1});
    CHECK(sizes_of(ctgrad::randn({3, 1})) == shape{3, 1});

    // requires_grad() makes a leaf that requires grad, in every factory.
    const Tensor r = ctgrad::randn({3, 1}, ctgrad::requires_grad());
    CHECK(r.requires_grad());
    CHECK(r.is_leaf());
    CHECK(ctgrad::zeros({2}, ctgrad::dtype(kDouble).requires_grad(true)).requires_grad());
    CHECK_FALSE(ctgrad::ones({2}).requires_grad());
    CHECK_ERROR(ctgrad::ones({2}, ctgrad::dtype(kLong).requires_grad(true)),
                "only Tensors of floating point dtype can require gradients");

    // *_like keep the dtype and sizes unless told otherwise; the requires_grad flag is not copied.
    const Tensor l = ctgrad::ones({2, 3}, kLong);
    CHECK(ctgrad::zeros_like(l).scalar_type() == kLong);
    CHECK(sizes_of(ctgrad::ones_like(l)) == shape{2, 3});
    CHECK(ctgrad::zeros_like(l, kDouble).scalar_type() == kDouble);
    CHECK(values(ctgrad::full_like(l, 2.5)) == std::vector<double>(6, 2.0));  // an int64 tensor: truncated
    CHECK_FALSE(ctgrad::zeros_like(r).requires_grad());
    CHECK(ctgrad::zeros_like(l, ctgrad::dtype(kFloat).requires_grad(true)).requires_grad());
    CHECK(ctgrad::empty_like(r).scalar_type() == kFloat);
    CHECK(sizes_of(ctgrad::randn_like(r)) == shape{3, 1});
}

TEST_CASE("tensor({...}): nesting gives the sizes, the values give the dtype") {
    const Tensor a = ctgrad::tensor({{1, 2}, {3, 4}});
    CHECK(a.scalar_type() == kLong);
    CHECK(sizes_of(a) == shape{2, 2});
    CHECK(values(a) == std::vector<double>{1, 2, 3, 4});
    CHECK(ctgrad::tensor({1.5, 2.0}).scalar_type() == kFloat);
    CHECK_THROWS_AS((void)ctgrad::tensor({1, 2.5}), ctgrad::Error);  // mixed C++ types: refused, as in libtorch
    CHECK(ctgrad::tensor({true, false}).scalar_type() == kBool);
    const Tensor scalar = ctgrad::tensor(3.5);
    CHECK(scalar.dim() == 0);
    CHECK(scalar.item<double>() == 3.5);
    CHECK(ctgrad::tensor(true).scalar_type() == kBool);
    const Tensor cube = ctgrad::tensor({{{1., 2.}, {3., 4.}, {5., 6.}}}, kDouble);
    CHECK(sizes_of(cube) == shape{1, 3, 2});
    CHECK(cube.scalar_type() == kDouble);
    CHECK(ctgrad::tensor(std::vector<double>{1, 2, 3}).numel() == 3);
    CHECK(ctgrad::tensor({1., 2.}, ctgrad::requires_grad()).requires_grad());
    CHECK_ERROR(ctgrad::tensor({{1, 2}, {3}}), "expected");
}

TEST_CASE("metadata: sizes, strides, offsets, contiguity, element sizes") {
    const Tensor x = ctgrad::zeros({2, 3, 4});
    CHECK(x.dim() == 3);
    CHECK(x.numel() == 24);
    CHECK(strides_of(x) == shape{12, 4, 1});
    CHECK(x.size(-1) == 4);
    CHECK(x.stride(0) == 12);
    CHECK(x.is_contiguous());
    CHECK(x.element_size() == 4);
    CHECK(x.nbytes() == 96);
    CHECK(ctgrad::zeros({3}, kDouble).element_size() == 8);
    CHECK(x.is_floating_point());
    CHECK_FALSE(ctgrad::zeros({3}, kLong).is_floating_point());
    CHECK(x.is_cpu());
    CHECK(x.device() == ctgrad::Device(ctgrad::kCPU));
    CHECK(x.select(1, 2).storage_offset() == 8);
    CHECK(x.narrow(2, 1, 2).storage_offset() == 1);
    CHECK(strides_of(x.transpose(0, 2)) == shape{1, 4, 12});
    CHECK(strides_of(x.slice(1, std::nullopt, std::nullopt, 2)) == shape{12, 8, 1});
    CHECK(strides_of(ctgrad::zeros({3, 1}).expand({2, 3, 4})) == shape{0, 1, 0});
    CHECK_FALSE(x.transpose(0, 2).is_contiguous());
    CHECK_FALSE(ctgrad::ones({2, 3}).slice(1, 1, std::nullopt).is_contiguous());
    CHECK(ctgrad::ones({2, 3}).slice(0, 1, std::nullopt).is_contiguous());
    CHECK(ctgrad::ones({2, 1, 3}).transpose(0, 1).is_contiguous());  // size-1 dims do not count
    const Tensor undefined;
    CHECK_FALSE(undefined.defined());
    CHECK_ERROR(undefined.dim(), "undefined");
    CHECK_ERROR(x.size(3), "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
    CHECK_ERROR(x.stride(-4), "Dimension out of range (expected to be in range of [-3, 2], but got -4)");
    CHECK_ERROR(x.data_ptr<double>(), "expected scalar type");
}

TEST_CASE("views share storage: a write through one is seen by the other") {
    Tensor x = iota({2, 3});
    const Tensor t = x.t();
    t[0][1].fill_(100);  // t[0][1] is x[1][0]
    CHECK(values(x) == std::vector<double>{0, 1, 2, 100, 4, 5});
    x.select(1, 2).fill_(-1);  // a column
    CHECK(values(t[2]) == std::vector<double>{-1, -1});
    x.view({6}).slice(0, 0, 2).zero_();
    CHECK(values(x) == std::vector<double>{0, 0, -1, 100, 4, -1});
    x.narrow(1, 1, 1).mul_(3);
    CHECK(values(x.index({Slice(), 1})) == std::vector<double>{0, 12});
    const Tensor e = x[0].unsqueeze(0).expand({4, 3});
    x[0][0].fill_(7);
    CHECK(values(e.select(1, 0)) == std::vector<double>{7, 7, 7, 7});
    // detach() shares the data and the version counter; clone() shares neither.
    const Tensor c = x.clone();
    Tensor d = x.detach();
    d.add_(1);
    CHECK(values(x)[0] == 8);
    CHECK(values(c)[0] == 7);
    CHECK(x._version() == d._version());
    CHECK(c._version() == 0);
    // reshape is a view when the layout allows, a copy otherwise (like PyTorch).
    Tensor r = x.reshape({3, 2});
    r[0][0].fill_(-5);
    CHECK(values(x)[0] == -5);
    Tensor copy = x.t().reshape({6});
    copy.fill_(0);
    CHECK(values(x)[0] == -5);
}

TEST_CASE("contiguous(), to(dtype), clone() and item()") {
    const Tensor x = iota({2, 3});
    CHECK(x.contiguous().is_same(x));  // already contiguous: the same tensor
    const Tensor t = x.t();
    const Tensor c = t.contiguous();
    CHECK(c.is_contiguous());
    CHECK(strides_of(c) == shape{2, 1});
    CHECK(values(c) == values(t));
    CHECK(c.unsafeGetTensorImpl()->storage != x.unsafeGetTensorImpl()->storage);
    CHECK(x.to(kFloat).is_same(x));
    CHECK_FALSE(x.to(kFloat, true).is_same(x));
    const Tensor d = t.to(kDouble);
    CHECK(d.scalar_type() == kDouble);
    CHECK(values(d) == values(t));
    CHECK(values(ctgrad::tensor({2.7, -2.7}).to(kLong)) == std::vector<double>{2, -2});  // truncation
    CHECK(values(ctgrad::tensor({0., 0.5}).to(kBool)) == std::vector<double>{0, 1});
    CHECK(x.to(ctgrad::TensorOptions(kDouble)).scalar_type() == kDouble);
    CHECK(ctgrad::tensor(2.5).item<double>() == 2.5);
    CHECK(ctgrad::tensor(2.5).item<std::int64_t>() == 2);
    CHECK(ctgrad::tensor(7).item().is_integral());
    CHECK(ctgrad::tensor(7).item().to_long() == 7);
    CHECK(ctgrad::tensor(1.5, kDouble).item().to_double() == 1.5);
    CHECK(ctgrad::tensor(true).item<bool>());
    CHECK(x[1][2].item<float>() == 5.0f);
    CHECK(ctgrad::ones({1, 1}).item<float>() == 1.0f);  // one element, any rank
    const state before(x);
    CHECK_ERROR(x.item(), "a Tensor with 6 elements cannot be converted to Scalar");
    CHECK(state(x) == before);
}

TEST_CASE("in-place ops: values, broadcasting, dtypes and one version bump each") {
    Tensor x = ctgrad::ones({2, 3});
    CHECK(x._version() == 0);
    x.add_(2);
    CHECK(x._version() == 1);
    x.sub_(ctgrad::tensor({1.f, 2.f, 3.f}));  // broadcast over rows
    CHECK(values(x) == std::vector<double>{2, 1, 0, 2, 1, 0});
    x.mul_(ctgrad::tensor({{2.f}, {3.f}}));
    CHECK(values(x) == std::vector<double>{4, 2, 0, 6, 3, 0});
    x.div_(2);
    x.add_(ctgrad::ones({3}), 10);  // alpha
    x.sub_(1, 2);                   // x - 1 * 2
    CHECK(values(x) == std::vector<double>{10, 9, 8, 11, 9.5, 8});
    CHECK(x._version() == 6);
    x += 1;
    x -= ctgrad::ones({2, 3});
    x *= 2;
    x /= ctgrad::full({1}, 2.0f);
    CHECK(values(x) == std::vector<double>{10, 9, 8, 11, 9.5, 8});
    CHECK(x._version() == 10);
    x.copy_(ctgrad::tensor({1, 2, 3}));  // broadcast and converted from int64
    CHECK(values(x) == std::vector<double>{1, 2, 3, 1, 2, 3});
    x.fill_(4);
    x.zero_();
    CHECK(x._version() == 13);
    const Tensor y = x + 1;  // out of place: no bump of either
    CHECK(x._version() == 13);
    CHECK(y._version() == 0);
    Tensor v = x[1];  // views share the counter
    v.add_(1);
    CHECK(x._version() == 14);
    CHECK(v._version() == 14);
    Tensor n = ctgrad::tensor({5, 6});
    n.add_(2);
    n.mul_(ctgrad::tensor({2, 3}));
    CHECK(n.scalar_type() == kLong);
    CHECK(values(n) == std::vector<double>{14, 24});
    Tensor e = ctgrad::zeros({3, 1}).expand({3, 4});
    e.fill_(2);  // every alias gets the same value: allowed, as in PyTorch
    CHECK(values(e) == std::vector<double>(12, 2.0));
}

TEST_CASE("in-place errors name the shapes or dtypes and change nothing") {
    Tensor x = iota({3});
    Tensor n = ctgrad::tensor({1, 2, 3});
    Tensor e = ctgrad::zeros({3, 1}).expand({3, 4});
    const state x0(x), n0(n), e0(e);
    CHECK_ERROR(x.add_(ctgrad::ones({2, 3})), "output with shape [3] doesn't match the broadcast shape [2, 3]");
    CHECK_ERROR(x.mul_(ctgrad::ones({4})), "The size of tensor a (3) must match the size of tensor b (4)");
    CHECK_ERROR(x.copy_(ctgrad::ones({2, 3})), "output with shape [3] doesn't match the broadcast shape [2, 3]");
    CHECK_ERROR(n.add_(1.5), "can't be cast to the desired output type");
    CHECK_ERROR(n.div_(ctgrad::tensor({2, 2, 2})), "can't be cast to the desired output type");
    CHECK_ERROR(n.add_(ctgrad::ones({3})), "can't be cast to the desired output type");
    CHECK_ERROR(e.add_(1), "unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location");
    CHECK_ERROR(e.copy_(ctgrad::ones({3, 4})), "more than one element of the written-to tensor");
    CHECK(state(x) == x0);
    CHECK(state(n) == n0);
    CHECK(state(e) == e0);
}

TEST_CASE("indexing with integers, Slice, None and Ellipsis") {
    const Tensor x = iota({2, 3, 4});
    CHECK(sizes_of(x.index({Slice(), Slice(None, None, 2)})) == shape{2, 2, 4});
    CHECK(values(x.index({0, Slice(None, None, 2), 0})) == std::vector<double>{0, 8});
    CHECK(sizes_of(x.index({None, Ellipsis, None})) == shape{1, 2, 3, 4, 1});
    CHECK(values(x.index({Ellipsis, -1})) == std::vector<double>{3, 7, 11, 15, 19, 23});
    CHECK(sizes_of(x.index({1, Ellipsis, Slice(1, 3)})) == shape{3, 2});
    CHECK(values(x.index({1, Ellipsis, Slice(1, 3)})) == std::vector<double>{13, 14, 17, 18, 21, 22});
    CHECK(sizes_of(x.index({Ellipsis, None, 0})) == shape{2, 3, 1});
    CHECK(values(x.index({Slice(-1, None), Slice(1, None), Slice(None, -2)})) == std::vector<double>{16, 17, 20, 21});
    CHECK(sizes_of(x.index({Slice(5, 10)})) == shape{0, 3, 4});  // out-of-range slices clamp
    CHECK(sizes_of(x.index({Ellipsis})) == shape{2, 3, 4});
    CHECK(x[1][2][3].item<float>() == 23.0f);
    CHECK(x.index({-1, -1, -1}).item<float>() == 23.0f);
    const state before(x);
    CHECK_ERROR(x.index({0, 5}), "index 5 is out of bounds for dimension 1 with size 3");
    CHECK_ERROR(x.index({Ellipsis, -5}), "index -5 is out of bounds for dimension 2 with size 4");
    CHECK_ERROR(x.index({0, 0, 0, 0}), "too many indices for tensor of dimension 3");
    CHECK_ERROR(x.slice(1, 0, 2, 0), "slice step must be positive");
    CHECK(state(x) == before);
}

TEST_CASE("in-place methods are const, as libtorch's: a const handle still writes the data") {
    const Tensor x = ctgrad::zeros({2, 2});
    const Tensor& c = x;
    Tensor& same = c.add_(3);
    CHECK(same.is_same(x));
    c.sub_(ctgrad::ones({2})).mul_(2).div_(ctgrad::full({2, 2}, 4.0f));
    CHECK(values(x) == std::vector<double>{1, 1, 1, 1});
    c.mul_(ctgrad::tensor({{1.f, 2.f}, {3.f, 4.f}}));
    c.copy_(c * 2);
    CHECK(values(x) == std::vector<double>{2, 4, 6, 8});
    c.fill_(5);
    CHECK(values(x) == std::vector<double>{5, 5, 5, 5});
    c.zero_();
    CHECK(x._version() == 8);
    c.uniform_(2, 3);
    CHECK(x.ge(2).all().item<bool>());
    c.normal_();
    c.requires_grad_();
    CHECK(x.requires_grad());
    c.set_requires_grad(false);
    CHECK_FALSE(x.requires_grad());
    const Tensor n = ctgrad::zeros({3}, kLong);
    n.random_(4, 5);
    CHECK(values(n) == std::vector<double>{4, 4, 4});
    const Tensor y = ctgrad::ones({2}, ctgrad::dtype(kDouble).requires_grad(true)) * 2;
    y.detach_();
    CHECK_FALSE(y.requires_grad());
}

TEST_CASE("assigning to an indexed element writes into the tensor; assigning to a name rebinds it") {
    Tensor labels = ctgrad::zeros({4}, kLong);
    for (std::int64_t i = 0; i < 4; ++i) labels[i] = 3 - i;  // fill_ of the view labels[i]
    CHECK(values(labels) == std::vector<double>{3, 2, 1, 0});
    CHECK(labels._version() == 4);

    Tensor t = ctgrad::zeros({2, 3});
    t[1][2] = 2.5;
    t[0] = ctgrad::tensor({1.f, 2.f, 3.f});  // copy_ of the row
    t[1].index({Slice(0, 2)}) = ctgrad::tensor({7, 8});  // converted from int64
    CHECK(values(t) == std::vector<double>{1, 2, 3, 7, 8, 2.5});
    Tensor row = ctgrad::full({3}, 9.0f);
    t[0] = std::move(row);  // an rvalue source copies too
    CHECK(values(t) == std::vector<double>{9, 9, 9, 7, 8, 2.5});
    t.index_put_({Slice(), 0}, -1.0);
    t.index_put_({1, Slice(1, None)}, ctgrad::tensor({4.f, 5.f}));
    CHECK(values(t) == std::vector<double>{-1, 9, 9, -1, 4, 5});

    // A named tensor keeps handle semantics: `a = b` shares b, writes nothing.
    Tensor a = t;
    const Tensor b = ctgrad::ones({1});
    a = b;
    CHECK(a.is_same(b));
    CHECK(values(t) == std::vector<double>{-1, 9, 9, -1, 4, 5});
    Tensor moved = ctgrad::zeros({2});
    a = std::move(moved);
    CHECK(sizes_of(a) == shape{2});

    // The writes fail as fill_ and copy_ fail, and change nothing.
    const state before(t);
    CHECK_ERROR(t[0] = ctgrad::ones({2}), "The size of tensor a (3) must match the size of tensor b (2)");
    CHECK_ERROR(t[1][0] = ctgrad::ones({1}), "output with shape [] doesn't match the broadcast shape [1]");
    CHECK(state(t) == before);
    // A number or a tensor of another dtype is converted, as by fill_ and copy_ (1.5 -> 1).
    Tensor ints = ctgrad::zeros({2}, kLong);
    ints[0] = 1.5;
    ints[1] = ctgrad::tensor(-2.5);
    CHECK(values(ints) == std::vector<double>{1, -2});
}

TEST_CASE("assigning to an indexed element is recorded as fill_ or copy_ of a view") {
    const auto opts = ctgrad::dtype(kDouble).requires_grad(true);
    const Tensor x = ctgrad::tensor({1., 2., 3.}, opts), w = ctgrad::tensor(10., opts);
    Tensor y = x * x;
    y[0] = 5;          // the gradient stops at the element overwritten
    y[2] = w * 2;      // and flows to the source of a copy
    CHECK(values(y) == std::vector<double>{5, 4, 20});
    y.sum().backward();
    CHECK(values(x.grad()) == std::vector<double>{0, 4, 0});
    CHECK(values(w.grad()) == std::vector<double>{2});
    CHECK_ERROR(x[0] = 1, "a view of a leaf Variable that requires grad is being used in an in-place operation");
    CHECK(values(x) == std::vector<double>{1, 2, 3});
}

TEST_CASE("assignments through views: gradients against finite differences") {
    namespace gc = ctgrad_test::gradcheck;
    gc::check_gradient(
        [](const ctgrad::TensorList& xs) {
            Tensor y = xs[0] * xs[0];  // [4, 2]; exp would save y, which the writes below change
            y[1] = xs[1] * xs[1];    // copy_ of a row from w [2]
            y[2][0] = 7;             // fill_ of one element
            y.index_put_({3}, xs[1].sin());
            y.index_put_({Slice(), 1}, y.select(1, 1) * 2);  // a write that reads the view's base
            return y * xs[0];
        },
        {gc::random_tensor({4, 2}, 1), gc::random_tensor({2}, 2)}, "y[i] = ..., y[i][j] = ..., index_put_");
}

TEST_CASE("the free functions beside the methods give what the methods give") {
    const Tensor x = iota({2, 3, 1}, kDouble) - 2.5;
    const Tensor m = iota({3, 2}, kDouble);
    auto same = [](const Tensor& a, const Tensor& b) {
        return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() && a.equal(b);
    };
    auto shares = [](const Tensor& view, const Tensor& base) {
        return view.unsafeGetTensorImpl()->storage == base.unsafeGetTensorImpl()->storage;
    };
    // views: the free form is a view too
    CHECK(same(ctgrad::reshape(x, {3, 2}), x.reshape({3, 2})));
    CHECK(same(ctgrad::unsqueeze(x, 1), x.unsqueeze(1)));
    CHECK(same(ctgrad::squeeze(x), x.squeeze()));
    CHECK(same(ctgrad::squeeze(x, -1), x.squeeze(-1)));
    CHECK(same(ctgrad::flatten(x), x.flatten()));
    CHECK(same(ctgrad::flatten(x, 1), x.flatten(1)));
    CHECK(same(ctgrad::t(m), m.t()));
    CHECK(same(ctgrad::transpose(x, 0, 1), x.transpose(0, 1)));
    CHECK(same(ctgrad::permute(x, {2, 0, 1}), x.permute({2, 0, 1})));
    CHECK(same(ctgrad::select(x, 1, 2), x.select(1, 2)));
    CHECK(same(ctgrad::narrow(x, 1, 1, 2), x.narrow(1, 1, 2)));
    CHECK(same(ctgrad::slice(x, 1, 0, 3, 2), x.slice(1, 0, 3, 2)));
    for (const Tensor& v : {ctgrad::reshape(x, {6}), ctgrad::unsqueeze(x, 0), ctgrad::squeeze(x), ctgrad::flatten(x),
                            ctgrad::transpose(x, 0, 2), ctgrad::permute(x, {1, 0, 2}), ctgrad::select(x, 0, 1),
                            ctgrad::narrow(x, 1, 0, 1), ctgrad::slice(x, 1, 1), ctgrad::detach(x)})
        CHECK(shares(v, x));
    CHECK(shares(ctgrad::t(m), m));
    CHECK(same(ctgrad::clone(x), x));
    CHECK_FALSE(shares(ctgrad::clone(x), x));
    CHECK(ctgrad::numel(x) == x.numel());
    CHECK(ctgrad::is_floating_point(x));
    CHECK_FALSE(ctgrad::is_floating_point(ctgrad::ones({1}, kLong)));
    // math: the functions libtorch has beside these methods
    CHECK(same(ctgrad::sum(x), x.sum()));
    CHECK(same(ctgrad::sum(x, {1}, true), x.sum({1}, true)));
    CHECK(same(ctgrad::mean(x, {0}), x.mean({0})));
    CHECK(same(ctgrad::max(x), x.max()));
    CHECK(same(std::get<1>(ctgrad::max(x, 1)), std::get<1>(x.max(1))));
    CHECK(same(ctgrad::argmax(x, 1, true), x.argmax(1, true)));
    CHECK(same(ctgrad::abs(x), x.abs()));
    CHECK(same(ctgrad::exp(x), x.exp()));
    CHECK(same(ctgrad::pow(x, 3), x.pow(3)));
    CHECK(same(ctgrad::matmul(m.t(), m), m.t().matmul(m)));
    CHECK(same(ctgrad::mm(m.t(), m), m.t().mm(m)));
    CHECK(same(ctgrad::masked_fill(x, x.gt(0), 7), x.masked_fill(x.gt(0), 7)));
    CHECK(same(ctgrad::softmax(x, 1), x.softmax(1)));
    CHECK(same(ctgrad::add(x, 2, 3), x.add(2, 3)));
    CHECK(same(ctgrad::sub(x, 2, 3), x.sub(2, 3)));
    CHECK(same(ctgrad::mul(x, -2), x.mul(-2)));
    CHECK(same(ctgrad::div(x, 4), x.div(4)));
    CHECK(same(ctgrad::dropout(x, 0.5, false), x));
    // in place: the free forms write into their argument
    Tensor z = x.clone();
    CHECK(ctgrad::fill_(z, 2).is_same(z));
    CHECK(values(z) == std::vector<double>(6, 2.0));
    CHECK(ctgrad::zero_(z).is_same(z));
    CHECK(values(z) == std::vector<double>(6, 0.0));
    Tensor d = x * ctgrad::ones({1}, ctgrad::dtype(kDouble).requires_grad(true));
    CHECK(ctgrad::detach_(d).is_same(d));
    CHECK_FALSE(d.requires_grad());
    // and fail as the methods fail
    CHECK_ERROR(ctgrad::reshape(x, {4}), "shape '[4]' is invalid for input of size 6");
    CHECK_ERROR(ctgrad::select(x, 1, 3), "index 3 out of range for tensor of size [2, 3, 1] at dimension 1");
}

TEST_CASE("view, shape and dim errors say what PyTorch says and change nothing") {
    const Tensor x = iota({2, 3, 4});
    const state before(x);
    CHECK_ERROR(x + ctgrad::ones({2, 4, 4}), "The size of tensor a (3) must match the size of tensor b (4) at "
                                             "non-singleton dimension 1");
    CHECK_ERROR(x * ctgrad::ones({5}), "[2, 3, 4]");  // both shapes named
    CHECK_ERROR(x * ctgrad::ones({5}), "[5]");
    CHECK_ERROR(x.sum(3), "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
    CHECK_ERROR(x.mean(-4), "Dimension out of range (expected to be in range of [-3, 2], but got -4)");
    CHECK_ERROR(x.transpose(0, 3), "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
    CHECK_ERROR(x.unsqueeze(4), "Dimension out of range (expected to be in range of [-4, 3], but got 4)");
    CHECK_ERROR(x.squeeze(3), "Dimension out of range");
    CHECK_ERROR(x.sum({0, 0}), "dim 0 appears multiple times in the list of dims");
    CHECK_ERROR(x.transpose(0, 1).view({24}),
                "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
                "two contiguous subspaces). Use .reshape(...) instead.");
    CHECK_ERROR(x.view({5, 5}), "shape '[5, 5]' is invalid for input of size 24");
    CHECK_ERROR(x.reshape({7, -1}), "shape '[7, -1]' is invalid for input of size 24");
    CHECK_ERROR(x.view({-1, -1}), "only one dimension can be inferred");
    CHECK_ERROR(x.select(1, 5), "select(): index 5 out of range for tensor of size [2, 3, 4] at dimension 1");
    CHECK_ERROR(x.select(2, -5), "select(): index -5 out of range for tensor of size [2, 3, 4] at dimension 2");
    CHECK_ERROR(ctgrad::tensor(1.0).select(0, 0), "select() cannot be applied to a 0-dim tensor.");
    CHECK_ERROR(ctgrad::ones({3}).expand({2, 4}),
                "xpanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1.  "
                "Target sizes: [2, 4].  Tensor sizes: [3]");
    CHECK_ERROR(x.expand({3, 4}), "must be greater or equal to the number of dimensions in the tensor (3)");
    CHECK_ERROR(x.narrow(1, 2, 2), "start (2) + length (2) exceeds dimension size (3)");
    CHECK_ERROR(x.t(), "t() expects a tensor with <= 2 dimensions, but self is 3D");
    CHECK_ERROR(x.permute({0, 0, 1}), "permute(): duplicate dims are not allowed.");
    CHECK_ERROR(x.permute({0, 1}), "number of dimensions in the tensor input does not match");
    CHECK_ERROR(x.flatten(2, 1), "flatten() has invalid args: start_dim cannot come after end_dim");
    CHECK_ERROR(x.mean({}, false, kLong), "mean(): could not infer output dtype");
    CHECK_ERROR(ctgrad::ones({2}, kLong).mean(), "mean(): could not infer output dtype");
    CHECK_ERROR(ctgrad::zeros({-1}), "negative dimension");
    CHECK(state(x) == before);
}

TEST_CASE("views: sizes, flatten/squeeze edge cases and 0-d tensors") {
    const Tensor x = iota({2, 1, 3});
    CHECK(sizes_of(x.squeeze()) == shape{2, 3});
    CHECK(sizes_of(x.squeeze(0)) == shape{2, 1, 3});  // not of size 1: unchanged
    CHECK(sizes_of(x.squeeze(-2)) == shape{2, 3});
    CHECK(sizes_of(x.unsqueeze(-1)) == shape{2, 1, 3, 1});
    CHECK(sizes_of(x.flatten()) == shape{6});
    CHECK(sizes_of(x.flatten(1)) == shape{2, 3});
    CHECK(x.flatten(1, 1).is_same(x));  // nothing to merge: the tensor itself, as in PyTorch
    const Tensor s = ctgrad::tensor(4.0);
    CHECK(sizes_of(s.flatten()) == shape{1});
    CHECK(sizes_of(s.unsqueeze(0)) == shape{1});
    CHECK(sizes_of(s.view({1, 1})) == shape{1, 1});
    CHECK(sizes_of(s.expand({2, 2})) == shape{2, 2});
    CHECK(s.t().dim() == 0);
    CHECK(s.sum().item<double>() == 4.0);
    CHECK(sizes_of(x.permute({2, 0, 1})) == shape{3, 2, 1});
    CHECK(values(x.permute({2, 0, 1}).contiguous()) == std::vector<double>{0, 3, 1, 4, 2, 5});
    CHECK(sizes_of(x.view({3, -1})) == shape{3, 2});
    CHECK(sizes_of(ctgrad::zeros({0, 3}).view({-1, 3})) == shape{0, 3});
    CHECK(sizes_of(x.expand({4, 2, 5, 3})) == shape{4, 2, 5, 3});
    CHECK(sizes_of(x.expand({-1, 2, -1})) == shape{2, 2, 3});
    CHECK(values(x.sum({0, 2}, true)) == std::vector<double>{15});
    CHECK(sizes_of(x.sum({0, 2}, true)) == shape{1, 1, 1});
    CHECK(ctgrad::tensor({1, 2}).sum().scalar_type() == kLong);
    CHECK(ctgrad::tensor({true, true}).sum().item<std::int64_t>() == 2);
    CHECK(ctgrad::tensor({1, 2}).sum(kDouble).scalar_type() == kDouble);
}

}  // namespace

TEST_CASE("AT_ASSERT and TORCH_CHECK, as libtorch's programs use them, throw ctgrad::Error") {
    const ctgrad::Tensor loss = ctgrad::tensor({std::nan("")});
    AT_ASSERT(loss.numel() == 1);  // holds: nothing happens
    TORCH_CHECK(loss.dim() == 1, "never printed");
    const std::string failed = ctgrad_test::error_of([&] { AT_ASSERT(!std::isnan(loss.item<float>())); });
    CHECK(failed.find("Expected !std::isnan(loss.item<float>()) to be true, but got false.") == 0);
    CHECK(failed.find("test_tensor.cpp:") != std::string::npos);
    const std::string message = ctgrad_test::error_of([&] { TORCH_CHECK(loss.dim() == 2, "expected 2 dims, got ", loss.dim()); });
    CHECK(message.find("expected 2 dims, got 1 (loss.dim() == 2 at ") == 0);
}
