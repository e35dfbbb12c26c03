// The public API of ctgrad/ctgrad.hpp under bad input, as a table: every row calls an op, a
// method or a module the way a user might get it wrong (wrong shape, dtype, dim, an undefined
// tensor, an argument out of range, a size that overflows) and asserts three things: the call
// throws ctgrad::Error (never a crash, never another exception), the message holds the words
// that let the user find the mistake (the op's name and what was wrong), and every tensor the
// row involves is exactly as it was: values (bit for bit), sizes, strides, dtype, version
// counter, requires_grad and .grad. The suite also runs under ASan+UBSan (scripts/test.sh).
#include <ctgrad/ctgrad.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace ctgrad;
using shape = std::vector<std::int64_t>;

constexpr std::int64_t huge = std::int64_t{1} << 62;
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// Everything observable about a tensor, to compare before and after a failed call.
struct observed {
    bool defined = false;
    shape sizes, strides;
    std::int64_t offset = 0;
    ScalarType dtype = kFloat;
    std::string bytes;  // the elements, row-major, as stored
    std::uint32_t version = 0;
    bool requires_grad = false;
    bool has_grad = false;
    shape grad_sizes;
    std::string grad_bytes;

    bool operator==(const observed&) const = default;
};

std::string bytes_of(const Tensor& t) {
    NoGradGuard no_grad;
    const Tensor c = t.detach().contiguous();
    return {static_cast<const char*>(c.data_ptr()), c.nbytes()};
}

observed observe(const Tensor& t) {
    observed o;
    o.defined = t.defined();
    if (!o.defined) return o;
    o.sizes = t.sizes().vec();
    o.strides = t.strides().vec();
    o.offset = t.storage_offset();
    o.dtype = t.scalar_type();
    o.bytes = bytes_of(t);
    o.version = t._version();
    o.requires_grad = t.requires_grad();
    const Tensor g = t.grad();
    o.has_grad = g.defined();
    if (o.has_grad) {
        o.grad_sizes = g.sizes().vec();
        o.grad_bytes = bytes_of(g);
    }
    return o;
}

int rows_checked = 0;

// One row: `call` must throw ctgrad::Error whose message holds every one of `words`, and leave
// each of `involved` as it was.
void rejects(const std::string& what, const std::vector<Tensor>& involved, const std::function<void()>& call,
             std::initializer_list<const char*> words) {
    ++rows_checked;
    std::vector<observed> before;
    for (const Tensor& t : involved) before.push_back(observe(t));
    std::string message, problems;
    try {
        call();
        problems += " no ctgrad::Error was thrown;";
    } catch (const Error& e) {
        message = e.what();
    } catch (const std::exception& e) {
        problems += std::string(" threw a std::exception that is not a ctgrad::Error: ") + e.what() + ";";
    }
    for (const char* w : words)
        if (!message.empty() && message.find(w) == std::string::npos) problems += std::string(" lacks \"") + w + "\";";
    for (std::size_t i = 0; i < involved.size(); ++i)
        if (!(observe(involved[i]) == before[i])) problems += " changed tensor " + std::to_string(i) + ";";
    CHECK_MESSAGE(problems.empty(), "row `", what, "`:", problems, " message: ", message);
}

Tensor iota(const shape& sizes, ScalarType dtype = kFloat) {
    std::int64_t n = 1;
    for (auto s : sizes) n *= s;
    return arange(n, dtype).view(sizes);
}

// A leaf that requires grad and already holds a gradient, so that a row can show both unchanged.
Tensor leaf_with_grad(const shape& sizes) {
    Tensor x = iota(sizes).requires_grad_(true);
    (x * 2).sum().backward();
    return x;
}

}  // namespace

