// The dynamic layer's element-wise ops, sum/mean and views:
//  - against PyTorch (test/reference/dynamic.txt, tools/reference_dynamic.py): values, gradients
//    by backward with a random upstream gradient, and Hessian-vector products through
//    create_graph, in float64 (1e-12) and float32 (a few ulp), on contiguous, non-contiguous and
//    pre-expanded operands; linspace and arange bit for bit;
//  - against central differences in float64: first derivatives, and second derivatives
//    (create_graph) against differences of the gradient;
//  - the fused backward (no graph recorded) against the interpreted one (create_graph);
//  - a differential test: random expression graphs, built from a fixed seed at compile time,
//    evaluated by the dynamic layer, by the static layer (value_and_grad) and by differences.
#include "../support/dtype_golden.hpp"
#include "../support/errors.hpp"
#include "../support/gradcheck.hpp"
#include "../support/values.hpp"
#include <ctgrad/expr.hpp>
#include <ctgrad/tensor.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef CTGRAD_REFERENCE_DIR
#error "CTGRAD_REFERENCE_DIR must name test/reference (test/meson.build defines it)"
#endif

namespace {

using ctgrad::ScalarType;
using ctgrad::Tensor;
using ctgrad::indexing::Ellipsis;
using ctgrad::indexing::None;
using ctgrad::indexing::Slice;
using tensors = std::vector<Tensor>;

// --- the golden file ------------------------------------------------------------------------

struct golden_tensor {
    std::vector<std::int64_t> sizes;
    std::vector<double> values;
};
using golden_labels = std::map<std::string, golden_tensor>;              // label -> tensor
using golden_file = std::map<std::string, std::map<std::string, golden_labels>>;  // case -> dtype -> labels

const golden_file& golden() {
    static const golden_file file = [] {
        const std::string path = std::string(CTGRAD_REFERENCE_DIR) + "/dynamic.txt";
        std::ifstream in(path);
        if (!in) throw std::runtime_error("cannot open the golden file " + path);
        golden_file out;
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream fields(line);
            std::string name, dtype, label;
            std::size_t rank = 0;
            fields >> name >> dtype >> label >> rank;
            golden_tensor t;
            t.sizes.resize(rank);
            std::size_t n = 1;
            for (auto& s : t.sizes) fields >> s, n *= static_cast<std::size_t>(s);
            t.values.resize(n);
            for (auto& v : t.values) fields >> v;
            std::string extra;
            if (!fields || (fields >> extra)) throw std::runtime_error("malformed golden record: " + line.substr(0, 80));
            out[name][dtype][label] = std::move(t);
        }
        return out;
    }();
    return file;
}

ScalarType dtype_named(const std::string& s) {
    return s == "float64" ? ctgrad::kDouble : s == "float32" ? ctgrad::kFloat : ctgrad::kLong;
}

Tensor from_values(const std::vector<std::int64_t>& sizes, const std::vector<double>& v, ScalarType dtype) {
    Tensor t = ctgrad::empty(sizes, ctgrad::dtype(ctgrad::kDouble));
    std::copy(v.begin(), v.end(), t.data_ptr<double>());
    return t.to(dtype);
}
Tensor from_golden(const golden_tensor& g, ScalarType dtype) { return from_values(g.sizes, g.values, dtype); }

// Row-major values of any tensor, whatever its layout.
using ctgrad_test::values_of;

// got == want element-wise within rel * max(|want_i|, floor * max|want|): relative, with a floor
// for elements that are small because terms cancelled (float32 sums in another order than
// torch's: its rounding is relative to the summands, not to the sum). One CHECK per tensor,
// naming the first element off.
void check_tensor(const Tensor& got, const std::vector<std::int64_t>& sizes, const std::vector<double>& want,
                  double rel, const std::string& what) {
    INFO(what);
    const double floor = rel > 1e-9 ? 1.0 : 1e-3;  // float32 : float64
    REQUIRE(got.defined());
    REQUIRE(got.sizes().vec() == sizes);
    const std::vector<double> g = values_of(got);
    double scale = 0;
    for (double w : want) scale = std::max(scale, std::abs(w));
    std::size_t bad = want.size();
    for (std::size_t i = 0; i < want.size() && bad == want.size(); ++i)
        if (!(std::abs(g[i] - want[i]) <= rel * std::max(std::abs(want[i]), floor * scale))) bad = i;
    CHECK_MESSAGE(bad == want.size(), "element ", bad, ": got ", (bad < g.size() ? g[bad] : 0.0), ", expected ",
                  (bad < want.size() ? want[bad] : 0.0));
}
void check_tensor(const Tensor& got, const golden_tensor& want, double rel, const std::string& what) {
    check_tensor(got, want.sizes, want.values, rel, what);
}
void check_same(const Tensor& got, const Tensor& want, double rel, const std::string& what) {
    check_tensor(got, want.sizes().vec(), values_of(want), rel, what);
}

double rel_tol(ScalarType dtype) { return dtype == ctgrad::kDouble ? 1e-12 : 8 * 0x1p-23; }

// --- the ops, by the names the golden file uses -----------------------------------------------

using op_fn = std::function<Tensor(const tensors&)>;

