// into(a, out) for a variable bound to a number: its gradient is one number, not an array.
#include <ctgrad/expr.hpp>
#include <vector>
using namespace ctgrad::expr;
constexpr var<"x"> x;
constexpr var<"a"> a;
int main() {
    std::vector<double> xs{1.0, 2.0}, ga;
    return static_cast<int>(value_and_grad(sum(a * x), wrt(into(a, ga)), x = xs, a = 2.0).value);
}
