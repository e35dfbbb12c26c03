// The dynamic layer on a device: every test runs a program once on the CPU and once on cuda:0 and
// compares the results (values, gradients, dtypes, shapes), and checks the device's errors.
//
// Built twice (test/meson.build): against ctgrad's CUDA library in the `cuda` suite, where it
// exits 77 (skipped) without a GPU; and against Thrust's OpenMP system standing in for CUDA
// (CTGRAD_TEST_EMULATED_CUDA), so that CI runs every device code path of the dynamic layer and
// the Thrust kernels without a GPU.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <vector>

#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>
#include <ctgrad/tensor/xtensor.hpp>

#include "../support/errors.hpp"
#include "../support/values.hpp"
#if CTGRAD_TEST_EMULATED_CUDA
#include "../support/emulated_cuda_scope.hpp"
#endif

using namespace ctgrad;
using ctgrad_test::values_of;

namespace {

const Device gpu(kCUDA);
using program = std::function<std::vector<Tensor>(Device)>;

// Runs `p` on the CPU and on the GPU from the same seed and compares what it returns.
void same_on_gpu(const program& p, double rtol = 1e-6, double atol = 1e-6) {
    manual_seed(7);
    const std::vector<Tensor> want = p(Device(kCPU));
    manual_seed(7);
    const std::vector<Tensor> got = p(gpu);
    REQUIRE(want.size() == got.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        REQUIRE(got[i].defined() == want[i].defined());
        if (!want[i].defined()) continue;
        CHECK(got[i].is_cuda());
        CHECK(got[i].sizes() == want[i].sizes());
        CHECK(got[i].scalar_type() == want[i].scalar_type());
        const std::vector<double> w = values_of(want[i]), g = values_of(got[i]);
        REQUIRE(w.size() == g.size());
        for (std::size_t k = 0; k < w.size(); ++k) {
            CAPTURE(k);
            if (std::isnan(w[k])) CHECK(std::isnan(g[k]));
            else CHECK(std::fabs(g[k] - w[k]) <= atol + rtol * std::fabs(w[k]));
        }
    }
}

// A leaf on `device` with values drawn on the CPU (the same numbers on both devices).
Tensor leaf(IntArrayRef sizes, Device device, ScalarType dtype = kFloat, double shift = 0) {
    Tensor t = (randn(sizes, dtype) + shift).to(device);
    return t.requires_grad_(true);
}

// y = f(x) and the gradient of sum(y * w) for a random w, plus the inputs' gradients.
std::vector<Tensor> value_and_grads(const Tensor& y, std::initializer_list<Tensor> inputs) {
    const Tensor w = randn(y.sizes(), y.scalar_type()).to(y.device());
    (y * w).sum().backward();
    std::vector<Tensor> out{y};
    for (const Tensor& x : inputs) out.push_back(x.grad());
    return out;
}

}  // namespace

TEST_CASE("moving tensors between the CPU and the GPU") {
    const Tensor a = arange(6, kFloat).reshape({2, 3});
    const Tensor g = a.cuda();
    CHECK(g.is_cuda());
    CHECK(g.device() == Device(kCUDA, 0));
    CHECK(g.device().str() == "cuda:0");
    CHECK(g.to(kCUDA).is_same(g));  // already there: no copy
    CHECK(values_of(g.cpu()) == values_of(a));
    CHECK(g.cpu().is_cpu());
    // dtype and device in one step, non-contiguous sources, views of device tensors
    CHECK(values_of(a.t().to(TensorOptions().dtype(kDouble).device(kCUDA))) == values_of(a.t()));
    CHECK(values_of(g.t()) == values_of(a.t()));
    CHECK(values_of(g.t().contiguous()) == values_of(a.t()));
    CHECK(values_of(g.select(1, 2)) == values_of(a.select(1, 2)));
    CHECK(g.to(kLong).scalar_type() == kLong);
    CHECK(values_of(g.to(kBool)) == values_of(a.to(kBool)));
    CHECK(g.sum().item<float>() == 15.f);
    // copy_ across devices, both ways, into strided destinations
    Tensor d = zeros({3, 2}, device(kCUDA));
    d.copy_(a.t());
    CHECK(values_of(d) == values_of(a.t()));
    Tensor h = zeros({3, 2});
    h.t().copy_(g);
    CHECK(values_of(h) == values_of(a.t()));
    // str() prints as Python does, operator<< as libtorch does.
    CHECK(str(g) == "tensor([[0., 1., 2.],\n        [3., 4., 5.]], device='cuda:0')");
    std::ostringstream s;
    s << g;
    CHECK(s.str() == " 0  1  2\n 3  4  5\n[ CUDAFloatType{2,3} ]");
}

