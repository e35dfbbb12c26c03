// A reduction inside a reduction: sum(x - mean(x)).
#include <ctgrad/expr.hpp>
#include <vector>
using namespace ctgrad::expr;
constexpr var<"x"> x;
int main() {
    std::vector<double> xs{1.0, 2.0, 3.0};
    return static_cast<int>(eval(sum(x - mean(x)), x = xs));
}
