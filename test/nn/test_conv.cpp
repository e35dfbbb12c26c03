// Convolution, pooling and padding: conv2d, max_pool2d (+ indices), avg_pool2d, constant_pad_nd
// (free functions, nn::functional, modules Conv2d / MaxPool2d / AvgPool2d).
//  - against PyTorch (test/reference/conv.txt, tools/reference_conv.py): values, gradients of
//    input, weight and bias, a second derivative, max_pool's indices and its choice among ties,
//    Conv2d's initialisation after manual_seed, grad_fn names, error messages;
//  - against central finite differences (float64), first and second derivatives.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
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
using ctgrad_test::gradcheck::separated_tensor;
using ctgrad_test::gradcheck::unchanged;

namespace {

using ctgrad_test::golden_case;
using ctgrad_test::golden_tensor;

const ctgrad_test::golden_tensor_file& golden() {
    static const ctgrad_test::golden_tensor_file file = ctgrad_test::read_golden_tensors("conv.txt");
    return file;
}

const golden_case& gold(const std::string& c) {
    const auto it = golden().cases.find(c);
    if (it == golden().cases.end()) throw std::runtime_error("no golden case " + c);
    return it->second;
}

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

// The golden message of `name` must be in ctgrad's error, which starts with the op's name.
void check_golden_error(const std::function<void()>& f, const std::string& name, const std::string& op) {
    const auto it = golden().errors.find(name);
    REQUIRE(it != golden().errors.end());
    INFO("case " << name);
    const std::string message = ctgrad_test::error_of(f);
    INFO("message: " << message);
    CHECK(message.find(it->second) != std::string::npos);
    CHECK(message.rfind(op + ": ", 0) == 0);
}

std::string grad_fn_name(const Tensor& t) { return t.grad_fn() ? t.grad_fn()->name() : std::string("(none)"); }

// The parameters of tools/reference_conv.py's cases.
struct conv_case {
    const char* name;
    std::vector<std::int64_t> stride, padding, dilation;
    std::int64_t groups;
};
const std::vector<conv_case> conv_cases = {
    {"basic", {1}, {0}, {1}, 1},      {"stride_pad", {2, 1}, {1, 2}, {1}, 1}, {"dilation", {1}, {1}, {2, 3}, 1},
    {"groups", {2}, {1}, {1}, 2},     {"depthwise", {1}, {0}, {1}, 3},        {"unbatched", {1}, {0}, {1}, 1},
    {"all", {2, 3}, {1, 1}, {2, 1}, 2},
};
struct max_case {
    const char* name;
    std::vector<std::int64_t> kernel, stride, padding, dilation;
    bool ceil;
};
const std::vector<max_case> max_cases = {
    {"k2", {2}, {}, {0}, {1}, false},
    {"k3s2p1", {3}, {2}, {1}, {1}, false},
    {"ceil", {3}, {2}, {0}, {1}, true},
    {"ceil_pad", {3, 2}, {2, 2}, {1, 1}, {1}, true},
    {"dilation", {2, 3}, {1}, {1, 1}, {2, 1}, false},
    {"unbatched", {2}, {1}, {0}, {1}, false},
    {"ties", {3}, {1}, {1}, {1}, false},
};
struct avg_case {
    const char* name;
    std::vector<std::int64_t> kernel, stride, padding;
    bool ceil, count_include_pad;
    std::optional<std::int64_t> divisor;
};
const std::vector<avg_case> avg_cases = {
    {"k2", {2}, {}, {0}, false, true, std::nullopt},
    {"k3s2p1", {3}, {2}, {1}, false, true, std::nullopt},
    {"k3s2p1_nopad", {3}, {2}, {1}, false, false, std::nullopt},
    {"ceil", {3}, {2}, {1}, true, true, std::nullopt},
    {"ceil_nopad", {3}, {2}, {1}, true, false, std::nullopt},
    {"divisor", {2}, {1}, {1}, false, true, 3},
    {"unbatched", {2, 3}, {1, 2}, {0}, false, true, std::nullopt},
};

ExpandingArray<2> pair(const std::vector<std::int64_t>& v) { return v.size() == 1 ? ExpandingArray<2>(v[0]) : ExpandingArray<2>(v); }

}  // namespace

