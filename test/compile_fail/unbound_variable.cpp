// eval() of an expression whose variable y has no binding: the error names y.
#include <ctgrad/expr.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
constexpr var<"y"> y;
int main() { return static_cast<int>(eval(x * y, x = 1.0)); }
