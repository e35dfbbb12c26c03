// Compile-time-checked models (ctgrad::nn::static_sequential): initialisation equal to PyTorch's
// after manual_seed, the seed2_step5 training trajectory (golden values from torch), forward
// and gradients against the dynamic layer computing the same model with Tensor ops, gradients
// against finite differences, gradient accumulation, and the run-time errors of tensor inputs.
// The compile-time errors are in test/compile_fail/static_model_*.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include <ctgrad/nn.hpp>
#include <ctgrad/nn/static.hpp>
#include <ctgrad/optim.hpp>

#include "../support/errors.hpp"
#include "../support/values.hpp"

namespace nn = ctgrad::nn;
using ctgrad::Tensor;
using ctgrad_test::values_of;

namespace {

// test/reference/static_model.txt: name n v_1 .. v_n
const std::map<std::string, std::vector<double>>& golden() {
    static const std::map<std::string, std::vector<double>> table = [] {
        std::map<std::string, std::vector<double>> t;
        const std::string path = std::string(CTGRAD_REFERENCE_DIR) + "/static_model.txt";
        std::ifstream in(path);
        REQUIRE_MESSAGE(in.good(), "cannot open ", path);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream fields(line);
            std::string name;
            std::size_t n = 0;
            fields >> name >> n;
            std::vector<double> v(n);
            for (auto& x : v) fields >> x;
            REQUIRE_MESSAGE(!fields.fail(), "malformed line: ", line);
            t[name] = v;
        }
        return t;
    }();
    return table;
}

const std::vector<double>& gold(const std::string& name) {
    const auto it = golden().find(name);
    REQUIRE_MESSAGE(it != golden().end(), "no golden record ", name);
    return it->second;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double rtol, double atol,
                 const std::string& what) {
    REQUIRE_MESSAGE(got.size() == want.size(), what);
    for (std::size_t i = 0; i < got.size(); ++i)
        CHECK_MESSAGE(std::abs(got[i] - want[i]) <= atol + rtol * std::abs(want[i]), what, "[", i, "]: ", got[i],
                      " vs ", want[i]);
}

// The seed's data: x = linspace(-pi, pi, 2000), y = sin(x), xx = (x, x^2, x^3).
struct seed_data {
    Tensor x, y, xx;
    seed_data() {
        x = ctgrad::linspace(-std::numbers::pi, std::numbers::pi, 2000);
        y = ctgrad::sin(x);
        xx = ctgrad::stack({x, x.pow(2), x.pow(3)}, 1);
    }
};

using seed_model = nn::static_sequential<nn::static_linear<3, 1>, nn::static_flatten<0, 1>>;
using tanh_mlp = nn::static_sequential<nn::static_linear<1, 8>, nn::static_tanh, nn::static_linear<8, 1>>;
using relu_mlp = nn::static_sequential<nn::static_linear<3, 4>, nn::static_relu, nn::static_linear<4, 2>>;
using sigmoid_model = nn::static_sequential<nn::static_linear<2, 3>, nn::static_sigmoid, nn::static_flatten<0, 1>>;

// The same model in the dynamic layer: copies of the parameters as fresh leaves, and a forward
// made of Tensor ops (matmul, +, activations).
struct dynamic_copy {
    std::vector<Tensor> params;
    template <class Model>
    explicit dynamic_copy(const Model& model) {
        for (const Tensor& p : model.parameters()) params.push_back(p.detach().clone().requires_grad_(true));
    }
    Tensor linear(const Tensor& x, std::size_t layer) const {
        return ctgrad::matmul(x, params[2 * layer].t()) + params[2 * layer + 1];
    }
};

// Each parameter's .grad() as one list, in parameters() order.
std::vector<double> grads_of(const std::vector<Tensor>& params) {
    std::vector<double> all;
    for (const Tensor& p : params) {
        REQUIRE(p.grad().defined());
        const auto v = values_of(p.grad());
        all.insert(all.end(), v.begin(), v.end());
    }
    return all;
}

}  // namespace