TEST_CASE("factories on the GPU give the CPU's values") {
    same_on_gpu([](Device d) {
        return std::vector<Tensor>{zeros({2, 3}, device(d)), ones({4}, TensorOptions().dtype(kDouble).device(d)),
                                   full({2, 2}, 3.5, device(d)), full({3}, 7, device(d)), randn({5}, device(d)),
                                   rand({2, 2}, device(d)), linspace(0, 1, 7, device(d)), arange(0, 10, 3, device(d)),
                                   tensor({{1.f, 2.f}, {3.f, 4.f}}, device(d)), empty({0}, device(d))};
    });
    const Tensor t = randn({3}, TensorOptions().device(kCUDA).requires_grad(true));
    CHECK(t.is_leaf());
    CHECK(t.requires_grad());
    CHECK(t.is_cuda());
}

TEST_CASE("element-wise ops and their gradients") {
    using unary = Tensor (*)(const Tensor&);
    const std::vector<std::pair<const char*, unary>> ops = {
        {"neg", ctgrad::neg},   {"exp", ctgrad::exp},   {"sin", ctgrad::sin},         {"cos", ctgrad::cos},
        {"tan", ctgrad::tan},   {"tanh", ctgrad::tanh}, {"sigmoid", ctgrad::sigmoid}, {"relu", ctgrad::relu},
        {"abs", ctgrad::abs},   {"square", ctgrad::square}};
    for (ScalarType dtype : {kFloat, kDouble})
        for (const auto& [name, f] : ops) {
            CAPTURE(name);
            same_on_gpu([&, f = f](Device d) {
                const Tensor x = leaf({3, 4}, d, dtype);
                return value_and_grads(f(x), {x});
            });
        }
    // ops that need positive inputs, and the integer powers
    same_on_gpu([](Device d) {
        const Tensor x = leaf({7}, d, kFloat, 3);
        return value_and_grads(x.log() + x.sqrt() + x.pow(2) + x.pow(3) + x.pow(4) + x.pow(2.5), {x});
    });
}

TEST_CASE("binary ops broadcast, mix dtypes and take CPU scalars") {
    same_on_gpu([](Device d) {
        const Tensor a = leaf({3, 1}, d), b = leaf({4}, d, kFloat, 3);
        return value_and_grads(a + b - a * b / b.abs() + maximum(a, b) - minimum(a, b * 0.5) + b.pow(a), {a, b});
    });
    same_on_gpu([](Device d) {
        const Tensor a = leaf({4, 3}, d), b = leaf({3, 4}, d);  // a non-contiguous operand
        return value_and_grads(a * b.t() + 2.0 - 3.0 / (a.abs() + 1) + a * 0.5 + (1 - b.t()), {a, b});
    });
    same_on_gpu([](Device d) {  // float32 tensor * float64 0-d tensor on the CPU stays float32
        const Tensor a = leaf({5}, d);
        return value_and_grads(a * tensor(2.5, kDouble), {a});
    });
    same_on_gpu([](Device d) {  // integers: + - * and negation stay int64; others compute in float
        const Tensor i = arange(6, device(d)), j = tensor({3, 1, 4, 1, 5, 9}, device(d));
        return std::vector<Tensor>{i + j, i * j - 2, -i, i / j, i.to(kFloat) * j};
    });
}

