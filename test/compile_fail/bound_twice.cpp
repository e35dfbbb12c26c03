// The variable x is bound twice in one call.
#include <ctgrad/expr.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
int main() { return static_cast<int>(eval(x * x, x = 1.0, x = 2.0)); }