const std::map<std::string, op_fn>& ops() {
    static const std::map<std::string, op_fn> table = {
        {"neg", [](const tensors& x) { return -x[0]; }},
        {"exp", [](const tensors& x) { return x[0].exp(); }},
        {"log", [](const tensors& x) { return ctgrad::log(x[0]); }},
        {"sin", [](const tensors& x) { return x[0].sin(); }},
        {"cos", [](const tensors& x) { return ctgrad::cos(x[0]); }},
        {"tan", [](const tensors& x) { return x[0].tan(); }},
        {"tanh", [](const tensors& x) { return ctgrad::tanh(x[0]); }},
        {"sigmoid", [](const tensors& x) { return x[0].sigmoid(); }},
        {"relu", [](const tensors& x) { return ctgrad::relu(x[0]); }},
        {"sqrt", [](const tensors& x) { return x[0].sqrt(); }},
        {"abs", [](const tensors& x) { return x[0].abs(); }},
        {"square", [](const tensors& x) { return ctgrad::square(x[0]); }},
        {"pow_2", [](const tensors& x) { return x[0].pow(2); }},
        {"pow_3", [](const tensors& x) { return ctgrad::pow(x[0], 3); }},
        {"pow_4", [](const tensors& x) { return x[0].pow(4); }},
        {"pow_0.5", [](const tensors& x) { return x[0].pow(0.5); }},
        {"pow_-1.5", [](const tensors& x) { return x[0].pow(-1.5); }},
        {"pow_2.5", [](const tensors& x) { return ctgrad::pow(x[0], 2.5); }},
        {"rpow_1.7", [](const tensors& x) { return ctgrad::pow(1.7, x[0]); }},
        {"add_scalar", [](const tensors& x) { return x[0] + 2.5; }},
        {"rsub_scalar", [](const tensors& x) { return 2.5 - x[0]; }},
        {"mul_scalar", [](const tensors& x) { return x[0] * -1.5; }},
        {"div_scalar", [](const tensors& x) { return x[0] / 3.0; }},
        {"rdiv_scalar", [](const tensors& x) { return 2.0 / x[0]; }},
        {"add", [](const tensors& x) { return x[0] + x[1]; }},
        {"sub", [](const tensors& x) { return x[0] - x[1]; }},
        {"mul", [](const tensors& x) { return x[0] * x[1]; }},
        {"div", [](const tensors& x) { return x[0].div(x[1]); }},
        {"add_alpha", [](const tensors& x) { return ctgrad::add(x[0], x[1], -0.75); }},
        {"sub_alpha", [](const tensors& x) { return x[0].sub(x[1], 2.5); }},
        {"pow", [](const tensors& x) { return x[0].pow(x[1]); }},
        {"maximum", [](const tensors& x) { return ctgrad::maximum(x[0], x[1]); }},
        {"minimum", [](const tensors& x) { return x[0].minimum(x[1]); }},
        {"sum_all", [](const tensors& x) { return x[0].sum(); }},
        {"sum_d1", [](const tensors& x) { return x[0].sum(1); }},
        {"sum_d02_keep", [](const tensors& x) { return ctgrad::sum(x[0], {0, 2}, true); }},
        {"sum_dm1_keep", [](const tensors& x) { return x[0].sum(-1, true); }},
        {"sum_0d", [](const tensors& x) { return ctgrad::sum(x[0]); }},
        {"mean_all", [](const tensors& x) { return x[0].mean(); }},
        {"mean_d1", [](const tensors& x) { return ctgrad::mean(x[0], 1); }},
        {"mean_d02_keep", [](const tensors& x) { return x[0].mean({0, 2}, true); }},
        {"mean_dm1", [](const tensors& x) { return x[0].mean(-1); }},
        {"view_4x6", [](const tensors& x) { return x[0].view({4, 6}); }},
        {"view_m1x4", [](const tensors& x) { return x[0].view({-1, 4}); }},
        {"reshape_copy", [](const tensors& x) { return x[0].transpose(0, 1).reshape({6, 4}); }},
        {"unsqueeze_1", [](const tensors& x) { return x[0].unsqueeze(1); }},
        {"unsqueeze_m1", [](const tensors& x) { return x[0].unsqueeze(-1); }},
        {"squeeze", [](const tensors& x) { return x[0].squeeze(); }},
        {"squeeze_1", [](const tensors& x) { return x[0].squeeze(1); }},
        {"flatten", [](const tensors& x) { return x[0].flatten(); }},
        {"flatten_12", [](const tensors& x) { return x[0].flatten(1, 2); }},
        {"flatten_t", [](const tensors& x) { return x[0].transpose(1, 2).flatten(1); }},
        {"t", [](const tensors& x) { return x[0].t(); }},
        {"transpose_02", [](const tensors& x) { return x[0].transpose(0, 2); }},
        {"permute_201", [](const tensors& x) { return x[0].permute({2, 0, 1}); }},
        {"select_1_m1", [](const tensors& x) { return x[0].select(1, -1); }},
        {"narrow_2_1_2", [](const tensors& x) { return x[0].narrow(2, 1, 2); }},
        {"slice_1_0_3_2", [](const tensors& x) { return x[0].slice(1, 0, 3, 2); }},
        {"slice_neg", [](const tensors& x) { return x[0].index({Slice(), Slice(-2, None)}); }},
        {"index_mixed", [](const tensors& x) { return x[0].index({Slice(1, None), None, Ellipsis, 0}); }},
        {"index_int_slice", [](const tensors& x) { return x[0].index({1, Slice(), 2}); }},
        {"expand", [](const tensors& x) { return x[0].expand({2, 3, 4}); }},
        {"expand_m1", [](const tensors& x) { return x[0].expand({-1, 5}); }},
        {"chain", [](const tensors& x) { return x[0].transpose(0, 2)[1].unsqueeze(0).expand({3, 3, 2}); }},
        {"t_select_view", [](const tensors& x) { return x[0].t().slice(0, 1, 3).contiguous().view(-1); }},
    };
    return table;
}

std::string op_of(const std::string& case_name) { return case_name.substr(0, case_name.find('/')); }
bool is_factory(const std::string& case_name) {
    return op_of(case_name) == "linspace" || op_of(case_name) == "arange";
}
// Points where the derivative has a kink; finite differences do not apply there.
bool at_kink(const std::string& case_name) { return case_name.find("/kink") != std::string::npos || case_name.find("/ties") != std::string::npos; }

// The same values in a non-contiguous layout: stored with the dims reversed and viewed back, or
// (1-d) every other element of a buffer twice as long.
Tensor scrambled(const Tensor& t) {
    ctgrad::NoGradGuard no_grad;
    if (t.numel() < 2) return t;
    if (t.dim() == 1) {
        Tensor buffer = ctgrad::zeros({2 * t.numel()}, t.options());
        Tensor strided = buffer.slice(0, 0, std::nullopt, 2);
        strided.copy_(t);
        return strided;
    }
    std::vector<std::int64_t> reversed(static_cast<std::size_t>(t.dim()));
    for (std::size_t i = 0; i < reversed.size(); ++i) reversed[i] = t.dim() - 1 - static_cast<std::int64_t>(i);
    return t.permute(reversed).contiguous().permute(reversed);
}

tensors leaves_of(const tensors& xs) {
    tensors out;
    for (const Tensor& x : xs) out.push_back(x.detach().requires_grad_());
    return out;
}

// Gradients with undefined (unused) entries made zeros.
tensors grads_or_zeros(const Tensor& out, const tensors& inputs, const Tensor& gout, bool create_graph) {
    tensors g = ctgrad::autograd::grad({out}, inputs, {gout}, std::nullopt, create_graph, true);
    for (std::size_t i = 0; i < g.size(); ++i)
        if (!g[i].defined()) g[i] = ctgrad::zeros_like(inputs[i]);
    return g;
}