TEST_CASE("reductions, and the sums that undo broadcasting in backward") {
    same_on_gpu([](Device d) {
        const Tensor x = leaf({2, 3, 4}, d);
        return value_and_grads(x.sum().reshape({1}) + x.mean() + x.sum({0, 2}).sum() + x.mean({1}, true).sum(), {x});
    });
    same_on_gpu([](Device d) {
        const Tensor x = leaf({4, 5}, d, kDouble);
        return value_and_grads(x.sum({1}, false) + x.t().sum({0}), {x});
    });
    same_on_gpu([](Device d) {
        const Tensor i = tensor({{1, 2}, {3, 4}}, device(d));
        return std::vector<Tensor>{i.sum(), i.sum({0}), i.to(kBool).sum(), zeros({0, 3}, device(d)).sum({0})};
    });
}

TEST_CASE("comparisons, masks, any and all on the GPU") {
    same_on_gpu([](Device d) {
        const Tensor x = tensor({1.0, std::nan(""), -2.0, 3.0, 0.0, 3.0}, device(d)), y = tensor({1.0, 2.0, -3.0, std::nan(""), 0.0, 4.0}, device(d));
        const Tensor i = arange(6, device(d)), m = x.reshape({2, 3}), row = y.narrow(0, 0, 3);
        return std::vector<Tensor>{x == y, x != y, x < y, x <= y, x > y, x >= y, x > 0.5, 2 < x, i >= 3, i < 2.5,
                                   m > row, i == tensor(4), x.to(kDouble) == tensor(3.0, kDouble).to(d),
                                   (i + (std::int64_t(1) << 60)) == tensor((std::int64_t(1) << 60) + 3)};
    });
    same_on_gpu([](Device d) {
        const Tensor x = tensor({0.0, std::nan(""), 2.0}, device(d)), i = arange(4, device(d)), z = zeros({0, 2}, device(d));
        return std::vector<Tensor>{x.any(), x.all(), (x > 10).any(), x.narrow(0, 1, 2).all(), i.all(), i.any(),
                                   i.to(kBool).any(), z.all(), z.any(), zeros({}, device(d)).any()};
    });
    same_on_gpu([](Device d) {  // masked_fill's value where the mask holds, and its gradient elsewhere
        const Tensor x = leaf({3, 4}, d), mask = leaf({4}, d).detach() > 0;
        return value_and_grads(ctgrad::masked_fill(x * 2, mask, -1.5) + ctgrad::masked_fill(x, x > 0, INFINITY) * 0,
                               {x});
    });
    for (Device d : {Device(kCPU), gpu}) {
        CAPTURE(d.str());
        const Tensor a = tensor({1.0, 2.0, 3.0}, device(d)), b = tensor({1.0, 2.000001, 3.0}, device(d));
        CHECK(equal(a, a.clone()));
        CHECK_FALSE(equal(a, b));
        CHECK(allclose(a, b));
        CHECK_FALSE(allclose(a, b * 2));
    }
}

