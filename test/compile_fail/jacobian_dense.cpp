// The Jacobian of x - mean(x) with respect to x is dense (every element reads every other through
// the mean): value_and_jacobian refuses it and names the reduction.
#include <ctgrad/expr.hpp>
#include <vector>
using namespace ctgrad::expr;
constexpr var<"x"> x;
int main() {
    std::vector<double> xs{1.0, 2.0};
    return static_cast<int>(std::get<0>(value_and_jacobian(x - mean(x), wrt(x), x = xs).jacobian).size());
}
