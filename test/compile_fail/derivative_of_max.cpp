// The derivative of max(x) depends on which elements tie: no expression stands for it.
#include <ctgrad/expr.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
int main() {
    auto d = derivative(max(x * x), x);
    return static_cast<int>(sizeof(d));
}
