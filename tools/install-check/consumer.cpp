// The program both install-check consumers build: it includes the installed umbrella header and
// computes a loss and its gradient, checking the numbers, so a broken include path, a missing
// dependency or a miscompiled header fails here and not in a user's project.
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

    // L = sum((x - 2x)^2) = 1 + 4 + 9 = 14;  dL/da = sum(2 (a x - y) x) = -28
    const std::vector<float> xs{1.f, 2.f, 3.f};
    const xt::xarray<float> ys{2.f, 4.f, 6.f};
    const auto [value, grads] = value_and_grad(loss, wrt(a), x = xs, y = ys, a = 1.f);
    const float dl_da = std::get<0>(grads);
    std::printf("loss = %g, dloss/da = %g, d(x*x)/dx = %s\n", value, dl_da, to_string(derivative(x * x, x)).c_str());
    const bool ok = std::abs(value - 14.f) < 1e-4f && std::abs(dl_da + 28.f) < 1e-4f;
    if (!ok) std::puts("FAIL: expected loss 14 and dloss/da -28");
    return ok ? 0 : 1;
}
