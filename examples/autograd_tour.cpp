// A tour of autograd in the style of pytorch/examples' cpp/autograd: requires_grad and the graph
// it records (grad_fn names), backward of a scalar and of a vector with a given gradient,
// no_grad, a second-order gradient (a gradient penalty through autograd::grad with
// create_graph), and custom autograd::Functions, one saving tensors and one saving a number.
//
// Written as a libtorch program (`namespace torch = ctgrad;` is the only change from one), except
// that it prints tensors as Python's print(t) does (torch::str, which libtorch lacks), so that tools/reference_examples.py can
// run the same steps in PyTorch 1.13, after the same manual_seed, and print the same lines
// (examples/expected/autograd_tour.txt); `std::cout << t` would print libtorch's format.
#include <iostream>
#include <string>

#include <ctgrad/autograd/function.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/tensor.hpp>

namespace torch = ctgrad;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

void show(const std::string& label, const torch::Tensor& t) { std::cout << label << ' ' << torch::str(t) << '\n'; }
void show(const std::string& label, const std::string& text) { std::cout << label << ' ' << text << '\n'; }
void show(const std::string& label, bool flag) { std::cout << label << ' ' << (flag ? "True" : "False") << '\n'; }

void basic_autograd_operations() {
    std::cout << "====== Running: \"Basic autograd operations\" ======\n";
    // A tensor that records the operations made on it.
    auto x = torch::ones({2, 2}, torch::requires_grad());
    show("x", x);
    auto y = x + 2;
    show("y", y);
    // y was made by an operation, so it has a grad_fn: the node that computes its gradient.
    // (A number operand calls the Scalar overload, AddBackward1, as in libtorch; Python's
    // `x + 2` records AddBackward0.)
    show("y.grad_fn", y.grad_fn()->name());
    auto z = y * y * 3;
    auto out = z.mean();
    show("z", z);
    show("z.grad_fn", z.grad_fn()->name());
    show("out", out);
    show("out.grad_fn", out.grad_fn()->name());

    // requires_grad_ switches the recording on in place.
    auto a = torch::randn({2, 2});
    a = ((a * 3) / (a - 1));
    show("a.requires_grad", a.requires_grad());
    a.requires_grad_(true);
    show("a.requires_grad", a.requires_grad());
    auto b = (a * a).sum();
    show("b.grad_fn", b.grad_fn()->name());

    // out is a scalar: backward() needs no gradient argument. d(out)/dx = 3 (x + 2) / 2.
    out.backward();
    show("x.grad", x.grad());

    // y is a vector: backward takes the vector v of v^T J.
    x = torch::randn(3, torch::requires_grad());
    y = x * 2;
    while (y.norm().item<double>() < 1000) y = y * 2;
    show("y", y);
    auto v = torch::tensor({0.1, 1.0, 0.0001}, torch::kFloat);
    y.backward(v);
    show("x.grad", x.grad());

    // No recording under NoGradGuard, nor on detach().
    show("x.requires_grad", x.requires_grad());
    show("x.pow(2).requires_grad", x.pow(2).requires_grad());
    {
        torch::NoGradGuard no_grad;
        show("x.pow(2).requires_grad (no_grad)", x.pow(2).requires_grad());
    }
    show("x.detach().requires_grad", x.detach().requires_grad());
}

void higher_order_gradients() {
    std::cout << "====== Running \"Computing higher-order gradients\" ======\n";
    // A gradient penalty: the loss plus (|d loss / d input| - 1)^2 per row, whose own gradient
    // goes through the graph of the first gradient (create_graph).
    auto model = torch::nn::Linear(4, 3);
    auto input = torch::randn({3, 4}).requires_grad_(true);
    auto output = model(input);
    auto target = torch::randn({3, 3});
    auto loss = torch::mse_loss(output, target);
    auto grad_output = torch::ones_like(loss);
    auto gradient = torch::autograd::grad({loss}, {input}, {grad_output}, true, true, false)[0];
    auto gradient_penalty = torch::pow(gradient.norm(2, {1}) - 1, 2).mean();
    auto combined_loss = loss + gradient_penalty;
    combined_loss.backward();
    show("loss", loss);
    show("gradient_penalty", gradient_penalty);
    show("input.grad", input.grad());
    show("model.weight.grad", model->weight.grad());
}

// y = x W^T + b, with its backward written out.
struct LinearFunction : torch::autograd::Function<LinearFunction> {
    static torch::Tensor forward(AutogradContext* ctx, torch::Tensor input, torch::Tensor weight,
                                 torch::Tensor bias = torch::Tensor()) {
        ctx->save_for_backward({input, weight, bias});
        auto output = input.mm(weight.t());
        if (bias.defined()) output += bias.unsqueeze(0).expand_as(output);
        return output;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
        auto saved = ctx->get_saved_variables();
        auto input = saved[0], weight = saved[1], bias = saved[2];
        auto grad_output = grad_outputs[0];
        auto grad_input = grad_output.mm(weight);
        auto grad_weight = grad_output.t().mm(input);
        auto grad_bias = torch::Tensor();
        if (bias.defined()) grad_bias = grad_output.sum(0);
        return {grad_input, grad_weight, grad_bias};
    }
};

// y = c x for a number c, kept in saved_data; no gradient for c.
struct MulConstant : torch::autograd::Function<MulConstant> {
    static torch::Tensor forward(AutogradContext* ctx, torch::Tensor tensor, double constant) {
        ctx->saved_data["constant"] = constant;
        return tensor * constant;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
        return {grad_outputs[0] * ctx->saved_data["constant"].toDouble(), torch::Tensor()};
    }
};

void custom_autograd_functions() {
    std::cout << "====== Running \"Using custom autograd function\" ======\n";
    auto x = torch::randn({2, 3}).requires_grad_();
    auto weight = torch::randn({4, 3}).requires_grad_();
    auto bias = torch::randn(4).requires_grad_();
    auto y = LinearFunction::apply(x, weight, bias);
    y.sum().backward();
    show("x.grad", x.grad());
    show("weight.grad", weight.grad());
    show("bias.grad", bias.grad());

    x = torch::randn({2}).requires_grad_();
    y = MulConstant::apply(x, 5.5);
    y.sum().backward();
    show("y", y.detach());
    show("x.grad", x.grad());
}

}  // namespace

int main() {
    torch::manual_seed(0);
    basic_autograd_operations();
    higher_order_gradients();
    custom_autograd_functions();
}