// --- golden values ------------------------------------------------------------------------------

const char* const input_labels[] = {"a", "b"};

Tensor as_is(const Tensor& t) { return t; }

// One case in one dtype, with its inputs as given (`layout` makes them non-contiguous or not).
void check_golden_case(const std::string& name, const std::string& dname, const golden_labels& rec,
                       Tensor (*layout)(const Tensor&)) {
    const ScalarType dtype = dtype_named(dname);
    const double rel = rel_tol(dtype);
    const op_fn& f = ops().at(op_of(name));
    const bool elementwise = rec.count("wa") > 0;
    tensors xs;
    for (const char* l : input_labels)
        if (rec.count(l)) xs.push_back(layout(from_golden(rec.at(l), dtype)));
    const tensors leaves = leaves_of(xs);
    const Tensor gout = from_golden(rec.at("gout"), dtype);

    Tensor out;
    try {
        out = f(leaves);
    } catch (const ctgrad::Error& e) {
        // As in PyTorch, view() of a non-contiguous layout is refused; reshape() would copy.
        CHECK((layout != as_is && op_of(name).rfind("view", 0) == 0 &&
               std::string(e.what()).find("view size is not compatible") != std::string::npos));
        return;
    }
    CHECK(out.scalar_type() == dtype);
    check_tensor(out, rec.at("out"), rel, "value");
    const tensors fused = grads_or_zeros(out, leaves, gout, false);
    const tensors interpreted = grads_or_zeros(f(leaves), leaves, gout, true);
    Tensor s;  // the second-derivative probe sum(ga * wa) + sum(gb * wb)
    for (std::size_t i = 0; i < leaves.size(); ++i) {
        const std::string g = std::string("g") + input_labels[i];
        check_tensor(fused[i], rec.at(g), rel, g + " (fused backward)");
        check_tensor(interpreted[i], rec.at(g), rel, g + " (create_graph)");
        check_same(fused[i], interpreted[i], rel, g + ": fused == interpreted");
        if (!elementwise) continue;
        const Tensor term = (interpreted[i] * from_golden(rec.at(std::string("w") + input_labels[i]), dtype)).sum();
        s = s.defined() ? s + term : term;
    }
    if (!elementwise) return;
    tensors h(leaves.size());
    if (s.requires_grad()) h = ctgrad::autograd::grad({s}, leaves, {}, std::nullopt, false, true);
    for (std::size_t i = 0; i < leaves.size(); ++i) {
        const std::string l = std::string("h") + input_labels[i];
        check_tensor(h[i].defined() ? h[i] : ctgrad::zeros_like(leaves[i]), rec.at(l), 10 * rel, l);
    }
}

TEST_CASE("element-wise ops, sum/mean and views give PyTorch's values, gradients and second derivatives") {
    std::set<std::string> used;
    int cases = 0;
    for (const auto& [name, by_dtype] : golden()) {
        if (is_factory(name)) continue;
        INFO("case ", name);
        REQUIRE_MESSAGE(ops().count(op_of(name)), "no op named ", op_of(name), " in this test");
        used.insert(op_of(name));
        for (const auto& [dname, rec] : by_dtype) {
            INFO("dtype ", dname);
            check_golden_case(name, dname, rec, as_is);
            check_golden_case(name, dname, rec, scrambled);
            ++cases;
        }
    }
    CHECK(used.size() == ops().size());  // every op of the table has golden values
    CHECK(cases == 306);  // 153 cases in two dtypes
}

TEST_CASE("broadcast operands given pre-expanded (stride 0) get the gradient of the expanded shape") {
    for (const auto& [name, by_dtype] : golden()) {
        const auto& rec = by_dtype.begin()->second;
        if (!rec.count("b") || !rec.count("wa")) continue;
        INFO("case ", name);
        const ScalarType dtype = dtype_named(by_dtype.begin()->first);
        const auto& out_sizes = rec.at("out").sizes;
        tensors xs{from_golden(rec.at("a"), dtype).expand(out_sizes), from_golden(rec.at("b"), dtype).expand(out_sizes)};
        const tensors leaves = leaves_of(xs);
        const Tensor out = ops().at(op_of(name))(leaves);
        check_tensor(out, rec.at("out"), rel_tol(dtype), "value");
        const tensors g = grads_or_zeros(out, leaves, from_golden(rec.at("gout"), dtype), false);
        for (std::size_t i = 0; i < 2; ++i) {
            CHECK(g[i].sizes() == ctgrad::IntArrayRef(out_sizes));
            check_tensor(ctgrad::sum_to(g[i], rec.at(std::string("g") + input_labels[i]).sizes),
                         rec.at(std::string("g") + input_labels[i]), rel_tol(dtype), "summed gradient");
        }
    }
}

TEST_CASE("linspace and arange give torch's values bit for bit") {
    int checked = 0;
    for (const auto& [name, by_dtype] : golden()) {
        if (!is_factory(name)) continue;
        for (const auto& [dname, rec] : by_dtype) {
            INFO(name, " ", dname);
            const std::vector<double>& a = rec.at("args").values;
            const ScalarType dtype = dtype_named(dname);
            Tensor t;
            if (op_of(name) == "linspace")
                t = ctgrad::linspace(a[0], a[1], static_cast<std::int64_t>(a[2]), ctgrad::dtype(dtype));
            else if (dtype == ctgrad::kLong)  // integer arguments: an int64 result without asking
                t = ctgrad::arange(static_cast<std::int64_t>(a[0]), static_cast<std::int64_t>(a[1]),
                                   static_cast<std::int64_t>(a[2]));
            else
                t = ctgrad::arange(a[0], a[1], a[2], ctgrad::dtype(dtype));
            REQUIRE(t.scalar_type() == dtype);
            const golden_tensor& want = rec.at("out");
            REQUIRE(t.sizes().vec() == want.sizes);
            const std::vector<double> got = values_of(t);  // float32 -> double is exact
            std::size_t differ = 0, first = got.size();
            for (std::size_t i = 0; i < got.size(); ++i)
                if (got[i] != want.values[i]) ++differ, first = std::min(first, i);
            CHECK_MESSAGE(differ == 0, differ, " elements differ, the first at ", first);
            ++checked;
        }
    }
    CHECK(checked >= 20);
}

// --- finite differences -------------------------------------------------------------------------