TEST_CASE("conv2d against PyTorch: stride, padding, dilation, groups, bias; values and all gradients") {
    for (const conv_case& c : conv_cases) {
        const std::string name = std::string("conv/") + c.name;
        INFO(name);
        const golden_case& g = gold(name);
        const bool has_bias = g.count("bias") > 0;
        const Tensor x = tensor_of(g.at("x")).requires_grad_(true);
        const Tensor w = tensor_of(g.at("weight")).requires_grad_(true);
        const Tensor b = has_bias ? tensor_of(g.at("bias")).requires_grad_(true) : Tensor();
        // the free function, nn::functional and the module (with the golden parameters) agree
        const Tensor out = ctgrad::conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups);
        check_close(out, g.at("out"), 1e-12, 1e-12, "value");
        CHECK(grad_fn_name(out) == (x.dim() == 3 ? "SqueezeBackward1" : "ConvolutionBackward0"));
        const Tensor via_f = F::conv2d(
            x, w, F::Conv2dFuncOptions().bias(b).stride(pair(c.stride)).padding(pair(c.padding)).dilation(pair(c.dilation)).groups(c.groups));
        CHECK(values_of(via_f) == values_of(out));
        nn::Conv2d module(nn::Conv2dOptions(x.size(-3), w.size(0), {w.size(2), w.size(3)})
                              .stride(pair(c.stride))
                              .padding(pair(c.padding))
                              .dilation(pair(c.dilation))
                              .groups(c.groups)
                              .bias(has_bias));
        {
            NoGradGuard no_grad;
            module->weight.copy_(w.to(kFloat));
            if (has_bias) module->bias.copy_(b.to(kFloat));
        }
        check_close(module(x.to(kFloat)), g.at("out"), 1e-5, 1e-5, "nn::Conv2d, float32");

        variable_list inputs{x, w};
        if (has_bias) inputs.push_back(b);
        const variable_list grads = autograd::grad({out}, inputs, {tensor_of(g.at("gout"))}, true, true);
        check_close(grads[0], g.at("gx"), 1e-12, 1e-12, "input gradient");
        check_close(grads[1], g.at("gweight"), 1e-12, 1e-12, "weight gradient");
        if (has_bias) check_close(grads[2], g.at("gbias"), 1e-12, 1e-12, "bias gradient");
        if (g.count("hweight")) {
            const variable_list h = autograd::grad({(grads[0] * tensor_of(g.at("wx"))).sum()}, {w});
            check_close(h[0], g.at("hweight"), 1e-12, 1e-12, "second derivative (create_graph)");
        }
    }
}

TEST_CASE("conv2d against finite differences: input, weight and bias, first and second derivatives") {
    for (const conv_case& c : conv_cases) {
        const golden_case& g = gold(std::string("conv/") + c.name);
        const bool has_bias = g.count("bias") > 0;
        const auto f = [&](const TensorList& t) {
            return ctgrad::conv2d(t[0], t[1], has_bias ? t[2] : Tensor(), c.stride, c.padding, c.dilation, c.groups);
        };
        TensorList points{tensor_of(g.at("x")), tensor_of(g.at("weight"))};
        if (has_bias) points.push_back(tensor_of(g.at("bias")));
        check_gradient(f, points, std::string("conv2d ") + c.name);
        // the gradient with respect to the input, differentiated again in the weight and input
        check_gradient(
            [&](const TensorList& t) {
                const Tensor y = f(t);
                return autograd::grad({(y * random_tensor(y.sizes(), 4)).sum()}, {t[0]}, {}, true, true)[0];
            },
            points, std::string("conv2d's input gradient ") + c.name, 1e-6, 1e-5);
    }
}