TEST_CASE("every method of an undefined tensor is an Error") {
    const Tensor u;
    const Tensor x = iota({3});
    rejects("Tensor().add_(1)", {x}, [&] { Tensor t; t.add_(1); }, {"add_", "undefined"});
    rejects("Tensor().sub_(x)", {x}, [&] { Tensor t; t.sub_(x); }, {"sub_", "undefined"});
    rejects("Tensor().mul_(0.5)", {}, [&] { Tensor t; t.mul_(0.5); }, {"mul_", "undefined"});
    rejects("Tensor().div_(x)", {x}, [&] { Tensor t; t.div_(x); }, {"div_", "undefined"});
    rejects("Tensor().zero_()", {}, [&] { Tensor t; t.zero_(); }, {"zero_", "undefined"});
    rejects("Tensor().fill_(1)", {}, [&] { Tensor t; t.fill_(1); }, {"fill_", "undefined"});
    rejects("Tensor().copy_(x)", {x}, [&] { Tensor t; t.copy_(x); }, {"copy_", "undefined"});
    rejects("x.copy_(Tensor())", {x}, [&] { Tensor t = x; t.copy_(u); }, {"copy_", "undefined"});
    rejects("Tensor().normal_()", {}, [&] { Tensor t; t.normal_(); }, {"normal_", "undefined"});
    rejects("Tensor().uniform_()", {}, [&] { Tensor t; t.uniform_(); }, {"uniform_", "undefined"});
    rejects("Tensor().random_(0, 3)", {}, [&] { Tensor t; t.random_(0, 3); }, {"random_", "undefined"});
    rejects("Tensor().detach_()", {}, [&] { Tensor t; t.detach_(); }, {"detach_", "undefined"});
    rejects("Tensor().detach()", {}, [&] { (void)u.detach(); }, {"detach", "undefined"});
    rejects("Tensor().requires_grad_()", {}, [&] { Tensor t; t.requires_grad_(); }, {"requires_grad_", "undefined"});
    rejects("Tensor().retain_grad()", {}, [&] { u.retain_grad(); }, {"retain_grad", "undefined"});
    rejects("Tensor().backward()", {}, [&] { u.backward(); }, {"backward", "undefined"});
    rejects("Tensor().grad()", {}, [&] { (void)u.grad(); }, {"undefined"});
    rejects("Tensor().mutable_grad()", {}, [&] { (void)u.mutable_grad(); }, {"undefined"});
    rejects("Tensor().sizes()", {}, [&] { (void)u.sizes(); }, {"undefined"});
    rejects("Tensor().item()", {}, [&] { (void)u.item<float>(); }, {"expected a defined tensor"});
    rejects("Tensor().data_ptr<float>()", {}, [&] { (void)u.data_ptr<float>(); }, {"undefined"});
    rejects("Tensor().view({3})", {}, [&] { (void)u.view({3}); }, {"expected a defined tensor"});
    rejects("Tensor().reshape({3})", {}, [&] { (void)u.reshape({3}); }, {"expected a defined tensor"});
    rejects("Tensor().t()", {}, [&] { (void)u.t(); }, {"undefined"});
    rejects("Tensor().select(0, 0)", {}, [&] { (void)u.select(0, 0); }, {"expected a defined tensor"});
    rejects("Tensor()[0]", {}, [&] { (void)u[0]; }, {"undefined"});
    rejects("Tensor().index({0})", {}, [&] { (void)u.index({0}); }, {"undefined"});
    rejects("Tensor().expand({3})", {}, [&] { (void)u.expand({3}); }, {"expected a defined tensor"});
    rejects("Tensor().contiguous()", {}, [&] { (void)u.contiguous(); }, {"undefined"});
    rejects("Tensor().clone()", {}, [&] { (void)u.clone(); }, {"expected a defined tensor"});
    rejects("Tensor().to(kDouble)", {}, [&] { (void)u.to(kDouble); }, {"expected a defined tensor"});
    rejects("Tensor().exp()", {}, [&] { (void)u.exp(); }, {"exp", "undefined"});
    rejects("Tensor().sum()", {}, [&] { (void)u.sum(); }, {"expected a defined tensor"});
    rejects("Tensor().mean({0})", {}, [&] { (void)u.mean({0}); }, {"expected a defined tensor"});
    rejects("Tensor().max()", {}, [&] { (void)u.max(); }, {"expected a defined tensor"});
    rejects("Tensor().argmax()", {}, [&] { (void)u.argmax(); }, {"expected a defined tensor"});
    rejects("Tensor().norm()", {}, [&] { (void)u.norm(); }, {"expected a defined tensor"});
    rejects("Tensor().all()", {}, [&] { (void)u.all(); }, {"expected a defined tensor"});
    rejects("Tensor().sum_to_size({1})", {}, [&] { (void)u.sum_to_size({1}); }, {"undefined"});
    rejects("Tensor().eq(1)", {}, [&] { (void)u.eq(1); }, {"expected a defined tensor"});
    rejects("Tensor().masked_fill(mask, 0)", {}, [&] { (void)u.masked_fill(x.gt(0), 0); }, {"expected a defined tensor"});
    rejects("Tensor().equal(x)", {x}, [&] { (void)u.equal(x); }, {"expected a defined tensor"});
    rejects("Tensor().allclose(x)", {x}, [&] { (void)u.allclose(x); }, {"expected a defined tensor"});
    rejects("x + Tensor()", {x}, [&] { (void)(x + u); }, {"add", "undefined"});
    rejects("x * Tensor()", {x}, [&] { (void)(x * u); }, {"mul", "undefined"});
    rejects("x.add_(Tensor())", {x}, [&] { Tensor t = x; t.add_(u); }, {"add_", "undefined"});
    rejects("x.matmul(Tensor())", {x}, [&] { (void)x.matmul(u); }, {"expected a defined tensor"});
    rejects("x.maximum(Tensor())", {x}, [&] { (void)x.maximum(u); }, {"maximum", "undefined"});
    rejects("x.masked_fill(Tensor(), 0)", {x}, [&] { (void)x.masked_fill(u, 0); }, {"expected a defined tensor"});
    rejects("cat({x, Tensor()})", {x}, [&] { (void)cat({x, u}); }, {"expected a defined tensor"});
    rejects("stack({Tensor()})", {}, [&] { (void)stack({u}); }, {"expected a defined tensor"});
    rejects("mse_loss(Tensor(), x)", {x}, [&] { (void)mse_loss(u, x); }, {"expected a defined tensor"});
    rejects("addmm(Tensor(), m, m)", {}, [&] { Tensor m = iota({2, 2}); (void)addmm(u, m, m); }, {"expected a defined tensor"});
    rejects("zeros_like(Tensor())", {}, [&] { (void)zeros_like(u); }, {"undefined"});
    rejects("save(Tensor(), path)", {}, [&] { save(u, "/nonexistent-dir/x.ct"); }, {"save", "undefined"});
    rejects("save_npy(Tensor(), path)", {}, [&] { save_npy(u, "/nonexistent-dir/x.npy"); }, {"save_npy", "undefined"});
    rejects("nn::init::normal_(Tensor())", {}, [&] { nn::init::normal_(u); }, {"undefined"});
}

