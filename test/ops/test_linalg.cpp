// dot/mv/mm/bmm/matmul: every case of test/reference/linalg.txt with PyTorch's operand layouts,
// gradients and second derivatives against central differences, broadcast operands, errors.
#include "../support/errors.hpp"
#include "../support/values.hpp"
#include <doctest/doctest.h>

#include <ctgrad/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef CTGRAD_REFERENCE_DIR
#error "CTGRAD_REFERENCE_DIR must name test/reference (test/meson.build defines it)"
#endif

namespace {

using ctgrad::Tensor;
using ctgrad_test::check_error;
using ctgrad_test::from_values;
using ctgrad_test::values_of;

// --- golden file ------------------------------------------------------------------------------

struct golden_tensor {
    std::vector<std::int64_t> sizes;
    std::vector<double> values;
};

struct linalg_case {
    std::string name, op, layout_a, layout_b, grad_fn, next_fn;
    golden_tensor a, b, out, grad_out, grad_a, grad_b;
};

golden_tensor read_tensor(std::istream& in) {
    golden_tensor t;
    std::size_t ndim = 0;
    in >> ndim;
    t.sizes.resize(ndim);
    std::size_t n = 1;
    for (auto& s : t.sizes) {
        in >> s;
        n *= static_cast<std::size_t>(s);
    }
    t.values.resize(n);
    for (auto& v : t.values) in >> v;
    return t;
}

std::vector<linalg_case> read_linalg_reference() {
    const std::string path = std::string(CTGRAD_REFERENCE_DIR) + "/linalg.txt";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open the golden file " + path);
    std::vector<linalg_case> cases;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        linalg_case c;
        std::string names;
        fields >> c.name >> c.op >> c.layout_a >> c.layout_b >> names;
        const auto split = names.find('>');
        c.grad_fn = names.substr(0, split);
        c.next_fn = names.substr(split + 1);
        for (golden_tensor* t : {&c.a, &c.b, &c.out, &c.grad_out, &c.grad_a, &c.grad_b}) *t = read_tensor(fields);
        std::string extra;
        if (!fields || (fields >> extra)) throw std::runtime_error("malformed golden record: " + line);
        cases.push_back(std::move(c));
    }
    return cases;
}

// --- helpers ----------------------------------------------------------------------------------

Tensor from_golden(const golden_tensor& g, ctgrad::ScalarType dtype) { return from_values(g.sizes, g.values, dtype); }

// A tensor equal to `values`, laid out as tools/reference_linalg.py's layout says, whose leaf
// (the tensor it views) requires grad.
Tensor laid_out(const Tensor& values, const std::string& layout) {
    if (layout == "c") return values.clone().requires_grad_(true);
    if (layout == "t") {
        Tensor stored = values.transpose(-1, -2).contiguous().clone();
        stored.requires_grad_(true);
        return stored.transpose(-1, -2);
    }
    std::vector<std::int64_t> sizes = values.sizes().vec();
    sizes.back() *= 2;
    Tensor big = ctgrad::zeros(sizes, values.scalar_type());
    big.slice(-1, 0, std::nullopt, 2).copy_(values);
    big.requires_grad_(true);
    return big.slice(-1, 0, std::nullopt, 2);
}

Tensor apply(const std::string& op, const Tensor& a, const Tensor& b) {
    if (op == "dot") return ctgrad::dot(a, b);
    if (op == "mv") return a.mv(b);
    if (op == "mm") return a.mm(b);
    if (op == "bmm") return a.bmm(b);
    if (op == "matmul") return a.matmul(b);
    throw std::runtime_error("linalg.txt: unknown op " + op);
}

// |got - want| <= tol * (1 + |want|) for every element, and the same sizes.
void check_values(const Tensor& got, const golden_tensor& want, double tol, const std::string& what) {
    INFO(what);
    REQUIRE(got.sizes().vec() == want.sizes);
    const std::vector<double> g = values_of(got);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < g.size(); ++i)
        if (!(std::abs(g[i] - want.values[i]) <= tol * (1 + std::abs(want.values[i])))) {
            if (bad++ == 0) INFO("first mismatch at " << i << ": got " << g[i] << ", want " << want.values[i]);
        }
    CHECK(bad == 0);
}

double sum_product(const Tensor& out, const Tensor& weights) { return values_of((out * weights).sum())[0]; }

