// ctgrad::nn: modules, holders, layers, losses, init and save/load.
//  - against PyTorch (test/reference/nn.txt, tools/reference_nn.py): initialisers after
//    manual_seed (bit for bit), Linear's forward and gradients, the seed2_step5 training step,
//    every loss x reduction (values, both gradients, mse's second derivative); LeakyReLU,
//    BatchNorm1d/2d (outputs, gradients, running statistics over steps, second order),
//    Embedding (tables after manual_seed, padding_idx, scale_grad_by_freq, max_norm), the
//    binary cross-entropies (every reduction, weight, pos_weight, second order) and
//    ConvTranspose2d (init, outputs, gradients, second order);
//  - against central finite differences (float64): Linear, every loss and the layers above;
//  - the module API (names, order, modes, zero_grad, to, reset), holders, Sequential, Functional, save/load with
//    bad files, a user module written like the seeds' Polynomial3, and error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
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
using ctgrad::Tensor;
using ctgrad_test::values_of;

namespace {

using ctgrad_test::golden_case;
using ctgrad_test::golden_tensor;

const std::map<std::string, golden_case>& golden() {
    static const ctgrad_test::golden_tensor_file file = ctgrad_test::read_golden_tensors("nn.txt");
    return file.cases;
}

const golden_tensor& gold(const std::string& c, const std::string& label) {
    const auto& cs = golden().at(c);
    return cs.at(label);
}

Tensor tensor_of(const golden_tensor& g, ctgrad::ScalarType dtype = ctgrad::kDouble, bool requires_grad = false) {
    Tensor t = ctgrad::empty(g.sizes, ctgrad::TensorOptions().dtype(ctgrad::kDouble));
    std::copy(g.values.begin(), g.values.end(), t.data_ptr<double>());
    t = t.to(dtype);
    if (requires_grad) t.requires_grad_();
    return t;
}

void check_close(const Tensor& t, const golden_tensor& g, double rtol, double atol, const std::string& what) {
    INFO(what);
    REQUIRE(t.sizes().vec() == g.sizes);
    const auto v = values_of(t);
    for (std::size_t i = 0; i < v.size(); ++i)
        CHECK_MESSAGE(std::abs(v[i] - g.values[i]) <= atol + rtol * std::abs(g.values[i]),
                      "element ", i, ": ", v[i], " vs ", g.values[i]);
}

void check_equal(const Tensor& t, const golden_tensor& g, const std::string& what) { check_close(t, g, 0, 0, what); }

// Central differences of a scalar function of `inputs` (float64) against autograd's gradients.
void check_finite_differences(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                              double tol = 1e-6) {
    for (auto& x : inputs) x.requires_grad_();
    const Tensor out = f(inputs);
    const auto grads = ctgrad::autograd::grad({out}, inputs);
    ctgrad::NoGradGuard no_grad;
    const double h = 1e-6;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        double* p = inputs[k].data_ptr<double>();
        const auto analytic = values_of(grads[k]);
        for (std::int64_t i = 0; i < inputs[k].numel(); ++i) {
            const double saved = p[i];
            p[i] = saved + h;
            const double up = f(inputs).item<double>();
            p[i] = saved - h;
            const double down = f(inputs).item<double>();
            p[i] = saved;
            const double numeric = (up - down) / (2 * h);
            CHECK_MESSAGE(std::abs(numeric - analytic[static_cast<std::size_t>(i)]) <= tol * (1 + std::abs(numeric)),
                          "input ", k, " element ", i, ": numeric ", numeric, " analytic ",
                          analytic[static_cast<std::size_t>(i)]);
        }
    }
}

std::string temp_path(const std::string& name) { return "/tmp/ctgrad_test_nn_" + name; }

}  // namespace

// --- init ---------------------------------------------------------------------------------------

TEST_CASE("init: the initialisers give PyTorch's values after manual_seed, bit for bit") {
    struct init_case {
        const char* name;
        std::uint64_t seed;
        std::vector<std::int64_t> shape;
        std::function<void(Tensor)> f;
    };
    const std::vector<init_case> cases = {
        {"kaiming_uniform", 1, {5, 4}, [](Tensor t) { nn::init::kaiming_uniform_(t); }},
        {"kaiming_uniform_a", 1, {5, 4}, [](Tensor t) { nn::init::kaiming_uniform_(t, std::sqrt(5.0)); }},
        {"kaiming_normal_fan_out_relu", 2, {6, 3},
         [](Tensor t) { nn::init::kaiming_normal_(t, 0, ctgrad::kFanOut, ctgrad::kReLU); }},
        {"kaiming_uniform_conv", 7, {4, 3, 2, 2}, [](Tensor t) { nn::init::kaiming_uniform_(t, 0.1); }},
        {"xavier_uniform_gain2", 3, {4, 7}, [](Tensor t) { nn::init::xavier_uniform_(t, 2.0); }},
        {"xavier_normal", 4, {3, 5}, [](Tensor t) { nn::init::xavier_normal_(t); }},
        {"uniform", 5, {7}, [](Tensor t) { nn::init::uniform_(t, -2.0, 3.0); }},
        {"normal", 6, {2, 3}, [](Tensor t) { nn::init::normal_(t, 1.0, 0.5); }},
    };
    for (const auto& c : cases) {
        ctgrad::manual_seed(c.seed);
        Tensor t = ctgrad::empty(c.shape);
        c.f(t);
        check_equal(t, gold(std::string("init/") + c.name, "out"), c.name);
    }
}

TEST_CASE("init: Linear(3, 1) and Linear(4, 5) after manual_seed(0) are PyTorch's") {
    for (auto [in, out] : {std::pair<int, int>{3, 1}, {4, 5}}) {
        ctgrad::manual_seed(0);
        nn::Linear lin(in, out);
        const std::string c = "linear/" + std::to_string(in) + "x" + std::to_string(out);
        check_equal(lin->weight, gold(c, "weight"), c + " weight");
        check_equal(lin->bias, gold(c, "bias"), c + " bias");
        CHECK(lin->weight.is_leaf());
        CHECK(lin->weight.requires_grad());
        CHECK(lin->bias.requires_grad());
    }
}

TEST_CASE("init: gains, fans, constants and errors") {
    CHECK(nn::init::calculate_gain(ctgrad::kLinear) == 1);
    CHECK(nn::init::calculate_gain(ctgrad::kSigmoid) == 1);
    CHECK(nn::init::calculate_gain(ctgrad::kTanh) == doctest::Approx(5.0 / 3));
    CHECK(nn::init::calculate_gain(ctgrad::kReLU) == doctest::Approx(std::sqrt(2.0)));
    CHECK(nn::init::calculate_gain(ctgrad::kLeakyReLU, 0.2) == doctest::Approx(std::sqrt(2.0 / 1.04)));
    CHECK(nn::init::calculate_gain(ctgrad::kSELU) == 0.75);
    const auto [fan_in, fan_out] = nn::init::calculate_fan_in_and_fan_out(ctgrad::empty({4, 3, 2, 5}));
    CHECK(fan_in == 30);
    CHECK(fan_out == 40);
    CTGRAD_CHECK_ERROR(nn::init::xavier_uniform_(ctgrad::empty({3})),
                       "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
    Tensor t = ctgrad::empty({2, 2}, ctgrad::requires_grad());
    nn::init::constant_(t, 2.5);
    CHECK(values_of(t) == std::vector<double>{2.5, 2.5, 2.5, 2.5});
    nn::init::zeros_(t);
    CHECK(values_of(t) == std::vector<double>{0, 0, 0, 0});
    nn::init::ones_(t);
    CHECK(values_of(t) == std::vector<double>{1, 1, 1, 1});
    CHECK(t.is_leaf());
    Tensor empty = ctgrad::empty({0, 3});
    CHECK(nn::init::kaiming_uniform_(empty).numel() == 0);  // PyTorch: a no-op
}

// --- Linear ---------------------------------------------------------------------------------------

TEST_CASE("Linear: forward and gradients match PyTorch for 1-d, 2-d and 3-d inputs") {
    const std::map<std::string, std::string> grad_fn = {
        {"2d", "AddmmBackward0"}, {"1d", "AddBackward0"}, {"3d", "ViewBackward0"}};
    for (const auto& [variant, name] : grad_fn) {
        const std::string c = "fwd/" + variant;
        nn::Linear lin(3, 4);
        lin->to(ctgrad::kDouble);
        {
            ctgrad::NoGradGuard no_grad;
            lin->weight.copy_(tensor_of(gold(c, "w")));
            lin->bias.copy_(tensor_of(gold(c, "b")));
        }
        const Tensor x = tensor_of(gold(c, "x"), ctgrad::kDouble, true);
        const Tensor y = lin(x);
        CHECK(y.grad_fn()->name() == name);
        check_close(y, gold(c, "out"), 1e-12, 1e-12, c + " out");
        y.backward(tensor_of(gold(c, "gout")));
        check_close(x.grad(), gold(c, "gx"), 1e-12, 1e-12, c + " gx");
        check_close(lin->weight.grad(), gold(c, "gw"), 1e-12, 1e-12, c + " gw");
        check_close(lin->bias.grad(), gold(c, "gb"), 1e-12, 1e-12, c + " gb");
    }
}

TEST_CASE("Linear: finite differences, with and without bias, and second order through addmm") {
    ctgrad::manual_seed(3);
    const auto opts = ctgrad::TensorOptions().dtype(ctgrad::kDouble);
    check_finite_differences(
        [](const std::vector<Tensor>& v) { return (F::linear(v[0], v[1], v[2]).sin()).sum(); },
        {ctgrad::randn({5, 3}, opts), ctgrad::randn({2, 3}, opts), ctgrad::randn({2}, opts)});
    check_finite_differences([](const std::vector<Tensor>& v) { return (F::linear(v[0], v[1]).tanh()).sum(); },
                             {ctgrad::randn({4, 3}, opts), ctgrad::randn({2, 3}, opts)});
    check_finite_differences(
        [](const std::vector<Tensor>& v) { return ctgrad::addmm(v[0], v[1], v[2], 0.5, 2.0).square().sum(); },
        {ctgrad::randn({1, 2}, opts), ctgrad::randn({3, 4}, opts), ctgrad::randn({4, 2}, opts)});
    // d/dx sum(x W^T + b)^2 differentiated again: the backward of addmm is made of products.
    Tensor x = ctgrad::randn({3, 2}, opts.requires_grad(true));
    Tensor w = ctgrad::randn({2, 2}, opts.requires_grad(true));
    Tensor b = ctgrad::randn({2}, opts.requires_grad(true));
    const Tensor y = F::linear(x, w, b).square().sum();
    const auto gx = ctgrad::autograd::grad({y}, {x}, {}, true, true)[0];
    const auto hw = ctgrad::autograd::grad({gx.sum()}, {b})[0];
    // d/db sum_ij 2 (x W^T + b)_ik W_kj = 2 * rows * sum_j W_kj for each k
    const auto wv = values_of(w);
    CHECK(values_of(hw)[0] == doctest::Approx(2 * 3 * (wv[0] + wv[1])));
    CHECK(values_of(hw)[1] == doctest::Approx(2 * 3 * (wv[2] + wv[3])));
}

TEST_CASE("Linear: options, printing and a wrong input width") {
    nn::Linear lin(nn::LinearOptions(3, 2).bias(false));
    CHECK_FALSE(lin->bias.defined());
    CHECK(lin->parameters().size() == 1);
    std::ostringstream s;
    s << lin;
    CHECK(s.str() == "ctgrad::nn::Linear(in_features=3, out_features=2, bias=false)");
    nn::Linear lin1(3, 1);
    CTGRAD_CHECK_ERROR(lin1(ctgrad::ones({2000, 2})), "mat1 and mat2 shapes cannot be multiplied (2000x2 and 3x1)");
    CTGRAD_CHECK_ERROR(lin1(ctgrad::ones({2, 5, 2})), "mat1 and mat2 shapes cannot be multiplied (10x2 and 3x1)");
}

// --- the seed's model ---------------------------------------------------------------------------

TEST_CASE("Sequential: the seed2_step5 step (Linear(3,1), Flatten(0,1), MSELoss(sum)) is PyTorch's") {
    ctgrad::manual_seed(0);
    const Tensor x = ctgrad::linspace(-M_PI, M_PI, 2000);
    const Tensor y = ctgrad::sin(x);
    const Tensor xx = ctgrad::stack({x, x.pow(2), x.pow(3)}, 1);
    nn::Sequential model(nn::Linear(3, 1), nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1)));
    nn::MSELoss loss_fn(nn::MSELossOptions().reduction(ctgrad::kSum));
    auto* linear = model[0]->as<nn::Linear>();
    REQUIRE(linear != nullptr);
    check_equal(linear->weight, gold("seed/step5", "w0"), "w0");
    check_equal(linear->bias, gold("seed/step5", "b0"), "b0");
    const Tensor y_pred = model(xx);
    CHECK(y_pred.sizes().vec() == std::vector<std::int64_t>{2000});
    const Tensor loss = loss_fn(y_pred, y);
    CHECK(loss.grad_fn()->name() == "MseLossBackward0");
    check_close(loss, gold("seed/step5", "loss"), 1e-5, 0, "loss");
    model->zero_grad();
    loss.backward();
    check_close(linear->weight.grad(), gold("seed/step5", "gw"), 1e-4, 1e-3, "gw");
    check_close(linear->bias.grad(), gold("seed/step5", "gb"), 1e-4, 1e-3, "gb");
    {
        ctgrad::NoGradGuard no_grad;
        for (auto& p : model->parameters()) p -= 1e-6 * p.grad();
    }
    check_close(linear->weight, gold("seed/step5", "w1"), 1e-6, 1e-7, "w1");
    check_close(linear->bias, gold("seed/step5", "b1"), 1e-6, 1e-7, "b1");
    CHECK(linear->weight.is_leaf());
    // a second step's zero_grad zeroes the gradients in place
    const Tensor g = linear->weight.grad();
    model->zero_grad();
    CHECK(linear->weight.grad().is_same(g));
    CHECK(values_of(g) == std::vector<double>{0, 0, 0});
}

