// ctgrad::fuse of sum(x - mean(x)): fuse takes one level of reductions (the static layer's
// value_and_grad takes any depth); the error names the outer reduction.
#define CTGRAD_HEADER_ONLY 1  // fuse.hpp instantiates the runtime's templates (docs/dynamic-layer.md)
#include <ctgrad/ops/fuse.hpp>
#include <ctgrad/tensor.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
int main() {
    ctgrad::Tensor t = ctgrad::ones({3});
    return ctgrad::fuse(sum(x - mean(x)), x = t).item<float>() > 0;
}