TEST_CASE("Conv2d: PyTorch's initialisation after manual_seed(0), bit for bit; parameters and printing") {
    struct init_case {
        const char* name;
        std::int64_t in, out;
        std::vector<std::int64_t> kernel;
        std::int64_t groups;
    };
    for (const init_case& c : std::vector<init_case>{{"init/conv1x10x5", 1, 10, {5}, 1},
                                                     {"init/conv10x20x5", 10, 20, {5}, 1},
                                                     {"init/conv4x6x3x2g2", 4, 6, {3, 2}, 2}}) {
        INFO(c.name);
        ctgrad::manual_seed(0);
        nn::Conv2d conv(nn::Conv2dOptions(c.in, c.out, pair(c.kernel)).groups(c.groups));
        CHECK(conv->weight.scalar_type() == kFloat);
        check_close(conv->weight, gold(c.name).at("weight"), 0, 0, "weight");
        check_close(conv->bias, gold(c.name).at("bias"), 0, 0, "bias");
        CHECK(conv->weight.is_leaf());
        CHECK(conv->weight.requires_grad());
        CHECK(conv->named_parameters().keys() == std::vector<std::string>{"weight", "bias"});
    }
    nn::Conv2d conv1(1, 10, 5);
    CHECK(conv1->weight.sizes().vec() == std::vector<std::int64_t>{10, 1, 5, 5});
    std::ostringstream printed;
    printed << *conv1;
    CHECK(printed.str() == "ctgrad::nn::Conv2d(1, 10, kernel_size=[5, 5], stride=[1, 1])");
    nn::Conv2d conv2(nn::Conv2dOptions(4, 6, {3, 2}).stride(2).padding({1, 0}).dilation(2).groups(2).bias(false));
    CHECK(conv2->parameters().size() == 1);
    std::ostringstream printed2;
    printed2 << *conv2;
    CHECK(printed2.str() ==
          "ctgrad::nn::Conv2d(4, 6, kernel_size=[3, 2], stride=[2, 2], padding=[1, 0], dilation=[2, 2], groups=2, bias=false)");
    ctgrad_test::check_error([] { nn::Conv2d(nn::Conv2dOptions(3, 4, 2).groups(2)); },
                             "nn::Conv2d: in_channels must be divisible by groups");
    ctgrad_test::check_error([] { nn::Conv2d(0, 4, 2); },
                             "nn::Conv2d: in_channels, groups and out_channels must be a positive integer.");
}

TEST_CASE("max_pool2d against PyTorch: values, indices (the first maximum among ties), gradients") {
    for (const max_case& c : max_cases) {
        const std::string name = std::string("maxpool/") + c.name;
        INFO(name);
        const golden_case& g = gold(name);
        const Tensor x = tensor_of(g.at("x")).requires_grad_(true);
        const auto [out, indices] = ctgrad::max_pool2d_with_indices(x, c.kernel, c.stride, c.padding, c.dilation, c.ceil);
        check_close(out, g.at("out"), 0, 0, "value");
        CHECK(indices.scalar_type() == kLong);
        check_close(indices, g.at("indices"), 0, 0, "indices");
        CHECK(grad_fn_name(out) == "MaxPool2DWithIndicesBackward0");
        CHECK_FALSE(indices.requires_grad());
        const Tensor gx = autograd::grad({out}, {x}, {tensor_of(g.at("gout"))})[0];
        check_close(gx, g.at("gx"), 1e-15, 0, "gradient");

        const Tensor plain = ctgrad::max_pool2d(x, c.kernel, c.stride, c.padding, c.dilation, c.ceil);
        CHECK(values_of(plain) == values_of(out));
        auto options = nn::MaxPool2dOptions(pair(c.kernel)).padding(pair(c.padding)).dilation(pair(c.dilation)).ceil_mode(c.ceil);
        if (!c.stride.empty()) options.stride(pair(c.stride));
        CHECK(values_of(F::max_pool2d(x, options)) == values_of(out));
        nn::MaxPool2d module(options);
        CHECK(values_of(module(x)) == values_of(out));
        CHECK(values_of(std::get<1>(module->forward_with_indices(x))) == values_of(indices));
        // float32: the same maxima
        check_close(ctgrad::max_pool2d(x.to(kFloat), c.kernel, c.stride, c.padding, c.dilation, c.ceil), g.at("out"), 1e-7,
                    0, "float32");
    }
}

TEST_CASE("max_pool2d: windows of -inf pick their first element inside the input, as PyTorch") {
    // PyTorch 1.13: F.max_pool2d(torch.full((1, 1, 2, 2), -inf), 2, 1, 1, return_indices=True)
    const Tensor x = ctgrad::full({1, 1, 2, 2}, -std::numeric_limits<double>::infinity(), kDouble).requires_grad_(true);
    const auto [out, indices] = ctgrad::max_pool2d_with_indices(x, 2, 1, 1);
    CHECK(values_of(indices) == std::vector<double>{0, 0, 1, 0, 0, 1, 2, 2, 3});
    for (double v : values_of(out)) CHECK(v == -std::numeric_limits<double>::infinity());
    out.sum().backward();
    CHECK(values_of(x.grad()) == std::vector<double>{4, 2, 2, 1});
}

