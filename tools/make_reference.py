#!/usr/bin/env python3
"""Golden values for ctgrad's static-layer ops, computed with PyTorch in float64.

Writes test/reference/expr_ops.txt, read by test/expr/test_ops.cpp. CI never runs this script:
the generated file is committed; regenerate it (Debian: apt install python3-torch) with

    /usr/bin/python3 tools/make_reference.py [output-path]

Format: one record per line, whitespace separated, '#' starts a comment line:

    name k x_1 .. x_k value g_1 .. g_k H_11 H_12 .. H_1k .. H_kk

where x are the inputs (the op's scalar operands in order, or, for the reductions, the k
elements of one array x), g the gradient and H the full k x k Hessian (second derivatives via
torch.autograd.grad with create_graph=True). Names match the SUBCASEs of test_ops.cpp.
"""
import os
import sys

import torch

torch.set_default_dtype(torch.float64)

# name -> (function of the inputs, fixed points). pow avoids exponent 0, where PyTorch masks the
# derivative wrt the base to 0 and so reports an asymmetric Hessian (d2/dy dx = 0, not 1/x).
# Points at the kinks (relu, abs at 0;
# min/max on ties) pin PyTorch's conventions: relu'(0) = 0, abs'(0) = 0, ties split 1/2 : 1/2.
# lgamma and digamma include a negative point, where both use the reflection formula.
UNARY = {
    "neg": (lambda x: -x, [-1.25, 0.0, 2.5]),
    "square": (lambda x: x * x, [-1.5, 0.3, 2.0]),
    "pow3": (lambda x: torch.pow(x, 3), [-1.2, 0.7, 2.1]),
    "pow5": (lambda x: torch.pow(x, 5), [-0.9, 1.3]),
    "pow_m1": (lambda x: torch.pow(x, -1), [0.4, 1.7, 2.9]),
    "pow_m2": (lambda x: torch.pow(x, -2), [-2.5, -0.6]),
    "sqrt": (torch.sqrt, [0.25, 1.0, 3.7]),
    "exp": (torch.exp, [-2.0, 0.0, 1.5]),
    "log": (torch.log, [0.2, 1.0, 4.5]),
    "sin": (torch.sin, [-3.0, 0.5, 2.2]),
    "cos": (torch.cos, [-2.7, 0.0, 1.1]),
    "tan": (torch.tan, [-1.2, 0.3, 1.0]),
    "tanh": (torch.tanh, [-2.5, 0.0, 0.8]),
    "sigmoid": (torch.sigmoid, [-4.0, 0.0, 1.7]),
    "relu": (torch.relu, [-1.5, 0.0, 2.25]),
    "abs": (torch.abs, [-1.5, 0.0, 2.25]),
    "pow_scalar_exponent": (lambda x: torch.pow(x, 2.5), [0.3, 1.0, 2.6]),
    "pow_scalar_base": (lambda x: torch.pow(1.7, x), [-1.5, 0.0, 2.0]),
    "scalar_mix": (lambda x: 2.5 * x - 1.5 / x + 0.5, [0.5, 1.25, -2.0]),
    "erf": (torch.erf, [-1.5, 0.0, 0.7, 2.2]),
    "atan": (torch.atan, [-2.0, 0.0, 0.5, 3.0]),
    "lgamma": (torch.lgamma, [0.5, 1.5, 3.7, -2.5]),
    "log1p": (torch.log1p, [-0.5, 0.0, 1e-3, 2.0]),
    "expm1": (torch.expm1, [-1.0, 0.0, 1e-3, 1.5]),
    "digamma": (torch.digamma, [0.3, 1.0, 2.5, 7.0, -0.5, -2.7]),
    "polygamma1": (lambda x: torch.polygamma(1, x), [0.4, 1.0, 3.5, 6.0]),
}

BINARY = {
    "add": (lambda x, y: x + y, [(0.5, -1.25), (2.0, 3.0)]),
    "sub": (lambda x, y: x - y, [(0.5, -1.25), (2.0, 3.0)]),
    "mul": (lambda x, y: x * y, [(0.5, -1.25), (2.0, 3.0)]),
    "div": (lambda x, y: x / y, [(0.5, -1.25), (2.0, 3.0)]),
    "pow": (torch.pow, [(0.5, -1.25), (2.0, 1.5), (1.3, -0.5)]),
    "min": (torch.minimum, [(0.5, -1.25), (2.0, 3.0), (1.5, 1.5)]),
    "max": (torch.maximum, [(0.5, -1.25), (2.0, 3.0), (1.5, 1.5)]),
    "chain": (lambda x, y: torch.sin(x * y) + torch.exp(-x) / y, [(0.7, 1.3), (-1.1, 2.4)]),
    "chain2": (lambda x, y: torch.log(1 + torch.sigmoid(x) * torch.tanh(y)) * torch.sqrt(x * x + y * y),
               [(0.7, 1.3), (-1.1, 2.4)]),
}