// --- losses ---------------------------------------------------------------------------------------

namespace {
Tensor loss_by_name(const std::string& name, const Tensor& a, const Tensor& b, std::int64_t r) {
    if (name == "mse") return ctgrad::mse_loss(a, b, r);
    if (name == "l1") return ctgrad::l1_loss(a, b, r);
    if (name == "smooth_l1") return ctgrad::smooth_l1_loss(a, b, r);
    if (name == "smooth_l1_beta0.5") return ctgrad::smooth_l1_loss(a, b, r, 0.5);
    if (name == "huber") return ctgrad::huber_loss(a, b, r);
    return ctgrad::huber_loss(a, b, r, 0.7);
}
const char* loss_node(const std::string& name, std::int64_t r) {
    if (name == "mse") return "MseLossBackward0";
    if (name == "l1") return r == ctgrad::Reduction::None ? "AbsBackward0" : r == ctgrad::Reduction::Mean ? "MeanBackward0" : "SumBackward0";
    if (name.rfind("smooth_l1", 0) == 0) return "SmoothL1LossBackward0";
    return "HuberLossBackward0";
}
}  // namespace

TEST_CASE("losses: every loss x reduction, values and gradients of both operands vs PyTorch") {
    const std::vector<std::string> names = {"mse", "l1", "smooth_l1", "smooth_l1_beta0.5", "huber", "huber_delta0.7"};
    const std::vector<std::pair<std::string, std::int64_t>> reductions = {
        {"none", ctgrad::Reduction::None}, {"mean", ctgrad::Reduction::Mean}, {"sum", ctgrad::Reduction::Sum}};
    int cases = 0;
    for (const auto& name : names)
        for (const auto& [rname, r] : reductions)
            for (const std::string suffix : {"", "/bcast"}) {
                const std::string c = "loss/" + name + "/" + rname + suffix;
                const Tensor a = tensor_of(gold(c, "a"), ctgrad::kDouble, true);
                const Tensor b = tensor_of(gold(c, "b"), ctgrad::kDouble, true);
                const Tensor out = loss_by_name(name, a, b, r);
                CHECK_MESSAGE(out.grad_fn()->name() == loss_node(name, r), c);
                check_close(out, gold(c, "out"), 1e-12, 1e-12, c + " out");
                const Tensor gout = tensor_of(gold(c, "gout"));
                const auto g = ctgrad::autograd::grad({out}, {a, b}, {gout});
                check_close(g[0], gold(c, "ga"), 1e-12, 1e-12, c + " ga");
                check_close(g[1], gold(c, "gb"), 1e-12, 1e-12, c + " gb");
                // the same gradients through the create_graph (tensor-op) path
                const Tensor out2 = loss_by_name(name, a, b, r);
                const auto g2 = ctgrad::autograd::grad({out2}, {a, b}, {gout}, true, true);
                check_close(g2[0], gold(c, "ga"), 1e-12, 1e-12, c + " ga (create_graph)");
                check_close(g2[1], gold(c, "gb"), 1e-12, 1e-12, c + " gb (create_graph)");
                if (name == "mse") {
                    const Tensor wa = tensor_of(gold(c, "wa"));
                    const auto ha = ctgrad::autograd::grad({(g2[0] * wa).sum()}, {a})[0];
                    check_close(ha, gold(c, "ha"), 1e-12, 1e-12, c + " ha");
                }
                ++cases;
            }
    CHECK(cases == 36);
}

TEST_CASE("losses: finite differences in float64, float32 forms, modules and functional forms") {
    ctgrad::manual_seed(9);
    const auto opts = ctgrad::TensorOptions().dtype(ctgrad::kDouble);
    for (const std::string name : {"mse", "l1", "smooth_l1", "smooth_l1_beta0.5", "huber", "huber_delta0.7"})
        for (std::int64_t r : {0, 1, 2}) {
            INFO(name, " reduction ", r);
            check_finite_differences(
                [&](const std::vector<Tensor>& v) { return loss_by_name(name, v[0], v[1], r).sin().sum(); },
                {ctgrad::randn({4, 3}, opts) * 2, ctgrad::randn({3}, opts) * 2});
        }
    // float32: the fused passes against the float64 values
    const Tensor a = ctgrad::randn({1000}), b = ctgrad::randn({1000});
    for (std::int64_t r : {1, 2}) {
        const double expect = ctgrad::mse_loss(a.to(ctgrad::kDouble), b.to(ctgrad::kDouble), r).item<double>();
        CHECK(ctgrad::mse_loss(a, b, r).item<float>() == doctest::Approx(expect).epsilon(1e-5));
    }
    // modules and functional forms give the free functions' values
    CHECK(nn::MSELoss()(a, b).item<float>() == ctgrad::mse_loss(a, b).item<float>());
    CHECK(nn::MSELoss(ctgrad::kSum)(a, b).item<float>() == ctgrad::mse_loss(a, b, ctgrad::Reduction::Sum).item<float>());
    CHECK(nn::L1Loss(nn::L1LossOptions().reduction(ctgrad::kSum))(a, b).item<float>() ==
          ctgrad::l1_loss(a, b, ctgrad::Reduction::Sum).item<float>());
    CHECK(nn::SmoothL1Loss(nn::SmoothL1LossOptions().beta(0.3))(a, b).item<float>() ==
          ctgrad::smooth_l1_loss(a, b, ctgrad::Reduction::Mean, 0.3).item<float>());
    CHECK(nn::HuberLoss(nn::HuberLossOptions().delta(0.4).reduction(ctgrad::kNone))(a, b).sizes().vec() ==
          std::vector<std::int64_t>{1000});
    CHECK(F::mse_loss(a, b, F::MSELossFuncOptions(ctgrad::kSum)).item<float>() ==
          ctgrad::mse_loss(a, b, ctgrad::Reduction::Sum).item<float>());
    CHECK(F::huber_loss(a, b, F::HuberLossFuncOptions().delta(0.5)).item<float>() ==
          ctgrad::huber_loss(a, b, ctgrad::Reduction::Mean, 0.5).item<float>());
    // a float input and a double target compute in double, as PyTorch
    CHECK(ctgrad::mse_loss(a, b.to(ctgrad::kDouble)).scalar_type() == ctgrad::kDouble);
    std::ostringstream s;
    s << nn::MSELoss() << " " << nn::SmoothL1Loss();
    CHECK(s.str() == "ctgrad::nn::MSELoss() ctgrad::nn::SmoothL1Loss");
}

TEST_CASE("losses: errors name the op and the shapes, and nothing is recorded") {
    const Tensor a = ctgrad::ones({3}, ctgrad::requires_grad()), b = ctgrad::ones({4});
    CTGRAD_CHECK_ERROR(ctgrad::mse_loss(a, b),
                       "mse_loss: The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0");
    CTGRAD_CHECK_ERROR(ctgrad::l1_loss(a, b), "l1_loss: The size of tensor a (3)");
    CTGRAD_CHECK_ERROR(ctgrad::smooth_l1_loss(a, b), "smooth_l1_loss: The size of tensor a (3)");
    CTGRAD_CHECK_ERROR(ctgrad::huber_loss(a, b), "huber_loss: The size of tensor a (3)");
    CTGRAD_CHECK_ERROR(ctgrad::smooth_l1_loss(a, a, 1, -1.0), "smooth_l1_loss does not support negative values for beta.");
    CTGRAD_CHECK_ERROR(ctgrad::huber_loss(a, a, 1, 0.0), "huber_loss does not support non-positive values for delta.");
    CTGRAD_CHECK_ERROR(ctgrad::mse_loss(a, a, 7), "mse_loss: 7 is not a valid value for reduction");
    CTGRAD_CHECK_ERROR(ctgrad::mse_loss(ctgrad::ones({2}, ctgrad::kLong), ctgrad::ones({2}, ctgrad::kLong)),
                       "\"mse_loss\" not implemented for 'Long'");
    CHECK_FALSE(a.grad().defined());
}

