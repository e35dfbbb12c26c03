#!/usr/bin/env python3
"""Golden values for the dynamic layer's core: element-wise ops (values, gradients, second
derivatives), sum/mean, views and their gradients, linspace and arange, all computed by PyTorch
in float64 and float32. Read by test/ops/test_elementwise.cpp.

Called from tools/make_reference.py (write(outdir) writes <outdir>/dynamic.txt), or on its own:

    /usr/bin/python3 tools/reference_dynamic.py [output-dir]

Format: '#' starts a comment line; every other line is one tensor of one case:

    <case> <dtype> <label> <rank> <size_1> .. <size_rank> <v_1> .. <v_numel>

<case> is <op>/<variant>: the test looks the op up by the part before '/'. <dtype> is float32,
float64 or int64; values are row-major, repr() of the element as a Python float (float32
elements are exactly representable) or an integer. Labels:

    a, b      the inputs (b only for binary ops)
    out       the op's value
    gout      the upstream gradient given to backward
    ga, gb    the gradients of the inputs (torch.autograd.grad(out, inputs, gout))
    wa, wb    weights of the second-derivative probe s = sum(ga * wa) + sum(gb * wb)
    ha, hb    ds/da, ds/db through create_graph=True: Hessian-vector products (zeros where s
              or the input does not depend on the inputs)
    args      factory arguments: linspace (start, end, steps), arange (start, end, step)

The float32 records use the float32 rounding of the float64 inputs, so both dtypes see the
same points.
"""
import math
import os
import sys

import torch

DTYPES = {"float64": torch.float64, "float32": torch.float32}

# Unary ops: name -> (function, domain of the input). Domains keep away from poles and
# branch cuts; the points at kinks are in KINKS below.
UNARY = {
    "neg": (lambda x: -x, (-2.0, 2.0)),
    "exp": (torch.exp, (-2.0, 2.0)),
    "log": (torch.log, (0.2, 3.0)),
    "sin": (torch.sin, (-3.0, 3.0)),
    "cos": (torch.cos, (-3.0, 3.0)),
    "tan": (torch.tan, (-1.2, 1.2)),
    "tanh": (torch.tanh, (-2.5, 2.5)),
    "sigmoid": (torch.sigmoid, (-4.0, 4.0)),
    "relu": (torch.relu, (-2.0, 2.0)),
    "sqrt": (torch.sqrt, (0.1, 4.0)),
    "abs": (torch.abs, (-2.0, 2.0)),
    "square": (torch.square, (-2.0, 2.0)),
    "pow_2": (lambda x: torch.pow(x, 2), (-2.0, 2.0)),
    "pow_3": (lambda x: torch.pow(x, 3), (-2.0, 2.0)),
    "pow_0.5": (lambda x: torch.pow(x, 0.5), (0.1, 4.0)),
    "pow_-1.5": (lambda x: torch.pow(x, -1.5), (0.3, 3.0)),
    "pow_2.5": (lambda x: torch.pow(x, 2.5), (0.1, 3.0)),
    "rpow_1.7": (lambda x: torch.pow(1.7, x), (-2.0, 2.0)),
    "add_scalar": (lambda x: x + 2.5, (-2.0, 2.0)),
    "rsub_scalar": (lambda x: 2.5 - x, (-2.0, 2.0)),
    "mul_scalar": (lambda x: x * -1.5, (-2.0, 2.0)),
    "div_scalar": (lambda x: x / 3.0, (-2.0, 2.0)),
    "rdiv_scalar": (lambda x: 2.0 / x, (0.5, 3.0)),
}

BINARY = {
    "add": (lambda a, b: a + b, (-2.0, 2.0), (-2.0, 2.0)),
    "sub": (lambda a, b: a - b, (-2.0, 2.0), (-2.0, 2.0)),
    "mul": (lambda a, b: a * b, (-2.0, 2.0), (-2.0, 2.0)),
    "div": (lambda a, b: a / b, (-2.0, 2.0), (0.5, 3.0)),
    "add_alpha": (lambda a, b: torch.add(a, b, alpha=-0.75), (-2.0, 2.0), (-2.0, 2.0)),
    "sub_alpha": (lambda a, b: torch.sub(a, b, alpha=2.5), (-2.0, 2.0), (-2.0, 2.0)),
    "pow": (torch.pow, (0.3, 3.0), (-2.0, 2.0)),
    "maximum": (torch.maximum, (-2.0, 2.0), (-2.0, 2.0)),
    "minimum": (torch.minimum, (-2.0, 2.0), (-2.0, 2.0)),
}

UNARY_SHAPES = [[2, 3], [], [7]]

# Unary cases added after the file was first written: their records come last, so that every
# earlier case keeps the random inputs it was generated with.
LATER_UNARY = {
    "pow_4": (lambda x: torch.pow(x, 4), (-2.0, 2.0)),
}
BINARY_SHAPES = [([3, 1], [4]), ([], [5]), ([2, 3], [2, 3]), ([5], []), ([2, 1, 3], [4, 1])]