// Central differences of f with respect to every element of the contiguous double tensor x.
std::vector<double> numeric_gradient(Tensor& x, const std::function<double()>& f) {
    constexpr double h = 1e-6;
    std::vector<double> grad(static_cast<std::size_t>(x.numel()));
    double* p = x.data_ptr<double>();
    for (std::size_t i = 0; i < grad.size(); ++i) {
        const double saved = p[i];
        p[i] = saved + h;
        const double up = f();
        p[i] = saved - h;
        const double down = f();
        p[i] = saved;
        grad[i] = (up - down) / (2 * h);
    }
    return grad;
}

void check_numbers(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
    INFO(what);
    REQUIRE(got.size() == want.size());
    std::size_t bad = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        if (!(std::abs(got[i] - want[i]) <= tol * (1 + std::abs(want[i])))) ++bad;
    CHECK(bad == 0);
}

}  // namespace

// --- products -----------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("every product matches PyTorch: values, grad_fn and gradients", T, float, double) {
    const auto dtype = ctgrad::dtype_of<T>();
    const double tol = std::is_same_v<T, double> ? 1e-12 : 2e-5;
    const auto cases = read_linalg_reference();
    REQUIRE(cases.size() >= 30);
    for (const linalg_case& c : cases) {
        SUBCASE(c.name.c_str()) {
            const Tensor a = laid_out(from_golden(c.a, dtype), c.layout_a);
            const Tensor b = laid_out(from_golden(c.b, dtype), c.layout_b);
            if (c.layout_a == "t" && a.dim() >= 2 && a.size(-1) > 1 && a.size(-2) > 1) CHECK_FALSE(a.is_contiguous());
            if (c.layout_b == "s" && b.numel() > 1) CHECK_FALSE(b.is_contiguous());
            const Tensor out = apply(c.op, a, b);
            CHECK(out.scalar_type() == dtype);
            check_values(out, c.out, tol, c.name + ": value");
            REQUIRE(out.grad_fn());
            CHECK(out.grad_fn()->name() == c.grad_fn);
            REQUIRE(out.grad_fn()->next_edge(0).is_valid());
            CHECK(out.grad_fn()->next_edge(0).function->name() == c.next_fn);
            const auto grads = ctgrad::autograd::grad({out}, {a, b}, {from_golden(c.grad_out, dtype)});
            check_values(grads[0], c.grad_a, tol, c.name + ": gradient wrt a");
            check_values(grads[1], c.grad_b, tol, c.name + ": gradient wrt b");
        }
    }
}

TEST_CASE("products: gradients and second derivatives against central differences (float64)") {
    for (const linalg_case& c : read_linalg_reference()) {
        if (c.out.values.empty()) continue;
        SUBCASE(c.name.c_str()) {
            Tensor a = from_golden(c.a, ctgrad::kDouble), b = from_golden(c.b, ctgrad::kDouble);
            const Tensor w = from_golden(c.grad_out, ctgrad::kDouble);
            // L(a, b) = sum(op(a, b) * w), with the operands laid out as in the golden case.
            auto loss = [&] {
                ctgrad::NoGradGuard no_grad;
                return sum_product(apply(c.op, laid_out(a, c.layout_a), laid_out(b, c.layout_b)), w);
            };
            const Tensor va = laid_out(a, c.layout_a), vb = laid_out(b, c.layout_b);
            const auto grads = ctgrad::autograd::grad({apply(c.op, va, vb)}, {va, vb}, {w}, std::nullopt, true);
            check_numbers(values_of(grads[0]), numeric_gradient(a, loss), 1e-7, "dL/da");
            check_numbers(values_of(grads[1]), numeric_gradient(b, loss), 1e-7, "dL/db");

            // The backward pass is itself differentiable: M(a, b) = sum(dL/da * v) is a function
            // of b, and its gradient (a double backward) must match central differences.
            REQUIRE(grads[0].requires_grad());
            Tensor v = ctgrad::ones_like(grads[0]);
            {
                double* pv = v.data_ptr<double>();
                for (std::int64_t i = 0; i < v.numel(); ++i) pv[i] = 0.5 + 0.25 * static_cast<double>(i % 5);
            }
            const auto second = ctgrad::autograd::grad({(grads[0] * v).sum()}, {vb});
            auto m = [&] {
                const Tensor xa = laid_out(a, c.layout_a), xb = laid_out(b, c.layout_b);
                const Tensor ga = ctgrad::autograd::grad({apply(c.op, xa, xb)}, {xa}, {w})[0];
                return sum_product(ga, v);
            };
            check_numbers(values_of(second[0]), numeric_gradient(b, m), 1e-7, "d/db sum(dL/da * v)");
        }
    }
}

