// The classification ops and dropout: softmax, log_softmax, nll_loss, cross_entropy (free
// functions, nn::functional, modules) and dropout / Dropout2d.
//  - against PyTorch (test/reference/classification.txt, tools/reference_classification.py):
//    values, gradients and second derivatives (create_graph), grad_fn names, error messages;
//  - against central finite differences (float64), first and second derivatives;
//  - dropout by its statistics (its noise is not PyTorch's bitstream), scaling, eval(),
//    whole channels for Dropout2d, gradients through the kept elements only.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <ctgrad/nn.hpp>
#include <ctgrad/tensor.hpp>

#include "../support/errors.hpp"
#include "../support/gradcheck.hpp"
#include "../support/reference.hpp"
#include "../support/values.hpp"

namespace nn = ctgrad::nn;
namespace F = ctgrad::nn::functional;
using namespace ctgrad;
using ctgrad_test::values_of;
using ctgrad_test::gradcheck::check_gradient;
using ctgrad_test::gradcheck::random_tensor;
using ctgrad_test::gradcheck::same_number;
using ctgrad_test::gradcheck::unchanged;

namespace {

using ctgrad_test::golden_case;
using ctgrad_test::golden_tensor;

const ctgrad_test::golden_tensor_file& golden() {
    static const ctgrad_test::golden_tensor_file file = ctgrad_test::read_golden_tensors("classification.txt");
    return file;
}

const golden_case& gold(const std::string& c) {
    const auto it = golden().cases.find(c);
    if (it == golden().cases.end()) throw std::runtime_error("no golden case " + c);
    return it->second;
}
bool has(const golden_case& c, const std::string& label) { return c.count(label) > 0; }

Tensor tensor_of(const golden_tensor& g, ScalarType dtype = kDouble) {
    return ctgrad_test::from_values(g.sizes, g.values, dtype);
}

void check_close(const Tensor& t, const golden_tensor& g, double rtol, double atol, const std::string& what) {
    INFO(what);
    REQUIRE(t.sizes().vec() == g.sizes);
    const std::vector<double> v = values_of(t);
    for (std::size_t i = 0; i < v.size(); ++i) {
        INFO("element " << i << ": ctgrad " << v[i] << ", PyTorch " << g.values[i]);
        CHECK(same_number(v[i], g.values[i], rtol, atol));
    }
}

// The golden message of `name`, which ctgrad's error must carry after the op's name.
void check_golden_error(const std::function<void()>& f, const std::string& name, const std::string& op) {
    const auto it = golden().errors.find(name);
    REQUIRE(it != golden().errors.end());
    ctgrad_test::check_error(f, op + ": " + it->second);
}

std::string grad_fn_name(const Tensor& t) { return t.grad_fn() ? t.grad_fn()->name() : std::string("(none)"); }

std::int64_t reduction_code(const std::string& r) {
    return r == "none" ? Reduction::None : r == "mean" ? Reduction::Mean : Reduction::Sum;
}

// value, first and (where the case has them) second derivatives of `f` against a golden case.
void check_against_golden(const std::string& c, const std::function<Tensor(const Tensor&)>& f) {
    INFO("case " << c);
    const golden_case& g = gold(c);
    const Tensor x = tensor_of(g.at("x")).requires_grad_(true);
    const Tensor out = f(x);
    check_close(out, g.at("out"), 1e-12, 1e-13, "value");
    const variable_list gx = autograd::grad({out}, {x}, {tensor_of(g.at("gout"))}, true, true);
    check_close(gx[0], g.at("gx"), 1e-11, 1e-13, "gradient");
    if (has(g, "hx")) {
        const variable_list hx = autograd::grad({(gx[0] * tensor_of(g.at("wx"))).sum()}, {x});
        check_close(hx[0], g.at("hx"), 1e-10, 1e-12, "second derivative (create_graph)");
    }
}

}  // namespace