TEST_CASE("avg_pool2d against PyTorch: padding counted or not, ceil_mode, divisor_override; gradients") {
    for (const avg_case& c : avg_cases) {
        const std::string name = std::string("avgpool/") + c.name;
        INFO(name);
        const golden_case& g = gold(name);
        const Tensor x = tensor_of(g.at("x")).requires_grad_(true);
        const Tensor out = ctgrad::avg_pool2d(x, c.kernel, c.stride, c.padding, c.ceil, c.count_include_pad, c.divisor);
        check_close(out, g.at("out"), 1e-14, 1e-15, "value");
        CHECK(grad_fn_name(out) == "AvgPool2DBackward0");
        const Tensor gx = autograd::grad({out}, {x}, {tensor_of(g.at("gout"))})[0];
        check_close(gx, g.at("gx"), 1e-14, 1e-15, "gradient");
        auto options = nn::AvgPool2dOptions(pair(c.kernel))
                           .padding(pair(c.padding))
                           .ceil_mode(c.ceil)
                           .count_include_pad(c.count_include_pad)
                           .divisor_override(c.divisor);
        if (!c.stride.empty()) options.stride(pair(c.stride));
        check_close(F::avg_pool2d(x, options), g.at("out"), 1e-14, 1e-15, "F::avg_pool2d");
        nn::AvgPool2d module(options);
        check_close(module(x), g.at("out"), 1e-14, 1e-15, "nn::AvgPool2d");
        check_close(module(x.to(kFloat)), g.at("out"), 1e-6, 1e-6, "float32");
    }
    std::ostringstream printed;
    printed << *nn::AvgPool2d(2) << " " << *nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1));
    CHECK(printed.str() ==
          "ctgrad::nn::AvgPool2d(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0]) "
          "ctgrad::nn::MaxPool2d(kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], dilation=[1, 1], ceil_mode=false)");
}

TEST_CASE("pooling against finite differences, first and second derivatives") {
    // values far apart, so that no maximum changes within a finite-difference step
    const Tensor x = separated_tensor({2, 2, 7, 6}, 17, 0.01);
    for (const max_case& c : max_cases) {
        if (std::string(c.name) == "unbatched") continue;
        check_gradient(
            [&](const TensorList& t) { return ctgrad::max_pool2d(t[0], c.kernel, c.stride, c.padding, c.dilation, c.ceil); },
            {x}, std::string("max_pool2d ") + c.name);
        check_gradient(
            [&](const TensorList& t) {
                const Tensor y = ctgrad::max_pool2d(t[0], c.kernel, c.stride, c.padding, c.dilation, c.ceil);
                const Tensor gy = random_tensor(y.sizes(), 6).requires_grad_(true);
                const Tensor gx = autograd::grad({y}, {t[0]}, {gy * t[0].sum()}, true, true)[0];
                return gx;
            },
            {x}, std::string("max_pool2d's gradient, differentiated again ") + c.name);
    }
    const Tensor y = random_tensor({2, 2, 7, 6}, 18);
    for (const avg_case& c : avg_cases) {
        if (std::string(c.name) == "unbatched") continue;
        check_gradient(
            [&](const TensorList& t) {
                return ctgrad::avg_pool2d(t[0], c.kernel, c.stride, c.padding, c.ceil, c.count_include_pad, c.divisor);
            },
            {y}, std::string("avg_pool2d ") + c.name);
    }
    check_gradient([](const TensorList& t) { return ctgrad::max_pool2d(t[0], 2, 1); }, {separated_tensor({2, 4, 3}, 3)},
                   "max_pool2d, one [C, H, W] sample");
    check_gradient([](const TensorList& t) { return ctgrad::avg_pool2d(t[0], {2, 3}, 1, 1); }, {random_tensor({2, 4, 5}, 3)},
                   "avg_pool2d, one [C, H, W] sample");
}

