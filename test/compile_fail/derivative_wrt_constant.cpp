// derivative(e, v) where v is the compile-time constant 2_c, not a variable.
#include <ctgrad/expr.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
int main() { return to_string(derivative(x * x, 2_c)).empty() ? 1 : 0; }