TEST_CASE("the gradient of a leaf that has none yet is an undefined tensor, and using it is an Error") {
    Tensor w = randn({3}, requires_grad());
    rejects("w.grad().mul_(0.5) before backward", {w}, [&] { w.grad().mul_(0.5); }, {"mul_", "undefined"});
    rejects("w.grad().zero_() before backward", {w}, [&] { w.grad().zero_(); }, {"zero_", "undefined"});
    rejects("w.grad().add_(w) before backward", {w}, [&] { w.grad().add_(w); }, {"add_", "undefined"});
    rejects("w.grad().sum() before backward", {w}, [&] { (void)w.grad().sum(); }, {"expected a defined tensor"});
}

TEST_CASE("sizes whose element or byte count overflows, and allocations that cannot succeed") {
    rejects("empty({2^62})", {}, [] { (void)empty({huge}); }, {"empty", "bytes"});
    rejects("empty({2^62}, kDouble)", {}, [] { (void)empty({huge}, kDouble); }, {"empty", "bytes"});
    rejects("zeros({2^32, 2^32})", {}, [] { (void)zeros({std::int64_t{1} << 32, std::int64_t{1} << 32}); },
            {"zeros", "overflow"});
    rejects("ones({2^31, 2^31, 4})", {}, [] { (void)ones({std::int64_t{1} << 31, std::int64_t{1} << 31, 4}); },
            {"ones", "overflow"});
    rejects("zeros({2^40})", {}, [] { (void)zeros({std::int64_t{1} << 40}); }, {"zeros", "allocate", "bytes"});
    rejects("full({-1}, 1)", {}, [] { (void)full({-1}, 1); }, {"full", "negative dimension -1"});
    rejects("randn({0, 2^62, 2^62})", {}, [] { (void)randn({0, huge, huge}); }, {"randn", "overflow"});
    rejects("arange(0, 1e300, 1)", {}, [] { (void)arange(0, 1e300, 1); }, {"arange", "too large"});
    rejects("arange(0, NaN)", {}, [] { (void)arange(0, std::nan("")); }, {"arange", "finite"});
    rejects("arange(0, 1, 0)", {}, [] { (void)arange(0, 1, 0); }, {"arange", "step"});
    rejects("arange(0, 10, -1)", {}, [] { (void)arange(0, 10, -1); }, {"arange", "sign"});
    rejects("linspace(0, 1, -1)", {}, [] { (void)linspace(0, 1, -1); }, {"linspace", "steps"});
    rejects("randint(3, 3, {2})", {}, [] { (void)randint(3, 3, {2}); }, {"from=3 >= to=3"});
}