TEST_CASE("static model: the layers' widths and parameters are types") {
    static_assert(seed_model::in_features == 3 && seed_model::out_features == 1 && seed_model::flat_output);
    static_assert(seed_model::parameter_count == 4);
    static_assert(tanh_mlp::in_features == 1 && tanh_mlp::out_features == 1 && !tanh_mlp::flat_output);
    static_assert(tanh_mlp::parameter_count == 8 + 8 + 8 + 1);
    static_assert(relu_mlp::out_features == 2 && relu_mlp::parameter_count == 12 + 4 + 8 + 2);
    // One sample's output, built at compile time from the variables of the parameters (p0..p3)
    // and of the features (x0..x2): the code that every forward and backward pass runs.
    CHECK(ctgrad::expr::to_string(std::get<0>(seed_model::output_expressions())) == "p0*x0 + p1*x1 + p2*x2 + p3");
    CHECK(seed_model::name() == "static_sequential<static_linear<3, 1>, static_flatten<0, 1>>");
}

TEST_CASE("static model: initialised as torch.nn.Sequential after manual_seed") {
    ctgrad::manual_seed(0);
    seed_model model;
    const auto named = model.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "0.weight");
    CHECK(named[1].first == "0.bias");
    CHECK(named[0].second.sizes().vec() == std::vector<std::int64_t>{1, 3});
    CHECK(named[1].second.sizes().vec() == std::vector<std::int64_t>{1});
    check_close(values_of(model.get<0>().weight), gold("init/seed/weight"), 0, 0, "weight");
    check_close(values_of(model.get<0>().bias), gold("init/seed/bias"), 0, 0, "bias");
    for (const Tensor& p : model.parameters()) {
        CHECK(p.requires_grad());
        CHECK(p.is_leaf());
        CHECK(!p.grad().defined());
    }

    // Several layers draw in order: Linear(1, 8), then Linear(8, 1).
    ctgrad::manual_seed(7);
    tanh_mlp mlp;
    const auto mlp_named = mlp.named_parameters();
    REQUIRE(mlp_named.size() == 4);
    for (const auto& [name, p] : mlp_named) check_close(values_of(p), gold("init/mlp/" + name), 0, 0, name);
    CHECK(mlp_named[2].first == "2.weight");
}

TEST_CASE("static model: the seed2_step5 trajectory (fused loss and gradients, manual SGD)") {
    const seed_data d;
    ctgrad::manual_seed(0);
    seed_model model;
    // The tensors are rearranged once into the static layer's feature-major form.
    const nn::static_features<3> xx(d.xx);
    const nn::static_features<1> y(d.y);
    const double learning_rate = 1e-6;
    for (int t = 0; t < 10; ++t) {
        const std::string step = "step5/" + std::to_string(t) + "/";
        model.zero_grad();
        const float loss = model.value_and_grad(nn::static_mse_sum, xx, y);
        // float32 sums of 2000 terms in another order than ATen's: a few ulps of the total; the
        // gradients are sums of terms of up to ~2000 that cancel to as little as ~60, so their
        // tolerance is absolute (1e-6 of the first step's largest gradient, 277642).
        check_close({loss}, gold(step + "loss"), 2e-6, 0, step + "loss");
        check_close(values_of(model.get<0>().weight.grad()), gold(step + "grad_weight"), 1e-5, 0.3,
                    step + "grad_weight");
        check_close(values_of(model.get<0>().bias.grad()), gold(step + "grad_bias"), 1e-5, 0.3, step + "grad_bias");
        {
            ctgrad::NoGradGuard no_grad;
            for (Tensor& p : model.parameters()) p -= learning_rate * p.grad();
        }
        check_close(values_of(model.get<0>().weight), gold(step + "weight"), 1e-6, 3e-7, step + "weight");
        check_close(values_of(model.get<0>().bias), gold(step + "bias"), 1e-6, 3e-7, step + "bias");
        CHECK(model.loss(nn::static_mse_sum, xx, y) < loss);
    }
}