// --- modules --------------------------------------------------------------------------------------

namespace {
// A model written like the seeds' Polynomial3 (seed2_step7_module.py).
struct Polynomial3Impl : nn::Module {
    Polynomial3Impl() {
        a = register_parameter("a", ctgrad::randn({}));
        b = register_parameter("b", ctgrad::randn({}));
        c = register_parameter("c", ctgrad::randn({}));
        d = register_parameter("d", ctgrad::randn({}));
    }
    Tensor forward(const Tensor& x) { return a + b * x + c * x.pow(2) + d * x.pow(3); }
    Tensor a, b, c, d;
};
CTGRAD_MODULE(Polynomial3);

// Nested modules with a buffer, for names and order.
struct BlockImpl : nn::Module {
    BlockImpl() {
        scale = register_parameter("scale", ctgrad::ones({2}));
        count = register_buffer("count", ctgrad::zeros({1}, ctgrad::kLong));
        inner = register_module("inner", nn::Linear(2, 2));
    }
    Tensor forward(const Tensor& x) { return inner(x) * scale; }
    Tensor scale, count;
    nn::Linear inner{nullptr};
};
TORCH_MODULE(Block);

struct NetImpl : nn::Module {
    NetImpl() {
        first = register_module("first", nn::Linear(3, 2));
        block = register_module("block", Block());
        seq = register_module("seq", nn::Sequential(nn::Tanh(), nn::Linear(2, 1), nn::Sigmoid()));
        bias = register_parameter("bias", ctgrad::zeros({1}));
    }
    Tensor forward(const Tensor& x) { return seq(block(first(x))) + bias; }
    nn::Linear first{nullptr};
    Block block{nullptr};
    nn::Sequential seq{nullptr};
    Tensor bias;
};
CTGRAD_MODULE(Net);
}  // namespace