TEST_CASE("constant_pad_nd and F::pad against PyTorch: padding, cropping, several dims") {
    const std::vector<std::pair<const char*, std::vector<std::int64_t>>> pads = {
        {"last", {1, 2}}, {"two_dims", {0, 1, 2, 1}}, {"crop", {1, -1, -1, 2}}, {"three_dims", {1, 0, 0, 1, 1, 1}}};
    const std::vector<double> values = {0.5, 0.0, -1.0, 2.0};
    for (std::size_t i = 0; i < pads.size(); ++i) {
        const std::string name = std::string("pad/") + pads[i].first;
        INFO(name);
        const golden_case& g = gold(name);
        const Tensor x = tensor_of(g.at("x")).requires_grad_(true);
        const Tensor out = ctgrad::constant_pad_nd(x, pads[i].second, values[i]);
        check_close(out, g.at("out"), 0, 0, "value");
        CHECK(grad_fn_name(out) == "ConstantPadNdBackward0");
        check_close(F::pad(x, F::PadFuncOptions(pads[i].second).value(values[i])), g.at("out"), 0, 0, "F::pad");
        const Tensor gx = autograd::grad({out}, {x}, {tensor_of(g.at("gout"))})[0];
        check_close(gx, g.at("gx"), 0, 0, "gradient");
        check_gradient([&](const TensorList& t) { return ctgrad::constant_pad_nd(t[0], pads[i].second, values[i]); },
                       {tensor_of(g.at("x"))}, name);
    }
    // integer tensors pad too (no gradient)
    CHECK(values_of(ctgrad::constant_pad_nd(ctgrad::tensor({1L, 2L}), {1, 1}, -1)) == std::vector<double>{-1, 1, 2, -1});
}

TEST_CASE("the mnist network's shapes: conv, max_pool, relu, conv, max_pool, view") {
    ctgrad::manual_seed(1);
    nn::Conv2d conv1(nn::Conv2dOptions(1, 10, /*kernel_size=*/5));
    nn::Conv2d conv2(nn::Conv2dOptions(10, 20, /*kernel_size=*/5));
    const Tensor x = ctgrad::randn({4, 1, 28, 28});
    Tensor h = ctgrad::relu(ctgrad::max_pool2d(conv1->forward(x), 2));
    CHECK(h.sizes().vec() == std::vector<std::int64_t>{4, 10, 12, 12});
    h = ctgrad::relu(ctgrad::max_pool2d(conv2->forward(h), 2));
    CHECK(h.sizes().vec() == std::vector<std::int64_t>{4, 20, 4, 4});
    const Tensor flat = h.view({-1, 320});
    flat.sum().backward();
    CHECK(conv1->weight.grad().sizes().vec() == std::vector<std::int64_t>{10, 1, 5, 5});
    CHECK(conv2->bias.grad().sizes().vec() == std::vector<std::int64_t>{20});
    // an empty batch gives an empty result
    CHECK(conv1->forward(ctgrad::zeros({0, 1, 28, 28})).sizes().vec() == std::vector<std::int64_t>{0, 10, 24, 24});
}

