// A scalar-valued expression has a gradient, not a Jacobian of element-wise values.
#include <ctgrad/expr.hpp>
#include <vector>
using namespace ctgrad::expr;
constexpr var<"x"> x;
int main() {
    std::vector<double> xs{1.0, 2.0};
    return static_cast<int>(value_and_jacobian(sum(x * x), wrt(x), x = xs).value.size());
}