TEST_CASE("softmax and log_softmax against PyTorch: every dim of 2-d and 3-d inputs, two derivatives") {
    for (const std::string op : {"softmax", "log_softmax"})
        for (const std::string shape : {"3x4", "2x3x4"})
            for (const std::int64_t dim : {0, 1, -1}) {
                const std::string c = "softmax/" + op + "/" + shape + "/d" + std::to_string(dim);
                const bool log = op == "log_softmax";
                check_against_golden(c, [&](const Tensor& x) { return log ? x.log_softmax(dim) : x.softmax(dim); });
                check_against_golden(c, [&](const Tensor& x) { return log ? ctgrad::log_softmax(x, dim) : ctgrad::softmax(x, dim); });
                check_against_golden(c, [&](const Tensor& x) {
                    return log ? F::log_softmax(x, F::LogSoftmaxFuncOptions(dim)) : F::softmax(x, F::SoftmaxFuncOptions(dim));
                });
                check_against_golden(c, [&](const Tensor& x) {
                    return log ? nn::LogSoftmax(dim)(x) : nn::Softmax(nn::SoftmaxOptions(dim))(x);
                });
                // float32: the same values within float rounding
                const Tensor x32 = tensor_of(gold(c).at("x"), kFloat);
                check_close(log ? x32.log_softmax(dim) : x32.softmax(dim), gold(c).at("out"), 2e-6, 1e-6, c + " float32");
                CHECK((log ? x32.log_softmax(dim) : x32.softmax(dim)).scalar_type() == kFloat);
            }
    const Tensor x = ctgrad::randn({2, 3}, ctgrad::requires_grad());
    CHECK(grad_fn_name(x.softmax(1)) == "SoftmaxBackward0");
    CHECK(grad_fn_name(x.log_softmax(0)) == "LogSoftmaxBackward0");
}

TEST_CASE("softmax with a dtype converts first; stability; 0-d and empty inputs") {
    for (const std::string op : {"softmax", "log_softmax"}) {
        const golden_case& g = gold("softmax/dtype/" + op);
        const Tensor x = tensor_of(g.at("x"), kFloat).requires_grad_(true);
        const Tensor y = op == "softmax" ? x.softmax(1, kDouble) : F::log_softmax(x, F::LogSoftmaxFuncOptions(1).dtype(kDouble));
        CHECK(y.scalar_type() == kDouble);
        check_close(y, g.at("out"), 1e-12, 1e-13, "dtype=kDouble of a float32 input");
        REQUIRE(y.grad_fn());
        CHECK(y.grad_fn()->next_edges()[0].function->name() == "ToCopyBackward0");
    }
    // Large logits: the max is subtracted first, so nothing overflows.
    const Tensor big = ctgrad::tensor({1000.0, 1001.0, 1002.0}, kDouble);
    const std::vector<double> s = values_of(big.softmax(0)), ls = values_of(big.log_softmax(0));
    const double z = 1 + std::exp(-1.0) + std::exp(-2.0);
    CHECK(s[2] == doctest::Approx(1 / z).epsilon(1e-14));
    CHECK(ls[0] == doctest::Approx(-2 - std::log(z)).epsilon(1e-14));
    CHECK(values_of(ctgrad::scalar_tensor(3.0).softmax(0)) == std::vector<double>{1.0});
    CHECK(values_of(ctgrad::scalar_tensor(3.0).log_softmax(-1)) == std::vector<double>{0.0});
    CHECK(ctgrad::zeros({2, 0}).softmax(1).sizes().vec() == std::vector<std::int64_t>{2, 0});
}

