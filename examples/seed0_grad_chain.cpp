// The first seed text's "Automatic differentiation" example in ctgrad: dg/dx of g(u(x)) with
// u(x) = x * x and g(u) = -u, at x = 1, by autograd::grad (torch.autograd.grad). Twin of
// ../shared/pytorch-seeds/seed0_grad_chain.py; prints tensor(-2.).
#include <ctgrad/tensor.hpp>

#include "common/pyprint.hpp"

using ctgrad::Tensor;

Tensor u(const Tensor& x) { return x * x; }

Tensor g(const Tensor& u) { return -u; }

int main() {
    ctgrad::manual_seed(0);  // seed_all()

    auto x = ctgrad::tensor(1.0, ctgrad::requires_grad());

    auto dgdx = ctgrad::autograd::grad({g(u(x))}, {x})[0];
    py::print(dgdx);  // tensor(-2.)
}