// Element k (row-major) of a tensor of any layout, read and written through select().
Tensor element(const Tensor& t, std::int64_t k) {
    Tensor e = t;
    std::vector<std::int64_t> index(static_cast<std::size_t>(t.dim()));
    for (std::int64_t d = t.dim() - 1; d >= 0; --d) {
        index[static_cast<std::size_t>(d)] = k % t.size(d);
        k /= t.size(d);
    }
    for (auto i : index) e = e.select(0, i);
    return e;
}

// The derivative of fn along element k of xs[i], by the 4th-order central difference (h = 1e-3:
// truncation ~1e-12, rounding ~1e-12 for values of order 1).
double central_difference(const std::function<double()>& fn, const Tensor& x, std::int64_t k, double h = 1e-3) {
    Tensor e = element(x.detach(), k);
    const double x0 = e.item<double>();
    auto at = [&](double d) {
        e.fill_(x0 + d);
        return fn();
    };
    const double r = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
    e.fill_(x0);
    return r;
}

// The reusable checker: backward's gradient of s = sum(f(x) * w) against central differences of
// s, and (second) the Hessian-vector product d/dx sum(grad(s) * v), through create_graph, against
// central differences of sum(grad(s) * v) computed by plain backward.
void check_finite_differences(const op_fn& f, const tensors& inputs, bool second, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal;
    auto random_like = [&](const Tensor& t) {
        Tensor r = ctgrad::empty(t.sizes(), ctgrad::dtype(ctgrad::kDouble));
        for (std::int64_t i = 0; i < r.numel(); ++i) r.data_ptr<double>()[i] = normal(rng);
        return r;
    };
    const tensors x = leaves_of(inputs);
    const Tensor w = random_like(f(x));
    auto s_of = [&] { return (f(x) * w).sum(); };
    const tensors g = grads_or_zeros(s_of(), x, Tensor(), false);
    for (std::size_t i = 0; i < x.size(); ++i)
        for (std::int64_t k = 0; k < x[i].numel(); ++k) {
            const double fd = central_difference([&] { return s_of().item<double>(); }, x[i], k);
            const double got = element(g[i], k).item<double>();
            CHECK_MESSAGE(std::abs(got - fd) <= 1e-8 * (1 + std::abs(fd)), "d/dx", i, "[", k, "]: backward ", got,
                          ", differences ", fd);
        }
    if (!second) return;
    tensors v;
    for (const Tensor& xi : x) v.push_back(random_like(xi));
    auto t_of = [&](bool create_graph) {
        const tensors gi = grads_or_zeros(s_of(), x, Tensor(), create_graph);
        Tensor t = ctgrad::zeros({}, ctgrad::dtype(ctgrad::kDouble));
        for (std::size_t i = 0; i < x.size(); ++i) t = t + (gi[i] * v[i]).sum();
        return t;
    };
    const Tensor t = t_of(true);
    tensors h(x.size());
    if (t.requires_grad()) h = ctgrad::autograd::grad({t}, x, {}, std::nullopt, false, true);
    for (std::size_t i = 0; i < x.size(); ++i)
        for (std::int64_t k = 0; k < x[i].numel(); ++k) {
            const double fd = central_difference([&] { return t_of(false).item<double>(); }, x[i], k);
            const double got = h[i].defined() ? element(h[i], k).item<double>() : 0.0;
            CHECK_MESSAGE(std::abs(got - fd) <= 1e-6 * (1 + std::abs(fd)), "d2/dx", i, "[", k, "]: create_graph ",
                          got, ", differences ", fd);
        }
}

TEST_CASE("gradients and second derivatives match finite differences (float64, every golden point)") {
    int checked = 0;
    for (const auto& [name, by_dtype] : golden()) {
        if (is_factory(name) || at_kink(name)) continue;
        INFO("case ", name);
        const golden_labels& rec = by_dtype.at("float64");
        tensors xs;
        for (const char* l : input_labels)
            if (rec.count(l)) xs.push_back(from_golden(rec.at(l), ctgrad::kDouble));
        const bool elementwise = rec.count("wa") > 0;
        check_finite_differences(ops().at(op_of(name)), xs, elementwise, static_cast<std::uint32_t>(checked));
        if (op_of(name).rfind("view", 0) == 0) continue;  // refused on non-contiguous input, as in PyTorch
        for (Tensor& x : xs) x = scrambled(x);
        check_finite_differences(ops().at(op_of(name)), xs, false, static_cast<std::uint32_t>(checked));
        ++checked;
    }
    CHECK(checked == 147);  // every golden case but the kinks and the factories
}

TEST_CASE("fused and interpreted backward agree over SIMD bodies and tails, and broadcast scalars") {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0.3, 2.0);
    auto random = [&](const std::vector<std::int64_t>& sizes, ScalarType dtype) {
        Tensor t = ctgrad::empty(sizes, ctgrad::dtype(ctgrad::kDouble));
        for (std::int64_t i = 0; i < t.numel(); ++i) t.data_ptr<double>()[i] = u(rng);
        return t.to(dtype);
    };
    // The element-wise ops of the golden file, by arity.
    std::map<std::string, bool> elementwise;
    for (const auto& [name, by_dtype] : golden())
        if (by_dtype.begin()->second.count("wa")) elementwise[op_of(name)] = by_dtype.begin()->second.count("b") > 0;
    const std::vector<std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>>> shapes = {
        {{5, 37}, {5, 37}}, {{5, 1}, {37}}, {{}, {5, 37}}, {{5, 37}, {1}}, {{37}, {5, 37}}};
    int checked = 0;
    for (ScalarType dtype : {ctgrad::kDouble, ctgrad::kFloat})
        for (const auto& [name, binary] : elementwise)
            for (const auto& [sa, sb] : shapes) {
                if (!binary && sa.size() < 2) continue;
                INFO(name, " ", ctgrad::shape_str(sa), " ", ctgrad::shape_str(sb), " ", ctgrad::dtype_name(dtype));
                tensors xs{random(sa, dtype)};
                if (binary) xs.push_back(random(sb, dtype));
                const tensors x = leaves_of(xs);
                const op_fn& f = ops().at(name);
                const Tensor out = f(x);
                const Tensor gout = random(out.sizes().vec(), dtype);
                const tensors fused = grads_or_zeros(out, x, gout, false);
                const tensors interpreted = grads_or_zeros(f(x), x, gout, true);
                for (std::size_t i = 0; i < x.size(); ++i)
                    check_same(fused[i], interpreted[i], dtype == ctgrad::kDouble ? 1e-13 : 1e-6, "gradient");
                ++checked;
            }
    CHECK(checked == 2 * (24 * 3 + 9 * 5));  // unary ops on the 2-d shapes
}