TEST_CASE_TEMPLATE("products read broadcast (stride 0) and sliced operands like their contiguous copies", T, float,
                   double) {
    const auto dtype = ctgrad::dtype_of<T>();
    const double tol = std::is_same_v<T, double> ? 1e-12 : 1e-5;
    ctgrad::manual_seed(7);
    const Tensor row = ctgrad::randn({1, 4}, dtype).requires_grad_(true);
    const Tensor a = row.expand({3, 4});  // stride 0 down the rows: BLAS cannot read it
    const Tensor b = ctgrad::randn({5, 4}, dtype).t();
    CHECK(a.stride(0) == 0);
    const Tensor out = a.mm(b);
    golden_tensor want{{3, 5}, values_of(a.contiguous().detach().mm(b.contiguous()))};
    check_values(out, want, tol, "expanded mm");
    out.sum().backward();
    // Each row of a is the same row: its gradient is the sum over the 3 rows.
    golden_tensor want_grad{{1, 4}, values_of(ctgrad::ones({3, 5}, dtype).mm(b.t()).sum({0}, true))};
    check_values(row.grad(), want_grad, tol, "gradient through expand");

    // A vector with stride 0, and a batch of matrices that is one matrix broadcast.
    const Tensor v = ctgrad::full({1}, 2.5, dtype).expand({4});
    golden_tensor want_mv{{5}, values_of(b.t().contiguous().mv(v.contiguous()))};
    check_values(b.t().mv(v), want_mv, tol, "mv with a stride-0 vector");
    const Tensor m = ctgrad::randn({1, 3, 4}, dtype).expand({6, 3, 4});
    const Tensor n = ctgrad::randn({6, 4, 2}, dtype);
    golden_tensor want_bmm{{6, 3, 2}, values_of(m.contiguous().bmm(n))};
    check_values(m.bmm(n), want_bmm, tol, "bmm with a broadcast batch");
    check_values(ctgrad::matmul(m, n), want_bmm, tol, "matmul with a broadcast batch");
}

TEST_CASE("a product large enough for OpenBLAS's blocked kernels agrees with a plain loop") {
    ctgrad::manual_seed(3);
    const std::int64_t m = 67, k = 131, n = 45;
    const Tensor a = ctgrad::randn({k, m}, ctgrad::kDouble).t();  // transposed operand
    const Tensor b = ctgrad::randn({k, 2 * n}, ctgrad::kDouble).slice(1, 0, std::nullopt, 2);  // copied first
    const std::vector<double> av = values_of(a), bv = values_of(b);
    golden_tensor want{{m, n}, std::vector<double>(static_cast<std::size_t>(m * n), 0.0)};
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::int64_t p = 0; p < k; ++p) s += av[i * k + p] * bv[p * n + j];
            want.values[i * n + j] = s;
        }
    check_values(a.mm(b), want, 1e-12, "double");
    check_values(a.to(ctgrad::kFloat).mm(b.to(ctgrad::kFloat)), want, 1e-4, "float");
}

TEST_CASE("products record nothing without grad, and report in-place changes of what they saved") {
    const Tensor a = ctgrad::randn({3, 4}, ctgrad::requires_grad());
    const Tensor b = ctgrad::randn({4, 2}, ctgrad::requires_grad());
    {
        ctgrad::NoGradGuard no_grad;
        const Tensor c = a.matmul(b);
        CHECK_FALSE(c.requires_grad());
        CHECK_FALSE(c.grad_fn());
    }
    const Tensor c = ctgrad::randn({4, 2}).mm(ctgrad::randn({2, 3}));
    CHECK_FALSE(c.requires_grad());

    Tensor b2 = b * 2;
    const Tensor out = a.mm(b2);
    b2.mul_(3);
    check_error([&] { out.sum().backward(); }, "modified by an inplace operation");

    // Only the gradients asked for are computed: a alone requires grad.
    const Tensor x = ctgrad::randn({2, 3}, ctgrad::requires_grad());
    const Tensor y = ctgrad::randn({3, 3});
    x.matmul(y).sum().backward();
    CHECK(x.grad().sizes().vec() == std::vector<std::int64_t>{2, 3});
    CHECK_FALSE(y.grad().defined());
}