TEST_CASE("views reject negative and overflowing sizes, steps and ranges") {
    const Tensor a = iota({2, 3});
    const Tensor one = iota({1});
    rejects("expand({-2})", {one}, [&] { (void)one.expand({-2}); }, {"expand", "-2"});
    rejects("expand({2, 3, -5})", {one}, [&] { (void)one.expand({2, 3, -5}); }, {"expand", "-5"});
    rejects("slice(1, 0, 3, 0)", {a}, [&] { (void)a.slice(1, 0, 3, 0); }, {"slice", "step"});
    rejects("slice(1, 0, 3, -1)", {a}, [&] { (void)a.slice(1, 0, 3, -1); }, {"slice", "step"});
    rejects("narrow(1, 1, INT64_MAX)", {a}, [&] { (void)a.narrow(1, 1, int64_max); }, {"narrow"});
    rejects("narrow(1, INT64_MAX, 1)", {a}, [&] { (void)a.narrow(1, int64_max, 1); }, {"narrow"});
    rejects("narrow(1, 0, -1)", {a}, [&] { (void)a.narrow(1, 0, -1); }, {"narrow", "length"});
    rejects("zeros({0}).view({2^62, 4, 0})", {}, [&] { (void)zeros({0}).view({huge, 4, 0}); }, {"view"});
    rejects("view({-1, -1})", {a}, [&] { (void)a.view({-1, -1}); }, {"view", "one dimension"});
    rejects("view({-2, 3})", {a}, [&] { (void)a.view({-2, 3}); }, {"view", "-2"});
    rejects("view({4})", {a}, [&] { (void)a.view({4}); }, {"view", "[4]", "6"});
    rejects("reshape({huge, huge})", {a}, [&] { (void)a.reshape({huge, huge}); }, {"reshape"});
    rejects("view of a transposed tensor", {a}, [&] { (void)a.t().view({6}); }, {"view", "reshape"});
    rejects("select(0, 2)", {a}, [&] { (void)a.select(0, 2); }, {"select", "out of range"});
    rejects("select(2, 0)", {a}, [&] { (void)a.select(2, 0); }, {"Dimension out of range"});
    rejects("a[INT64_MIN]", {a}, [&] { (void)a[std::numeric_limits<std::int64_t>::min()]; }, {"select", "out of range"});
    rejects("transpose(0, 2)", {a}, [&] { (void)a.transpose(0, 2); }, {"Dimension out of range"});
    rejects("permute({0})", {a}, [&] { (void)a.permute({0}); }, {"permute"});
    rejects("permute({0, 0})", {a}, [&] { (void)a.permute({0, 0}); }, {"permute", "duplicate dims"});
    rejects("unsqueeze(3)", {a}, [&] { (void)a.unsqueeze(3); }, {"Dimension out of range"});
    rejects("squeeze(5)", {a}, [&] { (void)a.squeeze(5); }, {"Dimension out of range"});
    rejects("flatten(1, 0)", {a}, [&] { (void)a.flatten(1, 0); }, {"flatten"});
    rejects("expand({3, 3}) of a [2, 3]", {a}, [&] { (void)a.expand({3, 3}); }, {"expand", "[3, 3]"});
    rejects("expand({3}) of a [2, 3]", {a}, [&] { (void)a.expand({3}); }, {"expand"});
    rejects("index({Ellipsis, Ellipsis, 0})", {a}, [&] { (void)a.index({indexing::Ellipsis, indexing::Ellipsis, 0}); },
            {"index", "single ellipsis"});
    rejects("index({0, 0, 0})", {a}, [&] { (void)a.index({0, 0, 0}); }, {"index", "too many indices"});
    rejects("index({Slice(0, 2, 0)})", {a}, [&] { (void)a.index({indexing::Slice(0, 2, 0)}); }, {"step"});
    rejects("sum_to_size({4})", {a}, [&] { (void)a.sum_to_size({4}); }, {"[4]", "[2, 3]"});
}