TEST_CASE("convolution and pooling errors: PyTorch's messages after the op's name, inputs unchanged") {
    const Tensor x = ctgrad::randn({64, 3, 28, 28}, ctgrad::requires_grad());
    const Tensor w = ctgrad::randn({10, 1, 5, 5}, ctgrad::requires_grad());
    const Tensor x8 = ctgrad::randn({1, 1, 8, 8});
    const unchanged before({x, w, x8});
    const auto conv = [](const char* name, const std::function<void()>& f) { check_golden_error(f, name, "conv2d"); };
    conv("conv_channels", [&] { ctgrad::conv2d(x, w); });
    conv("conv_channels", [&] { nn::Conv2d(1, 10, 5)(x); });
    conv("conv_rank", [&] { ctgrad::conv2d(ctgrad::randn({3, 28}), w); });
    conv("conv_rank5", [&] { ctgrad::conv2d(ctgrad::randn({1, 1, 3, 28, 28}), w); });
    conv("conv_kernel_too_big", [&] { ctgrad::conv2d(ctgrad::randn({1, 1, 4, 4}), w); });
    conv("conv_stride0", [&] { ctgrad::conv2d(x8, w, {}, 0); });
    conv("conv_stride_negative", [&] { F::conv2d(x8, w, F::Conv2dFuncOptions().stride({1, -1})); });
    conv("conv_dilation0", [&] { ctgrad::conv2d(x8, w, {}, 1, 0, 0); });
    conv("conv_padding_negative", [&] { ctgrad::conv2d(x8, w, {}, 1, -1); });
    conv("conv_groups0", [&] { ctgrad::conv2d(x8, w, {}, 1, 0, 1, 0); });
    conv("conv_groups_weight", [&] { ctgrad::conv2d(ctgrad::randn({1, 4, 8, 8}), ctgrad::randn({3, 2, 5, 5}), {}, 1, 0, 1, 2); });
    conv("conv_groups_channels", [&] { ctgrad::conv2d(ctgrad::randn({1, 3, 8, 8}), ctgrad::randn({4, 1, 5, 5}), {}, 1, 0, 1, 2); });
    conv("conv_empty_weight", [&] { ctgrad::conv2d(x8, ctgrad::randn({0, 1, 3, 3})); });
    conv("conv_bias", [&] { ctgrad::conv2d(x8, w, ctgrad::randn({5})); });
    conv("conv_dtype", [&] { ctgrad::conv2d(x8, w.to(kDouble)); });
    conv("conv_bias_dtype", [&] { ctgrad::conv2d(x8, w, ctgrad::randn({10}, kDouble)); });
    conv("conv_stride3", [&] { ctgrad::conv2d(x8, w, {}, {1, 1, 1}); });
    ctgrad_test::check_error([&] { ctgrad::conv2d(x8, ctgrad::randn({10, 1, 5})); },
                             "conv2d: Expected 4-dimensional weight for conv2d, but got 3-dimensional weight of size [10, 1, 5] instead");
    ctgrad_test::check_error([&] { ctgrad::conv2d(ctgrad::ones({1, 1, 8, 8}, kLong), ctgrad::ones({2, 1, 3, 3}, kLong)); },
                             "conv2d: \"conv2d\" not implemented for 'Long'");

    const auto max = [](const char* name, const std::function<void()>& f) { check_golden_error(f, name, "max_pool2d"); };
    max("max_pool_pad", [&] { ctgrad::max_pool2d(x8, 2, {}, 3); });
    max("max_pool_pad", [&] { nn::MaxPool2d(nn::MaxPool2dOptions(2).padding(3))(x8); });
    max("max_pool_pad_negative", [&] { ctgrad::max_pool2d(x8, 2, {}, -1); });
    max("max_pool_stride0", [&] { ctgrad::max_pool2d(x8, 2, 0); });
    max("max_pool_stride_negative", [&] { ctgrad::max_pool2d(x8, 2, -1); });
    max("max_pool_kernel0", [&] { ctgrad::max_pool2d(x8, 0, 1); });
    max("max_pool_dilation0", [&] { ctgrad::max_pool2d(x8, 2, {}, 0, 0); });
    max("max_pool_rank", [&] { ctgrad::max_pool2d(ctgrad::randn({8, 8}), 2); });
    max("max_pool_empty_plane", [&] { ctgrad::max_pool2d(ctgrad::randn({1, 0, 8, 8}), 2); });
    max("max_pool_too_small", [&] { ctgrad::max_pool2d(ctgrad::randn({1, 1, 2, 2}), 3); });
    max("max_pool_kernel3", [&] { ctgrad::max_pool2d(x8, {2, 2, 2}); });
    max("max_pool_stride3", [&] { ctgrad::max_pool2d(x8, 2, {1, 1, 1}); });
    max("max_pool_padding3", [&] { ctgrad::max_pool2d(x8, 2, {}, {1, 1, 1}); });
    max("max_pool_dilation3", [&] { ctgrad::max_pool2d(x8, 2, {}, 0, {1, 1, 1}); });
    max("max_pool_long", [&] { ctgrad::max_pool2d(ctgrad::ones({1, 1, 8, 8}, kLong), 2); });
    check_golden_error([&] { ctgrad::max_pool2d_with_indices(x8, 2, {}, 3); }, "max_pool_pad", "max_pool2d_with_indices");

    const auto avg = [](const char* name, const std::function<void()>& f) { check_golden_error(f, name, "avg_pool2d"); };
    avg("avg_pool_pad", [&] { ctgrad::avg_pool2d(x8, 2, {}, 3); });
    avg("avg_pool_stride0", [&] { ctgrad::avg_pool2d(x8, 2, 0); });
    avg("avg_pool_kernel0", [&] { ctgrad::avg_pool2d(x8, 0, 1); });
    avg("avg_pool_too_small", [&] { ctgrad::avg_pool2d(ctgrad::randn({1, 1, 2, 2}), 3); });
    avg("avg_pool_divisor0", [&] { nn::AvgPool2d(nn::AvgPool2dOptions(2).divisor_override(0))(x8); });
    avg("avg_pool_kernel3", [&] { ctgrad::avg_pool2d(x8, {2, 2, 2}); });
    avg("avg_pool_padding3", [&] { ctgrad::avg_pool2d(x8, 2, {}, {1, 1, 1}); });
    // ATen's avg_pool2d reports a 2-d input by a dim error; ctgrad says what max_pool2d says
    ctgrad_test::check_error([&] { ctgrad::avg_pool2d(ctgrad::randn({8, 8}), 2); },
                             "avg_pool2d: non-empty 3D or 4D (batch mode) tensor expected for input");

    check_golden_error([&] { ctgrad::constant_pad_nd(x8, {1}); }, "pad_odd", "constant_pad_nd");
    check_golden_error([&] { F::pad(ctgrad::randn({2, 3}), F::PadFuncOptions({1, 1, 1, 1, 1, 1})); }, "pad_too_long",
                       "constant_pad_nd");
    ctgrad_test::check_error([&] { ctgrad::constant_pad_nd(ctgrad::randn({2, 3}), {-2, -2}); },
                             "constant_pad_nd: The input size 3, plus negative padding -2 and -2 resulted in a negative "
                             "output size, which is invalid. Check dimension 1 of your input.");
    before.check();
    CHECK_FALSE(x.grad().defined());
    CHECK_FALSE(w.grad().defined());
}