// --- differential test: dynamic layer == static layer == finite differences ---------------------

// Each op is written once and applied to static expressions and to Tensors alike; the few whose
// spelling differs between the layers branch on the type.
template <class T> inline constexpr bool is_tensor_v = std::is_same_v<T, Tensor>;

template <int K, class T>
auto unary(const T& t) {
    if constexpr (K == 0) return -t;
    else if constexpr (K == 1) return exp(t);
    else if constexpr (K == 2) return log(t * t + 0.5);
    else if constexpr (K == 3) return sin(t);
    else if constexpr (K == 4) return cos(t);
    else if constexpr (K == 5) return tan(tanh(t));
    else if constexpr (K == 6) return tanh(t);
    else if constexpr (K == 7) return sigmoid(t);
    else if constexpr (K == 8) return relu(t);
    else if constexpr (K == 9) return sqrt(t * t + 0.5);
    else if constexpr (K == 10) return abs(t);
    else if constexpr (is_tensor_v<T>) return K == 11 ? ctgrad::square(t) : t.pow(3);
    else if constexpr (K == 11) return ctgrad::expr::pow<2>(t);
    else return ctgrad::expr::pow<3>(t);
}
inline constexpr int unary_count = 13;

template <int K, class L, class R>
auto binary(const L& l, const R& r) {
    if constexpr (K == 0) return l + r;
    else if constexpr (K == 1) return l - r;
    else if constexpr (K == 2) return l * r;
    else if constexpr (K == 3) return l / (r * r + 1.0);
    else if constexpr (K == 6) return pow(sigmoid(l) + 0.5, r);
    else if constexpr (is_tensor_v<L>) return K == 4 ? ctgrad::maximum(l, r) : ctgrad::minimum(l, r);
    else if constexpr (K == 4) return max(l, r);
    else return min(l, r);
}
inline constexpr int binary_count = 7;

// splitmix64: the compile-time random source of the graphs' structure.
constexpr std::uint64_t mix(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// A random expression of depth <= D over the leaves x (array), y (array or scalar), a (scalar).
template <std::uint64_t S, int D, class X, class Y, class A>
auto random_expression(const X& x, const Y& y, const A& a) {
    constexpr std::uint64_t h = mix(S);
    if constexpr (D == 0 || h % 5 == 0) {
        constexpr int leaf = static_cast<int>((h >> 8) % 3);
        if constexpr (leaf == 0) return x;
        else if constexpr (leaf == 1) return y;
        else return a;
    } else if constexpr ((h >> 16) % 2 == 0) {
        return unary<static_cast<int>((h >> 20) % unary_count)>(random_expression<mix(S + 1), D - 1>(x, y, a));
    } else {
        return binary<static_cast<int>((h >> 20) % binary_count)>(random_expression<mix(S + 2), D - 1>(x, y, a),
                                                                  random_expression<mix(S + 3), D - 1>(x, y, a));
    }
}
// The root combines a random subgraph with x, so that every graph reads the array.
template <std::uint64_t S, class X, class Y, class A>
auto random_graph(const X& x, const Y& y, const A& a) {
    return binary<static_cast<int>((mix(S) >> 40) % binary_count)>(random_expression<mix(S + 7), 3>(x, y, a), x);
}

template <std::size_t I>
void check_random_graph() {
    constexpr std::uint64_t seed = mix(0xC7 + I);
    constexpr bool y_is_array = (seed >> 3) % 3 != 0, by_mean = (seed >> 5) % 2 == 0;
    // The length is drawn at run time: SIMD bodies, tails and single elements all occur.
    std::mt19937 rng(static_cast<std::uint32_t>(seed));
    const std::int64_t n = std::array<std::int64_t, 4>{1, 3, 8, 17}[rng() % 4];
    INFO("graph ", I, " (n = ", n, y_is_array ? ", y an array" : ", y a scalar", by_mean ? ", mean)" : ", sum)");
    std::uniform_real_distribution<double> u(-1.5, 1.5);
    std::vector<double> xs(static_cast<std::size_t>(n)), ys(y_is_array ? xs.size() : 1);
    for (auto& v : xs) v = u(rng);
    for (auto& v : ys) v = u(rng);
    const double a0 = u(rng);

    // The static layer.
    constexpr ctgrad::expr::var<"x"> x;
    constexpr ctgrad::expr::var<"y"> y;
    constexpr ctgrad::expr::var<"a"> a;
    const auto e = random_graph<seed>(x, y, a);
    const auto reduced = [&] {
        if constexpr (by_mean) return ctgrad::expr::mean(e);
        else return ctgrad::expr::sum(e);
    }();
    auto static_result = [&] {
        if constexpr (y_is_array) return ctgrad::expr::value_and_grad(reduced, ctgrad::expr::wrt(x, y, a), x = xs, y = ys, a = a0);
        else return ctgrad::expr::value_and_grad(reduced, ctgrad::expr::wrt(x, y, a), x = xs, y = ys[0], a = a0);
    }();
    const auto& [static_value, static_grads] = static_result;

    // The dynamic layer.
    const auto opts = ctgrad::dtype(ctgrad::kDouble).requires_grad(true);
    const Tensor tx = ctgrad::tensor(xs, opts);
    const Tensor ty = y_is_array ? ctgrad::tensor(ys, opts) : ctgrad::tensor(ys[0], opts);
    const Tensor ta = ctgrad::tensor(a0, opts);
    auto dynamic = [&] {
        const Tensor r = random_graph<seed>(tx, ty, ta);
        return by_mean ? r.mean() : r.sum();
    };
    const Tensor value = dynamic();
    CHECK(value.template item<double>() == doctest::Approx(static_value).epsilon(1e-12));
    const tensors g = grads_or_zeros(value, {tx, ty, ta}, Tensor(), false);
    for (std::int64_t k = 0; k < n; ++k) {
        CHECK(element(g[0], k).template item<double>() == doctest::Approx(std::get<0>(static_grads)(static_cast<std::size_t>(k))).epsilon(1e-10));
        const double fd = central_difference([&] { return dynamic().template item<double>(); }, tx, k);
        CHECK(element(g[0], k).template item<double>() == doctest::Approx(fd).epsilon(1e-7));
    }
    if constexpr (y_is_array) {
        for (std::int64_t k = 0; k < n; ++k)
            CHECK(element(g[1], k).template item<double>() == doctest::Approx(std::get<1>(static_grads)(static_cast<std::size_t>(k))).epsilon(1e-10));
    } else {
        CHECK(g[1].template item<double>() == doctest::Approx(std::get<1>(static_grads)).epsilon(1e-10));
    }
    for (std::int64_t k = 0; k < ty.numel(); ++k) {
        const double fd = central_difference([&] { return dynamic().template item<double>(); }, ty, k);
        CHECK(element(g[1], k).template item<double>() == doctest::Approx(fd).epsilon(1e-7));
    }
    CHECK(g[2].template item<double>() == doctest::Approx(std::get<2>(static_grads)).epsilon(1e-10));
    CHECK(g[2].template item<double>() == doctest::Approx(central_difference([&] { return dynamic().template item<double>(); }, ta, 0)).epsilon(1e-7));
}

template <std::size_t... I>
void check_random_graphs(std::index_sequence<I...>) {
    (check_random_graph<I>(), ...);
}

TEST_CASE("differential: 30 random expression graphs, dynamic layer == static layer == finite differences") {
    check_random_graphs(std::make_index_sequence<30>{});
}


// ------------------------------------------------------------------------------------------------
// The integer dtypes (uint8, int8, int16, int32 beside int64): promotion and values against
// PyTorch (test/reference/dtype.txt, tools/reference_dtype.py), creation, conversion, from_blob,
// the default dtype.
// ------------------------------------------------------------------------------------------------

// a op b for the arithmetic records: operands as the record spells them.
Tensor arithmetic(const std::string& op, const ctgrad_test::dtype_operand& a, const ctgrad_test::dtype_operand& b) {
    if (b.is_scalar) {
        if (op == "add") return a.tensor + b.scalar;
        if (op == "sub") return a.tensor - b.scalar;
        if (op == "mul") return a.tensor * b.scalar;
        return a.tensor / b.scalar;
    }
    if (op == "add") return ctgrad::add(a.tensor, b.tensor);
    if (op == "sub") return ctgrad::sub(a.tensor, b.tensor);
    if (op == "mul") return ctgrad::mul(a.tensor, b.tensor);
    return ctgrad::div(a.tensor, b.tensor);
}

// Integers and bools exactly; floating point results within float32's rounding.
void check_values(const Tensor& r, const std::vector<double>& expected) {
    const std::vector<double> got = values_of(r);
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (r.is_floating_point() && got[i] != expected[i]) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-6));
        else CHECK(got[i] == expected[i]);  // integers, bools, infinities (1 / 0)
    }
}