TEST_CASE("element-wise ops: shapes that do not broadcast, dtypes that do not mix, results that do not fit") {
    const Tensor a = iota({2, 3});
    const Tensor b = iota({4});
    const Tensor l = iota({2, 3}, kLong);
    const Tensor flag = tensor({true, false});
    Tensor x = leaf_with_grad({2, 3});
    rejects("a + b (shapes)", {a, b}, [&] { (void)(a + b); }, {"add", "[2, 3]", "[4]"});
    rejects("a.mul(b)", {a, b}, [&] { (void)a.mul(b); }, {"mul", "must match"});
    rejects("a.maximum(b)", {a, b}, [&] { (void)a.maximum(b); }, {"maximum"});
    rejects("a.pow(b)", {a, b}, [&] { (void)a.pow(b); }, {"pow"});
    rejects("a.add_(b) (shapes)", {a, b}, [&] { Tensor t = a; t.add_(b); }, {"add", "[2, 3]", "[4]"});
    rejects("b.add_(a) (broadcast to a larger output)", {a, b}, [&] { Tensor t = iota({3}); t.add_(a); }, {"add_", "[3]", "[2, 3]"});
    rejects("l.add_(0.5) (float into long)", {l}, [&] { Tensor t = l; t.add_(0.5); }, {"add_", "Long"});
    rejects("l.div_(2) (true division into long)", {l}, [&] { Tensor t = l; t.div_(2); }, {"div_", "Long"});
    rejects("l.mul_(a) (float into long)", {l, a}, [&] { Tensor t = l; t.mul_(a); }, {"mul_", "Long"});
    rejects("flag.sub_(flag) (bool subtraction)", {flag}, [&] { Tensor t = flag; t.sub_(flag); }, {"sub", "bool"});
    rejects("flag - flag", {flag}, [&] { (void)(flag - flag); }, {"sub", "bool"});
    rejects("-flag", {flag}, [&] { (void)(-flag); }, {"neg", "bool"});
    rejects("x.add_(1) on a leaf that requires grad", {x}, [&] { x.add_(1); }, {"leaf Variable", "in-place"});
    rejects("x.zero_() on a leaf that requires grad", {x}, [&] { x.zero_(); }, {"leaf Variable", "in-place"});
    rejects("requires_grad_ on a long tensor", {l}, [&] { Tensor t = l; t.requires_grad_(); }, {"floating point"});
    rejects("x.sum(5)", {x}, [&] { (void)x.sum(5); }, {"Dimension out of range"});
    rejects("x.sum({0, 0})", {x}, [&] { (void)x.sum({0, 0}); }, {"sum", "dim 0"});
    rejects("x.mean() of long", {l}, [&] { (void)l.mean(); }, {"mean", "Long"});
    rejects("x.max(7)", {x}, [&] { (void)x.max(7); }, {"Dimension out of range"});
    rejects("empty.max()", {}, [&] { (void)empty({0}).max(); }, {"max", "numel() == 0"});
    rejects("empty.argmax()", {}, [&] { (void)empty({0}).argmax(); }, {"argmax", "numel() == 0"});
    rejects("x.norm(1, {3})", {x}, [&] { (void)x.norm(1, {3}); }, {"Dimension out of range"});
    rejects("x.item() of six elements", {x}, [&] { (void)x.item<float>(); }, {"6 elements"});
    rejects("x.data_ptr<double>()", {x}, [&] { (void)x.data_ptr<double>(); }, {"data_ptr", "Double", "Float"});
    rejects("x.masked_fill(long mask)", {x, l}, [&] { (void)x.masked_fill(l, 0); }, {"masked_fill", "bool mask", "Long"});
    rejects("x.masked_fill(mask of [4])", {x}, [&] { (void)x.masked_fill(b.gt(0), 0); }, {"masked_fill"});
    rejects("x.size(2)", {x}, [&] { (void)x.size(2); }, {"Dimension out of range"});
    rejects("x.to(kLong).requires_grad_()", {x}, [&] { (void)x.detach().to(kLong).requires_grad_(); }, {"floating point"});
    rejects("cat({a, b})", {a, b}, [&] { (void)cat({a, b}); }, {"cat", "same number of dimensions", "2 and 1"});
    rejects("cat({})", {}, [&] { (void)cat({}); }, {"cat", "non-empty"});
    rejects("cat({a, a}, 3)", {a}, [&] { (void)cat({a, a}, 3); }, {"Dimension out of range"});
    rejects("stack({a, b})", {a, b}, [&] { (void)stack({a, b}); }, {"stack", "equal size", "[2, 3]", "[4]"});
    rejects("uniform_(1, 0)", {a}, [&] { Tensor t = a.clone(); t.uniform_(1, 0); }, {"uniform_", "from", "to"});
    rejects("uniform_ on long", {l}, [&] { Tensor t = l; t.uniform_(); }, {"uniform_", "Long"});
    rejects("normal_(0, -1)", {a}, [&] { Tensor t = a.clone(); t.normal_(0, -1); }, {"normal_", "std"});
    rejects("random_(3, 3)", {l}, [&] { Tensor t = l; t.random_(3, 3); }, {"random_", "from"});
    rejects("to(kCUDA) without a GPU (or on a machine with one: fine)", {a},
            [&] {
                if (cuda::is_available()) throw Error("to: skipped, this machine has a GPU");
                (void)a.to(kCUDA);
            },
            {"cuda"});
}