TEST_CASE("conv2d: a batch convolved in several chunks equals its samples convolved one by one") {
    // Conv2d(2, 3, 3), stride 2, padding 1, on 160 x 160 planes: 2 * 9 * 80 * 80 doubles of
    // columns per sample, so the 2 MiB budget takes 2 samples per product: 5 chunks.
    ctgrad::manual_seed(11);
    const Tensor x = ctgrad::randn({10, 2, 160, 160}, ctgrad::kDouble).requires_grad_(true);
    const Tensor w = ctgrad::randn({3, 2, 3, 3}, ctgrad::kDouble).requires_grad_(true);
    const Tensor b = ctgrad::randn({3}, ctgrad::kDouble).requires_grad_(true);
    const Tensor g = ctgrad::randn({10, 3, 80, 80}, ctgrad::kDouble);
    const Tensor y = ctgrad::conv2d(x, w, b, 2, 1);
    (y * g).sum().backward();
    const Tensor gx = x.grad().clone(), gw = w.grad().clone();
    x.grad().zero_();
    w.grad().zero_();
    std::vector<Tensor> rows;
    for (std::int64_t i = 0; i < 10; ++i) {
        const Tensor yi = ctgrad::conv2d(x.narrow(0, i, 1), w, b, 2, 1);
        (yi * g.narrow(0, i, 1)).sum().backward();
        rows.push_back(yi);
    }
    CHECK(ctgrad::allclose(y, ctgrad::cat(rows, 0), 1e-12, 1e-12));
    CHECK(ctgrad::allclose(gx, x.grad(), 1e-12, 1e-12));
    CHECK(ctgrad::allclose(gw, w.grad(), 1e-10, 1e-10));
}

TEST_CASE("conv2d: an empty batch has an empty output and zero gradients, as ATen's") {
    const Tensor x = ctgrad::zeros({0, 2, 6, 6}, ctgrad::kDouble).requires_grad_(true);
    const Tensor w = ctgrad::ones({3, 2, 3, 3}, ctgrad::kDouble).requires_grad_(true);
    const Tensor y = ctgrad::conv2d(x, w);
    CHECK(y.sizes() == IntArrayRef({0, 3, 4, 4}));
    y.sum().backward();
    CHECK(x.grad().sizes() == x.sizes());
    CHECK(ctgrad::equal(w.grad(), ctgrad::zeros({3, 2, 3, 3}, ctgrad::kDouble)));
}
