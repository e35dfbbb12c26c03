// x both itself and in into(x, g): which gradient would be where is not clear.
#include <ctgrad/expr.hpp>
#include <vector>
using namespace ctgrad::expr;
constexpr var<"x"> x;
int main() {
    std::vector<double> xs{1.0, 2.0}, g;
    return static_cast<int>(value_and_grad(sum(x * x), wrt(x, into(x, g)), x = xs).value);
}