TEST_CASE("products, losses and modules with shapes that do not fit") {
    const Tensor m23 = iota({2, 3});
    const Tensor m43 = iota({4, 3});
    const Tensor v4 = iota({4});
    const Tensor l = iota({2, 3}, kLong);
    const Tensor d = iota({3, 2}, kDouble);
    rejects("mm([2,3], [4,3])", {m23, m43}, [&] { (void)m23.mm(m43); }, {"mm", "2x3", "4x3"});
    rejects("mm(float, double)", {m23, d}, [&] { (void)m23.mm(d); }, {"mm", "Float", "Double"});
    rejects("mm of a vector", {m23, v4}, [&] { (void)m23.mm(v4); }, {"mm", "matrix"});
    rejects("mv([2,3], [4])", {m23, v4}, [&] { (void)m23.mv(v4); }, {"mv"});
    rejects("dot([4], [2,3])", {v4, m23}, [&] { (void)dot(v4, m23); }, {"dot", "1D"});
    rejects("dot([4], [3])", {v4}, [&] { (void)dot(v4, iota({3})); }, {"dot", "same number of elements"});
    rejects("bmm of 2-d", {m23}, [&] { (void)m23.bmm(m23); }, {"bmm", "3D"});
    rejects("matmul([2,3], [4])", {m23, v4}, [&] { (void)m23.matmul(v4); }, {"matmul"});
    rejects("matmul of 0-d", {}, [&] { (void)tensor(1.0f).matmul(tensor(2.0f)); }, {"matmul", "1D"});
    rejects("matmul of long and float", {l, m23}, [&] { (void)l.matmul(m23.t()); }, {"Long", "Float"});
    rejects("addmm with a bias of [4]", {m23, v4}, [&] { (void)addmm(v4, m23, m23.t()); }, {"addmm"});
    rejects("mse_loss([2,3], [4])", {m23, v4}, [&] { (void)mse_loss(m23, v4); }, {"mse_loss"});
    rejects("l1_loss with reduction 7", {m23}, [&] { (void)l1_loss(m23, m23, 7); }, {"reduction"});
    rejects("smooth_l1_loss with beta -1", {m23}, [&] { (void)smooth_l1_loss(m23, m23, Reduction::Mean, -1); },
            {"smooth_l1_loss", "beta"});
    rejects("huber_loss with delta 0", {m23}, [&] { (void)huber_loss(m23, m23, Reduction::Mean, 0); },
            {"huber_loss", "delta"});

    nn::Linear linear(3, 2);
    const Tensor w = linear->weight, bias = linear->bias;
    rejects("Linear(3,2) on [2,4]", {w, bias, m43}, [&] { (void)linear(iota({2, 4})); }, {"2x4", "3x2"});
    rejects("Linear(3,2) on a double input", {w, bias, d}, [&] { (void)linear(d.t()); }, {"Float", "Double"});
    rejects("Linear(-1, 3)", {}, [] { nn::Linear bad(-1, 3); }, {"Linear", "in_features=-1"});
    rejects("Linear(3, -2)", {}, [] { nn::Linear bad(3, -2); }, {"Linear", "out_features=-2"});
    rejects("nn::functional::linear with a weight of [4]", {m23, v4}, [&] { (void)nn::functional::linear(m23, v4); },
            {"size mismatch"});
    nn::Sequential seq(nn::Linear(3, 4), nn::ReLU(), nn::Linear(5, 1));
    std::vector<Tensor> params = seq->parameters();
    std::vector<Tensor> seq_involved = params;
    seq_involved.push_back(m23);
    rejects("Sequential with mismatched widths", seq_involved, [&] { (void)seq->forward(m23); }, {"4", "5"});
    rejects("Sequential index out of range", {}, [&] { (void)seq[7]; }, {"Sequential", "7"});
    rejects("named_parameters lookup of a missing name", {}, [&] { (void)seq->named_parameters()["nope"]; },
            {"nope"});
    rejects("nn::init::kaiming_uniform_ of a 1-d tensor", {v4}, [&] { nn::init::kaiming_uniform_(v4); },
            {"fan"});
    rejects("nn::init::xavier_normal_ of a 0-d tensor", {}, [&] { nn::init::xavier_normal_(tensor(1.0f)); }, {"fan"});
    rejects("flatten(0, 3)", {m23}, [&] { (void)nn::functional::flatten(m23, 0, 3); }, {"Dimension out of range"});
}