TEST_CASE("dtypes: add, sub, mul and div promote and compute as PyTorch for every pair of dtypes (dtype.txt)") {
    int checked = 0, errors = 0;
    for (const auto& r : ctgrad_test::read_dtype_records()) {
        if (r.kind != "binary" || (r.op != "add" && r.op != "sub" && r.op != "mul" && r.op != "div")) continue;
        INFO(r.op << " " << r.lhs << " " << r.rhs);
        const auto a = ctgrad_test::dtype_operand_of(r.lhs, true);
        const auto b = ctgrad_test::dtype_operand_of(r.rhs, false);
        if (r.error) {
            CHECK_THROWS_AS(arithmetic(r.op, a, b), ctgrad::Error);
            ++errors;
            continue;
        }
        const Tensor out = arithmetic(r.op, a, b);
        CHECK(ctgrad::dtype_name(out.scalar_type()) == r.to);
        check_values(out, r.values);
        ++checked;
    }
    CHECK(checked == 4 * 8 * (8 * 4 + 2 * 3) - errors);
    // `-` with a bool: 15 pairs of tensor dtypes x 4 kinds (vector, 0-d), every dtype - True (x 2
    // kinds), bool - 3 and bool - 2.5 (x 2 kinds)
    CHECK(errors == 15 * 4 + 8 * 2 + 2 * 2);
}

TEST_CASE("dtypes: promote_types is PyTorch's table; a 0-d tensor or a number counts only when of a higher category") {
    using namespace ctgrad;
    CHECK(promote_types(kByte, kChar) == kShort);
    CHECK(promote_types(kChar, kByte) == kShort);
    CHECK(promote_types(kByte, kInt) == kInt);
    CHECK(promote_types(kShort, kInt) == kInt);
    CHECK(promote_types(kInt, kLong) == kLong);
    CHECK(promote_types(kBool, kByte) == kByte);
    CHECK(promote_types(kInt, kFloat) == kFloat);
    CHECK(promote_types(kLong, kDouble) == kDouble);
    const Tensor i32 = ones({2}, kInt);
    CHECK((i32 + 1).scalar_type() == kInt);                        // an integer number keeps int32
    CHECK((i32 + 1.5).scalar_type() == kFloat);                    // a floating one: the default dtype
    CHECK((i32 + ones({}, kLong)).scalar_type() == kInt);          // a 0-d tensor of the same category
    CHECK((i32 + ones({}, kDouble)).scalar_type() == kDouble);     // ... of a higher one
    CHECK((ones({}, kByte) + ones({}, kChar)).scalar_type() == kShort);
}

TEST_CASE("dtypes: integer arithmetic wraps at the dtype's width, as PyTorch's") {
    using namespace ctgrad;
    const Tensor u8 = tensor(std::vector<std::uint8_t>{200, 10, 0});
    CHECK(values_of(u8 + 100) == std::vector<double>{44, 110, 100});
    CHECK(values_of(-u8) == std::vector<double>{56, 246, 0});
    CHECK((-u8).scalar_type() == kByte);
    const Tensor i8 = tensor(std::vector<std::int8_t>{100, -128, 7});
    CHECK(values_of(i8 * 2) == std::vector<double>{-56, 0, 14});
    CHECK(values_of(-i8) == std::vector<double>{-100, -128, -7});  // -(-128) does not fit: wraps to itself
    CHECK(values_of(i8 - 100) == std::vector<double>{0, 28, -93});
    const Tensor i32 = full({1}, 2147483647, kInt);
    CHECK(values_of(i32 + 1) == std::vector<double>{-2147483648.0});
    ctgrad_test::check_error([] { (void)(ones({2}, kInt) - ones({2}, kBool)); },
                             "sub: Subtraction, the `-` operator, with a bool tensor is not supported");
    ctgrad_test::check_error([] { (void)(ones({2}) - true); }, "with a bool tensor is not supported");
    ctgrad_test::check_error([] { (void)(ones({2}, kBool) - ones({2}, kBool)); }, "with two bool tensors is not supported");
    // integer / integer is true division, in the default dtype
    const Tensor q = tensor(std::vector<std::int16_t>{1, 7}) / tensor(std::vector<std::int16_t>{2, 2});
    CHECK(q.scalar_type() == kFloat);
    CHECK(values_of(q) == std::vector<double>{0.5, 3.5});
    // floating-point ops of integers compute in the default dtype
    CHECK(exp(ones({2}, kShort)).scalar_type() == kFloat);
}

