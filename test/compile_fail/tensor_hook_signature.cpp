// A tensor hook that cannot take the gradient (a Tensor).
#include <ctgrad/tensor.hpp>
int main() {
    const ctgrad::Tensor x = ctgrad::ones({2}, ctgrad::requires_grad());
    x.register_hook([](int) { return 0; });
    return 0;
}