TEST_CASE("static model: forward and gradients equal the dynamic layer's") {
    SUBCASE("seed model, tensor inputs, summed MSE") {
        const seed_data d;
        ctgrad::manual_seed(3);
        seed_model model;
        const dynamic_copy dyn(model);
        const Tensor out = model.forward(d.xx);
        const Tensor want = dyn.linear(d.xx, 0).flatten(0, 1);
        CHECK(out.sizes().vec() == std::vector<std::int64_t>{2000});
        CHECK(!out.requires_grad());
        check_close(values_of(out), values_of(want), 1e-5, 1e-5, "forward");

        const Tensor loss = (want - d.y).pow(2).sum();
        loss.backward();
        const float value = model.value_and_grad(nn::static_mse_sum, d.xx, d.y);  // tensors, rearranged per call
        check_close({value}, values_of(loss), 1e-5, 0, "loss");
        check_close(grads_of(model.parameters()), grads_of(dyn.params), 1e-4, 1e-2, "gradients");
    }
    SUBCASE("tanh MLP 1 -> 8 -> 1, summed MSE") {
        ctgrad::manual_seed(11);
        tanh_mlp model;
        const dynamic_copy dyn(model);
        const Tensor x = ctgrad::rand({50, 1}) * 4 - 2;
        const Tensor y = ctgrad::rand({50, 1});
        const Tensor pred = dyn.linear(ctgrad::tanh(dyn.linear(x, 0)), 1);
        check_close(values_of(model.forward(x)), values_of(pred), 1e-5, 1e-6, "forward");
        const Tensor loss = (pred - y).pow(2).sum();
        loss.backward();
        const float value = model.value_and_grad(nn::static_mse_sum, nn::static_features<1>(x), nn::static_features<1>(y));
        check_close({value}, values_of(loss), 1e-5, 0, "loss");
        check_close(grads_of(model.parameters()), grads_of(dyn.params), 1e-4, 1e-5, "gradients");
    }
    SUBCASE("relu MLP 3 -> 4 -> 2, mean MSE over a [batch, 2] target") {
        ctgrad::manual_seed(5);
        relu_mlp model;
        const dynamic_copy dyn(model);
        const Tensor x = ctgrad::randn({37, 3});
        const Tensor y = ctgrad::randn({37, 2});
        const Tensor pred = dyn.linear(ctgrad::relu(dyn.linear(x, 0)), 1);
        const Tensor out = model.forward(x);
        CHECK(out.sizes().vec() == std::vector<std::int64_t>{37, 2});
        check_close(values_of(out), values_of(pred), 1e-5, 1e-6, "forward");
        const Tensor loss = (pred - y).pow(2).mean();
        loss.backward();
        const float value = model.value_and_grad(nn::static_mse_mean, x, y);
        check_close({value}, values_of(loss), 1e-5, 0, "loss");
        check_close(grads_of(model.parameters()), grads_of(dyn.params), 1e-4, 1e-6, "gradients");
    }
    SUBCASE("sigmoid, flattened [batch * 3] output") {
        ctgrad::manual_seed(9);
        sigmoid_model model;
        const dynamic_copy dyn(model);
        const Tensor x = ctgrad::randn({21, 2});
        const Tensor pred = ctgrad::sigmoid(dyn.linear(x, 0)).flatten(0, 1);
        const Tensor y = ctgrad::rand({63});
        const Tensor out = model.forward(x);
        CHECK(out.sizes().vec() == std::vector<std::int64_t>{63});
        check_close(values_of(out), values_of(pred), 1e-5, 1e-6, "forward");
        const Tensor loss = (pred - y).pow(2).sum();
        loss.backward();
        const float value = model.value_and_grad(nn::static_mse_sum, x, y);
        check_close({value}, values_of(loss), 1e-5, 0, "loss");
        check_close(grads_of(model.parameters()), grads_of(dyn.params), 1e-4, 1e-6, "gradients");
    }
}