TEST_CASE("dtypes: in-place ops keep self's dtype; a floating result is refused in an integer tensor") {
    using namespace ctgrad;
    Tensor a = tensor(std::vector<std::int16_t>{1, 2});
    a.add_(tensor(std::vector<std::int32_t>{30000, 32767}).to(kInt));  // int32 result cast back to int16
    CHECK(a.scalar_type() == kShort);
    CHECK(values_of(a) == std::vector<double>{30001, -32767});
    const std::vector<double> before = values_of(a);
    ctgrad_test::check_error([&] { a.mul_(1.5); }, "can't be cast to the desired output type Short");
    CHECK(values_of(a) == before);
}

TEST_CASE("dtypes: sum of an integer or bool tensor is int64 (dtype.txt); floating-only ops reject integers") {
    int checked = 0;
    for (const auto& r : ctgrad_test::read_dtype_records()) {
        if (r.kind != "sum") continue;
        INFO("sum of " << r.from);
        const auto t = ctgrad_test::dtype_operand_of("t:" + r.from, true).tensor;
        const Tensor s = t.sum();
        CHECK(ctgrad::dtype_name(s.scalar_type()) == r.to);
        check_values(s, r.values);
        ++checked;
    }
    CHECK(checked == 8);
    const Tensor i = ctgrad::ones({2, 3}, ctgrad::kInt);
    CHECK(i.sum(1).scalar_type() == ctgrad::kLong);
    CHECK(values_of(i.sum(1)) == std::vector<double>{3, 3});
    CHECK_THROWS_AS(ctgrad::softmax(i, 0), ctgrad::Error);
    CHECK_THROWS_AS(ctgrad::matmul(i, i.t()), ctgrad::Error);
}

TEST_CASE("dtypes: .to() converts as PyTorch: floats truncate toward zero, integers wrap (dtype.txt)") {
    const Tensor floats = ctgrad::tensor(std::vector<float>{-2.7f, -1.5f, -0.5f, 0.0f, 0.5f, 2.7f, 100.9f});
    const Tensor wide = ctgrad::tensor(std::vector<std::int64_t>{300, -1, 127, 128, -129, 65537, -40000});
    int checked = 0;
    for (const auto& r : ctgrad_test::read_dtype_records()) {
        if (r.kind != "convert") continue;
        INFO(r.from << " -> " << r.to);
        const Tensor out = (r.from == "Float" ? floats : wide).to(ctgrad_test::dtype_named(r.to));
        CHECK(ctgrad::dtype_name(out.scalar_type()) == r.to);
        check_values(out, r.values);
        ++checked;
    }
    CHECK(checked == 16);
}

TEST_CASE("dtypes: factories, tensor(), item<T> and data_ptr<T> on every integer dtype") {
    using namespace ctgrad;
    // libtorch's torch::tensor: int and int64_t values give kLong, the narrower types their own
    CHECK(tensor(std::vector<std::uint8_t>{1, 2}).scalar_type() == kByte);
    CHECK(tensor(std::vector<std::int8_t>{1, 2}).scalar_type() == kChar);
    CHECK(tensor(std::vector<std::int16_t>{1, 2}).scalar_type() == kShort);
    CHECK(tensor(std::vector<std::int32_t>{1, 2}).scalar_type() == kLong);
    CHECK(tensor({1, 2}).scalar_type() == kLong);
    CHECK(tensor({std::uint8_t{1}, std::uint8_t{2}}).scalar_type() == kByte);
    CHECK(tensor({1, 2}, kInt).scalar_type() == kInt);
    CHECK(zeros({1}, ctgrad::dtype<std::int16_t>()).scalar_type() == kShort);
    // a list mixing C++ types is refused, as libtorch refuses it
    ctgrad_test::check_error([] { (void)tensor({1, 2.5}); },
                             "Expected all elements of the tensor to have the same scalar type: Int, but got element of "
                             "scalar type: Double");
    CHECK_THROWS_AS((void)tensor({{1.5, 2.5}, {1, 2}}), Error);
    for (ScalarType d : {kByte, kChar, kShort, kInt}) {
        INFO(dtype_name(d));
        CHECK(zeros({2, 3}, d).scalar_type() == d);
        CHECK(values_of(ones({2}, d)) == std::vector<double>{1, 1});
        CHECK(values_of(full({2}, 7, d)) == std::vector<double>{7, 7});
        CHECK(empty({4}, d).scalar_type() == d);
        CHECK(empty({4}, d).element_size() == element_size(d));
        const Tensor r = arange(5, d);
        CHECK(r.scalar_type() == d);
        CHECK(values_of(r) == std::vector<double>{0, 1, 2, 3, 4});
        CHECK(r.index({3}).item<int>() == 3);
        CHECK(r.sum().item<std::int64_t>() == 10);
        CHECK_THROWS_AS((void)r.item<int>(), Error);  // five elements
        const Tensor drawn = randint(3, 9, {200}, d);
        CHECK(drawn.scalar_type() == d);
        CHECK(drawn.min().item<int>() >= 3);
        CHECK(drawn.max().item<int>() < 9);
        const Tensor permutation = randperm(6, d);
        CHECK(permutation.scalar_type() == d);
        std::vector<double> sorted = values_of(permutation);
        std::sort(sorted.begin(), sorted.end());
        CHECK(sorted == std::vector<double>{0, 1, 2, 3, 4, 5});
    }
    const Tensor u8 = tensor(std::vector<std::uint8_t>{250, 3});
    std::uint8_t* p = u8.data_ptr<std::uint8_t>();
    CHECK(p[0] == 250);
    p[1] = 9;
    CHECK(u8.index({1}).item<int>() == 9);
    CHECK(u8.index({0}).item<std::uint8_t>() == 250);
    CHECK(u8.index({0}).item().to<std::int64_t>() == 250);
    ctgrad_test::check_error([&] { (void)u8.data_ptr<std::int8_t>(); }, "expected scalar type Char but found Byte");
    CHECK(full({}, -5, kChar).item<std::int8_t>() == -5);
    CHECK(full({}, -300, kShort).item<short>() == -300);
    // the device kernels hold bool, int64, float and double only: the narrower integers stay on the CPU
    ctgrad_test::check_error([] { (void)zeros({2}, TensorOptions(kInt).device(kCUDA)); },
                             "zeros: tensors of dtype Int are supported on the CPU only, not on cuda");
    ctgrad_test::check_error([&] { (void)u8.to(kCUDA); }, "tensors of dtype Byte are supported on the CPU only");
}

