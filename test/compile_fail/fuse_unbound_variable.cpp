// ctgrad::fuse of an expression whose variable y is bound to no tensor: the error names y.
#define CTGRAD_HEADER_ONLY 1  // fuse.hpp instantiates the runtime's templates (docs/dynamic-layer.md)
#include <ctgrad/ops/fuse.hpp>
#include <ctgrad/tensor.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
constexpr var<"y"> y;
int main() {
    ctgrad::Tensor t = ctgrad::ones({3});
    return ctgrad::fuse(sum(x * y), x = t).item<float>() > 0;
}
