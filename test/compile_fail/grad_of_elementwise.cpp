// value_and_grad of x*a with x bound to an array: the value is an array, not a number.
#include <ctgrad/expr.hpp>
#include <vector>
using namespace ctgrad::expr;
constexpr var<"x"> x;
constexpr var<"a"> a;
int main() {
    std::vector<float> xs{1.f, 2.f, 3.f};
    auto [value, grads] = value_and_grad(x * a, wrt(a), x = xs, a = 2.f);
    return static_cast<int>(std::get<0>(grads));
}