TEST_CASE("max, min, argmax and argmin on the GPU, with their gradients") {
    same_on_gpu([](Device d) {
        const Tensor x = leaf({3, 4, 5}, d);
        const auto [v1, i1] = x.max(1, false);
        const auto [v2, i2] = x.min(2, true);
        std::vector<Tensor> out = value_and_grads(x.max() + x.min() + v1.sum() + v2.sum() * 2, {x});
        for (const Tensor& t : {i1, i2, x.argmax(), x.argmin(0), x.argmax(-1, true), x.detach().argmin()}) out.push_back(t);
        return out;
    });
    same_on_gpu([](Device d) {  // the gradient of max(dim) differentiated in its upstream gradient
        const Tensor x = leaf({3, 4}, d), u = leaf({3}, d);
        const Tensor v = std::get<0>(x.max(1, false));
        const Tensor g = autograd::grad({v}, {x}, {u}, std::nullopt, true)[0];
        return value_and_grads(g, {u});
    });
    same_on_gpu([](Device d) {  // ties go to the first index, NaN beats everything; max() shares among ties
        const Tensor x = tensor({1.0, 3.0, 3.0, -1.0}, device(d)).requires_grad_(true);
        const Tensor n = tensor({{1.0, std::nan(""), 2.0}, {std::nan(""), 5.0, std::nan("")}}, device(d));
        std::vector<Tensor> out = value_and_grads(x.max() * 3 + std::get<0>(x.min(0, false)), {x});
        const auto [nv, ni] = n.max(1, false);
        for (const Tensor& t : {n.max(), n.min(), nv, ni, n.argmax(), n.argmin(0)}) out.push_back(t);
        return out;
    });
    same_on_gpu([](Device d) {  // integers and bools, with ties; long slices take a parallel reduction
        const Tensor k = (randn({2, 5000}) * 3).to(kLong).to(d), b = (randn({7, 3}) > 0).to(d);
        const auto [kv, ki] = k.max(1, false);
        const auto [bv, bi] = b.min(0, false);
        return std::vector<Tensor>{k.max(), k.min(), k.argmax(), k.argmin(), kv, ki, std::get<1>(k.min(0, false)),
                                   b.max(), bv, bi};
    });
}

TEST_CASE("norms on the GPU, with their gradients") {
    for (double p : {2.0, 1.0, 3.0, 0.5, double(INFINITY), -double(INFINITY), 0.0}) {
        CAPTURE(p);
        same_on_gpu([p](Device d) {
            const Tensor x = leaf({3, 4, 2}, d, kDouble);
            Tensor total = x.norm(p) + x.norm(p, {1}, false).sum() + x.norm(p, {0, 2}, true).sum();
            if (p == 0.0) return std::vector<Tensor>{total};  // a count: no gradient
            return value_and_grads(total, {x});
        }, 1e-12, 1e-12);
    }
    same_on_gpu([](Device d) {  // a zero slice (the gradient's 0/0 convention), floats, an empty reduction
        Tensor x = leaf({2, 3}, d);
        const Tensor z = x * tensor({0.0, 1.0}).reshape({2, 1}).to(d);
        std::vector<Tensor> out = value_and_grads(z.norm(2, {1}, false).sum() + z.norm(INFINITY), {x});
        out.push_back(zeros({0, 3}, device(d)).norm(2, {0}, false));
        return out;
    }, 1e-6, 1e-6);
}

TEST_CASE("matrix products on the GPU") {
    for (ScalarType dtype : {kFloat, kDouble}) {
        same_on_gpu([&](Device d) {
            const Tensor a = leaf({3, 4}, d, dtype), b = leaf({4, 2}, d, dtype), v = leaf({4}, d, dtype);
            return value_and_grads(a.mm(b).sum({1}) + a.mv(v) + a.t().t().matmul(v) * ctgrad::dot(v, v), {a, b, v});
        }, 1e-5, 1e-5);
        same_on_gpu([&](Device d) {  // batched and broadcast, transposed operands
            const Tensor a = leaf({2, 3, 4}, d, dtype), b = leaf({4, 5}, d, dtype), c = leaf({5, 4}, d, dtype);
            return value_and_grads(a.matmul(b) + a.matmul(c.t()) + a.bmm(b.expand({2, 4, 5})), {a, b, c});
        }, 1e-5, 1e-5);
        same_on_gpu([&](Device d) {
            const Tensor bias = leaf({2}, d, dtype), x = leaf({6, 3}, d, dtype), w = leaf({2, 3}, d, dtype);
            return value_and_grads(addmm(bias, x, w.t()) + addmm(bias, x, w.t(), 0.5, 2), {bias, x, w});
        }, 1e-5, 1e-5);
    }
}

