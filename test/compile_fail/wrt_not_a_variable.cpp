// value_and_grad with respect to an expression (x*2), not a variable.
#include <ctgrad/expr.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
int main() {
    auto [value, grads] = value_and_grad(x * x, wrt(x * 2), x = 3.0);
    return static_cast<int>(value + std::get<0>(grads));
}