TEST_CASE("static model: gradients equal central finite differences of the loss") {
    ctgrad::manual_seed(2);
    tanh_mlp model;
    const Tensor x = ctgrad::rand({16, 1}) * 3 - 1.5;
    const nn::static_features<1> xs(x), ys(ctgrad::sin(x * 2));
    model.value_and_grad(nn::static_mse_mean, xs, ys);
    const double h = 1e-2;
    for (const auto& [name, p] : model.named_parameters()) {
        float* data = p.data_ptr<float>();
        const auto grad = values_of(p.grad());
        for (std::int64_t i = 0; i < p.numel(); ++i) {
            const float saved = data[i];
            data[i] = saved + static_cast<float>(h);
            const double up = model.loss(nn::static_mse_mean, xs, ys);
            data[i] = saved - static_cast<float>(h);
            const double down = model.loss(nn::static_mse_mean, xs, ys);
            data[i] = saved;
            const double fd = (up - down) / (2 * h);
            CHECK_MESSAGE(std::abs(grad[i] - fd) <= 2e-3 + 1e-2 * std::abs(fd), name, "[", i, "]: ", grad[i],
                          " vs finite difference ", fd);
        }
    }
}

TEST_CASE("static model: gradients accumulate as backward() does; zero_grad clears them") {
    ctgrad::manual_seed(4);
    relu_mlp model;
    const Tensor x = ctgrad::randn({10, 3}), y = ctgrad::randn({10, 2});
    model.value_and_grad(nn::static_mse_sum, x, y);
    const auto once = grads_of(model.parameters());
    const Tensor first_grad = model.get<0>().weight.grad();
    model.value_and_grad(nn::static_mse_sum, x, y);
    auto twice_expected = once;
    for (auto& v : twice_expected) v *= 2;
    check_close(grads_of(model.parameters()), twice_expected, 1e-6, 1e-6, "accumulated");
    // Accumulated in place, into the same tensor (an optimizer holding it sees the sum).
    CHECK(model.get<0>().weight.grad().data_ptr<float>() == first_grad.data_ptr<float>());

    model.zero_grad();
    for (const Tensor& p : model.parameters())
        for (double v : values_of(p.grad())) CHECK(v == 0);
    model.zero_grad(/*set_to_none=*/true);
    for (const Tensor& p : model.parameters()) CHECK(!p.grad().defined());
}

TEST_CASE("static model: tensors of the wrong shape are rejected, naming the model and the shape") {
    ctgrad::manual_seed(0);
    seed_model model;
    const auto before = values_of(model.get<0>().weight);
    CTGRAD_CHECK_ERROR(model.forward(ctgrad::zeros({10, 4})),
                       "static_sequential<static_linear<3, 1>, static_flatten<0, 1>>::forward: expected a "
                       "floating-point tensor of shape [batch, 3] but got [10, 4]");
    CTGRAD_CHECK_ERROR(model.forward(ctgrad::zeros({10})), "but got [10]");
    CTGRAD_CHECK_ERROR(model.value_and_grad(nn::static_mse_sum, ctgrad::zeros({10, 3}), ctgrad::zeros({10, 1})),
                       "::value_and_grad: expected a target of shape [batch * 1] (the output of static_flatten<0, 1>) "
                       "but got [10, 1]");
    CTGRAD_CHECK_ERROR(model.value_and_grad(nn::static_mse_sum, ctgrad::zeros({10, 3}), ctgrad::zeros({9})),
                       "::value_and_grad: the input has 10 samples but the target has 9");
    CTGRAD_CHECK_ERROR(model.value_and_grad(nn::static_mse_sum, ctgrad::zeros({10, 3}, ctgrad::kLong), ctgrad::zeros({10})),
                       "of dtype Long");
    relu_mlp two_out;
    CTGRAD_CHECK_ERROR(two_out.value_and_grad(nn::static_mse_sum, ctgrad::zeros({4, 3}), ctgrad::zeros({8})),
                       "expected a target of shape [batch, 2] but got [8]");
    CTGRAD_CHECK_ERROR(nn::static_features<2>(ctgrad::zeros({3, 5})),
                       "static_features<2>: expected a floating-point tensor of shape [batch, 2] but got [3, 5]");
    // Nothing was written.
    check_close(values_of(model.get<0>().weight), before, 0, 0, "weight");
    for (const Tensor& p : model.parameters()) CHECK(!p.grad().defined());
}