TEST_CASE("dtypes: copies, views, indexing and cat work on the integer dtypes") {
    using namespace ctgrad;
    const Tensor a = arange(6, kShort).reshape({2, 3});
    CHECK(values_of(a.t().contiguous()) == std::vector<double>{0, 3, 1, 4, 2, 5});
    CHECK(a.t().contiguous().scalar_type() == kShort);
    CHECK(values_of(a.index({1})) == std::vector<double>{3, 4, 5});
    CHECK(values_of(a.clone()) == values_of(a));
    const Tensor c = cat({a, arange(3, kShort).reshape({1, 3})}, 0);
    CHECK(c.scalar_type() == kShort);
    CHECK(values_of(c) == std::vector<double>{0, 1, 2, 3, 4, 5, 0, 1, 2});
    Tensor b = zeros({2, 3}, kByte);
    b.copy_(a);
    CHECK(b.scalar_type() == kByte);
    CHECK(values_of(b) == values_of(a));
}

TEST_CASE("dtypes: only floating-point tensors can require gradients; gradients flow to a float operand of an integer one") {
    using namespace ctgrad;
    ctgrad_test::check_error([] { (void)ones({2}, kInt).requires_grad_(true); },
                             "only Tensors of floating point dtype can require gradients");
    ctgrad_test::check_error([] { (void)zeros({2}, TensorOptions(kByte).requires_grad(true)); },
                             "only Tensors of floating point dtype can require gradients");
    const Tensor weights = tensor(std::vector<std::int16_t>{3, -2, 5});
    ctgrad_test::gradcheck::check_gradient([&](const TensorList& x) { return x[0] * weights + weights; },
                                           {ctgrad_test::gradcheck::random_tensor({3}, 7)}, "float64 * int16 + int16");
    const Tensor x = ones({3}, TensorOptions(kFloat).requires_grad(true));
    const Tensor y = (x * tensor(std::vector<std::uint8_t>{1, 2, 3})).sum();
    CHECK(y.scalar_type() == kFloat);
    y.backward();
    CHECK(values_of(x.grad()) == std::vector<double>{1, 2, 3});
}

TEST_CASE("dtypes: from_blob views the caller's memory without copying; a deleter runs when the last tensor goes") {
    using namespace ctgrad;
    std::int32_t data[6] = {1, 2, 3, 4, 5, 6};
    {
        const Tensor t = from_blob(data, {2, 3}, kInt);
        CHECK(t.scalar_type() == kInt);
        CHECK(t.data_ptr<std::int32_t>() == data);
        CHECK(values_of(t) == std::vector<double>{1, 2, 3, 4, 5, 6});
        data[4] = 50;  // the tensor sees the caller's writes ...
        CHECK(t.index({1, 1}).item<int>() == 50);
        t.index({0}).fill_(0);  // ... and the caller its
        CHECK(data[0] == 0);
        CHECK(data[2] == 0);
        CHECK(data[3] == 4);
    }
    CHECK(data[5] == 6);  // not freed, not touched
    float f[6] = {0, 1, 2, 3, 4, 5};
    const Tensor columns = from_blob(f, {3, 2}, {1, 3});  // strided: the transpose of a 2 x 3 row-major array
    CHECK(columns.scalar_type() == kFloat);
    CHECK(values_of(columns) == std::vector<double>{0, 3, 1, 4, 2, 5});
    int deleted = 0;
    void* seen = nullptr;
    {
        auto* owned = new double[2]{1.5, 2.5};
        Tensor kept;
        {
            const Tensor t = from_blob(owned, {2}, [&](void* p) {
                ++deleted;
                seen = p;
                delete[] static_cast<double*>(p);
            }, kDouble);
            kept = t.view({1, 2});
        }
        CHECK(deleted == 0);  // a view still holds the memory
        CHECK(values_of(kept) == std::vector<double>{1.5, 2.5});
        CHECK(kept.data_ptr<double>() == owned);
        kept = Tensor();
        CHECK(deleted == 1);
        CHECK(seen == owned);
    }
    const Tensor grad_leaf = from_blob(f, {6}, TensorOptions(kFloat).requires_grad(true));
    CHECK(grad_leaf.requires_grad());
    ctgrad_test::check_error([&] { (void)from_blob(f, {2, 3}, {1}); }, "from_blob: got 1 strides for 2 dimensions");
    ctgrad_test::check_error([&] { (void)from_blob(f, {-1}); }, "from_blob: sizes and strides must be non-negative");
}

TEST_CASE("dtypes: set_default_dtype chooses the dtype of factories and of floating results of integers") {
    using namespace ctgrad;
    struct restore {
        ~restore() { set_default_dtype(kFloat); }
    } restore_default;
    CHECK(get_default_dtype() == kFloat);
    set_default_dtype(scalarTypeToTypeMeta(kDouble));
    CHECK(get_default_dtype() == kDouble);
    CHECK(get_default_dtype_as_scalartype() == kDouble);
    CHECK(zeros({2}).scalar_type() == kDouble);
    CHECK(tensor({1.5, 2.5}).scalar_type() == kDouble);
    CHECK(tensor({1, 2}).scalar_type() == kLong);
    CHECK(arange(0.5, 2).scalar_type() == kDouble);
    CHECK(full({1}, 2.5).scalar_type() == kDouble);
    CHECK((ones({2}, kInt) / 2).scalar_type() == kDouble);
    CHECK((ones({2}, kInt) * 0.5).scalar_type() == kDouble);
    CHECK((ones({2}, kFloat) * 0.5).scalar_type() == kFloat);
    std::ostringstream printed;
    printed << str(ones({2}, kFloat)) << " " << str(ones({2}, kDouble));  // Python's print
    CHECK(printed.str() == "tensor([1., 1.], dtype=torch.float32) tensor([1., 1.])");
    set_default_dtype(kFloat);
    CHECK(zeros({2}).scalar_type() == kFloat);
    ctgrad_test::check_error([] { set_default_dtype(kInt); },
                             "only floating-point types are supported as the default type, got Int");
    CHECK(get_default_dtype() == kFloat);
}
}  // namespace
