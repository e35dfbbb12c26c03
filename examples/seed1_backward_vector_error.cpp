// The second seed text's In [5] in ctgrad: backward() on a 3x3 (non-scalar) result has no
// implicit gradient to start from, so it throws ("grad can be implicitly created only for scalar
// outputs"), which the cell catches. Twin of ../shared/pytorch-seeds/seed1_backward_vector_error.py.
#include <ctgrad/tensor.hpp>

#include "common/pyprint.hpp"

void cell() {
    auto a = ctgrad::randn({3, 3}, ctgrad::requires_grad(true));

    auto w1 = ctgrad::randn({3, 3}, ctgrad::requires_grad(true));
    auto w2 = ctgrad::randn({3, 3}, ctgrad::requires_grad(true));
    auto w3 = ctgrad::randn({3, 3}, ctgrad::requires_grad(true));
    auto w4 = ctgrad::randn({3, 3}, ctgrad::requires_grad(true));

    auto b = w1 * a;
    auto c = w2 * a;

    auto d = w3 * b + w4 * c;

    auto L = (10 - d);

    py::print(L.sizes());  // print(L.shape)

    try {
        L.backward();
    } catch (...) {
        py::print("\n Can't call backward on vector valued tensor.");
    }
}

int main() {
    ctgrad::manual_seed(0);  // seed_all()
    cell();
}