TEST_CASE("softmax and log_softmax against finite differences, first and second derivatives") {
    const Tensor x = random_tensor({2, 3, 4}, 7, -3, 3);
    for (const std::int64_t dim : {0, 1, 2, -1}) {
        check_gradient([&](const TensorList& t) { return t[0].softmax(dim); }, {x}, "softmax");
        check_gradient([&](const TensorList& t) { return t[0].log_softmax(dim); }, {x}, "log_softmax");
        for (const bool log : {false, true})
            check_gradient(
                [&](const TensorList& t) {
                    const Tensor y = log ? t[0].log_softmax(dim) : t[0].softmax(dim);
                    const Tensor w = random_tensor(y.sizes(), 3);
                    return autograd::grad({(y * w).sum()}, {t[0]}, {}, true, true)[0];
                },
                {x}, log ? "log_softmax's gradient (second derivative)" : "softmax's gradient (second derivative)", 1e-5,
                1e-5);
    }
}

TEST_CASE("nll_loss against PyTorch: weights, ignore_index, every reduction, 1-d to 4-d inputs") {
    for (const std::string reduction : {"none", "mean", "sum"})
        for (const std::string variant : {"plain", "weight", "ignore", "weight_ignore1", "spatial3d", "spatial4d", "single"}) {
            const std::string c = "nll/" + variant + "/" + reduction;
            const golden_case& g = gold(c);
            const Tensor target = tensor_of(g.at("target"), kLong);
            const Tensor weight = has(g, "weight") ? tensor_of(g.at("weight")) : Tensor();
            const std::int64_t ignore = variant == "weight_ignore1" ? 1 : -100;
            const std::int64_t r = reduction_code(reduction);
            check_against_golden(c, [&](const Tensor& x) { return ctgrad::nll_loss(x, target, weight, r, ignore); });
            if (variant != "single") {
                auto options = F::NLLLossFuncOptions().weight(weight).ignore_index(ignore);
                if (r == Reduction::None) options.reduction(ctgrad::kNone);
                if (r == Reduction::Sum) options.reduction(ctgrad::kSum);
                check_against_golden(c, [&](const Tensor& x) { return F::nll_loss(x, target, options); });
                nn::NLLLoss module(options);
                check_against_golden(c, [&](const Tensor& x) { return module(x, target); });
            }
            const Tensor x = tensor_of(g.at("x")).requires_grad_(true);
            const Tensor out = ctgrad::nll_loss(x, target, weight, r, ignore);
            const std::string expected = variant == "spatial3d" && reduction == "none" ? "ViewBackward0"
                                         : variant.rfind("spatial", 0) == 0            ? "NllLoss2DBackward0"
                                                                                       : "NllLossBackward0";
            CHECK(grad_fn_name(out) == expected);
        }
}

TEST_CASE("nll_loss: the mean divides by the weights of the targets kept; all ignored gives NaN") {
    const Tensor x = ctgrad::tensor({{-1.0, -2.0, -3.0}, {-0.5, -1.5, -2.5}}).requires_grad_(true);
    const Tensor w = ctgrad::tensor({2.0, 3.0, 5.0});
    // (2 * 1 + 5 * 2.5) / (2 + 5)
    CHECK(ctgrad::nll_loss(x, ctgrad::tensor({0L, 2L}), w).item<double>() == doctest::Approx(14.5 / 7));
    CHECK(ctgrad::nll_loss(x, ctgrad::tensor({0L, 2L}), w, Reduction::Mean, 2).item<double>() == doctest::Approx(1.0));
    const Tensor all_ignored = ctgrad::nll_loss(x, ctgrad::tensor({-100L, -100L}));
    CHECK(std::isnan(all_ignored.item<double>()));
    all_ignored.backward();
    CHECK(values_of(x.grad()) == std::vector<double>(6, 0.0));  // as PyTorch: no target, no gradient
    CHECK(ctgrad::nll_loss(x, ctgrad::tensor({-100L, -100L}), {}, Reduction::Sum).item<double>() == 0.0);
}

