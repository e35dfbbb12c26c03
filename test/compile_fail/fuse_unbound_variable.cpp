// ctgrad::fuse of an expression whose variable y is bound to no tensor: the error names y.
#include <ctgrad/tensor.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
constexpr var<"y"> y;
int main() {
    ctgrad::Tensor t = ctgrad::ones({3});
    return ctgrad::fuse(sum(x * y), x = t).item<float>() > 0;
}
