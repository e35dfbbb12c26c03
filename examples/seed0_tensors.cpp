// The first seed text's tensor snippets ("PyTorch basics"), joined in text order as
// ../shared/pytorch-seeds/seed0_tensors.py runs them, in ctgrad. Prints what the PyTorch script
// prints, numbers included: ctgrad's CPU generator gives torch's numbers after the same seed.
// As in the script: (1) the text's `z = x + y` with shapes [3, 5] and [5, 4] is a shape error
// in PyTorch too, so the error is printed and the add done with a y of x's shape; (2)
// `np.random.normal([3, 5])` draws two normals with means 3 and 5 (a float64 tensor of shape [2]).
#include <ctgrad/tensor.hpp>

#include "common/numpy_random.hpp"
#include "common/pyprint.hpp"

int main() {
    // seed_all(): torch.manual_seed(0), np.random.seed(0)
    ctgrad::manual_seed(0);
    np::random::seed(0);

    auto a = ctgrad::tensor(3);
    py::print(a);  // tensor(3)

    auto b = ctgrad::tensor({1, 2});
    py::print(b);  // tensor([1, 2])

    auto c = ctgrad::zeros({2, 2});
    py::print(c);  // tensor([[0., 0.], [0., 0.]])

    auto d = ctgrad::rand({2, 2, 2});

    auto x = ctgrad::randn({3, 5});
    auto y = ctgrad::randn({5, 4});
    auto z = ctgrad::matmul(x, y);  // x @ y
    py::print(z);

    try {
        z = x + y;  // as written in the text
    } catch (const ctgrad::Error& e) {
        py::print("RuntimeError (z = x + y as written):", e.what());
        y = ctgrad::randn({3, 5});  // FIX 2
        z = x + y;
    }

    py::print(ctgrad::numpy_str(z));  // print(z.numpy())

    // torch.tensor of a float64 ndarray keeps float64; numpy's normals come from its own
    // generator (common/numpy_random.hpp), reproduced so that the numbers match.
    x = ctgrad::tensor(np::random::normal({3, 5}), ctgrad::kDouble);
    py::print(x);  // [anchor extra print] not printed in the text; shape [2], float64
    (void)d;
}