TEST_CASE("views, joins and in-place updates") {
    same_on_gpu([](Device d) {
        const Tensor x = leaf({3, 4}, d);
        const Tensor y = x.t().select(0, 1) * 2 + x.narrow(1, 1, 2).sum({1}) + x.unsqueeze(0).expand({2, 3, 4}).sum({0, 2});
        return value_and_grads(cat({y, x.select(1, 0), stack({y, y}).sum({0})}), {x});
    });
    same_on_gpu([](Device d) {
        Tensor w = randn({5}).to(d);
        const Tensor g = randn({5}).to(d);
        {
            NoGradGuard no_grad;
            w -= 0.1 * g;
            w.mul_(2).add_(g, -0.5).div_(3);
        }
        Tensor z = w.clone();
        z.zero_();
        Tensor f = empty({2, 3}, device(d));
        f.fill_(1.25);
        Tensor n = empty({4}, device(d));
        n.normal_(0, 1);
        return std::vector<Tensor>{w, z, f, n};
    });
}

TEST_CASE("second derivatives run through device ops") {
    same_on_gpu([](Device d) {
        const Tensor x = leaf({4}, d);
        const Tensor y = (x.pow(3) * x.sin()).sum();
        const Tensor g = autograd::grad({y}, {x}, {}, std::nullopt, true)[0];
        g.sum().backward();
        return std::vector<Tensor>{y, g, x.grad()};
    }, 1e-5, 1e-5);
}

TEST_CASE("nn modules and losses move with to(kCUDA)") {
    same_on_gpu([](Device d) {
        nn::Sequential model(nn::Linear(3, 4), nn::Tanh(), nn::Linear(4, 1), nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1)));
        model->to(d);
        const Tensor x = randn({10, 3}).to(d), y = randn({10}).to(d);
        const Tensor loss = nn::MSELoss()(model->forward(x), y) + mse_loss(model->forward(x), y, Reduction::Sum);
        loss.backward();
        std::vector<Tensor> out{loss};
        for (const Tensor& p : model->parameters()) {
            CHECK(p.device() == d);
            out.push_back(p.grad());
        }
        out.push_back(mse_loss(x, -x, Reduction::None));
        return out;
    }, 1e-5, 1e-5);
}

TEST_CASE("smooth L1 and Huber losses on the GPU") {
    for (std::int64_t reduction : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
        CAPTURE(reduction);
        same_on_gpu([reduction](Device d) {
            const Tensor x = leaf({4, 5}, d), t = leaf({5}, d);
            const Tensor a = smooth_l1_loss(x, t, reduction, 0.5), b = huber_loss(x * 2, t, reduction, 0.7);
            std::vector<Tensor> out = value_and_grads(a + b, {x, t});
            out.push_back(smooth_l1_loss(x.detach().to(kDouble), t.detach(), reduction));
            return out;
        }, 1e-6, 1e-6);
    }
    same_on_gpu([](Device d) {  // the backward's formula under create_graph
        const Tensor x = leaf({6}, d, kDouble), t = zeros({6}, dtype(kDouble).device(d));
        const Tensor loss = huber_loss(x, t, Reduction::Sum, 0.5);
        const Tensor g = autograd::grad({loss}, {x}, {}, std::nullopt, true)[0];
        (g * g).sum().backward();
        return std::vector<Tensor>{loss, g, x.grad()};
    }, 1e-12, 1e-12);
}

