// The README's dynamic-layer snippet: 15 lines of tensors, autograd and no-grad updates. Its
// compile time against ctgrad and against libtorch (../measure_dynamic.sh, ../libtorch_shim/) is
// in docs/performance.md.
#include <ctgrad/tensor.hpp>
#include <iostream>

int main() {
    ctgrad::manual_seed(0);
    auto x = ctgrad::linspace(-3.14159265, 3.14159265, 2000);
    auto y = ctgrad::sin(x);
    auto a = ctgrad::randn({}, ctgrad::requires_grad()), b = ctgrad::randn({}, ctgrad::requires_grad());
    for (int t = 0; t < 2000; ++t) {
        auto loss = (a + b * x - y).pow(2).sum();
        loss.backward();
        ctgrad::NoGradGuard no_grad;
        a -= 1e-4 * a.grad();  b -= 1e-4 * b.grad();
        a.mutable_grad() = ctgrad::Tensor();  b.mutable_grad() = ctgrad::Tensor();
    }
    std::cout << a << " " << b << "\n";
}