TEST_CASE("product errors: PyTorch's messages, operands unchanged") {
    const Tensor m35 = ctgrad::randn({3, 5}, ctgrad::requires_grad());
    const Tensor m44 = ctgrad::randn({4, 4});
    const Tensor v4 = ctgrad::randn({4});
    const Tensor v3 = ctgrad::randn({3});
    const Tensor d44 = ctgrad::randn({4, 4}, ctgrad::kDouble);
    const std::vector<double> before = values_of(m35);

    check_error([&] { m35.mm(m44); }, "mm: mat1 and mat2 shapes cannot be multiplied (3x5 and 4x4)");
    check_error([&] { v4.mm(m44); }, "mm: self must be a matrix");
    check_error([&] { m44.mm(v4); }, "mm: mat2 must be a matrix");
    check_error([&] { m44.mm(d44); }, "mm: expected scalar type Float but found Double");
    check_error([&] { d44.mm(m44); }, "mm: expected scalar type Double but found Float");
    check_error([&] { m44.to(ctgrad::kLong).mm(m44.to(ctgrad::kLong)); }, "not implemented for 'Long'");
    check_error([&] { m44.to(ctgrad::kBool).mm(m44.to(ctgrad::kBool)); }, "not implemented for 'Bool'");
    check_error([&] { m35.mv(v4); }, "mv: size mismatch, got 3, 3x5,4");
    check_error([&] { ctgrad::randn({3, 5, 2}).mv(v4); }, "mv: vector + matrix @ vector expected, got 1, 3, 1");
    check_error([&] { m44.mv(m44); }, "mv: vector + matrix @ vector expected, got 1, 2, 2");
    check_error([&] { m44.mv(d44.select(0, 0)); }, "mv: expected scalar type Float but found Double");
    check_error([&] { ctgrad::randn({2, 3, 5}).bmm(ctgrad::randn({2, 4, 4})); },
                "bmm: Expected size for first two dimensions of batch2 tensor to be: [2, 5] but got: [2, 4].");
    check_error([&] { ctgrad::randn({2, 3, 5}).bmm(ctgrad::randn({3, 5, 4})); },
                "Expected size for first two dimensions of batch2 tensor to be: [2, 5] but got: [3, 5].");
    check_error([&] { m35.bmm(ctgrad::randn({3, 5, 4})); }, "bmm: batch1 must be a 3D tensor");
    check_error([&] { ctgrad::randn({2, 3, 5}).bmm(m35); }, "bmm: batch2 must be a 3D tensor");
    check_error([&] { ctgrad::dot(v3, v4); },
                "dot: inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, "
                "but got 3 and 4 elements respectively");
    check_error([&] { ctgrad::dot(v3, v3.to(ctgrad::kDouble)); },
                "dot : expected both vectors to have same dtype, but found Float and Double");
    check_error([&] { ctgrad::dot(m35, v3); }, "dot: 1D tensors expected, but got 2D and 1D tensors");

    check_error([&] { ctgrad::matmul(ctgrad::scalar_tensor(2.0), m35); },
                "matmul: both arguments to matmul need to be at least 1D, but they are 0D and 2D");
    check_error([&] { ctgrad::matmul(m35, ctgrad::scalar_tensor(2.0)); }, "but they are 2D and 0D");
    check_error([&] { ctgrad::matmul(v3, v4); }, "matmul: inconsistent tensor size, expected tensor [3] and src [4]");
    check_error([&] { ctgrad::matmul(ctgrad::randn({2, 3}), v4); }, "matmul: size mismatch, got 2, 2x3,4");
    check_error([&] { ctgrad::matmul(v3, ctgrad::randn({4, 5})); },
                "matmul: mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)");
    check_error([&] { ctgrad::matmul(ctgrad::randn({2, 2, 3}), ctgrad::randn({4, 5})); },
                "matmul: mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)");
    check_error([&] { ctgrad::matmul(ctgrad::randn({2, 3}), ctgrad::randn({2, 4, 5})); },
                "matmul: mat1 and mat2 shapes cannot be multiplied (10x4 and 3x2)");
    check_error([&] { ctgrad::matmul(ctgrad::randn({2, 2, 3}), ctgrad::randn({2, 4, 5})); },
                "matmul: Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4].");
    check_error([&] { ctgrad::matmul(ctgrad::randn({2, 2, 3}), ctgrad::randn({3, 3, 5})); },
                "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0");
    check_error([&] { ctgrad::matmul(ctgrad::randn({2, 2, 3}), ctgrad::randn({3, 5}, ctgrad::kDouble)); },
                "matmul: expected scalar type Float but found Double");
    check_error([&] { ctgrad::matmul(Tensor(), m35); }, "undefined");

    CHECK(values_of(m35) == before);
    CHECK(m35.is_leaf());
    CHECK_FALSE(m35.grad().defined());
}