TEST_CASE("autograd misuse") {
    Tensor x = leaf_with_grad({3});
    const Tensor y = x * 2;
    rejects("backward of a non-scalar without a gradient", {x}, [&] { y.backward(); }, {"grad can be implicitly created only for scalar outputs"});
    rejects("backward with a gradient of the wrong shape", {x}, [&] { y.backward(ones({4})); }, {"Mismatch in shape"});
    rejects("backward of a tensor that does not require grad", {x}, [&] { (void)x.detach().sum().backward(); },
            {"does not require grad"});
    Tensor once = (x * x).sum();
    once.backward();  // frees the saved tensors
    rejects("a second backward through freed buffers", {x}, [&] { once.backward(); }, {"second time"});
    rejects("grad of an output that does not require grad", {x}, [&] { (void)autograd::grad({x.detach().sum()}, {x}); },
            {"does not require grad"});
    rejects("requires_grad_ on a non-leaf to false", {x}, [&] { Tensor t = x * 2; t.requires_grad_(false); },
            {"leaf variables"});
    rejects("an in-place change of a saved tensor", {x},
            [&] {
                Tensor a = x.detach().clone().requires_grad_(true);
                Tensor c = (a * 1).exp();  // exp saves its result
                c.mul_(2);
                c.sum().backward();
            },
            {"modified by an inplace operation"});
}