# Points at the kinks pin PyTorch's conventions: relu'(0) = 0, abs'(0) = 0, and maximum /
# minimum split the gradient half and half between tied operands.
KINKS = {
    "relu/kink": ("relu", [[-1.5, 0.0, 2.25, -0.0]]),
    "abs/kink": ("abs", [[-1.5, 0.0, 2.25, -0.0]]),
    "maximum/ties": ("maximum", [[1.0, 2.0, -3.0, 0.5], [1.0, 0.0, -3.0, 0.75]]),
    "minimum/ties": ("minimum", [[1.0, 2.0, -3.0, 0.5], [1.0, 0.0, -3.0, 0.75]]),
}

# Reductions and views: name -> (input shape, function).
REDUCTIONS = {
    "sum_all": ([2, 3, 4], lambda x: x.sum()),
    "sum_d1": ([2, 3, 4], lambda x: x.sum(1)),
    "sum_d02_keep": ([2, 3, 4], lambda x: x.sum((0, 2), keepdim=True)),
    "sum_dm1_keep": ([2, 3, 4], lambda x: x.sum(-1, keepdim=True)),
    "sum_0d": ([], lambda x: x.sum()),
    "mean_all": ([2, 3, 4], lambda x: x.mean()),
    "mean_d1": ([2, 3, 4], lambda x: x.mean(1)),
    "mean_d02_keep": ([2, 3, 4], lambda x: x.mean((0, 2), keepdim=True)),
    "mean_dm1": ([2, 3, 4], lambda x: x.mean(-1)),
}

VIEWS = {
    "view_4x6": ([2, 3, 4], lambda x: x.view(4, 6)),
    "view_m1x4": ([2, 3, 4], lambda x: x.view(-1, 4)),
    "reshape_copy": ([2, 3, 4], lambda x: x.transpose(0, 1).reshape(6, 4)),
    "unsqueeze_1": ([2, 3, 4], lambda x: x.unsqueeze(1)),
    "unsqueeze_m1": ([2, 3, 4], lambda x: x.unsqueeze(-1)),
    "squeeze": ([2, 1, 3, 1], lambda x: x.squeeze()),
    "squeeze_1": ([2, 1, 3, 1], lambda x: x.squeeze(1)),
    "flatten": ([2, 3, 4], lambda x: x.flatten()),
    "flatten_12": ([2, 3, 4], lambda x: x.flatten(1, 2)),
    "flatten_t": ([2, 3, 4], lambda x: x.transpose(1, 2).flatten(1)),
    "t": ([3, 4], lambda x: x.t()),
    "transpose_02": ([2, 3, 4], lambda x: x.transpose(0, 2)),
    "permute_201": ([2, 3, 4], lambda x: x.permute(2, 0, 1)),
    "select_1_m1": ([2, 3, 4], lambda x: x.select(1, -1)),
    "narrow_2_1_2": ([2, 3, 4], lambda x: x.narrow(2, 1, 2)),
    "slice_1_0_3_2": ([2, 3, 4], lambda x: x[:, 0:3:2]),
    "slice_neg": ([2, 3, 4], lambda x: x[:, -2:]),
    "index_mixed": ([2, 3, 4], lambda x: x[1:, None, ..., 0]),
    "index_int_slice": ([2, 3, 4], lambda x: x[1, :, 2]),
    "expand": ([3, 1], lambda x: x.expand(2, 3, 4)),
    "expand_m1": ([3, 1], lambda x: x.expand(-1, 5)),
    "chain": ([2, 3, 4], lambda x: x.transpose(0, 2)[1].unsqueeze(0).expand(3, 3, 2)),
    "t_select_view": ([3, 4], lambda x: x.t()[1:3].contiguous().view(-1)),
}

LINSPACE = [(-math.pi, math.pi, 2000), (0.0, 1.0, 11), (-1.0, 1.0, 2), (2.5, -3.75, 101), (0.5, 7.0, 1),
            (-10.0, 10.0, 1001)]
ARANGE = [((0.5, 3.2, 0.3), ["float32", "float64"]), ((-1.0, 1.0, 0.01), ["float32", "float64"]),
          ((10.0, 0.0, -1.5), ["float32", "float64"]), ((0.1, 50.0, 0.137), ["float32", "float64"]),
          ((0, 10, 1), ["int64"]), ((-3, 7, 2), ["int64"])]


def _fmt(v):
    return str(int(v)) if isinstance(v, int) else repr(float(v))


def _line(case, dtype, label, t):
    t = t.detach()
    values = t.reshape(-1).tolist()
    fields = [case, dtype, label, str(t.dim())] + [str(s) for s in t.shape] + [_fmt(v) for v in values]
    return " ".join(fields)


def _uniform(gen, shape, lo, hi):
    return torch.rand(shape, generator=gen, dtype=torch.float64) * (hi - lo) + lo