# Reductions over one array x: k elements in, gradient per element, full Hessian.
REDUCTIONS = {
    "sum_sin": (lambda x: torch.sin(x).sum(), [[0.3, -1.2, 2.0, 0.7, -0.1]]),
    "mean_square": (lambda x: (x * x).mean(), [[0.3, -1.2, 2.0, 0.7, -0.1, 1.9, 4.0]]),
    "sum_square_over_mean": (lambda x: (x * x).sum() / x.mean(), [[0.5, 1.2, 2.0, 0.7]]),
    # Reductions inside reductions (one pass per depth in ctgrad): a variance, a skewness (three
    # levels) and log-sum-exp.
    "variance": (lambda x: ((x - x.mean()) ** 2).sum(), [[0.3, -1.2, 2.0, 0.7, -0.1, 1.9]]),
    "skewness": (lambda x: (((x - x.mean()) / torch.sqrt(((x - x.mean()) ** 2).mean())) ** 3).mean(),
                 [[0.3, -1.2, 2.0, 0.7, -0.1, 1.9, 4.0]]),
    "log_sum_exp": (lambda x: torch.log(torch.exp(x).sum()), [[0.3, -1.2, 2.0, 0.7, -0.1]]),
    # max/min over every element: the gradient split evenly among ties (the first point has
    # three); logsumexp and log_softmax at magnitudes where exp alone overflows.
    "amax": (lambda x: torch.amax(x), [[0.5, 3.0, -1.0, 3.0, 2.0, 3.0], [0.25, -1.5, 2.0]]),
    "amin_scaled": (lambda x: torch.amin(x * x - x), [[0.5, 3.0, -1.0, 0.5, 2.0]]),
    "centred_by_max": (lambda x: (torch.exp(x - torch.amax(x))).sum(), [[0.3, -1.2, 2.0, 0.7, 2.0]]),
    "logsumexp": (lambda x: torch.logsumexp(x, 0), [[1000.0, 1001.0, 999.5, 998.0], [0.3, -1.2, 2.0]]),
    "neg_entropy": (lambda x: (torch.softmax(x, 0) * torch.log_softmax(x, 0)).sum(),
                    [[700.0, 701.5, 699.0, 702.0], [0.3, -1.2, 2.0]]),
}


def derivatives(f, xs):
    """value, gradient, Hessian of f at the point xs (list of floats), all float64."""
    inputs = [torch.tensor(v, requires_grad=True) for v in xs]
    value = f(*inputs)
    grads = torch.autograd.grad(value, inputs, create_graph=True, allow_unused=True)
    grads = [g if g is not None else torch.zeros(()) for g in grads]
    hessian = []
    for g in grads:
        if g.requires_grad:
            row = torch.autograd.grad(g, inputs, retain_graph=True, allow_unused=True)
            row = [r if r is not None else torch.zeros(()) for r in row]
        else:
            row = [torch.zeros(()) for _ in inputs]
        hessian.append([float(r) for r in row])
    return float(value), [float(g) for g in grads], hessian


def derivatives_of_array(f, xs):
    x = torch.tensor(xs, requires_grad=True)
    value = f(x)
    (grad,) = torch.autograd.grad(value, x, create_graph=True)
    hessian = []
    for i in range(len(xs)):
        if not grad.requires_grad:  # piecewise linear (amax): the Hessian is zero
            hessian.append([0.0] * len(xs))
            continue
        (row,) = torch.autograd.grad(grad[i], x, retain_graph=True, allow_unused=True)
        hessian.append([float(r) for r in (row if row is not None else torch.zeros(len(xs)))])
    return float(value), [float(g) for g in grad], hessian


def record(name, xs, value, grad, hessian):
    numbers = [len(xs), *xs, value, *grad, *(h for row in hessian for h in row)]
    return name + " " + " ".join(repr(float(v)) if not isinstance(v, int) else str(v) for v in numbers)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference", "expr_ops.txt")
    lines = [
        "# Golden values for ctgrad's static-layer ops: PyTorch %s, float64." % torch.__version__,
        "# Generated by tools/make_reference.py; do not edit by hand.",
        "# name k x_1..x_k value g_1..g_k H_11..H_kk (row-major k x k Hessian)",
    ]
    for name, (f, points) in UNARY.items():
        for x in points:
            lines.append(record(name, [x], *derivatives(f, [x])))
    for name, (f, points) in BINARY.items():
        for p in points:
            lines.append(record(name, list(p), *derivatives(f, list(p))))
    for name, (f, points) in REDUCTIONS.items():
        for xs in points:
            lines.append(record(name, xs, *derivatives_of_array(f, xs)))
    with open(out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote %d records to %s" % (len(lines) - 3, out))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import reference_random; reference_random.write(os.path.dirname(os.path.abspath(out)))  # random.txt
    import reference_format; reference_format.write(os.path.dirname(os.path.abspath(out)))  # format.txt
    import reference_dtype; reference_dtype.write(os.path.dirname(os.path.abspath(out)))  # dtype.txt
    import reference_reduce; reference_reduce.write(os.path.dirname(os.path.abspath(out)))  # reduce.txt
    import reference_linalg; reference_linalg.write(os.path.dirname(os.path.abspath(out)))  # linalg.txt
    import reference_npy; reference_npy.write(os.path.dirname(os.path.abspath(out)))  # npy/*.npy
    import reference_dynamic; reference_dynamic.write(os.path.dirname(os.path.abspath(out)))  # dynamic.txt
    import reference_optim; reference_optim.write(os.path.dirname(os.path.abspath(out)))  # optim.txt
    import reference_nn; reference_nn.write(os.path.dirname(os.path.abspath(out)))  # nn.txt
    import reference_classification; reference_classification.write(os.path.dirname(os.path.abspath(out)))  # classification.txt
    import reference_conv; reference_conv.write(os.path.dirname(os.path.abspath(out)))  # conv.txt
    import reference_static_model; reference_static_model.write(os.path.dirname(os.path.abspath(out)))  # static_model.txt
    import reference_gather; reference_gather.write(os.path.dirname(os.path.abspath(out)))  # gather.txt
    import reference_hooks; reference_hooks.write(os.path.dirname(os.path.abspath(out)))  # hooks.txt


if __name__ == "__main__":
    main()