TEST_CASE("what libtorch does instead of an error") {
    // Printing an undefined tensor says so, as libtorch's operator<< does.
    CHECK(str(Tensor()).find("undefined") != std::string::npos);
    // A step beyond the dim keeps its first element (PyTorch: sizes [2, 1]).
    const Tensor a = iota({2, 3});
    const Tensor s = a.slice(1, 0, 3, int64_max);
    CHECK(s.sizes().vec() == shape{2, 1});
    CHECK(s[1][0].item<float>() == 3);
    CHECK(a.narrow(1, 3, 0).sizes().vec() == shape{2, 0});
    // Two bool tensors add to a bool (a logical or) and multiply to one (a logical and).
    const Tensor t = tensor({true, false, true}), f = tensor({true, false, false});
    CHECK((t + f).scalar_type() == kBool);
    CHECK((t + f).equal(tensor({true, false, true})));
    CHECK((t * f).equal(tensor({true, false, false})));
    CHECK((t + 1).scalar_type() == kLong);
}

TEST_CASE("optimizers, modules and files refuse bad settings before they change anything") {
    Tensor p = leaf_with_grad({3});
    rejects("SGD with lr -1", {p}, [&] { optim::SGD bad({p}, optim::SGDOptions(-1)); }, {"SGD", "Invalid learning rate"});
    rejects("SGD with nesterov and no momentum", {p},
            [&] { optim::SGD bad({p}, optim::SGDOptions(0.1).nesterov(true)); }, {"Nesterov"});
    rejects("Adam with lr NaN", {p}, [&] { optim::Adam bad({p}, optim::AdamOptions(std::nan(""))); }, {"Adam", "learning rate"});
    rejects("Adam with beta1 = 1", {p}, [&] { optim::Adam bad({p}, optim::AdamOptions(0.1).betas({1.0, 0.999})); },
            {"Adam", "beta"});
    rejects("AdamW with eps -1", {p}, [&] { optim::AdamW bad({p}, optim::AdamWOptions(0.1).eps(-1)); }, {"AdamW", "epsilon"});
    rejects("RMSprop with alpha -1", {p}, [&] { optim::RMSprop bad({p}, optim::RMSpropOptions(0.1).alpha(-1)); },
            {"RMSprop", "alpha"});
    rejects("an optimizer of an undefined tensor", {p}, [&] { optim::SGD bad({p, Tensor()}, 0.1); }, {"undefined"});
    rejects("an optimizer of a non-leaf", {p}, [&] { optim::SGD bad({p * 2}, 0.1); }, {"non-leaf"});
    rejects("a parameter in two groups", {p},
            [&] {
                optim::SGD bad({optim::OptimizerParamGroup({p}), optim::OptimizerParamGroup({p})}, 0.1);
            },
            {"more than one parameter group"});

    nn::Linear linear(2, 2);
    const Tensor w = linear->weight;
    rejects("register_parameter with a dotted name", {w}, [&] { linear->register_parameter("a.b", zeros({1})); }, {"dot"});
    rejects("register_parameter with an empty name", {w}, [&] { linear->register_parameter("", zeros({1})); }, {"empty"});
    rejects("register_parameter twice", {w}, [&] { linear->register_parameter("weight", zeros({1})); }, {"already defined"});
    rejects("register_module of a null module", {w},
            [&] { linear->register_module("child", std::shared_ptr<nn::Module>()); }, {"register_module", "nullptr"});
    rejects("an empty Sequential's forward", {}, [] { nn::Sequential empty_seq; (void)empty_seq->forward(zeros({1})); },
            {"empty Sequential"});
    rejects("load of a missing file", {w}, [&] { load(linear, "/nonexistent-dir/model.pt"); }, {"load", "cannot open"});
    rejects("load of a module from a file that is not an archive", {w},
            [&] { load(linear, "/proc/self/status"); }, {"load"});
    rejects("save to a directory that does not exist", {w}, [&] { save(linear, "/nonexistent-dir/model.pt"); },
            {"save", "cannot open"});
    rejects("load_npy of a missing file", {}, [] { (void)load_npy("/nonexistent-dir/x.npy"); }, {"load_npy"});
}

// Last in the file, so that a whole run reports the table's size.
TEST_CASE("the table's size") { MESSAGE("bad-input rows checked: " << rows_checked); }
