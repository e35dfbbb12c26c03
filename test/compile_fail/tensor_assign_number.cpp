// A number assigned to a named tensor: libtorch's Tensor has no such assignment (only a
// temporary, t[i] = 2.5, writes), and ctgrad says what to write instead.
#include <ctgrad/tensor.hpp>
int main() {
    ctgrad::Tensor t = ctgrad::zeros({2});
    t = 2.5;
    return 0;
}
