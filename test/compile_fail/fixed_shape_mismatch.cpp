// Two xtensor_fixed arrays whose compile-time shapes differ (3 and 4) in one call.
#include <ctgrad/expr.hpp>
#include <xtensor/xfixed.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
constexpr var<"y"> y;
int main() {
    xt::xtensor_fixed<float, xt::xshape<3>> xs = {1.f, 2.f, 3.f};
    xt::xtensor_fixed<float, xt::xshape<4>> ys = {1.f, 2.f, 3.f, 4.f};
    return static_cast<int>(eval(sum(x * y), x = xs, y = ys));
}