// The seeds' training loops in miniature: a few optimizer steps, the parameters compared after.
TEST_CASE("optimizer steps run on the device") {
    auto train = [](Device d, auto make_optimizer) {
        nn::Sequential model(nn::Linear(3, 5), nn::ReLU(), nn::Linear(5, 1), nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1)));
        model->to(d);
        auto optimizer = make_optimizer(model->parameters());
        const Tensor x = linspace(-3, 3, 50).unsqueeze(-1).pow(tensor({1, 2, 3})).to(d);
        const Tensor y = linspace(-3, 3, 50).sin().to(d);
        std::vector<Tensor> out;
        for (int step = 0; step < 5; ++step) {
            const Tensor loss = nn::MSELoss(nn::MSELossOptions().reduction(ctgrad::kSum))(model->forward(x), y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            out.push_back(loss.detach());
        }
        for (const Tensor& p : model->parameters()) out.push_back(p.detach());
        return out;
    };
    same_on_gpu([&](Device d) {
        return train(d, [](auto params) { return optim::SGD(params, optim::SGDOptions(1e-4).momentum(0.9).nesterov(true)); });
    }, 1e-5, 1e-6);
    same_on_gpu([&](Device d) {
        return train(d, [](auto params) { return optim::Adam(params, optim::AdamOptions(1e-2).amsgrad(true)); });
    }, 1e-5, 1e-6);
    same_on_gpu([&](Device d) {
        return train(d, [](auto params) { return optim::AdamW(params, optim::AdamWOptions(1e-2)); });
    }, 1e-5, 1e-6);
    same_on_gpu([&](Device d) {
        return train(d, [](auto params) { return optim::RMSprop(params, optim::RMSpropOptions(1e-3).centered(true).momentum(0.5)); });
    }, 1e-5, 1e-6);
}

TEST_CASE("errors name the devices") {
    const Tensor c = ones({2}), g = ones({2}, device(kCUDA));
    CTGRAD_CHECK_ERROR(c + g, "add: expected all tensors on one device, got cpu and cuda:0");
    CTGRAD_CHECK_ERROR(g.reshape({1, 2}).mm(c.reshape({2, 1})), "mm: expected all tensors on one device, got cuda:0 and cpu");
    CTGRAD_CHECK_ERROR(cat({g, c}), "cat: expected all tensors on one device, got cuda:0 and cpu");
    CTGRAD_CHECK_ERROR(mse_loss(g, c), "mse_loss: expected all tensors on one device");
    CTGRAD_CHECK_ERROR(g > c, "expected all tensors on one device");
    CTGRAD_CHECK_ERROR(g.max(1, false), "Dimension out of range");
    CTGRAD_CHECK_ERROR(g.to_xarray<float>(), "to_xarray: the tensor is on cuda:0; move it to the CPU first");
    CTGRAD_CHECK_ERROR(ones({2}, device(Device(kCUDA, 1))), "ctgrad uses one GPU, cuda:0");
    {  // a parameter on the GPU with its gradient on the CPU
        Tensor p = zeros({2}, device(kCUDA)).requires_grad_(true);
        p.mutable_grad() = ones({2});
        optim::SGD sgd({p}, optim::SGDOptions(0.1));
        CTGRAD_CHECK_ERROR(sgd.step(), "SGD");
    }
    // Without kernels for kCUDA (a program that does not link the CUDA library).
    DeviceKernels* registered = detail::device_kernels_slot(kCUDA);
    register_device_kernels(kCUDA, nullptr);
    CHECK_FALSE(cuda::is_available());
    CTGRAD_CHECK_ERROR(ones({2}).cuda(), "does not link ctgrad's CUDA kernels");
    CTGRAD_CHECK_ERROR(g * 2, "does not link ctgrad's CUDA kernels");
    register_device_kernels(kCUDA, registered);
    CHECK(cuda::is_available());
}

int main(int argc, char** argv) {
#if CTGRAD_TEST_EMULATED_CUDA
    ctgrad::testing::emulated_cuda_scope emulated;
    std::printf("device tests on %s\n", ctgrad::device_kernels(ctgrad::Device(ctgrad::kCUDA), "test").backend_name().c_str());
#else
    if (!ctgrad::cuda::is_available()) {
        std::printf("no CUDA GPU found: skipping the device tests (meson reports them as skipped)\n");
        return 77;
    }
#endif
    doctest::Context context(argc, argv);
    return context.run();
}