def _grads(outputs, inputs, grad_outputs, create_graph):
    gs = torch.autograd.grad(outputs, inputs, grad_outputs, create_graph=create_graph, allow_unused=True)
    # None (unused) and torch's lazy zero tensors become real zeros.
    return [g if g is not None and not g._is_zerotensor() else torch.zeros_like(x).detach()
            for g, x in zip(gs, inputs)]


def _elementwise_records(case, fn, inputs64, gen):
    """Value, gradient and Hessian-vector products of fn at inputs64, in both dtypes."""
    out_shape = fn(*inputs64).shape
    gout64 = torch.randn(out_shape, generator=gen, dtype=torch.float64)
    ws64 = [torch.randn(x.shape, generator=gen, dtype=torch.float64) for x in inputs64]
    names = "ab"
    lines = []
    for dname, dtype in DTYPES.items():
        xs = [x.to(dtype).requires_grad_() for x in inputs64]
        gout = gout64.to(dtype)
        ws = [w.to(dtype) for w in ws64]
        out = fn(*xs)
        gs = _grads(out, xs, gout, create_graph=True)
        s = sum((g * w).sum() for g, w in zip(gs, ws))
        hs = _grads(s, xs, None, False) if s.requires_grad else [torch.zeros_like(x) for x in xs]
        for i, x in enumerate(xs):
            lines.append(_line(case, dname, names[i], x))
        lines.append(_line(case, dname, "out", out))
        lines.append(_line(case, dname, "gout", gout))
        for i in range(len(xs)):
            lines.append(_line(case, dname, "g" + names[i], gs[i]))
            lines.append(_line(case, dname, "w" + names[i], ws[i]))
            lines.append(_line(case, dname, "h" + names[i], hs[i]))
    return lines


def _linear_records(case, fn, x64, gen):
    """Value and gradient of a linear map (reduction or view) in both dtypes."""
    gout64 = torch.randn(fn(x64).shape, generator=gen, dtype=torch.float64)
    lines = []
    for dname, dtype in DTYPES.items():
        x = x64.to(dtype).requires_grad_()
        out = fn(x)
        (g,) = torch.autograd.grad(out, [x], gout64.to(dtype))
        lines += [_line(case, dname, "a", x), _line(case, dname, "out", out),
                  _line(case, dname, "gout", gout64.to(dtype)), _line(case, dname, "ga", g)]
    return lines


def _shape_name(shape):
    return "x".join(str(s) for s in shape) if shape else "0d"


def records():
    gen = torch.Generator().manual_seed(1234)
    lines = []
    def unary_records(table):
        out = []
        for name, (fn, (lo, hi)) in table.items():
            for shape in UNARY_SHAPES:
                out += _elementwise_records("%s/%s" % (name, _shape_name(shape)), fn, [_uniform(gen, shape, lo, hi)], gen)
        return out

    lines += unary_records(UNARY)
    for name, (fn, (alo, ahi), (blo, bhi)) in BINARY.items():
        for sa, sb in BINARY_SHAPES:
            a = _uniform(gen, sa, alo, ahi)
            b = _uniform(gen, sb, blo, bhi)
            lines += _elementwise_records("%s/%s_%s" % (name, _shape_name(sa), _shape_name(sb)), fn, [a, b], gen)
    for case, (op, values) in KINKS.items():
        fn = UNARY[op][0] if op in UNARY else BINARY[op][0]
        lines += _elementwise_records(case, fn, [torch.tensor(v, dtype=torch.float64) for v in values], gen)
    for name, (shape, fn) in list(REDUCTIONS.items()) + list(VIEWS.items()):
        lines += _linear_records("%s/%s" % (name, _shape_name(shape)), fn, _uniform(gen, shape, -2.0, 2.0), gen)
    for i, (start, end, steps) in enumerate(LINSPACE):
        for dname, dtype in DTYPES.items():
            args = torch.tensor([start, end, steps], dtype=torch.float64)
            lines += [_line("linspace/%d" % i, dname, "args", args),
                      _line("linspace/%d" % i, dname, "out", torch.linspace(start, end, steps, dtype=dtype))]
    for i, ((start, end, step), dnames) in enumerate(ARANGE):
        for dname in dnames:
            dtype = torch.int64 if dname == "int64" else DTYPES[dname]
            args = torch.tensor([start, end, step], dtype=dtype if dname == "int64" else torch.float64)
            lines += [_line("arange/%d" % i, dname, "args", args),
                      _line("arange/%d" % i, dname, "out", torch.arange(start, end, step, dtype=dtype))]
    return lines + unary_records(LATER_UNARY)


def write(outdir):
    lines = [
        "# Golden values for the dynamic layer's element-wise ops, reductions, views and factories: PyTorch %s."
        % torch.__version__,
        "# Generated by tools/reference_dynamic.py (via tools/make_reference.py); do not edit by hand.",
        "# <case> <dtype> <label> <rank> <sizes..> <values..>",
    ]
    body = records()
    path = os.path.join(outdir, "dynamic.txt")
    with open(path, "w") as fh:
        fh.write("\n".join(lines + body) + "\n")
    print("wrote %d tensors to %s" % (len(body), path))


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