TEST_CASE("static_features: a [batch, F] tensor rearranged feature by feature") {
    const Tensor t = ctgrad::arange(6, ctgrad::kFloat).reshape({3, 2});
    const nn::static_features<2> f(t);
    CHECK(f.batch_size() == 3);
    CHECK(std::vector<float>(f.column(0).begin(), f.column(0).end()) == std::vector<float>{0, 2, 4});
    CHECK(std::vector<float>(f.column(1).begin(), f.column(1).end()) == std::vector<float>{1, 3, 5});
    check_close(values_of(f.to_tensor()), values_of(t), 0, 0, "round trip");
    // A transposed (strided) double tensor reads the same.
    const nn::static_features<2> g(t.to(ctgrad::kDouble).t().contiguous().t());
    CHECK(std::vector<float>(g.column(1).begin(), g.column(1).end()) == std::vector<float>{1, 3, 5});
}

// The optimizers of ctgrad::optim step a static model as they step a dynamic one: its parameters
// are ordinary leaves whose .grad() the fused pass fills.
TEST_CASE("static model: trained by ctgrad::optim, as the dynamic nn::Sequential is") {
    const seed_data d;
    SUBCASE("SGD follows the seed2_step5 trajectory") {
        ctgrad::manual_seed(0);
        seed_model model;
        const nn::static_features<3> xx(d.xx);
        const nn::static_features<1> y(d.y);
        ctgrad::optim::SGD optimizer(model.parameters(), ctgrad::optim::SGDOptions(1e-6));
        for (int t = 0; t < 10; ++t) {
            const std::string step = "step5/" + std::to_string(t) + "/";
            optimizer.zero_grad();
            model.value_and_grad(nn::static_mse_sum, xx, y);
            optimizer.step();
            // SGD adds -lr * grad in one fused multiply-add where the hand-written update rounds
            // the product first: a last-bit difference at most.
            check_close(values_of(model.get<0>().weight), gold(step + "weight"), 1e-6, 3e-7, step + "weight");
            check_close(values_of(model.get<0>().bias), gold(step + "bias"), 1e-6, 3e-7, step + "bias");
        }
    }
    SUBCASE("RMSprop: the static and the dynamic model take the same steps") {
        ctgrad::manual_seed(0);
        seed_model model;
        ctgrad::manual_seed(0);
        nn::Sequential dynamic(nn::Linear(3, 1), nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1)));
        const nn::static_features<3> xx(d.xx);
        const nn::static_features<1> y(d.y);
        ctgrad::optim::RMSprop static_opt(model.parameters(), ctgrad::optim::RMSpropOptions(1e-3));
        ctgrad::optim::RMSprop dynamic_opt(dynamic->parameters(), ctgrad::optim::RMSpropOptions(1e-3));
        nn::MSELoss loss_fn(nn::MSELossOptions().reduction(ctgrad::kSum));
        for (int t = 0; t < 10; ++t) {
            static_opt.zero_grad();
            const float static_loss = model.value_and_grad(nn::static_mse_sum, xx, y);
            static_opt.step();
            dynamic_opt.zero_grad();
            auto loss = loss_fn(dynamic->forward(d.xx), d.y);
            loss.backward();
            dynamic_opt.step();
            CHECK(static_loss == doctest::Approx(loss.item<double>()).epsilon(1e-5));
            const auto ps = model.parameters(), pd = dynamic->parameters();
            REQUIRE(ps.size() == pd.size());
            for (std::size_t i = 0; i < ps.size(); ++i)
                check_close(values_of(ps[i]), values_of(pd[i]), 1e-5, 1e-7, "parameter " + std::to_string(i));
        }
    }
}