TEST_CASE("Module: a Polynomial3-style user module reads and trains like the seed") {
    ctgrad::manual_seed(0);
    Polynomial3 model;
    CHECK(model->parameters().size() == 4);
    CHECK(model->named_parameters().keys() == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK(model->name() == "(anonymous namespace)::Polynomial3Impl");
    const Tensor x = ctgrad::linspace(-1, 1, 50), y = ctgrad::sin(x);
    auto loss_fn = nn::MSELoss(nn::MSELossOptions(ctgrad::kSum));
    double first = 0, last = 0;
    for (int t = 0; t < 50; ++t) {
        const Tensor loss = loss_fn(model(x), y);
        if (t == 0) first = loss.item<double>();
        last = loss.item<double>();
        model->zero_grad();
        loss.backward();
        ctgrad::NoGradGuard no_grad;
        for (auto& p : model->parameters()) p -= 1e-3 * p.grad();
    }
    CHECK(last < first);
    CHECK(model->forward(x).sizes().vec() == std::vector<std::int64_t>{50});
}

TEST_CASE("Module: names and order of parameters, buffers and modules; printing") {
    Net net;
    CHECK(net->named_parameters().keys() ==
          std::vector<std::string>{"bias", "first.weight", "first.bias", "block.scale", "block.inner.weight",
                                   "block.inner.bias", "seq.1.weight", "seq.1.bias"});
    CHECK(net->parameters(false).size() == 1);
    CHECK(net->named_buffers().keys() == std::vector<std::string>{"block.count"});
    CHECK(net->named_children().keys() == std::vector<std::string>{"first", "block", "seq"});
    CHECK(net->named_modules().keys() == std::vector<std::string>{"", "first", "block", "block.inner", "seq", "seq.0",
                                                                  "seq.1", "seq.2"});
    CHECK(net->modules(false).size() == 7);
    CHECK(net->children().size() == 3);
    CHECK(net->named_parameters()["block.scale"].is_same(net->block->scale));
    CHECK(net->named_parameters().find("nope") == nullptr);
    CTGRAD_CHECK_ERROR(net->named_parameters()["nope"], "Parameter 'nope' is not defined");
    std::ostringstream s;
    s << net;
    CHECK(s.str() ==
          "(anonymous namespace)::NetImpl(\n"
          "  (first): ctgrad::nn::Linear(in_features=3, out_features=2, bias=true)\n"
          "  (block): (anonymous namespace)::BlockImpl(\n"
          "    (inner): ctgrad::nn::Linear(in_features=2, out_features=2, bias=true)\n"
          "  )\n"
          "  (seq): ctgrad::nn::Sequential(\n"
          "    (0): ctgrad::nn::Tanh()\n"
          "    (1): ctgrad::nn::Linear(in_features=2, out_features=1, bias=true)\n"
          "    (2): ctgrad::nn::Sigmoid()\n"
          "  )\n"
          ")");
    int items = 0;
    for (const auto& item : net->named_parameters()) items += item.value().defined() && !item.key().empty();
    CHECK(items == 8);
}

TEST_CASE("Module: train/eval, zero_grad, to(dtype), registration errors") {
    Net net;
    CHECK(net->is_training());
    net->eval();
    CHECK_FALSE(net->is_training());
    CHECK_FALSE(net->block->inner->is_training());
    CHECK_FALSE(net->seq[2]->is_training());
    net->train();
    CHECK(net->seq->ptr(1)->is_training());

    const Tensor x = ctgrad::randn({4, 3});
    net(x).sum().backward();
    const Tensor w = net->first->weight;
    CHECK(w.grad().defined());
    CHECK_FALSE(net->block->count.requires_grad());
    net->zero_grad();
    for (const auto& p : net->parameters()) CHECK(values_of(p.grad()) == std::vector<double>(p.numel(), 0.0));
    net->zero_grad(true);
    CHECK_FALSE(w.grad().defined());
    net->zero_grad();  // no gradient: stays none (libtorch 1.13)
    CHECK_FALSE(w.grad().defined());

    net(x).sum().backward();
    const auto before = values_of(w);
    net->to(ctgrad::kDouble);
    CHECK(w.scalar_type() == ctgrad::kDouble);  // the same tensor object, converted in place
    CHECK(w.is_same(net->first->weight));
    CHECK(w.is_leaf());
    CHECK(w.requires_grad());
    CHECK(w.grad().scalar_type() == ctgrad::kDouble);
    CHECK(net->block->count.scalar_type() == ctgrad::kLong);  // integer buffers keep their dtype
    CHECK(values_of(w) == before);
    const Tensor y = net(x.to(ctgrad::kDouble)).sum();
    CHECK(y.scalar_type() == ctgrad::kDouble);
    net->zero_grad();
    y.backward();
    CHECK(w.grad().scalar_type() == ctgrad::kDouble);
    net->to(ctgrad::Device(ctgrad::kCPU));
    CHECK(w.is_cpu());

    struct Bad : nn::Module {
        void run() {
            register_parameter("w", ctgrad::ones({1}));
            CTGRAD_CHECK_ERROR(register_parameter("w", ctgrad::ones({1})), "Parameter 'w' already defined");
            CTGRAD_CHECK_ERROR(register_parameter("a.b", ctgrad::ones({1})), "must not contain a dot (got 'a.b')");
            CTGRAD_CHECK_ERROR(register_buffer("", ctgrad::ones({1})), "Buffer name must not be empty");
            CTGRAD_CHECK_ERROR(register_module("m", nn::Linear(nullptr)), "Accessing empty ModuleHolder");
            // a tensor with history is registered as a detached leaf
            const Tensor base = ctgrad::ones({2}, ctgrad::requires_grad());
            const Tensor& p = register_parameter("p", base * 2);
            CHECK(p.is_leaf());
            CHECK(p.requires_grad());
            const Tensor& q = register_parameter("q", ctgrad::ones({2}), false);
            CHECK_FALSE(q.requires_grad());
        }
    };
    Bad().run();
}

TEST_CASE("ModuleHolder: construction, sharing, empty holders") {
    nn::Linear lin(3, 1);
    CHECK_FALSE(lin.is_empty());
    CHECK(static_cast<bool>(lin));
    nn::Linear same = lin;  // shares the module
    CHECK(same.ptr() == lin.ptr());
    CHECK(same.get() == lin.get());
    nn::Linear empty(nullptr);
    CHECK(empty.is_empty());
    CHECK_FALSE(static_cast<bool>(empty));
    CTGRAD_CHECK_ERROR(empty->weight, "Accessing empty ModuleHolder of ctgrad::nn::LinearImpl");
    CTGRAD_CHECK_ERROR(empty(ctgrad::ones({1, 3})), "Accessing empty ModuleHolder");
    empty = lin;
    CHECK(empty->weight.is_same(lin->weight));
    nn::Linear from_ptr(std::make_shared<nn::LinearImpl>(nn::LinearOptions(2, 2)));
    CHECK(from_ptr->options.in_features() == 2);
    CHECK(lin->forward(ctgrad::ones({2, 3})).sizes().vec() == std::vector<std::int64_t>{2, 1});
    nn::Flatten flat;  // default options: start_dim 1, end_dim -1
    CHECK(flat(ctgrad::ones({2, 3, 4})).sizes().vec() == std::vector<std::int64_t>{2, 12});
}

TEST_CASE("Sequential: indexing, casts, push_back, iteration, errors") {
    nn::Sequential seq(nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 1));
    CHECK(seq->size() == 3);
    CHECK(seq[0]->as<nn::Linear>() != nullptr);
    CHECK(seq[0]->as<nn::LinearImpl>() == seq[0]->as<nn::Linear>());
    CHECK(seq[1]->as<nn::Linear>() == nullptr);
    CHECK(seq->ptr<nn::LinearImpl>(2)->options.out_features() == 1);
    CHECK(seq->at<nn::LinearImpl>(0).options.out_features() == 4);
    CTGRAD_CHECK_ERROR(seq[3], "Index out of range");
    CTGRAD_CHECK_ERROR(seq->ptr<nn::ReLUImpl>(0), "Attempted to cast module of type ctgrad::nn::LinearImpl");
    seq->push_back(nn::Sigmoid());
    seq->push_back("last", nn::Tanh());
    CHECK(seq->named_children().keys() == std::vector<std::string>{"0", "1", "2", "3", "last"});
    CHECK(seq->named_parameters().keys() == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    int n = 0;
    for (const auto& m : *seq) n += m.ptr() != nullptr;
    CHECK(n == 5);
    ctgrad::manual_seed(1);
    const Tensor x = ctgrad::randn({5, 3});
    Tensor expect = x;
    for (const auto& m : *seq) expect = m.forward(expect);
    CHECK(values_of(seq(x)) == values_of(expect));
    CHECK(values_of(seq->forward(x)) == values_of(expect));
    const auto h = values_of(F::relu(F::linear(x, seq->at<nn::LinearImpl>(0).weight, seq->at<nn::LinearImpl>(0).bias)));
    for (double v : h) CHECK(v >= 0);
    nn::Sequential empty;
    CTGRAD_CHECK_ERROR(empty(x), "Cannot call forward() on an empty Sequential");
    Tensor r = ctgrad::randn({4});
    nn::ReLU inplace(nn::ReLUOptions().inplace(true));
    Tensor out = inplace(r);
    CHECK(out.is_same(r));
    for (double v : values_of(r)) CHECK(v >= 0);
}

// --- save / load ------------------------------------------------------------------------------------

TEST_CASE("save/load: modules, tensors and tensor lists round trip") {
    ctgrad::manual_seed(4);
    Net a;
    Net b;
    const std::string path = temp_path("net.bin");
    ctgrad::save(a, path);
    const Tensor w = b->first->weight;
    ctgrad::load(b, path);
    CHECK(w.is_same(b->first->weight));  // loaded into the existing parameters
    CHECK(w.is_leaf());
    const auto pa = a->named_parameters(), pb = b->named_parameters();
    for (const auto& item : pa) CHECK(values_of(item.value()) == values_of(pb[item.key()]));
    const Tensor x = ctgrad::randn({2, 3});
    CHECK(values_of(a(x)) == values_of(b(x)));

    const Tensor t = ctgrad::randn({3, 4}).t();  // non-contiguous
    ctgrad::save(t, temp_path("t.bin"));
    Tensor u;
    ctgrad::load(u, temp_path("t.bin"));
    CHECK(u.sizes().vec() == std::vector<std::int64_t>{4, 3});
    CHECK(values_of(u) == values_of(t));
    const std::vector<Tensor> list = {ctgrad::randn({2}, ctgrad::kDouble), ctgrad::arange(5), ctgrad::ones({}, ctgrad::kBool)};
    ctgrad::save(list, temp_path("list.bin"));
    std::vector<Tensor> back;
    ctgrad::load(back, temp_path("list.bin"));
    REQUIRE(back.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(back[i].scalar_type() == list[i].scalar_type());
        CHECK(values_of(back[i]) == values_of(list[i]));
    }
    for (const char* f : {"net.bin", "t.bin", "list.bin"}) std::remove(temp_path(f).c_str());
}

TEST_CASE("save/load: bad files throw naming the file and the problem, and change nothing") {
    nn::Linear saved(3, 2);
    const std::string good = temp_path("good.bin");
    ctgrad::save(saved, good);
    std::string bytes;
    {
        std::ifstream in(good, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto write = [](const std::string& path, const std::string& data) {
        std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    };
    nn::Linear target(3, 2);
    const auto before = values_of(target->weight);
    const auto before_bias = values_of(target->bias);
    auto unchanged = [&] {
        CHECK(values_of(target->weight) == before);
        CHECK(values_of(target->bias) == before_bias);
    };

    CTGRAD_CHECK_ERROR(ctgrad::load(target, temp_path("missing.bin")), "cannot open '/tmp/ctgrad_test_nn_missing.bin'");
    write(temp_path("magic.bin"), "PK\x03\x04 not ours" + bytes);
    CTGRAD_CHECK_ERROR(ctgrad::load(target, temp_path("magic.bin")), "'/tmp/ctgrad_test_nn_magic.bin' is not a ctgrad tensor file");
    unchanged();
    for (std::size_t cut : {std::size_t{17}, std::size_t{30}, bytes.size() - 5}) {
        write(temp_path("cut.bin"), bytes.substr(0, cut));
        CTGRAD_CHECK_ERROR(ctgrad::load(target, temp_path("cut.bin")), "is truncated");
        unchanged();
    }
    write(temp_path("extra.bin"), bytes + "xx");
    CTGRAD_CHECK_ERROR(ctgrad::load(target, temp_path("extra.bin")), "unexpected bytes after its last entry");
    unchanged();

    nn::Linear wider(4, 2);
    CTGRAD_CHECK_ERROR(ctgrad::load(wider, good), "has parameter 'weight' of shape [2, 3] but the module's is [2, 4]");
    nn::Linear no_bias(nn::LinearOptions(3, 2).bias(false));
    CTGRAD_CHECK_ERROR(ctgrad::load(no_bias, good), "has a parameter 'bias' that the module ctgrad::nn::LinearImpl does not have");
    nn::Linear as_double(3, 2);
    as_double->to(ctgrad::kDouble);
    CTGRAD_CHECK_ERROR(ctgrad::load(as_double, good), "has parameter 'weight' of dtype Float but the module's is Double");
    // a file whose first parameter matches and whose second does not: nothing is written
    nn::Sequential two(nn::Linear(3, 2));
    const auto two_before = values_of(two[0]->as<nn::Linear>()->weight);
    CTGRAD_CHECK_ERROR(ctgrad::load(two, good), "has a parameter 'weight' that the module ctgrad::nn::SequentialImpl does not have");
    CHECK(values_of(two[0]->as<nn::Linear>()->weight) == two_before);
    nn::Sequential more(nn::Linear(3, 2), nn::Linear(2, 2));
    ctgrad::save(more, temp_path("more.bin"));
    nn::Sequential fewer(nn::Linear(3, 2));
    const auto fewer_before = values_of(fewer[0]->as<nn::Linear>()->weight);
    CTGRAD_CHECK_ERROR(ctgrad::load(fewer, temp_path("more.bin")), "has a parameter '1.weight'");
    CHECK(values_of(fewer[0]->as<nn::Linear>()->weight) == fewer_before);
    nn::Sequential lacking(nn::Linear(3, 2), nn::Linear(2, 2), nn::Linear(2, 1));
    CTGRAD_CHECK_ERROR(ctgrad::load(lacking, temp_path("more.bin")), "lacks the parameter '2.weight'");
    Tensor t;
    CTGRAD_CHECK_ERROR(ctgrad::load(t, good), "not one tensor");
    for (const char* f : {"good.bin", "magic.bin", "cut.bin", "extra.bin", "more.bin"}) std::remove(temp_path(f).c_str());
}

namespace {
// An archive written byte by byte, the way the format's description reads.
struct archive_bytes {
    std::string bytes = "ctgrad-tensors\n";
    template <class T>
    archive_bytes& put(T v) {
        bytes.append(reinterpret_cast<const char*>(&v), sizeof(T));
        return *this;
    }
    // kind, name, dtype code, sizes and byte count of one entry (its elements follow).
    archive_bytes& entry(std::uint8_t kind, const std::string& name, std::uint8_t dtype, std::vector<std::int64_t> sizes,
                         std::uint64_t byte_count) {
        put(kind).put(static_cast<std::uint32_t>(name.size()));
        bytes += name;
        put(dtype).put(static_cast<std::uint32_t>(sizes.size()));
        for (auto s : sizes) put(s);
        return put(byte_count);
    }
    void write(const std::string& path) const {
        std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
};
}  // namespace

TEST_CASE("save/load: claims beyond the file, overflowing shapes and damaged bytes are errors before any allocation") {
    nn::Linear target(2, 1);
    const auto before = values_of(target->weight);
    const auto before_bias = values_of(target->bias);
    auto unchanged = [&] {
        CHECK(values_of(target->weight) == before);
        CHECK(values_of(target->bias) == before_bias);
    };
    const std::string path = temp_path("claims.bin");

    // 68 bytes whose one entry claims 2^40 floats: refused from the file's length, not by bad_alloc.
    archive_bytes huge;
    huge.put<std::uint32_t>(2).put<std::uint64_t>(1).entry(0, "weight", 0, {std::int64_t{1} << 40}, std::uint64_t{1} << 42);
    huge.bytes.append(9, '\0');
    REQUIRE(huge.bytes.size() == 68);
    huge.write(path);
    CTGRAD_CHECK_ERROR(ctgrad::load(target, path),
                       "'/tmp/ctgrad_test_nn_claims.bin' is truncated: 'weight' of shape [1099511627776] needs "
                       "4398046511104 bytes of data and the file has 9 left");
    unchanged();
    Tensor t = ctgrad::ones({2});
    CTGRAD_CHECK_ERROR(ctgrad::load(t, path), "needs 4398046511104 bytes of data and the file has 9 left");
    CHECK(values_of(t) == std::vector<double>{1, 1});

    // A zero size does not excuse the others: [0, 2^62, 2^62] would overflow the strides.
    archive_bytes zero_beside_huge;
    zero_beside_huge.put<std::uint32_t>(2).put<std::uint64_t>(1).entry(2, "0", 0, {0, std::int64_t{1} << 62, std::int64_t{1} << 62}, 0);
    zero_beside_huge.put<std::uint32_t>(0);
    zero_beside_huge.write(path);
    CTGRAD_CHECK_ERROR(ctgrad::load(t, path),
                       "'0' has a shape [0, 4611686018427387904, 4611686018427387904] whose sizes multiply beyond int64");
    CHECK(values_of(t) == std::vector<double>{1, 1});
    std::vector<Tensor> list = {t};
    CTGRAD_CHECK_ERROR(ctgrad::load(list, path), "whose sizes multiply beyond int64");
    CHECK(list.size() == 1);
    CHECK(list[0].is_same(t));

    // One flipped bit anywhere in an entry: its payload or its header fields.
    ctgrad::save(nn::Linear(2, 1), path);
    std::string good;
    {
        std::ifstream in(path, std::ios::binary);
        good.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto flipped = [&](std::size_t at) {
        std::string bytes = good;
        bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
        std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    };
    flipped(good.size() - 5);  // the last byte of the bias's value
    CTGRAD_CHECK_ERROR(ctgrad::load(target, path),
                       "'/tmp/ctgrad_test_nn_claims.bin' is damaged: the checksum of entry 1 ('bias') does not match its bytes");
    unchanged();
    flipped(27 + 5 + 3);  // the g of "weight"
    CTGRAD_CHECK_ERROR(ctgrad::load(target, path), "is damaged: the checksum of entry 0 ('weifht')");
    unchanged();
    std::remove(path.c_str());
}

TEST_CASE("save/load: version-1 files (without checksums) still load; save writes version 2") {
    const std::string path = temp_path("v1.bin");
    archive_bytes v1;
    v1.put<std::uint32_t>(1).put<std::uint64_t>(2);
    v1.entry(0, "weight", 0, {1, 2}, 8).put(0.5f).put(-1.5f);
    v1.entry(0, "bias", 0, {1}, 4).put(2.0f);
    v1.write(path);
    nn::Linear module(2, 1);
    ctgrad::load(module, path);
    CHECK(values_of(module->weight) == std::vector<double>{0.5, -1.5});
    CHECK(values_of(module->bias) == std::vector<double>{2});

    archive_bytes tensors;
    tensors.put<std::uint32_t>(1).put<std::uint64_t>(2);
    tensors.entry(2, "0", 1, {3}, 24).put(1.25).put(-2.0).put(1e300);
    tensors.entry(2, "1", 3, {2}, 2).put<std::uint8_t>(1).put<std::uint8_t>(0);
    tensors.write(path);
    std::vector<Tensor> back;
    ctgrad::load(back, path);
    REQUIRE(back.size() == 2);
    CHECK(back[0].scalar_type() == ctgrad::kDouble);
    CHECK(values_of(back[0]) == std::vector<double>{1.25, -2, 1e300});
    CHECK(back[1].scalar_type() == ctgrad::kBool);
    CHECK(values_of(back[1]) == std::vector<double>{1, 0});

    // Without a checksum, a bool byte other than 0 and 1 is still caught (a ctgrad bool is 0 or 1).
    tensors.bytes.back() = '\x07';
    tensors.write(path);
    CTGRAD_CHECK_ERROR(ctgrad::load(back, path), "is corrupt: the bool tensor '1' holds the byte 7, not 0 or 1");
    CHECK(values_of(back[1]) == std::vector<double>{1, 0});

    // What save writes now: version 2, and the same file without its checksum is version 1's.
    ctgrad::save(back, path);
    std::string written;
    {
        std::ifstream in(path, std::ios::binary);
        written.assign(std::istreambuf_iterator<char>(in), {});
    }
    archive_bytes expected;
    expected.put<std::uint32_t>(2).put<std::uint64_t>(2);
    REQUIRE(written.size() == expected.bytes.size() + (1 + 4 + 1 + 1 + 4 + 8 + 8 + 24 + 4) + (1 + 4 + 1 + 1 + 4 + 8 + 8 + 2 + 4));
    CHECK(written.compare(0, expected.bytes.size(), expected.bytes) == 0);
    for (auto version : {std::uint32_t{0}, std::uint32_t{3}}) {
        std::memcpy(written.data() + 15, &version, 4);
        std::ofstream(path, std::ios::binary).write(written.data(), static_cast<std::streamsize>(written.size()));
        CTGRAD_CHECK_ERROR(ctgrad::load(back, path), "has format version " + std::to_string(version) + "; this ctgrad reads versions 1 and 2");
    }
    std::remove(path.c_str());
}

// --- LeakyReLU ------------------------------------------------------------------------------------

TEST_CASE("leaky_relu: values and gradients vs PyTorch for three slopes; module, functional, in place") {
    const std::vector<std::pair<std::string, double>> slopes = {{"default", 0.01}, {"0.2", 0.2}, {"-0.5", -0.5}};
    for (const auto& [name, slope] : slopes) {
        const std::string c = "leaky_relu/" + name;
        const Tensor x = tensor_of(gold(c, "x"), ctgrad::kDouble, true);
        const Tensor out = name == "default" ? ctgrad::leaky_relu(x) : F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(slope));
        REQUIRE(out.grad_fn());
        CHECK(out.grad_fn()->name() == "LeakyReluBackward0");
        check_close(out, gold(c, "out"), 0, 0, c + " out");
        const auto g = ctgrad::autograd::grad({out}, {x}, {tensor_of(gold(c, "gout"))});
        check_close(g[0], gold(c, "gx"), 0, 0, c + " gx");
        check_finite_differences(
            [&](const std::vector<Tensor>& v) { return ctgrad::leaky_relu(v[0], slope).sin().sum(); },
            {tensor_of(gold(c, "x"))});
        // the module gives the same values
        const Tensor by_module = nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(slope))(x);
        check_close(by_module, gold(c, "out"), 0, 0, c + " module");
    }
    // create_graph: the gradient is differentiable in the incoming gradient
    const Tensor x = ctgrad::tensor({-1.5, 2.0}, ctgrad::kDouble).requires_grad_();
    const Tensor gout = ctgrad::tensor({3.0, 5.0}, ctgrad::kDouble).requires_grad_();
    const Tensor gx = ctgrad::autograd::grad({ctgrad::leaky_relu(x, 0.1)}, {x}, {gout}, true, true)[0];
    const Tensor ggout = ctgrad::autograd::grad({gx.sum()}, {gout})[0];
    CHECK(values_of(ggout) == std::vector<double>{0.1, 1.0});
    // NaN stays NaN; float32 stays float32
    CHECK(std::isnan(ctgrad::leaky_relu(ctgrad::tensor({std::nan("")}, ctgrad::kDouble)).item<double>()));
    CHECK(ctgrad::leaky_relu(ctgrad::ones({2})).scalar_type() == ctgrad::kFloat);
    // in place: the input itself changes, and gradients still flow
    Tensor y = ctgrad::tensor({-2.0, 4.0}, ctgrad::kDouble);
    nn::LeakyReLU inplace(nn::LeakyReLUOptions().negative_slope(0.25).inplace(true));
    const Tensor r = inplace(y);
    CHECK(values_of(y) == std::vector<double>{-0.5, 4.0});
    CHECK(r.is_same(y));
    const Tensor leaf = ctgrad::tensor({-2.0, 4.0}, ctgrad::kDouble).requires_grad_();
    Tensor z = leaf * 1.0;
    F::leaky_relu(z, F::LeakyReLUFuncOptions().negative_slope(0.25).inplace(true));
    CHECK(values_of(ctgrad::autograd::grad({z.sum()}, {leaf})[0]) == std::vector<double>{0.25, 1.0});
    std::ostringstream s;
    s << nn::LeakyReLU() << " " << inplace;
    CHECK(s.str() == "ctgrad::nn::LeakyReLU(negative_slope=0.01) ctgrad::nn::LeakyReLU(negative_slope=0.25, inplace=true)");
    CTGRAD_CHECK_ERROR(ctgrad::leaky_relu(ctgrad::ones({2}, ctgrad::kLong)), "leaky_relu: \"leaky_relu_cpu\" not implemented for 'Long'");
}

// --- BatchNorm ------------------------------------------------------------------------------------

namespace {
// One forward of `bn` (float64) on the golden case `c`: output, gradients and the buffers after.
template <class BN>
void check_batch_norm_step(BN& bn, const std::string& c, bool second_order = false) {
    INFO(c);
    const auto& cs = golden().at(c);
    if (cs.count("weight")) {
        ctgrad::NoGradGuard no_grad;
        bn->weight.copy_(tensor_of(gold(c, "weight")));
        bn->bias.copy_(tensor_of(gold(c, "bias")));
    }
    const Tensor x = tensor_of(gold(c, "x"), ctgrad::kDouble, true);
    const Tensor out = bn(x);
    REQUIRE(out.grad_fn());
    CHECK(out.grad_fn()->name() == "NativeBatchNormBackward0");
    check_close(out, gold(c, "out"), 1e-12, 1e-12, c + " out");
    std::vector<Tensor> wrt{x};
    if (bn->weight.defined()) wrt.insert(wrt.end(), {bn->weight, bn->bias});
    const auto g = ctgrad::autograd::grad({out}, wrt, {tensor_of(gold(c, "gout"))}, true, second_order);
    check_close(g[0], gold(c, "gx"), 1e-10, 1e-12, c + " gx");
    if (bn->weight.defined()) {
        check_close(g[1], gold(c, "gw"), 1e-10, 1e-12, c + " gw");
        check_close(g[2], gold(c, "gb"), 1e-10, 1e-12, c + " gb");
    }
    if (cs.count("running_mean")) {
        check_close(bn->running_mean, gold(c, "running_mean"), 1e-12, 1e-12, c + " running_mean");
        check_close(bn->running_var, gold(c, "running_var"), 1e-12, 1e-12, c + " running_var");
        CHECK(bn->num_batches_tracked.template item<std::int64_t>() ==
              static_cast<std::int64_t>(gold(c, "num_batches_tracked").values[0]));
    }
    if (second_order) {
        const Tensor hx = ctgrad::autograd::grad({(g[0] * tensor_of(gold(c, "wx"))).sum()}, {x})[0];
        check_close(hx, gold(c, "hx"), 1e-9, 1e-10, c + " hx");
    }
}
}  // namespace

TEST_CASE("BatchNorm1d and BatchNorm2d: outputs, gradients and running statistics vs PyTorch") {
    nn::BatchNorm1d bn1(3);
    bn1->to(ctgrad::kDouble);
    check_batch_norm_step(bn1, "bn/1d_train/1", true);
    check_batch_norm_step(bn1, "bn/1d_train/2");

    nn::BatchNorm1d cumulative(nn::BatchNormOptions(2).momentum(std::nullopt).eps(1e-3));
    cumulative->to(ctgrad::kDouble);
    for (const char* step : {"1", "2", "3"}) check_batch_norm_step(cumulative, std::string("bn/1d_cumulative/") + step);

    nn::BatchNorm2d bn2(nn::BatchNorm2dOptions(2).momentum(0.3));
    bn2->to(ctgrad::kDouble);
    check_batch_norm_step(bn2, "bn/2d_train", true);
    bn2->eval();
    check_batch_norm_step(bn2, "bn/2d_eval");
    CHECK(bn2->num_batches_tracked.item<std::int64_t>() == 1);  // eval does not count

    nn::BatchNorm2d plain(nn::BatchNormOptions(2).affine(false).track_running_stats(false));
    plain->to(ctgrad::kDouble);
    plain->eval();
    check_batch_norm_step(plain, "bn/2d_plain_eval");
}

TEST_CASE("BatchNorm: finite differences in training and eval, init, buffers, reset, printing") {
    ctgrad::manual_seed(3);
    const auto opts = ctgrad::TensorOptions().dtype(ctgrad::kDouble);
    const Tensor w = ctgrad::randn({3}, opts), b = ctgrad::randn({3}, opts);
    const Tensor rm = ctgrad::randn({3}, opts), rv = ctgrad::rand({3}, opts) + 0.5;
    for (const bool training : {true, false}) {
        INFO("training ", training);
        check_finite_differences(
            [&](const std::vector<Tensor>& v) {
                return ctgrad::batch_norm(v[0], v[1], v[2], rm.clone(), rv.clone(), training, 0.1, 1e-5).sin().sum();
            },
            {ctgrad::randn({4, 3, 2}, opts), w.clone(), b.clone()});
    }
    // second order in training: finite differences of the create_graph gradient
    ctgrad_test::gradcheck::check_gradient(
        [&](const ctgrad::TensorList& v) {
            const Tensor out = ctgrad::batch_norm(v[0], v[1], {}, {}, {}, true, 0.1, 1e-5).sin().sum();
            return ctgrad::autograd::grad({out}, {v[0]}, {}, true, true)[0];
        },
        {ctgrad::randn({4, 3}, opts), w.clone()}, "batch_norm second order", 1e-6, 1e-5);

    // PyTorch's init and registration order
    nn::BatchNorm2d bn(3);
    CHECK(values_of(bn->weight) == std::vector<double>{1, 1, 1});
    CHECK(values_of(bn->bias) == std::vector<double>{0, 0, 0});
    CHECK(bn->named_parameters().keys() == std::vector<std::string>{"weight", "bias"});
    CHECK(bn->named_buffers().keys() == std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
    CHECK(bn->num_batches_tracked.scalar_type() == ctgrad::kLong);
    CHECK(bn->num_batches_tracked.dim() == 0);
    nn::BatchNorm1d bare(nn::BatchNormOptions(4).affine(false).track_running_stats(false));
    CHECK(bare->parameters().empty());
    CHECK(bare->buffers().empty());

    // training moves the statistics; reset_running_stats puts them back; reset() re-registers in place
    bn(ctgrad::randn({2, 3, 2, 2}) * 3 + 1);
    CHECK(bn->num_batches_tracked.item<std::int64_t>() == 1);
    CHECK(values_of(bn->running_var) != std::vector<double>{1, 1, 1});
    bn->reset_running_stats();
    CHECK(values_of(bn->running_mean) == std::vector<double>{0, 0, 0});
    CHECK(values_of(bn->running_var) == std::vector<double>{1, 1, 1});
    CHECK(bn->num_batches_tracked.item<std::int64_t>() == 0);
    bn->reset();
    CHECK(bn->parameters().size() == 2);
    CHECK(bn->buffers().size() == 3);
    CHECK(bn->parameters()[0].is_same(bn->weight));

    std::ostringstream s;
    s << nn::BatchNorm1d(nn::BatchNormOptions(4).momentum(std::nullopt)) << " " << bn;
    CHECK(s.str() == "ctgrad::nn::BatchNorm1d(4, eps=1e-05, momentum=None, affine=true, track_running_stats=true) "
                     "ctgrad::nn::BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");

    // inside a Sequential, with F::batch_norm giving the module's values
    nn::Sequential seq(nn::Linear(3, 4), nn::BatchNorm1d(4), nn::LeakyReLU());
    const Tensor x = ctgrad::randn({5, 3});
    CHECK(seq->forward(x).sizes().vec() == std::vector<std::int64_t>{5, 4});
    nn::BatchNorm1d fresh(4);
    const Tensor y = ctgrad::randn({6, 4});
    const Tensor by_module = fresh(y);
    const Tensor rm2 = ctgrad::zeros({4}), rv2 = ctgrad::ones({4});
    const Tensor by_function = F::batch_norm(y, rm2, rv2, F::BatchNormFuncOptions().weight(fresh->weight).bias(fresh->bias).training(true));
    CHECK(ctgrad::equal(by_module, by_function));
    CHECK(ctgrad::equal(rm2, fresh->running_mean));
    CHECK(ctgrad::equal(rv2, fresh->running_var));
}

TEST_CASE("BatchNorm: wrong ranks, channel counts and single values per channel are errors that change nothing") {
    using ctgrad_test::gradcheck::unchanged;
    nn::BatchNorm1d bn1(2);
    nn::BatchNorm2d bn2(2);
    bn1(ctgrad::randn({4, 2}));  // statistics that differ from the initial ones
    const unchanged before({bn1->running_mean, bn1->running_var, bn1->num_batches_tracked, bn1->weight});
    CTGRAD_CHECK_ERROR(bn1(ctgrad::randn({2, 2, 2, 2})), "BatchNorm1d: expected 2D or 3D input (got 4D input of shape [2, 2, 2, 2])");
    CTGRAD_CHECK_ERROR(bn1(ctgrad::randn({2})), "BatchNorm1d: expected 2D or 3D input (got 1D input");
    CTGRAD_CHECK_ERROR(bn2(ctgrad::randn({3, 2, 2})), "BatchNorm2d: expected 4D input (got 3D input of shape [3, 2, 2])");
    CTGRAD_CHECK_ERROR(bn1(ctgrad::randn({3, 3})),
                       "BatchNorm1d: expected an input with 2 channels (num_features, dim 1), got input of shape [3, 3]");
    CTGRAD_CHECK_ERROR(bn1(ctgrad::randn({1, 2})),
                       "batch_norm: Expected more than 1 value per channel when training, got input size [1, 2]");
    CTGRAD_CHECK_ERROR(bn1(ctgrad::randn({3, 2}, ctgrad::kDouble)), "batch_norm: expected weight, bias and the running statistics in the input's dtype");
    before.check();
    bn1->eval();
    CHECK(bn1(ctgrad::randn({1, 2})).sizes().vec() == std::vector<std::int64_t>{1, 2});  // one value is fine in eval
    before.check();
    CTGRAD_CHECK_ERROR(ctgrad::batch_norm(ctgrad::randn({3, 2}), {}, {}, ctgrad::zeros({3}), ctgrad::ones({2}), true, 0.1, 1e-5),
                       "batch_norm: running_mean should contain 2 elements not 3");
    CTGRAD_CHECK_ERROR(ctgrad::batch_norm(ctgrad::randn({3, 2}), {}, {}, {}, {}, false, 0.1, 1e-5),
                       "batch_norm: running_mean must be defined in evaluation mode");
}

// --- Embedding ------------------------------------------------------------------------------------

TEST_CASE("Embedding: PyTorch's tables after manual_seed, lookups and gradients (padding_idx, scale_grad_by_freq)") {
    struct embedding_case {
        std::string name;
        std::uint64_t seed;
        nn::EmbeddingOptions options;
    };
    const std::vector<embedding_case> cases = {
        {"plain", 0, nn::EmbeddingOptions(10, 3)},
        {"padding", 1, nn::EmbeddingOptions(6, 2).padding_idx(2)},
        {"padding_negative", 2, nn::EmbeddingOptions(5, 3).padding_idx(-2)},
        {"scale_grad_by_freq", 3, nn::EmbeddingOptions(4, 2).scale_grad_by_freq(true)},
    };
    for (const auto& ec : cases) {
        const std::string c = "embedding/" + ec.name;
        ctgrad::manual_seed(ec.seed);
        nn::Embedding emb(ec.options);
        check_equal(emb->weight, gold(c, "init"), c + " init");
        emb->to(ctgrad::kDouble);
        const Tensor indices = tensor_of(gold(c, "indices")).to(ctgrad::kLong);
        const Tensor out = emb(indices);
        REQUIRE(out.grad_fn());
        CHECK(out.grad_fn()->name() == "EmbeddingBackward0");
        check_equal(out, gold(c, "out"), c + " out");
        const auto g = ctgrad::autograd::grad({out}, {emb->weight}, {tensor_of(gold(c, "gout"))});
        check_close(g[0], gold(c, "gw"), 1e-15, 1e-15, c + " gw");
    }
    CHECK(nn::Embedding(nn::EmbeddingOptions(5, 3).padding_idx(-2))->options.padding_idx() == 3);

    // max_norm: the rows looked up are rescaled in place first
    const std::string c = "embedding/max_norm";
    const Tensor table = tensor_of(gold(c, "table"));
    auto emb = nn::Embedding::from_pretrained(table, nn::EmbeddingFromPretrainedOptions().freeze(false).max_norm(1.5));
    CHECK(emb->weight.is_same(table));
    CHECK(emb->weight.requires_grad());
    check_close(emb(tensor_of(gold(c, "indices")).to(ctgrad::kLong)), gold(c, "out"), 1e-12, 1e-12, c + " out");
    check_close(emb->weight, gold(c, "after"), 1e-12, 1e-12, c + " table after");
    CHECK_FALSE(nn::Embedding::from_pretrained(ctgrad::ones({2, 2}))->weight.requires_grad());
}

TEST_CASE("Embedding: finite differences, create_graph, shapes, functional form, printing") {
    ctgrad::manual_seed(5);
    // (padding_idx and scale_grad_by_freq change the gradient on purpose: their goldens test them)
    const Tensor idx = ctgrad::tensor({3, 0, 3, 1}, ctgrad::kLong).view({2, 2});
    check_finite_differences(
        [&](const std::vector<Tensor>& v) { return ctgrad::embedding(v[0], idx).sin().sum(); },
        {ctgrad::randn({4, 3}, ctgrad::kDouble)});
    // the gradient is differentiable in the incoming gradient (create_graph)
    const Tensor w = ctgrad::randn({4, 2}, ctgrad::kDouble).requires_grad_();
    const Tensor gout = ctgrad::ones({2, 2, 2}, ctgrad::kDouble).requires_grad_();
    const Tensor gw = ctgrad::autograd::grad({ctgrad::embedding(w, idx)}, {w}, {gout}, true, true)[0];
    CHECK(values_of(gw) == std::vector<double>{1, 1, 1, 1, 0, 0, 2, 2});
    const Tensor ggout = ctgrad::autograd::grad({gw.sum()}, {gout})[0];
    CHECK(values_of(ggout) == std::vector<double>(8, 1.0));
    // a 0-d index gives one row; an empty index tensor gives no rows
    CHECK(ctgrad::embedding(w, ctgrad::tensor(std::int64_t{2})).sizes().vec() == std::vector<std::int64_t>{2});
    CHECK(ctgrad::embedding(w, ctgrad::empty({0, 3}, ctgrad::kLong)).sizes().vec() == std::vector<std::int64_t>{0, 3, 2});
    // the functional form counts a negative padding_idx from the end
    const Tensor g2 = ctgrad::autograd::grad({F::embedding(idx, w, F::EmbeddingFuncOptions().padding_idx(-1)).sum()}, {w})[0];
    CHECK(values_of(g2) == std::vector<double>{1, 1, 1, 1, 0, 0, 0, 0});
    std::ostringstream s;
    s << nn::Embedding(10, 2) << " " << nn::Embedding(nn::EmbeddingOptions(4, 3).padding_idx(0).max_norm(2.0).scale_grad_by_freq(true));
    CHECK(s.str() == "ctgrad::nn::Embedding(num_embeddings=10, embedding_dim=2) "
                     "ctgrad::nn::Embedding(num_embeddings=4, embedding_dim=3, padding_idx=0, max_norm=2, scale_grad_by_freq=true)");
}

TEST_CASE("Embedding: out-of-range and non-int64 indices, bad padding_idx and tables are errors that change nothing") {
    using ctgrad_test::gradcheck::unchanged;
    nn::Embedding emb(nn::EmbeddingOptions(4, 2).max_norm(0.5));
    const unchanged before({emb->weight});
    CTGRAD_CHECK_ERROR(emb(ctgrad::tensor({1, 4}, ctgrad::kLong)),
                       "embedding: index 4 is out of range for a table of 4 rows (num_embeddings; indices of shape [2])");
    CTGRAD_CHECK_ERROR(emb(ctgrad::tensor({-1}, ctgrad::kLong)), "embedding: index -1 is out of range for a table of 4 rows");
    CTGRAD_CHECK_ERROR(emb(ctgrad::tensor({1.0})), "embedding: Expected tensor for argument #1 'indices' to have scalar type Long");
    before.check();
    CHECK_FALSE(emb->weight.grad().defined());
    CTGRAD_CHECK_ERROR(nn::Embedding(nn::EmbeddingOptions(4, 2).padding_idx(4)), "nn::Embedding: Padding_idx 4 must be within num_embeddings (4)");
    CTGRAD_CHECK_ERROR(nn::Embedding(nn::EmbeddingOptions(4, 2).padding_idx(-5)), "must be within num_embeddings");
    CTGRAD_CHECK_ERROR(nn::Embedding(nn::EmbeddingOptions(4, 2)._weight(ctgrad::ones({3, 2}))),
                       "nn::Embedding: Shape of _weight [3, 2] does not match num_embeddings and embedding_dim [4, 2]");
    CTGRAD_CHECK_ERROR(nn::Embedding::from_pretrained(ctgrad::ones({3})), "Embeddings parameter is expected to be 2-dimensional");
    CTGRAD_CHECK_ERROR(ctgrad::embedding(ctgrad::ones({3}), ctgrad::tensor({0}, ctgrad::kLong)), "embedding: 'weight' must be 2-D");
    CTGRAD_CHECK_ERROR(ctgrad::embedding(ctgrad::ones({3, 2}), ctgrad::tensor({0}, ctgrad::kLong), -1, false, true),
                       "embedding: sparse gradients are not supported");
}

// --- binary cross-entropy -------------------------------------------------------------------------

TEST_CASE("binary_cross_entropy (with logits): every reduction, weight, pos_weight vs PyTorch, two derivatives") {
    const std::vector<std::pair<std::string, std::int64_t>> reductions = {
        {"none", ctgrad::Reduction::None}, {"mean", ctgrad::Reduction::Mean}, {"sum", ctgrad::Reduction::Sum}};
    const auto reduction_of = [](std::int64_t r) -> ctgrad::enumtype::reduction_t {
        if (r == ctgrad::Reduction::None) return ctgrad::kNone;
        if (r == ctgrad::Reduction::Mean) return ctgrad::kMean;
        return ctgrad::kSum;
    };
    int cases = 0;
    for (const bool logits : {false, true})
        for (const auto& [rname, r] : reductions)
            for (const std::string weighted : {"", "/weight", "/pos_weight"}) {
                if (!logits && weighted == "/pos_weight") continue;
                const std::string c = std::string(logits ? "bce_logits/" : "bce/") + rname + weighted;
                INFO(c);
                const Tensor x = tensor_of(gold(c, "x"), ctgrad::kDouble, true);
                const Tensor t = tensor_of(gold(c, "t"), ctgrad::kDouble, true);
                const Tensor w = tensor_of(gold(c, "w"));
                const Tensor weight = weighted == "/weight" ? w : Tensor();
                const Tensor pos_weight = weighted == "/pos_weight" ? w : Tensor();
                const Tensor out = logits ? ctgrad::binary_cross_entropy_with_logits(x, t, weight, pos_weight, r)
                                          : ctgrad::binary_cross_entropy(x, t, weight, r);
                REQUIRE(out.grad_fn());
                CHECK(out.grad_fn()->name() ==
                      (logits ? "BinaryCrossEntropyWithLogitsBackward0" : "BinaryCrossEntropyBackward0"));
                check_close(out, gold(c, "out"), 1e-12, 1e-12, c + " out");
                const auto g = ctgrad::autograd::grad({out}, {x, t}, {tensor_of(gold(c, "gout"))}, true, true);
                check_close(g[0], gold(c, "gx"), 1e-12, 1e-12, c + " gx");
                check_close(g[1], gold(c, "gt"), 1e-12, 1e-12, c + " gt");
                const Tensor hx = ctgrad::autograd::grad({(g[0] * tensor_of(gold(c, "wx"))).sum()}, {x})[0];
                check_close(hx, gold(c, "hx"), 1e-10, 1e-12, c + " hx");
                // the modules and functional forms give the same values
                const Tensor by_module =
                    logits ? nn::BCEWithLogitsLoss(
                                 nn::BCEWithLogitsLossOptions().reduction(reduction_of(r)).weight(weight).pos_weight(pos_weight))(x, t)
                           : nn::BCELoss(nn::BCELossOptions().reduction(reduction_of(r)).weight(weight))(x, t);
                check_close(by_module, gold(c, "out"), 1e-12, 1e-12, c + " module");
                ++cases;
            }
    CHECK(cases == 15);
    const Tensor x = tensor_of(gold("bce/clamped", "x")), t = tensor_of(gold("bce/clamped", "t"));
    check_equal(ctgrad::binary_cross_entropy(x, t, {}, ctgrad::Reduction::None), gold("bce/clamped", "out"), "clamped");
}

TEST_CASE("binary_cross_entropy (with logits): finite differences, float32, functional forms, buffers, errors") {
    using ctgrad_test::gradcheck::unchanged;
    ctgrad::manual_seed(12);
    const auto opts = ctgrad::TensorOptions().dtype(ctgrad::kDouble);
    const Tensor w = ctgrad::rand({3}, opts) + 0.5;
    for (std::int64_t r : {0, 1, 2}) {
        INFO("reduction ", r);
        check_finite_differences(
            [&](const std::vector<Tensor>& v) { return ctgrad::binary_cross_entropy(v[0], v[1], w, r).sin().sum(); },
            {ctgrad::rand({2, 3}, opts) * 0.8 + 0.1, ctgrad::rand({2, 3}, opts)});
        check_finite_differences(
            [&](const std::vector<Tensor>& v) {
                return ctgrad::binary_cross_entropy_with_logits(v[0], v[1], w, w * 2, r).sin().sum();
            },
            {ctgrad::randn({2, 3}, opts) * 2, ctgrad::rand({2, 3}, opts)});
    }
    // float32 against float64; logits far out stay finite
    const Tensor p = ctgrad::rand({50}) * 0.9 + 0.05, t = ctgrad::rand({50});
    CHECK(ctgrad::binary_cross_entropy(p, t).item<float>() ==
          doctest::Approx(ctgrad::binary_cross_entropy(p.to(ctgrad::kDouble), t.to(ctgrad::kDouble)).item<double>()).epsilon(1e-5));
    const Tensor far = ctgrad::tensor({-200.0, 200.0}, ctgrad::kDouble), target = ctgrad::tensor({1.0, 0.0}, ctgrad::kDouble);
    CHECK(values_of(ctgrad::binary_cross_entropy_with_logits(far, target, {}, {}, ctgrad::Reduction::None)) ==
          std::vector<double>{200.0, 200.0});
    CHECK(F::binary_cross_entropy(p, t, F::BinaryCrossEntropyFuncOptions().reduction(ctgrad::kSum)).item<float>() ==
          ctgrad::binary_cross_entropy(p, t, {}, ctgrad::Reduction::Sum).item<float>());
    CHECK(F::binary_cross_entropy_with_logits(p, t).item<float>() == ctgrad::binary_cross_entropy_with_logits(p, t).item<float>());
    // the weights are buffers, as in libtorch
    nn::BCEWithLogitsLoss loss(nn::BCEWithLogitsLossOptions().pos_weight(ctgrad::ones({50})));
    CHECK(loss->named_buffers().keys() == std::vector<std::string>{"pos_weight"});
    std::ostringstream s;
    s << nn::BCELoss() << " " << loss;
    CHECK(s.str() == "ctgrad::nn::BCELoss() ctgrad::nn::BCEWithLogitsLoss()");
    // errors
    const Tensor x = ctgrad::tensor({0.5, 0.25}, ctgrad::kDouble).requires_grad_();
    const unchanged before({x});
    CTGRAD_CHECK_ERROR(ctgrad::binary_cross_entropy(x, ctgrad::tensor({1.0}, ctgrad::kDouble)),
                       "binary_cross_entropy: Using a target size ([1]) that is different to the input size ([2]) is deprecated. "
                       "Please ensure they have the same size.");
    CTGRAD_CHECK_ERROR(ctgrad::binary_cross_entropy(ctgrad::tensor({1.5}, ctgrad::kDouble), ctgrad::tensor({1.0}, ctgrad::kDouble)),
                       "binary_cross_entropy: all elements of input should be between 0 and 1");
    CTGRAD_CHECK_ERROR(ctgrad::binary_cross_entropy(ctgrad::tensor({std::nan("")}, ctgrad::kDouble), ctgrad::tensor({1.0}, ctgrad::kDouble)),
                       "all elements of input should be between 0 and 1");
    CTGRAD_CHECK_ERROR(ctgrad::binary_cross_entropy(x, x, ctgrad::ones({3}, ctgrad::kDouble)),
                       "binary_cross_entropy: weight of shape [3] does not broadcast to the input's shape [2]");
    CTGRAD_CHECK_ERROR(ctgrad::binary_cross_entropy(x, x, ctgrad::ones({2, 2}, ctgrad::kDouble)),
                       "binary_cross_entropy: weight of shape [2, 2] does not broadcast to the input's shape [2]");
    CTGRAD_CHECK_ERROR(ctgrad::binary_cross_entropy_with_logits(x, x, {}, ctgrad::ones({3}, ctgrad::kDouble)),
                       "binary_cross_entropy_with_logits: pos_weight of shape [3] does not broadcast");
    CTGRAD_CHECK_ERROR(ctgrad::binary_cross_entropy(x, x, {}, 5), "binary_cross_entropy: 5 is not a valid value for reduction");
    CTGRAD_CHECK_ERROR(ctgrad::binary_cross_entropy(ctgrad::ones({2}, ctgrad::kLong), ctgrad::ones({2}, ctgrad::kLong)),
                       "binary_cross_entropy: expected float or double input and target, got Long and Long");
    before.check();
    CHECK_FALSE(x.grad().defined());
}

// --- Functional and the shared registration helper ------------------------------------------------

TEST_CASE("Functional: functions, bound arguments and lambdas as modules in a Sequential") {
    const Tensor x = ctgrad::tensor({-2.0, 3.0}, ctgrad::kDouble);
    nn::Functional relu(ctgrad::relu);
    CHECK(values_of(relu(x)) == std::vector<double>{0.0, 3.0});
    nn::Functional leaky(ctgrad::leaky_relu, 0.2);
    CHECK(values_of(leaky(x)) == std::vector<double>{-0.4, 3.0});
    nn::Functional square([](const Tensor& t) { return t * t; });
    nn::Sequential seq(nn::Linear(2, 2), nn::Functional(ctgrad::leaky_relu, 0.1), square, nn::Functional(ctgrad::tanh));
    const Tensor in = ctgrad::randn({3, 2});
    const Tensor out = seq->forward(in);
    auto* lin = seq[0]->as<nn::Linear>();
    REQUIRE(lin);
    const Tensor h = ctgrad::leaky_relu(lin->forward(in), 0.1);
    CHECK(ctgrad::allclose(out, ctgrad::tanh(h * h)));
    CHECK(seq->parameters().size() == 2);
    CHECK(relu->parameters().empty());
    CHECK_FALSE(relu->is_serializable());
    std::ostringstream s;
    s << relu;
    CHECK(s.str() == "ctgrad::nn::Functional()");
}

TEST_CASE("Module: reset() registers parameters in place (register_or_replace), keeping their names and order") {
    nn::Linear lin(3, 2);
    const auto before = lin->named_parameters().keys();
    lin->reset();
    CHECK(lin->named_parameters().keys() == before);
    CHECK(lin->parameters()[0].is_same(lin->weight));
    CHECK(lin->parameters()[1].is_same(lin->bias));
    CHECK(lin->weight.requires_grad());
    nn::Conv2d conv(nn::Conv2dOptions(2, 3, 3).bias(false));
    conv->reset();
    CHECK(conv->named_parameters().keys() == std::vector<std::string>{"weight"});
    CHECK(conv->parameters()[0].is_same(conv->weight));
    nn::Embedding emb(5, 2);
    emb->reset();
    CHECK(emb->parameters().size() == 1);
    CHECK(emb->parameters()[0].is_same(emb->weight));
}

// --- ConvTranspose2d ------------------------------------------------------------------------------

TEST_CASE("ConvTranspose2d: PyTorch's init after manual_seed, outputs and gradients, second order") {
    struct transpose_case {
        std::string name;
        std::uint64_t seed;
        nn::ConvTranspose2dOptions options;
    };
    const std::vector<transpose_case> cases = {
        {"basic", 0, nn::ConvTranspose2dOptions(2, 3, 3)},
        {"strided", 1,
         nn::ConvTranspose2dOptions(4, 2, {3, 2}).stride({2, 3}).padding({1, 0}).output_padding({1, 2}).groups(2).bias(false)},
        {"dilated", 2, nn::ConvTranspose2dOptions(3, 4, 2).stride(2).padding(1).dilation(2).output_padding(1)},
    };
    for (const auto& tc : cases) {
        const std::string c = "conv_transpose/" + tc.name;
        ctgrad::manual_seed(tc.seed);
        nn::ConvTranspose2d layer(tc.options);
        check_equal(layer->weight, gold(c, "init_weight"), c + " init weight");
        if (tc.options.bias()) check_equal(layer->bias, gold(c, "init_bias"), c + " init bias");
        layer->to(ctgrad::kDouble);
        const Tensor x = tensor_of(gold(c, "x"), ctgrad::kDouble, true);
        const Tensor out = layer(x);
        REQUIRE(out.grad_fn());
        CHECK(out.grad_fn()->name() == (x.dim() == 4 ? "ConvolutionBackward0" : "SqueezeBackward1"));
        check_close(out, gold(c, "out"), 1e-12, 1e-12, c + " out");
        std::vector<Tensor> wrt{x, layer->weight};
        if (tc.options.bias()) wrt.push_back(layer->bias);
        const auto g = ctgrad::autograd::grad({out}, wrt, {tensor_of(gold(c, "gout"))}, true, true);
        check_close(g[0], gold(c, "gx"), 1e-12, 1e-12, c + " gx");
        check_close(g[1], gold(c, "gw"), 1e-12, 1e-12, c + " gw");
        if (tc.options.bias()) check_close(g[2], gold(c, "gb"), 1e-12, 1e-12, c + " gb");
        const Tensor hw = ctgrad::autograd::grad({(g[0] * tensor_of(gold(c, "wx"))).sum()}, {layer->weight})[0];
        check_close(hw, gold(c, "hw"), 1e-12, 1e-12, c + " hw");
    }
}

TEST_CASE("ConvTranspose2d: finite differences, the adjoint of conv2d, functional form, printing, errors") {
    ctgrad::manual_seed(8);
    const auto opts = ctgrad::TensorOptions().dtype(ctgrad::kDouble);
    check_finite_differences(
        [&](const std::vector<Tensor>& v) {
            return ctgrad::conv_transpose2d(v[0], v[1], v[2], {2, 1}, {0, 1}, {1, 0}, 2, {1, 2}).sin().sum();
        },
        {ctgrad::randn({1, 4, 3, 3}, opts), ctgrad::randn({4, 1, 2, 3}, opts), ctgrad::randn({2}, opts)});
    // <conv2d(x, w), y> == <x, conv_transpose2d(y, w)>: the adjoint, with the same stride, padding, dilation
    const Tensor x = ctgrad::randn({2, 3, 7, 6}, opts), w = ctgrad::randn({4, 3, 3, 2}, opts);
    const Tensor cx = ctgrad::conv2d(x, w, {}, 2, {1, 0}, {1, 2});
    const Tensor y = ctgrad::randn(cx.sizes(), opts);
    const Tensor ty = ctgrad::conv_transpose2d(y, w, {}, 2, {1, 0}, {0, 1}, 1, {1, 2});
    REQUIRE(ty.sizes().vec() == x.sizes().vec());
    CHECK((cx * y).sum().item<double>() == doctest::Approx((x * ty).sum().item<double>()).epsilon(1e-12));
    CHECK(ctgrad::equal(F::conv_transpose2d(y, w, F::ConvTranspose2dFuncOptions().stride(2).padding({1, 0}).output_padding({0, 1}).dilation({1, 2})), ty));

    std::ostringstream s;
    s << nn::ConvTranspose2d(3, 2, 3) << " "
      << nn::ConvTranspose2d(nn::ConvTranspose2dOptions(4, 2, 3).stride(2).padding(1).output_padding(1).groups(2).bias(false));
    CHECK(s.str() == "ctgrad::nn::ConvTranspose2d(3, 2, kernel_size=[3, 3], stride=[1, 1]) "
                     "ctgrad::nn::ConvTranspose2d(4, 2, kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], "
                     "output_padding=[1, 1], groups=2, bias=false)");

    nn::ConvTranspose2d layer(nn::ConvTranspose2dOptions(3, 2, 3));
    CTGRAD_CHECK_ERROR(layer(ctgrad::randn({1, 4, 5, 5})),
                       "conv_transpose2d: Given transposed=1, weight of size [3, 2, 3, 3], expected input[1, 4, 5, 5] to "
                       "have 3 channels, but got 4 channels instead");
    CTGRAD_CHECK_ERROR(layer(ctgrad::randn({5, 5})), "conv_transpose2d: Expected 3D (unbatched) or 4D (batched) input");
    CTGRAD_CHECK_ERROR(ctgrad::conv_transpose2d(ctgrad::randn({1, 3, 4, 4}), layer->weight, {}, 1, 0, 1),
                       "conv_transpose2d: output padding must be smaller than either stride or dilation, but got "
                       "output_padding_height: 1 output_padding_width: 1 stride_height: 1 stride_width: 1");
    CTGRAD_CHECK_ERROR(ctgrad::conv_transpose2d(ctgrad::randn({1, 3, 1, 1}), layer->weight, {}, 1, 2),
                       "conv_transpose2d: Given input size per channel: (1 x 1), calculated output size per channel: (-1 x -1)");
    CTGRAD_CHECK_ERROR(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(3, 2, 3).groups(2)),
                       "nn::ConvTranspose2d: in_channels must be divisible by groups");
}

TEST_CASE("save/load: BatchNorm's buffers (num_batches_tracked an int64) and Embedding's table round trip") {
    ctgrad::manual_seed(6);
    nn::Sequential a(nn::Embedding(7, 3), nn::Flatten(), nn::BatchNorm1d(6));
    nn::Sequential b(nn::Embedding(7, 3), nn::Flatten(), nn::BatchNorm1d(6));
    const Tensor idx = ctgrad::tensor({{1, 5}, {2, 2}, {6, 0}}, ctgrad::kLong);
    a->forward(idx);
    a->forward(idx);
    const std::string path = temp_path("bn_embedding.bin");
    ctgrad::save(a, path);
    ctgrad::load(b, path);
    const auto ba = a->named_buffers(), bb = b->named_buffers();
    CHECK(bb.keys() == std::vector<std::string>{"2.running_mean", "2.running_var", "2.num_batches_tracked"});
    for (const auto& item : ba) CHECK(values_of(item.value()) == values_of(bb[item.key()]));
    CHECK(bb["2.num_batches_tracked"].scalar_type() == ctgrad::kLong);
    CHECK(bb["2.num_batches_tracked"].item<std::int64_t>() == 2);
    a->eval();
    b->eval();
    CHECK(values_of(a->forward(idx)) == values_of(b->forward(idx)));
}

TEST_CASE("BatchNorm in eval mode: the backward uses the statistics of its forward, not later ones") {
    nn::BatchNorm1d bn(2);
    ctgrad::manual_seed(4);
    bn->train();
    bn->forward(ctgrad::randn({8, 2}));  // running statistics away from 0 and 1
    bn->eval();
    const Tensor x = ctgrad::randn({4, 2}).requires_grad_(true);
    const Tensor y = bn->forward(x);
    const Tensor g = ctgrad::randn({4, 2});
    const Tensor expected = ctgrad::autograd::grad({(y * g).sum()}, {x}, {}, true)[0];
    bn->train();
    bn->forward(ctgrad::randn({8, 2}) * 5 + 3);  // updates running_mean and running_var in place
    const Tensor got = ctgrad::autograd::grad({(y * g).sum()}, {x})[0];
    CHECK(ctgrad::equal(got, expected));
}