TEST_CASE("cross_entropy against PyTorch: class indices, label smoothing, probabilities; two derivatives") {
    for (const std::string reduction : {"none", "mean", "sum"}) {
        for (const std::string variant : {"plain", "weight", "ignore", "weight_ignore1", "spatial3d", "spatial4d", "single"})
            for (const bool smoothed : {false, true}) {
                const std::string c = "ce/" + variant + (smoothed ? "_ls0.2" : "") + "/" + reduction;
                const golden_case& g = gold(c);
                const Tensor target = tensor_of(g.at("target"), kLong);
                const Tensor weight = has(g, "weight") ? tensor_of(g.at("weight")) : Tensor();
                const std::int64_t ignore = variant == "weight_ignore1" ? 1 : -100;
                const double ls = smoothed ? 0.2 : 0.0;
                const std::int64_t r = reduction_code(reduction);
                check_against_golden(c, [&](const Tensor& x) { return ctgrad::cross_entropy(x, target, weight, r, ignore, ls); });
                auto options = F::CrossEntropyFuncOptions().weight(weight).ignore_index(ignore).label_smoothing(ls);
                if (r == Reduction::None) options.reduction(ctgrad::kNone);
                if (r == Reduction::Sum) options.reduction(ctgrad::kSum);
                check_against_golden(c, [&](const Tensor& x) { return F::cross_entropy(x, target, options); });
                nn::CrossEntropyLoss module(options);
                check_against_golden(c, [&](const Tensor& x) { return module->forward(x, target); });
            }
        for (const std::string variant : {"prob", "prob_ls0.3_weight", "prob3d"}) {
            const std::string c = "ce/" + variant + "/" + reduction;
            const golden_case& g = gold(c);
            const Tensor target = tensor_of(g.at("target"));
            const Tensor weight = has(g, "weight") ? tensor_of(g.at("weight")) : Tensor();
            const double ls = variant == "prob_ls0.3_weight" ? 0.3 : 0.0;
            check_against_golden(c, [&](const Tensor& x) {
                return ctgrad::cross_entropy(x, target, weight, reduction_code(reduction), -100, ls);
            });
        }
    }
    const Tensor x = ctgrad::randn({3, 4}, ctgrad::requires_grad());
    const Tensor loss = F::cross_entropy(x, ctgrad::tensor({0L, 3L, 1L}));
    CHECK(grad_fn_name(loss) == "NllLossBackward0");
    CHECK(loss.grad_fn()->next_edges()[0].function->name() == "LogSoftmaxBackward0");
}

TEST_CASE("nll_loss and cross_entropy against finite differences, with weights and ignored targets") {
    const Tensor x2 = random_tensor({5, 4}, 11), x3 = random_tensor({2, 4, 3}, 12);
    const Tensor t2 = ctgrad::tensor({3L, -100L, 0L, 1L, 3L}), t3 = ctgrad::tensor({{0L, 2L, -100L}, {3L, 3L, 1L}});
    const Tensor w = ctgrad::tensor({0.5, 2.0, 1.5, 0.75}, kDouble);
    for (const std::int64_t r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
        check_gradient([&](const TensorList& t) { return ctgrad::nll_loss(t[0], t2, w, r); }, {x2}, "nll_loss 2-d");
        check_gradient([&](const TensorList& t) { return ctgrad::nll_loss(t[0], t3, w, r); }, {x3}, "nll_loss 3-d");
        check_gradient([&](const TensorList& t) { return ctgrad::cross_entropy(t[0], t2, w, r); }, {x2}, "cross_entropy");
        check_gradient([&](const TensorList& t) { return ctgrad::cross_entropy(t[0], t3, {}, r, -100, 0.1); }, {x3},
                       "cross_entropy, label_smoothing 0.1");
        check_gradient([&](const TensorList& t) { return ctgrad::cross_entropy(t[0], t[1].softmax(1), w, r); },
                       {x2, random_tensor({5, 4}, 13)}, "cross_entropy with probabilities (both inputs)");
        check_gradient(
            [&](const TensorList& t) {
                const Tensor y = ctgrad::cross_entropy(t[0], t2, w, r, -100, 0.2);
                return autograd::grad({(y * random_tensor(y.sizes(), 5)).sum()}, {t[0]}, {}, true, true)[0];
            },
            {x2}, "cross_entropy's gradient (second derivative)", 1e-5, 1e-5);
    }
}

