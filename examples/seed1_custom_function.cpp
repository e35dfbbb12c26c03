// The second seed text's In [1] + In [2] in ctgrad: a custom autograd function computing x + y,
// with its backward passing the incoming gradient to the inputs that need one. Twin of
// ../shared/pytorch-seeds/seed1_custom_function.py; prints tensor(1.) twice.
#include <ctgrad/autograd/function.hpp>
#include <ctgrad/tensor.hpp>

#include "common/pyprint.hpp"

using ctgrad::Tensor;
using ctgrad::autograd::AutogradContext;
using ctgrad::autograd::variable_list;

// Example demonstrating forward and backward passes in PyTorch's differentiation mechanism
struct ExampleFunction : ctgrad::autograd::Function<ExampleFunction> {
    static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& y) {
        // Forward pass computes the output
        auto result = x + y;
        ctx->save_for_backward({x, y});
        return result;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
        // Backward pass computes gradients
        auto saved = ctx->get_saved_variables();
        auto x = saved[0], y = saved[1];
        const Tensor& grad_output = grad_outputs[0];
        Tensor grad_x, grad_y;  // undefined: None
        if (ctx->needs_input_grad(0)) grad_x = grad_output;
        if (ctx->needs_input_grad(1)) grad_y = grad_output;
        return {grad_x, grad_y};
    }
};

void example_usage() {
    // Example usage
    auto x = ctgrad::tensor(2.0, ctgrad::requires_grad());
    auto y = ctgrad::tensor(3.0, ctgrad::requires_grad());
    auto z = ExampleFunction::apply(x, y);
    z.backward();
    py::print(x.grad());  // Output: tensor(1.)
    py::print(y.grad());  // Output: tensor(1.)
}

int main() {
    ctgrad::manual_seed(0);  // seed_all()
    example_usage();
}
