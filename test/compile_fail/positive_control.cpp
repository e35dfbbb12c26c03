// The correct twin of every compile-fail case: it must compile with the harness's flags, so a
// compile-fail test cannot pass because of a missing include path or a wrong -std.
#include <ctgrad/expr.hpp>
#include <ctgrad/tensor.hpp>
#include <vector>
#include <xtensor/xfixed.hpp>
using namespace ctgrad::expr;
constexpr var<"x"> x;
constexpr var<"y"> y;
constexpr var<"a"> a;

int main() {
    double total = eval(x * y, x = 1.0, y = 2.0);                        // unbound_variable
    total += std::get<0>(value_and_grad(x * x, wrt(x), x = 3.0).grads);   // wrt_not_a_variable
    total += to_string(derivative(x * x, x)).size();                      // derivative_wrt_constant
    xt::xtensor_fixed<float, xt::xshape<3>> xs = {1.f, 2.f, 3.f};         // fixed_shape_mismatch
    xt::xtensor_fixed<float, xt::xshape<3>> ys = {1.f, 2.f, 3.f};
    total += eval(sum(x * y), x = xs, y = ys);
    std::vector<float> v{1.f, 2.f, 3.f};                                  // grad_of_elementwise
    total += std::get<0>(value_and_grad(sum(x * a), wrt(a), x = v, a = 2.f).grads);
    total += eval(sum(x - mean(x)), x = v);  // reductions nest in the static layer (not in fuse)
    total += eval(x * x, x = 1.0);                                        // bound_twice
    total += to_string(derivative(sum(x * x), x)).size();                 // derivative_of_max
    total += value_and_jacobian(x * mean(y), wrt(x), x = v, y = v).value.size();  // jacobian_*
    std::vector<float> gv;                                                // into_number, wrt_twice
    total += std::get<0>(value_and_grad(sum(a * x), wrt(into(x, gv), a), x = v, a = 2.f).grads).size();
    ctgrad::Tensor t = ctgrad::zeros({2}, ctgrad::requires_grad());      // tensor_assign_number
    t[0] = 2.5;
    total += t.register_hook([](const ctgrad::Tensor& g) { return g; }); // tensor_hook_signature
    return total > 0 ? 0 : 1;
}