TEST_CASE("classification errors: PyTorch's messages after the op's name, inputs unchanged") {
    const Tensor x = ctgrad::randn({3, 5}, ctgrad::requires_grad());
    const Tensor t = ctgrad::tensor({1L, 10L, 2L});
    const unchanged before({x, t});
    check_golden_error([&] { ctgrad::nll_loss(x, t); }, "nll_target_out_of_bounds", "nll_loss");
    check_golden_error([&] { F::nll_loss(x, ctgrad::tensor({1L, -1L, 2L})); }, "nll_negative_target", "nll_loss");
    check_golden_error([&] { ctgrad::nll_loss(x, ctgrad::tensor({1.0, 2.0, 3.0})); }, "nll_float_target", "nll_loss");
    check_golden_error([&] { ctgrad::nll_loss(x, ctgrad::tensor({1L, 2L})); }, "nll_batch_mismatch", "nll_loss");
    check_golden_error([&] { F::nll_loss(x, ctgrad::tensor({1L, 2L})); }, "nll_batch_mismatch", "nll_loss");
    check_golden_error([&] { ctgrad::nll_loss(x, ctgrad::zeros({3, 1}, kLong)); }, "nll_2d_target", "nll_loss");
    check_golden_error([&] { ctgrad::nll_loss(ctgrad::randn({2, 3, 4}), ctgrad::zeros({2, 3}, kLong)); },
                       "nll_spatial_target", "nll_loss");
    check_golden_error([&] { ctgrad::nll_loss(x, ctgrad::tensor({1L, 2L, 3L}), ctgrad::ones({4})); }, "nll_weight_size",
                       "nll_loss");
    check_golden_error([&] { ctgrad::cross_entropy(x, t); }, "ce_target_out_of_bounds", "cross_entropy");
    check_golden_error([&] { nn::CrossEntropyLoss()(x, ctgrad::tensor({1.0, 2.0, 3.0})); }, "ce_float_target",
                       "cross_entropy");
    check_golden_error([&] { ctgrad::cross_entropy(x, ctgrad::tensor({1L, 2L, 3L}), {}, Reduction::Mean, -100, 1.5); },
                       "ce_label_smoothing", "cross_entropy");
    check_golden_error([&] { ctgrad::cross_entropy(x, ctgrad::zeros({3, 5}, kLong)); }, "ce_prob_long_target",
                       "cross_entropy");
    check_golden_error([&] { x.softmax(2); }, "softmax_dim", "softmax");
    check_golden_error([&] { nn::LogSoftmax(-3)(x); }, "log_softmax_dim", "log_softmax");
    check_golden_error([&] { ctgrad::tensor({1L, 2L}).softmax(0); }, "softmax_long", "softmax");
    check_golden_error([&] { ctgrad::tensor({1L, 2L}).log_softmax(0); }, "log_softmax_long", "log_softmax");
    check_golden_error([&] { ctgrad::tensor({{1L, 2L}}).softmax(0); }, "softmax_long_dim0", "softmax");
    check_golden_error([&] { ctgrad::dropout(x, 1.5, true); }, "dropout_p_above", "dropout");
    check_golden_error([&] { ctgrad::dropout(x, -0.1, false); }, "dropout_p_below", "dropout");
    check_golden_error([&] { ctgrad::feature_dropout(ctgrad::randn({3}), 0.5, true); }, "feature_dropout_1d",
                       "feature_dropout");
    check_golden_error([&] { ctgrad::dropout(ctgrad::tensor({1L, 2L}), 0.5, true); }, "dropout_long", "dropout");
    // libtorch's C++ F::nll_loss (not Python's) asks for a batch; ctgrad::nll_loss takes one sample.
    ctgrad_test::check_error([&] { F::nll_loss(ctgrad::randn({5}), ctgrad::tensor(1L)); },
                             "nll_loss: Expected 2 or more dimensions (got 1)");
    ctgrad_test::check_error([&] { ctgrad::nll_loss(x, t, {}, 7); }, "nll_loss: 7 is not a valid value for reduction");
    ctgrad_test::check_error([&] { nn::Dropout(1.5); }, "Dropout: dropout probability has to be between 0 and 1, but got 1.5");
    ctgrad_test::check_error([&] { nn::Dropout2d(nn::Dropout2dOptions(-1)); },
                             "Dropout2d: dropout probability has to be between 0 and 1, but got -1");
    before.check();
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("dropout: the fraction zeroed, the scaling, eval() and the gradient") {
    // 100000 elements, p = 0.3: the zeroed fraction has standard deviation sqrt(p (1 - p) / n)
    // = 0.00145; 0.01 is about 7 of them (a false failure has probability below 1e-11, and the
    // seed fixes the draw anyway).
    ctgrad::manual_seed(3);
    const double p = 0.3;
    const Tensor x = (ctgrad::rand({100, 1000}) + 1).requires_grad_(true);  // no zeros of its own
    const Tensor y = ctgrad::dropout(x, p, true);
    CHECK(grad_fn_name(y) == "MulBackward0");
    const std::vector<double> xv = values_of(x), yv = values_of(y);
    std::int64_t zeroed = 0;
    bool scaled = true;
    for (std::size_t i = 0; i < xv.size(); ++i) {
        if (yv[i] == 0) ++zeroed;
        else scaled = scaled && std::abs(yv[i] - xv[i] / (1 - p)) <= 1e-6 * yv[i];
    }
    CHECK(scaled);
    CHECK(std::abs(static_cast<double>(zeroed) / 1e5 - p) < 0.01);
    // The gradient of sum(y): 1 / (1 - p) where kept, 0 where dropped.
    y.sum().backward();
    const std::vector<double> gx = values_of(x.grad());
    bool follows = true;
    for (std::size_t i = 0; i < gx.size(); ++i)
        follows = follows && (yv[i] == 0 ? gx[i] == 0 : std::abs(gx[i] - 1 / (1 - p)) < 1e-6);
    CHECK(follows);

    // The same seed, the same elements; p = 0, eval mode and empty inputs give the input itself.
    ctgrad::manual_seed(3);
    const Tensor again = ctgrad::rand({100, 1000}) + 1;
    CHECK(ctgrad::dropout(again, p, true).equal(y.detach()));
    CHECK(ctgrad::dropout(x, 0.0, true).is_same(x));
    CHECK(ctgrad::dropout(x, 0.5, false).is_same(x));
    CHECK(values_of(ctgrad::dropout(x, 1.0, true)) == std::vector<double>(100000, 0.0));

    nn::Dropout drop(0.5);
    CHECK(drop->is_training());
    const Tensor small = ctgrad::ones({4, 50});
    const std::vector<double> trained = values_of(drop(small));
    for (double v : trained) CHECK((v == 0.0 || v == 2.0));
    drop->eval();
    CHECK(drop(small).is_same(small));
    CHECK(F::dropout(small, F::DropoutFuncOptions().p(0.5).training(false)).is_same(small));
    std::ostringstream printed;
    printed << *drop;
    CHECK(printed.str() == "ctgrad::nn::Dropout(p=0.5, inplace=false)");

    // In place: the input itself holds the result.
    Tensor target = ctgrad::ones({1000});
    nn::Dropout inplace(nn::DropoutOptions(0.25).inplace(true));
    const Tensor r = inplace(target);
    const std::vector<double> tv = values_of(target);
    CHECK(tv == values_of(r));
    std::int64_t kept = 0;
    for (double v : tv) {
        CHECK((v == 0.0 || std::abs(v - 4.0 / 3.0) < 1e-6));
        kept += v != 0.0;
    }
    CHECK(kept > 650);  // 750 expected, standard deviation 13.7
    CHECK(kept < 850);
}

TEST_CASE("Dropout2d zeroes whole channels of [N, C, H, W] and [C, H, W]") {
    ctgrad::manual_seed(5);
    nn::Dropout2d drop(0.4);
    // 200 x 50 channels: the fraction dropped has standard deviation sqrt(0.24 / 10000) = 0.0049;
    // 0.03 is about 6 of them.
    const Tensor x = ctgrad::ones({200, 50, 3, 2}).requires_grad_(true);
    const Tensor y = drop(x);
    CHECK(y.sizes().vec() == x.sizes().vec());
    const std::vector<double> v = values_of(y);
    std::int64_t dropped = 0;
    bool whole = true;
    for (std::size_t c = 0; c < 200 * 50; ++c) {
        const double first = v[c * 6];
        CHECK((first == 0.0 || std::abs(first - 1 / 0.6) < 1e-6));
        for (std::size_t k = 1; k < 6; ++k) whole = whole && v[c * 6 + k] == first;
        dropped += first == 0.0;
    }
    CHECK(whole);
    CHECK(std::abs(static_cast<double>(dropped) / 1e4 - 0.4) < 0.03);
    y.sum().backward();
    CHECK(values_of(x.grad()) == values_of(y));  // d sum(y) / dx is the noise, which y equals here

    const Tensor unbatched = ctgrad::ones({64, 4, 4});
    const std::vector<double> u = values_of(drop(unbatched));
    for (std::size_t c = 0; c < 64; ++c)
        for (std::size_t k = 1; k < 16; ++k) CHECK(u[c * 16 + k] == u[c * 16]);
    CHECK(drop(unbatched).sizes().vec() == std::vector<std::int64_t>{64, 4, 4});
    drop->eval();
    CHECK(drop(unbatched).equal(unbatched));  // a view of it (libtorch squeezes the batch dim back off)
    std::ostringstream printed;
    printed << *drop;
    CHECK(printed.str() == "ctgrad::nn::Dropout2d(p=0.4, inplace=false)");
    // feature_dropout's noise is [N, C, 1, ...]: whole rows of a [N, C, L] input.
    const std::vector<double> rows = values_of(ctgrad::feature_dropout(ctgrad::ones({30, 20, 5}), 0.5, true));
    for (std::size_t r = 0; r < 600; ++r)
        for (std::size_t k = 1; k < 5; ++k) CHECK(rows[r * 5 + k] == rows[r * 5]);
}

TEST_CASE("the new modules: names, options, buffers, Sequential") {
    nn::NLLLoss plain;
    CHECK(plain->named_buffers().size() == 0);  // an undefined weight is no buffer
    nn::CrossEntropyLoss weighted(nn::CrossEntropyLossOptions().weight(ctgrad::ones({3})).label_smoothing(0.1));
    CHECK(weighted->named_buffers().size() == 1);
    CHECK(weighted->named_buffers().contains("weight"));
    std::ostringstream printed;
    printed << *weighted << " " << *plain << " " << *nn::Softmax(1) << " " << *nn::LogSoftmax(nn::LogSoftmaxOptions(0));
    CHECK(printed.str() == "ctgrad::nn::CrossEntropyLoss() ctgrad::nn::NLLLoss() ctgrad::nn::Softmax(dim=1) "
                           "ctgrad::nn::LogSoftmax(dim=0)");
    // mnist's head: ... -> log_softmax -> nll_loss equals cross_entropy on the logits.
    ctgrad::manual_seed(0);
    nn::Sequential head(nn::Linear(6, 4), nn::Dropout(0.5), nn::LogSoftmax(1));
    head->eval();
    const Tensor input = ctgrad::randn({8, 6});
    const Tensor target = ctgrad::randint(4, {8});
    const Tensor a = F::nll_loss(head->forward(input), target);
    const Tensor logits = head->ptr(0)->as<nn::Linear>()->forward(input);
    CHECK(a.item<float>() == doctest::Approx(F::cross_entropy(logits, target).item<float>()).epsilon(1e-6));
}
