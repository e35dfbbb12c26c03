// The program every install-check consumer builds: it includes the installed umbrella header,
// computes a loss and its gradient in both layers and checks the numbers, so a broken include
// path, a missing dependency, an unlinked runtime library or a miscompiled header fails here
// and not in a user's project.
#include <cmath>
#include <cstdio>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <xtensor/xarray.hpp>

int main() {
    using namespace ctgrad::expr;
    constexpr var<"x"> x;
    constexpr var<"y"> y;
    constexpr var<"a"> a;
    constexpr auto loss = sum(pow<2>(a * x - y));

    // The static layer, header-only.
    // L = sum((x - 2x)^2) = 1 + 4 + 9 = 14;  dL/da = sum(2 (a x - y) x) = -28
    const std::vector<float> xs{1.f, 2.f, 3.f};
    const xt::xarray<float> ys{2.f, 4.f, 6.f};
    const auto [value, grads] = value_and_grad(loss, wrt(a), x = xs, y = ys, a = 1.f);
    const float dl_da = std::get<0>(grads);
    std::printf("loss = %g, dloss/da = %g, d(x*x)/dx = %s\n", value, dl_da, to_string(derivative(x * x, x)).c_str());
    bool ok = std::abs(value - 14.f) < 1e-4f && std::abs(dl_da + 28.f) < 1e-4f;
    if (!ok) std::puts("FAIL: expected loss 14 and dloss/da -28");

    // The dynamic layer, from the runtime library: the same loss through tensors and autograd,
    // and one SGD step of an nn::Linear.
    auto av = ctgrad::tensor(1.f, ctgrad::requires_grad());
    auto dynamic_loss = (av * ctgrad::tensor({1.f, 2.f, 3.f}) - ctgrad::tensor({2.f, 4.f, 6.f})).pow(2).sum();
    dynamic_loss.backward();
    std::printf("dynamic: loss = %g, dloss/da = %g\n", dynamic_loss.item<float>(), av.grad().item<float>());
    ok = ok && std::abs(dynamic_loss.item<float>() - 14.f) < 1e-4f && std::abs(av.grad().item<float>() + 28.f) < 1e-4f;
    ctgrad::nn::Linear layer(3, 1);
    ctgrad::optim::SGD sgd(layer->parameters(), ctgrad::optim::SGDOptions(0.1));
    const auto before = layer->weight.clone();
    layer->forward(ctgrad::ones({2, 3})).sum().backward();
    sgd.step();
    // d(sum of both rows' outputs)/dW = 2 for every weight: one step moves each by -0.2.
    ok = ok && (layer->weight - before).add(0.2).abs().max().item<float>() < 1e-6f;
    if (!ok) std::puts("FAIL: the dynamic layer's loss, gradient or SGD step");
    return ok ? 0 : 1;
}
