// The autograd engine: leaves and non-leaves, grad_fn names, accumulation, retain_graph, resetting
// .grad, retain_grad, detach, requires_grad_, NoGradGuard (per thread), autograd::grad with
// grad_outputs / create_graph / allow_unused, in-place writes (version counters, rebased
// history, writes through views), every error message with a check that nothing changed,
// concurrent graphs on four threads, memory that does not grow over a training loop, tensor hooks
// and backward's `inputs` (golden values from tools/reference_hooks.py).
// Expectations are PyTorch 1.13's; grad_fn names are libtorch's (a Scalar operand selects the
// op's `.Scalar` overload, e.g. `x * 2` is MulBackward1 in C++ where Python says MulBackward0).
#include "../support/values.hpp"
#include "../support/errors.hpp"
#include "../support/reference.hpp"
#include <ctgrad/tensor.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// Every heap allocation of this program goes through these, so that a test can count the
// blocks alive.
namespace {
std::atomic<long> live_blocks{0};
void* counted_alloc(std::size_t n, std::size_t alignment) {
    void* p = alignment ? std::aligned_alloc(alignment, (n + alignment - 1) / alignment * alignment) : std::malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    ++live_blocks;
    return p;
}
void counted_free(void* p) noexcept {
    if (!p) return;
    --live_blocks;
    std::free(p);
}
}  // namespace
void* operator new(std::size_t n) { return counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
// The non-throwing forms too (the CPU allocator asks for its blocks with them): a sanitizer's
// runtime replaces each form on its own, so a form left out would pair its new with free above.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n, 0);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n, static_cast<std::size_t>(a));
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept { return operator new(n, a, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }

namespace {

using ctgrad::kDouble;
using ctgrad::Tensor;
using ctgrad::autograd::grad;
using ctgrad::indexing::None;
using ctgrad::indexing::Slice;
using vec = std::vector<double>;

auto* const values = &ctgrad_test::values_of;
Tensor leaf(const vec& v) { return ctgrad::tensor(v, ctgrad::dtype(kDouble).requires_grad(true)); }
Tensor leaf(double v) { return ctgrad::tensor(v, ctgrad::dtype(kDouble).requires_grad(true)); }
std::string name_of(const Tensor& t) { return t.grad_fn() ? t.grad_fn()->name() : "(leaf)"; }

#define CHECK_ERROR(statement, part) CTGRAD_CHECK_ERROR(statement, part)

TEST_CASE("leaves, non-leaves and requires_grad propagation") {
    const Tensor x = leaf({1, 2, 3});
    const Tensor c = ctgrad::ones({3}, kDouble);
    CHECK(x.is_leaf());
    CHECK(x.requires_grad());
    CHECK_FALSE(x.grad_fn());
    CHECK(c.is_leaf());
    CHECK_FALSE(c.requires_grad());
    const Tensor y = x * c;
    CHECK_FALSE(y.is_leaf());
    CHECK(y.requires_grad());
    const Tensor z = c * c;
    CHECK(z.is_leaf());  // nothing requires grad: no graph
    CHECK_FALSE(z.requires_grad());
    CHECK_FALSE(y.grad().defined());  // a non-leaf keeps no .grad unless retain_grad()
    Tensor s = y.sum();
    s.backward();
    CHECK(values(x.grad()) == vec{1, 1, 1});
    CHECK_FALSE(y.grad().defined());
    CHECK_FALSE(c.grad().defined());
    Tensor scalar_leaf = leaf(3.0);
    scalar_leaf.backward();  // d x / d x
    CHECK(scalar_leaf.grad().item<double>() == 1.0);
}

TEST_CASE("grad_fn names are PyTorch's") {
    const Tensor a = leaf({1, 2, 3}), b = leaf({4, 5, 6});
    const Tensor m = ctgrad::tensor({{1., 2.}, {3., 4.}}, ctgrad::dtype(kDouble).requires_grad(true));
    const std::vector<std::pair<const char*, std::function<Tensor()>>> cases = {
        {"AddBackward0", [&] { return a + b; }},        {"AddBackward0", [&] { return ctgrad::add(a, b, 2); }},
        {"SubBackward0", [&] { return a - b; }},        {"MulBackward0", [&] { return a * b; }},
        {"DivBackward0", [&] { return a / b; }},        {"PowBackward1", [&] { return a.pow(b); }},
        {"PowBackward0", [&] { return a.pow(2); }},     {"PowBackward0", [&] { return a.pow(2.5); }},
        {"PowBackward1", [&] { return ctgrad::pow(2, a); }}, {"PowBackward0", [&] { return a.square(); }},
        {"NegBackward0", [&] { return -a; }},           {"ExpBackward0", [&] { return a.exp(); }},
        {"LogBackward0", [&] { return a.log(); }},      {"SinBackward0", [&] { return a.sin(); }},
        {"CosBackward0", [&] { return a.cos(); }},      {"TanBackward0", [&] { return a.tan(); }},
        {"TanhBackward0", [&] { return a.tanh(); }},    {"SigmoidBackward0", [&] { return a.sigmoid(); }},
        {"ReluBackward0", [&] { return a.relu(); }},    {"SqrtBackward0", [&] { return a.sqrt(); }},
        {"AbsBackward0", [&] { return a.abs(); }},      {"MaximumBackward0", [&] { return a.maximum(b); }},
        {"MinimumBackward0", [&] { return a.minimum(b); }},
        {"AddBackward1", [&] { return a + 2; }},        {"AddBackward1", [&] { return 2 + a; }},
        {"SubBackward1", [&] { return a - 2; }},        {"SubBackward0", [&] { return 2 - a; }},
        {"MulBackward1", [&] { return a * 2; }},        {"MulBackward1", [&] { return 2.0 * a; }},
        {"DivBackward1", [&] { return a / 2; }},        {"DivBackward0", [&] { return 2 / a; }},
        {"SumBackward0", [&] { return a.sum(); }},      {"SumBackward1", [&] { return m.sum(0); }},
        {"MeanBackward0", [&] { return a.mean(); }},    {"MeanBackward1", [&] { return m.mean(1, true); }},
        {"ViewBackward0", [&] { return m.view({4}); }}, {"ReshapeAliasBackward0", [&] { return m.reshape({4}); }},
        {"UnsafeViewBackward0", [&] { return m.t().reshape({4}); }},
        {"ReshapeAliasBackward0", [&] { return m.flatten(); }},
        {"UnsqueezeBackward0", [&] { return a.unsqueeze(0); }}, {"SqueezeBackward0", [&] { return m.view({1, 4}).squeeze(); }},
        {"SqueezeBackward1", [&] { return m.view({1, 4}).squeeze(0); }}, {"TBackward0", [&] { return m.t(); }},
        {"TransposeBackward0", [&] { return m.transpose(0, 1); }}, {"PermuteBackward0", [&] { return m.permute({1, 0}); }},
        {"SelectBackward0", [&] { return m[1]; }},       {"SelectBackward0", [&] { return m.index({Slice(), 0}); }},
        {"SliceBackward0", [&] { return m.narrow(0, 1, 1); }}, {"SliceBackward0", [&] { return a.index({Slice(1, None)}); }},
        {"UnsqueezeBackward0", [&] { return a.index({None}); }}, {"ExpandBackward0", [&] { return a.expand({2, 3}); }},
        {"CloneBackward0", [&] { return a.clone(); }},   {"CloneBackward0", [&] { return m.t().contiguous(); }},
        {"ToCopyBackward0", [&] { return a.to(ctgrad::kFloat); }},
    };
    for (const auto& [expected, make] : cases) CHECK(name_of(make()) == expected);
    // In place: the tensor takes the op's history; a write through a view gives its base
    // CopySlices and the view AsStridedBackward0.
    auto fresh = [&] { return a * 1; };
    const std::vector<std::pair<const char*, std::function<void(Tensor&)>>> inplace = {
        {"AddBackward1", [](Tensor& y) { y.add_(1); }},   {"MulBackward0", [&](Tensor& y) { y.mul_(a); }},
        {"SubBackward0", [&](Tensor& y) { y.sub_(b); }},  {"DivBackward1", [](Tensor& y) { y.div_(2); }},
        {"ZeroBackward0", [](Tensor& y) { y.zero_(); }},  {"FillBackward2", [](Tensor& y) { y.fill_(1); }},
        {"NormalBackward0", [](Tensor& y) { y.normal_(); }}, {"UniformBackward0", [](Tensor& y) { y.uniform_(); }},
        {"torch::autograd::CopyBackwards", [&](Tensor& y) { y.copy_(b); }},
    };
    for (const auto& [expected, op] : inplace) {
        Tensor y = fresh();
        op(y);
        CHECK(name_of(y) == expected);
    }
    Tensor y = fresh();
    Tensor v = y[0];
    v.mul_(3);
    CHECK(name_of(y) == "torch::autograd::CopySlices");
    CHECK(name_of(v) == "AsStridedBackward0");
}

TEST_CASE("accumulation, retain_graph, resetting .grad, retain_grad") {
    Tensor x = leaf({1, 2, 3});
    const Tensor w = leaf({4, 5, 6});
    Tensor loss = (x * w).sum();
    loss.backward({}, true);
    const Tensor first = x.grad();
    CHECK(values(first) == vec{4, 5, 6});
    loss.backward({}, true);
    CHECK(values(x.grad()) == vec{8, 10, 12});
    CHECK(x.grad().is_same(first));  // accumulated in place, as PyTorch does without create_graph
    x.mutable_grad() = Tensor();     // PyTorch's x.grad = None
    CHECK_FALSE(x.grad().defined());
    loss.backward();  // the last use: the graph may be freed now
    CHECK(values(x.grad()) == vec{4, 5, 6});
    CHECK(values(w.grad()) == vec{3, 6, 9});  // 1, 2, 3 from each of three passes
    x.mutable_grad() = ctgrad::ones({3}, kDouble);  // an assigned gradient is accumulated into
    (x * 2).sum().backward();
    CHECK(values(x.grad()) == vec{3, 3, 3});

    // retain_grad keeps a non-leaf's gradient, accumulated over passes like a leaf's.
    Tensor h = x * x;
    h.retain_grad();
    CHECK(h.retains_grad());
    CHECK_FALSE(x.retains_grad());
    x.retain_grad();  // a leaf keeps its gradient anyway: nothing to do
    CHECK_FALSE(x.retains_grad());
    Tensor out = (h * w).sum();
    out.backward({}, true);
    CHECK(values(h.grad()) == vec{4, 5, 6});
    out.backward();
    CHECK(values(h.grad()) == vec{8, 10, 12});
    CHECK_ERROR(ctgrad::ones({2}).retain_grad(), "can't retain_grad on Tensor that has requires_grad=False");

    // A graph that saved nothing can be run again (PyTorch allows it too).
    Tensor a = leaf({1, 2});
    Tensor s = (a + 1).sum();
    s.backward();
    s.backward();
    CHECK(values(a.grad()) == vec{2, 2});
    // An explicit upstream gradient for a non-scalar output.
    Tensor b = leaf({1, 2});
    (b * b).backward(ctgrad::tensor({1., 10.}, kDouble));
    CHECK(values(b.grad()) == vec{2, 40});
    // A tensor used twice gets both contributions.
    Tensor c = leaf(3.0);
    (c * c + c).backward();
    CHECK(c.grad().item<double>() == 7.0);
}

TEST_CASE("detach, detach_, requires_grad_") {
    Tensor x = leaf({1, 2, 3});
    const Tensor d = x.detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.is_leaf());
    CHECK(d.data_ptr() == x.data_ptr());
    (x * d).sum().backward();  // no gradient through the detached factor
    CHECK(values(x.grad()) == vec{1, 2, 3});
    Tensor y = x * 2;
    y.detach_();
    CHECK(y.is_leaf());
    CHECK_FALSE(y.requires_grad());
    Tensor z = ctgrad::ones({2}, kDouble);
    z.requires_grad_();
    CHECK(z.requires_grad());
    z.requires_grad_(false);
    CHECK_FALSE(z.requires_grad());
    Tensor nl = x * 2;
    nl.requires_grad_(true);  // already true: allowed on a non-leaf
    CHECK_ERROR(nl.requires_grad_(false), "you can only change requires_grad flags of leaf variables.");
    CHECK(nl.requires_grad());
    Tensor n = ctgrad::ones({2}, ctgrad::kLong);
    CHECK_ERROR(n.requires_grad_(), "only Tensors of floating point dtype can require gradients");
    CHECK_FALSE(n.requires_grad());
}

TEST_CASE("NoGradGuard: no graph in its scope, restored after, and per thread") {
    const Tensor x = leaf({1, 2});
    {
        ctgrad::NoGradGuard no_grad;
        CHECK_FALSE(ctgrad::GradMode::is_enabled());
        const Tensor y = x * 2;
        CHECK_FALSE(y.requires_grad());
        CHECK(y.is_leaf());
        {
            ctgrad::AutoGradMode enable(true);
            CHECK((x * 2).requires_grad());
        }
        CHECK_FALSE(ctgrad::GradMode::is_enabled());
        // Another thread keeps its own grad mode (enabled) and records its graph.
        bool other_enabled = false, other_recorded = false;
        std::thread t([&] {
            other_enabled = ctgrad::GradMode::is_enabled();
            Tensor z = leaf({1, 2});
            Tensor s = (z * z).sum();
            other_recorded = s.requires_grad();
            s.backward();
            other_recorded = other_recorded && values(z.grad()) == vec{2, 4};
        });
        t.join();
        CHECK(other_enabled);
        CHECK(other_recorded);
    }
    CHECK(ctgrad::GradMode::is_enabled());
    CHECK((x * 2).requires_grad());
}

TEST_CASE("autograd::grad: grad_outputs, several inputs, allow_unused, no .grad written") {
    const Tensor x = leaf({1, 2, 3}), y = leaf({-1, 0.5, 2}), unused = leaf({7});
    const Tensor out = x * x * y;
    const auto g = grad({out}, {x, y}, {ctgrad::tensor({1., 10., 100.}, kDouble)}, true);
    CHECK(values(g[0]) == vec{-2, 20, 1200});  // 2xy * v
    CHECK(values(g[1]) == vec{1, 40, 900});    // x^2 * v
    CHECK_FALSE(x.grad().defined());
    CHECK_FALSE(y.grad().defined());
    CHECK_ERROR(grad({out.sum()}, {x, unused}, {}, true),
                "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True "
                "if this is the desired behavior.");
    const auto gu = grad({out.sum()}, {x, unused}, {}, true, false, true);
    CHECK(values(gu[0]) == vec{-2, 2, 12});
    CHECK_FALSE(gu[1].defined());
    CHECK_ERROR(grad({out.sum()}, {x, ctgrad::ones({1})}), "One of the differentiated Tensors does not require grad");
    // Two outputs at once: their gradients add.
    const auto g2 = grad({(x * 2).sum(), (x * x).sum()}, {x});
    CHECK(values(g2[0]) == vec{4, 6, 8});
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("create_graph: higher derivatives and mixed partials") {
    const Tensor x = leaf(1.5), y = leaf(-0.5);
    // d^n/dx^n of x^4: 4x^3, 12x^2, 24x, 24.
    Tensor d = x.pow(4);
    const double expected[] = {4 * 1.5 * 1.5 * 1.5, 12 * 1.5 * 1.5, 24 * 1.5, 24};
    for (double e : expected) {
        d = grad({d}, {x}, {}, std::nullopt, true)[0];
        CHECK(d.item<double>() == doctest::Approx(e).epsilon(1e-14));
    }
    // f = x^2 y^3: f_xy = f_yx = 6 x y^2.
    const Tensor f = x * x * y.pow(3);
    const auto g = grad({f}, {x, y}, {}, std::nullopt, true);
    const double fxy = grad({g[0]}, {y}, {}, true)[0].item<double>();
    const double fyx = grad({g[1]}, {x}, {}, true)[0].item<double>();
    CHECK(fxy == doctest::Approx(6 * 1.5 * 0.25).epsilon(1e-14));
    CHECK(fyx == doctest::Approx(fxy).epsilon(1e-14));
    CHECK(grad({g[0]}, {x})[0].item<double>() == doctest::Approx(2 * -0.125).epsilon(1e-14));  // f_xx = 2 y^3
    // backward(create_graph) leaves a .grad with history, accumulated out of place.
    const Tensor z = leaf({1, 2, 3});
    (z * z * z).sum().backward({}, std::nullopt, true);
    const Tensor first = z.grad();
    CHECK(first.requires_grad());
    CHECK(values(grad({first.sum()}, {z})[0]) == vec{6, 12, 18});
    (z * z).sum().backward({}, std::nullopt, true);
    CHECK_FALSE(z.grad().is_same(first));
    CHECK(values(z.grad()) == vec{5, 16, 33});
    z.mutable_grad() = Tensor();  // breaks the cycle z -> .grad -> its graph -> z (see the memory test)
}

TEST_CASE("errors: PyTorch's messages, and grads and values unchanged after each") {
    Tensor a = leaf({1, 2, 3}), b = leaf({4, 5, 6}), c = leaf({7, 8, 9});
    Tensor loss = (a * b + c).sum();
    loss.backward();
    auto unchanged = [&] {
        return values(a.grad()) == vec{4, 5, 6} && values(b.grad()) == vec{1, 2, 3} && values(c.grad()) == vec{1, 1, 1} &&
               values(a) == vec{1, 2, 3} && a._version() == 0;
    };
    REQUIRE(unchanged());
    CHECK_ERROR(loss.backward(), "Trying to backward through the graph a second time (or directly access saved "
                                 "tensors after they have already been freed).");
    CHECK(unchanged());  // not even c, whose gradient needs no saved tensor
    CHECK_ERROR((a * b).backward(), "grad can be implicitly created only for scalar outputs");
    CHECK_ERROR(grad({a * b}, {a}), "grad can be implicitly created only for scalar outputs");
    CHECK(unchanged());
    CHECK_ERROR(ctgrad::ones({3}).sum().backward(), "element 0 of tensors does not require grad and does not have a grad_fn");
    CHECK_ERROR((a * b).backward(ctgrad::ones({2}, kDouble)),
                "Mismatch in shape: grad_output[0] has a shape of [2] and output[0] has a shape of [3].");
    CHECK(unchanged());
    CHECK_ERROR(a.add_(1), "a leaf Variable that requires grad is being used in an in-place operation.");
    CHECK_ERROR(a.mul_(b), "a leaf Variable that requires grad is being used in an in-place operation.");
    CHECK_ERROR(a.zero_(), "a leaf Variable that requires grad is being used in an in-place operation.");
    CHECK_ERROR(a.copy_(b), "a leaf Variable that requires grad is being used in an in-place operation.");
    CHECK_ERROR(a[0].fill_(0), "a view of a leaf Variable that requires grad is being used in an in-place operation.");
    CHECK(unchanged());
    {
        ctgrad::NoGradGuard no_grad;  // where optimizers update their parameters
        a.add_(1);
        a.sub_(1);
    }
    CHECK(a._version() == 2);
    CHECK(values(a) == vec{1, 2, 3});
    Tensor v;
    const Tensor h = a * 1;
    {
        ctgrad::NoGradGuard no_grad;
        v = h[0];
    }
    CHECK_ERROR(v.add_(1), "A view was created in no_grad mode and is being modified inplace with grad mode enabled.");
    CHECK(values(h) == vec{1, 2, 3});

    // A saved tensor modified in place: named with its version and producer, and nothing stored.
    Tensor e = a.exp();
    Tensor s = (e * c).sum() + e.sum();
    e.add_(1);
    CHECK_ERROR(s.backward(), "one of the variables needed for gradient computation has been modified by an inplace "
                              "operation: [torch.DoubleTensor [3]], which is output 0 of AddBackward1, is at version 1; "
                              "expected version 0 instead.");
    Tensor sig = a.sigmoid();
    Tensor s2 = sig.sum();
    sig.mul_(2);
    CHECK_ERROR(s2.backward(), "[torch.DoubleTensor [3]], which is output 0 of SigmoidBackward0, is at version 1; "
                               "expected version 0 instead.");
    Tensor w = leaf({1, 2, 3});
    Tensor s3 = (w * w).sum();
    {
        ctgrad::NoGradGuard no_grad;
        w.add_(1);
    }
    CHECK_ERROR(s3.backward(), "[torch.DoubleTensor [3]] is at version 1; expected version 0 instead.");
    CHECK_FALSE(w.grad().defined());
    a.mutable_grad() = Tensor();
    CHECK_FALSE(a.grad().defined());
    CHECK(values(c.grad()) == vec{1, 1, 1});
}

namespace {
// What a failed backward pass must leave as it was: each tensor's values, version, and its
// .grad (the same tensor, with the same sizes, dtype and values, or none).
struct GradState {
    std::vector<vec> data, grads;
    std::vector<std::vector<std::int64_t>> grad_sizes;
    std::vector<ctgrad::ScalarType> grad_dtypes;
    std::vector<const void*> grad_ids;
    std::vector<std::uint32_t> versions;
    explicit GradState(const std::vector<Tensor>& tensors) {
        for (const Tensor& t : tensors) {
            data.push_back(values(t));
            versions.push_back(t._version());
            const Tensor g = t.grad();
            grad_ids.push_back(g.defined() ? g.unsafeGetTensorImpl() : nullptr);
            grads.push_back(g.defined() ? values(g) : vec{});
            grad_sizes.push_back(g.defined() ? g.sizes().vec() : std::vector<std::int64_t>{});
            grad_dtypes.push_back(g.defined() ? g.scalar_type() : ctgrad::kFloat);
        }
    }
    bool operator==(const GradState&) const = default;
};
}  // namespace

TEST_CASE("backward stores no gradient unless it can store every one: an assigned .grad is checked first") {
    Tensor x = leaf({1, 2, 3}), y = leaf({4, 5, 6});
    // Leaves' gradients are stored in PyTorch's order; each of the two is the wrong one in turn,
    // so that the other is stored before it, or after it.
    for (int wrong : {0, 1}) {
        CAPTURE(wrong);
        Tensor& bad = wrong == 0 ? x : y;
        Tensor& good = wrong == 0 ? y : x;
        good.mutable_grad() = ctgrad::ones({3}, kDouble);
        const Tensor loss = (x * y).sum();
        const struct {
            Tensor grad;
            const char* says;
        } cases[] = {
            {ctgrad::zeros({1}, kDouble),
             "backward: assigned grad has data of a different size: the leaf has shape [3] but its .grad has shape [1]"},
            {ctgrad::zeros({2, 3}, kDouble),  // would broadcast into a [2, 3] gradient
             "backward: assigned grad has data of a different size: the leaf has shape [3] but its .grad has shape [2, 3]"},
            {ctgrad::zeros({3}, ctgrad::kFloat),
             "backward: assigned grad has data of a different type: the leaf has dtype Double but its .grad has dtype "
             "Float (shape [3])"},
            {ctgrad::zeros({1}, kDouble).expand({3}),  // the sum is written in place
             "backward: the .grad of a leaf of shape [3] cannot be accumulated into in place: more than one of its "
             "elements refers to a single memory location"},
        };
        for (const auto& c : cases) {
            CAPTURE(c.says);
            bad.mutable_grad() = c.grad;
            const GradState before({x, y});
            CHECK_ERROR(loss.backward({}, true), c.says);
            CHECK(GradState({x, y}) == before);
            CHECK_ERROR(ctgrad::autograd::backward({loss}, {}, true), c.says);
            CHECK(GradState({x, y}) == before);
        }
        // With create_graph the sums are new tensors; the checks are the same.
        bad.mutable_grad() = ctgrad::zeros({2, 3}, kDouble);
        const GradState before({x, y});
        CHECK_ERROR(loss.backward({}, true, true), "assigned grad has data of a different size");
        CHECK(GradState({x, y}) == before);
        // A failed pass frees nothing: once the .grad is right, the same graph runs (PyTorch
        // frees saved tensors as it goes, so there it would not).
        bad.mutable_grad() = Tensor();
        loss.backward();
        CHECK(values(x.grad()) == (wrong == 0 ? vec{4, 5, 6} : vec{5, 6, 7}));
        CHECK(values(y.grad()) == (wrong == 0 ? vec{2, 3, 4} : vec{1, 2, 3}));
        x.mutable_grad() = Tensor();
        y.mutable_grad() = Tensor();
    }

    // A retained gradient assigned with the wrong shape: nothing is stored, the leaves' neither.
    Tensor h = x * x;
    h.retain_grad();
    const Tensor out = (h * y).sum();
    out.backward({}, true);
    REQUIRE(values(h.grad()) == vec{4, 5, 6});
    h.mutable_grad() = ctgrad::zeros({2}, kDouble);
    const GradState before({x, y, h});
    CHECK_ERROR(out.backward({}, true),
                "backward: assigned grad has data of a different size: the tensor has shape [3] but its .grad has "
                "shape [2]");
    CHECK(GradState({x, y, h}) == before);
    h.mutable_grad() = Tensor();
    out.backward();
    CHECK(values(h.grad()) == vec{4, 5, 6});
    CHECK(values(x.grad()) == vec{16, 40, 72});  // 2 * x * y, from two passes
    x.mutable_grad() = Tensor();
    y.mutable_grad() = Tensor();

    // A gradient reaches a leaf in the leaf's dtype (an op that promoted float with double
    // returns double for both operands), so a .grad stored by a pass passes the next pass's check.
    Tensor f = ctgrad::tensor({1.0, 2.0}, ctgrad::requires_grad());
    Tensor d = leaf({3, 4});
    for (int pass = 1; pass <= 2; ++pass) {
        (f * d).sum().backward();
        CHECK(f.grad().scalar_type() == ctgrad::kFloat);
        CHECK(d.grad().scalar_type() == kDouble);
        CHECK(values(f.grad()) == vec{3.0 * pass, 4.0 * pass});
        CHECK(values(d.grad()) == vec{1.0 * pass, 2.0 * pass});
    }
    // So does a gradient given for a root of another dtype.
    d.mutable_grad() = Tensor();
    for (int pass = 1; pass <= 2; ++pass) {
        d.backward(ctgrad::ones({2}));
        CHECK(d.grad().scalar_type() == kDouble);
        CHECK(values(d.grad()) == vec{1.0 * pass, 1.0 * pass});
    }
}

TEST_CASE("in-place writes keep gradients right: rebased history, writes through views, stale views") {
    const Tensor x = leaf({1, 2, 3}), w = leaf({5, 6});
    auto reset = [&] {
        x.mutable_grad() = Tensor();
        w.mutable_grad() = Tensor();
    };
    {
        Tensor y = x * 2;
        y.add_(1);
        y.mul_(x);  // y = (2x + 1) x
        y.sum().backward();
        CHECK(values(x.grad()) == vec{5, 9, 13});
    }
    reset();
    {
        Tensor y = x * 2;
        y[0].mul_(3);
        y.sum().backward();
        CHECK(values(x.grad()) == vec{6, 2, 2});
    }
    reset();
    {
        Tensor y = x * 2;
        y.slice(0, 0, 2).add_(w * w);
        CHECK(values(y) == vec{27, 40, 6});
        (y * y).sum().backward();
        CHECK(values(x.grad()) == vec{108, 160, 24});
        CHECK(values(w.grad()) == vec{540, 960});
    }
    reset();
    {
        Tensor y = x * 1;
        y.index({Slice(1, None)}).zero_();
        y.sum().backward();
        CHECK(values(x.grad()) == vec{1, 0, 0});
    }
    reset();
    {
        Tensor out = ctgrad::zeros({2, 3}, kDouble);  // a buffer filled by copies: it joins the graph
        out[0].copy_(x);
        CHECK(out.requires_grad());
        CHECK_FALSE(out.is_leaf());
        (out * ctgrad::tensor({{1.}, {2.}}, kDouble)).sum().backward();
        CHECK(values(x.grad()) == vec{1, 1, 1});
    }
    reset();
    {
        Tensor y = x * 2;
        Tensor column = y.view({3, 1});
        Tensor first = y[0];  // a view made before the write below: its history is rebuilt
        column.mul_(2);
        CHECK(name_of(first) == "AsStridedBackward0");
        first.backward();
        CHECK(values(x.grad()) == vec{4, 0, 0});
    }
    reset();
    {
        Tensor y = x * 2;
        Tensor tail = y.slice(0, 1, std::nullopt);
        y.mul_(x);  // a write to the base: its views see it in their gradient too
        tail.sum().backward();
        CHECK(values(x.grad()) == vec{0, 8, 12});
    }
    reset();
    {
        // Second order through a write into a view.
        Tensor y = x * 1;
        y.slice(0, 0, 2).mul_(x.slice(0, 0, 2));
        const auto g = grad({(y * y).sum()}, {x}, {}, std::nullopt, true);
        CHECK(values(g[0]) == vec{4, 32, 6});
        CHECK(values(grad({g[0].sum()}, {x})[0]) == vec{12, 48, 2});
    }
}

// One training run on its own graph: the final weights and loss. Deterministic for a seed.
vec train(int seed, int steps) {
    std::vector<double> init(16), data(16), target(16);
    for (int i = 0; i < 16; ++i) {
        init[i] = std::sin(seed + 0.37 * i);
        data[i] = std::cos(1.3 * seed - 0.21 * i);
        target[i] = 0.5 * std::sin(0.9 * i + seed);
    }
    Tensor w = leaf(init);
    const Tensor x = ctgrad::tensor(data, kDouble).view({4, 4}), t = ctgrad::tensor(target, kDouble).view({4, 4});
    double last = 0;
    for (int step = 0; step < steps; ++step) {
        const Tensor pred = (x * w.view({4, 4})).tanh().sum(1, true) * x.sigmoid();
        Tensor loss = (pred - t).pow(2).mean() + (w * w).sum() * 0.01;
        if (step % 10 == 0) {
            // Now and then through autograd::grad with create_graph, and a second derivative.
            const Tensor g = grad({loss}, {w}, {}, std::nullopt, true)[0];
            const Tensor curvature = grad({(g * g).sum()}, {w})[0];
            ctgrad::NoGradGuard no_grad;
            w.sub_(g * 0.1 + curvature * 0.001);
        } else {
            loss.backward();
            ctgrad::NoGradGuard no_grad;
            w.sub_(w.grad() * 0.1);
            w.mutable_grad() = Tensor();
        }
        last = loss.item<double>();
    }
    vec out = values(w);
    out.push_back(last);
    return out;
}

// The tensors of one case of test/reference/hooks.txt (tools/reference_hooks.py).
const ctgrad_test::golden_case& hooks_case(const std::string& name) {
    static const ctgrad_test::golden_tensor_file file = ctgrad_test::read_golden_tensors("hooks.txt");
    const auto it = file.cases.find(name);
    if (it == file.cases.end()) throw std::runtime_error("no golden case " + name + " in hooks.txt");
    return it->second;
}
Tensor golden_leaf(const ctgrad_test::golden_case& c, const std::string& label) {
    return ctgrad::tensor(c.at(label).values, ctgrad::dtype(kDouble).requires_grad(true));
}
void check_golden(const Tensor& t, const ctgrad_test::golden_case& c, const std::string& label) {
    INFO(label);
    REQUIRE(t.defined());
    const vec got = values(t), want = c.at(label).values;
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-13));
}

TEST_CASE("tensor hooks: replacing and looking at gradients, PyTorch's values and order") {
    SUBCASE("a leaf's hook runs once per pass, on the summed gradient, before accumulation") {
        const auto& c = hooks_case("leaf");
        const Tensor x = golden_leaf(c, "x"), w = golden_leaf(c, "w");
        int calls = 0;
        const unsigned h = x.register_hook([&](const Tensor& g) {
            ++calls;
            return g * g;
        });
        CHECK(h == 0);
        ((x * x * w).sum() + x.sin().sum()).backward();
        CHECK(calls == 1);
        check_golden(x.grad(), c, "gx");
        check_golden(w.grad(), c, "gw");
    }
    SUBCASE("a non-leaf's hooks and retain_grad run in the order registered") {
        const auto& c = hooks_case("nonleaf");
        const Tensor x = golden_leaf(c, "x"), w = golden_leaf(c, "w");
        Tensor y = x.exp() * w;
        y.retain_grad();  // place 0: keeps the gradient before the hook registered after it
        CHECK(y.register_hook([](const Tensor& g) { return 3 * g + 1; }) == 1);
        Tensor u = y.sin();
        CHECK(u.register_hook([](const Tensor& g) { return g.cos(); }) == 0);
        u.retain_grad();  // place 1: keeps what the hook before it returned
        (u * u).sum().backward();
        check_golden(u.grad(), c, "gu");
        check_golden(y.grad(), c, "gy");
        check_golden(x.grad(), c, "gx");
        check_golden(w.grad(), c, "gw");
    }
    SUBCASE("autograd::grad: hooks on the way run, those of the captured tensors do not") {
        const auto& c = hooks_case("grad");
        const Tensor x = golden_leaf(c, "x");
        Tensor y = x * x;
        y.register_hook([](const Tensor& g) { return 10 * g; });
        x.register_hook([](const Tensor& g) { return g + 100; });
        Tensor loss = y.sin().sum();
        check_golden(grad({loss}, {x}, {}, true)[0], c, "dx");
        check_golden(grad({loss}, {y})[0], c, "dy");
        CHECK_FALSE(x.grad().defined());
    }
    SUBCASE("a void hook sees the gradient; an undefined result keeps it; removed hooks stop") {
        const Tensor x = leaf({1, 2, 3});
        vec seen;
        const unsigned look = x.register_hook([&](Tensor g) { seen = values(g); });
        const unsigned keep = x.register_hook([](const Tensor&) { return Tensor(); });
        const unsigned triple = x.register_hook([](const Tensor& g) { return g * 3; });
        CHECK((look == 0 && keep == 1 && triple == 2));
        (x * x).sum().backward();
        CHECK(seen == vec{2, 4, 6});
        CHECK(values(x.grad()) == vec{6, 12, 18});
        x.remove_hook(triple);
        x.remove_hook(look);
        seen.clear();
        x.mutable_grad() = Tensor();
        (x * x).sum().backward();
        CHECK(seen.empty());
        CHECK(values(x.grad()) == vec{2, 4, 6});
        CHECK(x.register_hook([](const Tensor& g) { return g - 1; }) == 3);  // handles are not reused
    }
    SUBCASE("hooks of a non-leaf outlive its handle: the node keeps them, as in PyTorch") {
        const Tensor x = leaf({1, 2});
        Tensor y = x * 2;
        y.register_hook([](const Tensor& g) { return g * 5; });
        Tensor loss = (y * y).sum();
        y = Tensor();
        loss.backward();
        CHECK(values(x.grad()) == vec{40, 80});  // 5 * 2y * 2
    }
    SUBCASE("a hook may register another, which runs in the same pass") {
        const Tensor x = leaf({1, 2});
        int later = 0;
        x.register_hook([&](const Tensor& g) {
            if (later == 0) x.register_hook([&](const Tensor& h) { return ++later, h * 2; });
            return g;
        });
        (x * 1).sum().backward();
        CHECK(later == 1);
        CHECK(values(x.grad()) == vec{2, 2});
    }
}

TEST_CASE("tensor hooks: errors say what PyTorch says and change nothing") {
    const Tensor plain = ctgrad::ones({2});
    CHECK_ERROR(plain.register_hook([](const Tensor& g) { return g; }),
                "cannot register a hook on a tensor that doesn't require gradient");
    const Tensor x = leaf({1, 2, 3});
    CHECK_ERROR(x.remove_hook(0), "Invalid index, no hook at position 0");
    x.register_hook([](const Tensor& g) { return g; });
    CHECK_ERROR(x.remove_hook(1), "Invalid index, no hook at position 1");
    x.remove_hook(0);
    x.remove_hook(0);  // removing a removed hook is allowed, as in libtorch

    (x * x).sum().backward();
    const vec before = values(x.grad());
    const Tensor y = x * 1;
    y.retain_grad();
    Tensor loss = (y * y).sum();
    const unsigned shrink = x.register_hook([](const Tensor& g) { return g.sum(); });
    CHECK_ERROR(loss.backward({}, true), "hook '1' has changed the size of value (was [3] got [])");
    CHECK(values(x.grad()) == before);
    CHECK_FALSE(y.grad().defined());
    x.remove_hook(shrink);
    x.register_hook([](const Tensor& g) { return g.to(ctgrad::kFloat); });
    CHECK_ERROR(loss.backward({}, true), "hook '2' has changed the type of value (was Double got Float");
    CHECK(values(x.grad()) == before);
    CHECK_FALSE(y.grad().defined());
}

TEST_CASE("backward with inputs: only those accumulate; non-leaf inputs retain their gradient") {
    const auto& c = hooks_case("inputs");
    const Tensor a = golden_leaf(c, "a"), b = golden_leaf(c, "b");
    {
        Tensor m = a * b.tanh();
        (m * m + a).sum().backward({}, std::nullopt, false, ctgrad::TensorList{a});
        check_golden(a.grad(), c, "ga");
        CHECK_FALSE(b.grad().defined());
        CHECK_FALSE(m.retains_grad());
        CHECK_FALSE(m.grad().defined());
        // The same as autograd::grad's.
        Tensor again = a * b.tanh();
        CHECK(grad({(again * again + a).sum()}, {a})[0].allclose(a.grad(), 1e-14, 0));
    }
    a.mutable_grad() = Tensor();
    {
        Tensor m = a * b.tanh();
        ctgrad::autograd::backward({(m * m + a).sum()}, {}, std::nullopt, false, {m});
        CHECK(m.retains_grad());
        check_golden(m.grad(), c, "gm");
        CHECK_FALSE(a.grad().defined());
        CHECK_FALSE(b.grad().defined());
    }
    {
        a.register_hook([](const Tensor& g) { return 2 * g; });
        Tensor m = a * b.tanh();
        ctgrad::autograd::backward({(m * m + a).sum()}, {}, std::nullopt, false, {b, a});
        check_golden(a.grad(), c, "ga2");
        check_golden(b.grad(), c, "gb2");
    }
    // An input the outputs do not depend on keeps its .grad as it was.
    const Tensor unused = leaf({7});
    (a * 2).sum().backward({}, std::nullopt, false, ctgrad::TensorList{unused});
    CHECK_FALSE(unused.grad().defined());
}

TEST_CASE("backward's inputs and autograd::grad's: the errors of empty and of non-differentiable lists") {
    const Tensor a = leaf({1, 2}), plain = ctgrad::ones({2}, kDouble);
    Tensor loss = (a * a).sum();
    CHECK_ERROR(loss.backward({}, true, false, ctgrad::TensorList{}), "'inputs' argument to backward() cannot be empty.");
    CHECK_ERROR(grad({loss}, {}), "grad requires non-empty inputs.");
    const Tensor m = a * 3;
    CHECK_ERROR(ctgrad::autograd::backward({(m * m).sum()}, {}, std::nullopt, false, {m, plain}),
                "can't retain_grad on Tensor that has requires_grad=False");
    CHECK_FALSE(m.retains_grad());  // checked before any input was made to retain
    CHECK_FALSE(a.grad().defined());
    loss.backward();
    CHECK(values(a.grad()) == vec{2, 4});
}

TEST_CASE("four threads building and backpropagating their own graphs give one thread's results") {
    std::vector<vec> expected;
    for (int seed = 0; seed < 4; ++seed) expected.push_back(train(seed, 200));
    std::vector<vec> got(4);
    {
        ctgrad::NoGradGuard no_grad;  // the main thread's mode is not the workers'
        std::vector<std::thread> workers;
        for (int seed = 0; seed < 4; ++seed) workers.emplace_back([&got, seed] { got[static_cast<std::size_t>(seed)] = train(seed, 200); });
        for (auto& t : workers) t.join();
    }
    for (int seed = 0; seed < 4; ++seed) CHECK(got[static_cast<std::size_t>(seed)] == expected[static_cast<std::size_t>(seed)]);
    CHECK(expected[0] != expected[1]);
}

TEST_CASE("memory: the graph is freed with the loss, and 1000 training steps do not grow the heap") {
    Tensor w = leaf({0.5, -0.25, 1.0, 2.0});
    const Tensor x = ctgrad::tensor({1.0, 2.0, -1.0, 0.5}, kDouble);
    std::weak_ptr<ctgrad::autograd::Node> loss_fn, accumulator;
    std::weak_ptr<ctgrad::TensorImpl> hidden;
    long blocks_at_100 = 0;
    int freed = 0;
    for (int step = 0; step < 1000; ++step) {
        {
            const Tensor h = (x * w).tanh();
            Tensor loss = (h - 0.25).pow(2).sum() + h.view({2, 2})[1].mean();
            loss_fn = loss.grad_fn();
            hidden = h.impl();
            accumulator = w.unsafeGetTensorImpl()->grad_accumulator;
            loss.backward();
        }
        freed += loss_fn.expired() && hidden.expired() && accumulator.expired();
        {
            ctgrad::NoGradGuard no_grad;
            w.sub_(w.grad() * 0.05);
        }
        w.mutable_grad() = Tensor();
        if (step == 100) blocks_at_100 = live_blocks.load();
    }
    CHECK(freed == 1000);
    CHECK(live_blocks.load() == blocks_at_100);

    // backward(create_graph) makes a cycle parameter -> .grad -> its graph -> parameter, as in
    // PyTorch; resetting .grad breaks it.
    Tensor p = leaf({1, 2});
    (p * p * p).sum().backward({}, std::nullopt, true);
    const std::weak_ptr<ctgrad::autograd::Node> grad_graph = p.grad().grad_fn();
    CHECK_FALSE(grad_graph.expired());
    p.mutable_grad() = Tensor();
    CHECK(grad_graph.expired());
}

}  // namespace
