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

}  // namespace
