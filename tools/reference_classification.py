#!/usr/bin/env python3
"""Golden values for ctgrad's classification ops: softmax, log_softmax, nll_loss, cross_entropy
and their errors, computed by PyTorch. Read by test/nn/test_classification.cpp.

Called from tools/make_reference.py (write(outdir) writes <outdir>/classification.txt), or alone:

    /usr/bin/python3 tools/reference_classification.py [output-dir]

Format: '#' starts a comment line; a line 'error <case> <message>' holds the message PyTorch
raises for <case> (the C++ test makes the same bad call); every other line is one tensor:

    <case> <label> <rank> <size_1> .. <size_rank> <v_1> .. <v_numel>

values row-major, repr() of each element as a Python float; class-index targets are int64
written as floats. All tensors are float64 unless the case says otherwise.

    softmax/<op>/<shape>/d<dim>   x, out, gout, gx (gradient of sum(out * gout)), wx, hx
                                  (d/dx sum(gx * wx) with create_graph: the second derivative)
    softmax/dtype/<op>            x (float32) computed with dtype=float64: out
    nll/<variant>/<reduction>     x, target [, weight], out, gout, gx
    ce/<variant>/<reduction>      x, target [, weight], out, gout, gx, wx, hx
Dropout has no golden values: its noise is not PyTorch's bitstream (see ops/dropout.hpp).
"""
import os
import sys

from golden_tensors import error_lines, line, write_file
import torch
import torch.nn.functional as F




def grads(out, x, g, second):
    """gout, gx and (with `second`) wx and hx for out = f(x)."""
    gout = torch.randn(out.shape, generator=g, dtype=torch.float64)
    (gx,) = torch.autograd.grad(out, x, gout, create_graph=second)
    labels = [("gout", gout), ("gx", gx)]
    if second:
        wx = torch.randn(x.shape, generator=g, dtype=torch.float64)
        (hx,) = torch.autograd.grad((gx * wx).sum(), x)
        labels += [("wx", wx), ("hx", hx)]
    return labels


def softmax_cases(out):
    g = torch.Generator().manual_seed(21)
    for op, f in [("softmax", torch.softmax), ("log_softmax", torch.log_softmax)]:
        for shape in [(3, 4), (2, 3, 4)]:
            for dim in [0, 1, -1]:
                x = (3 * torch.randn(shape, generator=g, dtype=torch.float64)).requires_grad_()
                y = f(x, dim)
                case = "softmax/%s/%s/d%d" % (op, "x".join(map(str, shape)), dim)
                for label, t in [("x", x), ("out", y)] + grads(y, x, g, True):
                    out.append(line(case, label, t))
        x = torch.randn(2, 5, generator=g, dtype=torch.float32)
        y = f(x, 1, dtype=torch.float64)
        out.append(line("softmax/dtype/" + op, "x", x))
        out.append(line("softmax/dtype/" + op, "out", y))


def nll_variants(g):
    """(name, x, target, weight or None, ignore_index, extra kwargs) for nll_loss and cross_entropy."""
    def x_of(*shape):
        return torch.randn(shape, generator=g, dtype=torch.float64)
    w = torch.rand(4, generator=g, dtype=torch.float64) + 0.5
    return [
        ("plain", x_of(5, 4), torch.tensor([0, 3, 1, 1, 2]), None, -100),
        ("weight", x_of(5, 4), torch.tensor([0, 3, 1, 1, 2]), w, -100),
        ("ignore", x_of(6, 4), torch.tensor([2, -100, 0, 3, -100, 1]), None, -100),
        ("weight_ignore1", x_of(6, 4), torch.tensor([2, 1, 0, 3, 1, 1]), w, 1),
        ("spatial3d", x_of(2, 4, 3), torch.tensor([[0, 3, 1], [2, -100, 1]]), w, -100),
        ("spatial4d", x_of(2, 4, 2, 2), torch.tensor([[[0, 3], [1, 1]], [[2, 2], [3, 0]]]), None, -100),
        ("single", x_of(4), torch.tensor(2), w, -100),
    ]


def loss_cases(out):
    g = torch.Generator().manual_seed(31)
    for reduction in ["none", "mean", "sum"]:
        for name, x, t, w, ignore in nll_variants(g):
            x = x.requires_grad_()
            y = torch.nn.functional.nll_loss(x, t, weight=w, ignore_index=ignore, reduction=reduction) \
                if x.dim() > 1 else torch._C._nn.nll_loss_nd(x, t, w, {"none": 0, "mean": 1, "sum": 2}[reduction], ignore)
            case = "nll/%s/%s" % (name, reduction)
            labels = [("x", x), ("target", t.double())] + ([("weight", w)] if w is not None else [])
            for label, v in labels + [("out", y)] + grads(y, x, g, False):
                out.append(line(case, label, v))
        for name, x, t, w, ignore in nll_variants(g):
            for smoothing in [0.0, 0.2]:
                x = x.detach().requires_grad_()
                y = F.cross_entropy(x, t, weight=w, ignore_index=ignore, reduction=reduction,
                                    label_smoothing=smoothing)
                case = "ce/%s%s/%s" % (name, "_ls0.2" if smoothing else "", reduction)
                labels = [("x", x), ("target", t.double())] + ([("weight", w)] if w is not None else [])
                for label, v in labels + [("out", y)] + grads(y, x, g, True):
                    out.append(line(case, label, v))
        # class probabilities as target (same shape as input)
        for name, shape, smoothing, weighted in [("prob", (3, 4), 0.0, False), ("prob_ls0.3_weight", (3, 4), 0.3, True),
                                                 ("prob3d", (2, 4, 3), 0.0, True)]:
            x = torch.randn(shape, generator=g, dtype=torch.float64, requires_grad=True)
            p = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), 1)
            w = torch.rand(4, generator=g, dtype=torch.float64) + 0.5 if weighted else None
            y = F.cross_entropy(x, p, weight=w, reduction=reduction, label_smoothing=smoothing)
            case = "ce/%s/%s" % (name, reduction)
            labels = [("x", x), ("target", p)] + ([("weight", w)] if w is not None else [])
            for label, v in labels + [("out", y)] + grads(y, x, g, True):
                out.append(line(case, label, v))


ERRORS = [
    ("nll_target_out_of_bounds", lambda: F.nll_loss(torch.randn(3, 5), torch.tensor([1, 10, 2]))),
    ("nll_negative_target", lambda: F.nll_loss(torch.randn(3, 5), torch.tensor([1, -1, 2]))),
    ("nll_float_target", lambda: F.nll_loss(torch.randn(3, 5), torch.tensor([1.0, 2.0, 3.0]))),
    ("nll_batch_mismatch", lambda: F.nll_loss(torch.randn(3, 5), torch.tensor([1, 2]))),
    ("nll_2d_target", lambda: torch._C._nn.nll_loss_nd(torch.randn(3, 5), torch.zeros(3, 1, dtype=torch.long), None, 1, -100)),
    ("nll_spatial_target", lambda: F.nll_loss(torch.randn(2, 3, 4), torch.zeros(2, 3, dtype=torch.long))),
    ("nll_weight_size", lambda: F.nll_loss(torch.randn(3, 5), torch.tensor([1, 2, 3]), weight=torch.ones(4))),
    ("ce_target_out_of_bounds", lambda: F.cross_entropy(torch.randn(3, 5), torch.tensor([1, 10, 2]))),
    ("ce_float_target", lambda: F.cross_entropy(torch.randn(3, 5), torch.tensor([1.0, 2.0, 3.0]))),
    ("ce_label_smoothing", lambda: F.cross_entropy(torch.randn(3, 5), torch.tensor([1, 2, 3]), label_smoothing=1.5)),
    ("ce_prob_long_target", lambda: F.cross_entropy(torch.randn(3, 5), torch.zeros(3, 5, dtype=torch.long))),
    ("softmax_dim", lambda: torch.softmax(torch.randn(3, 5), 2)),
    ("log_softmax_dim", lambda: torch.log_softmax(torch.randn(3, 5), -3)),
    ("softmax_long", lambda: torch.softmax(torch.tensor([1, 2]), 0)),
    ("log_softmax_long", lambda: torch.log_softmax(torch.tensor([1, 2]), 0)),
    ("softmax_long_dim0", lambda: torch.softmax(torch.tensor([[1, 2]]), 0)),
    ("dropout_p_above", lambda: torch.dropout(torch.randn(3), 1.5, True)),
    ("dropout_p_below", lambda: torch.dropout(torch.randn(3), -0.1, True)),
    ("feature_dropout_1d", lambda: torch.feature_dropout(torch.randn(3), 0.5, True)),
    ("dropout_long", lambda: torch.dropout(torch.tensor([1, 2]), 0.5, True)),
]




def write(outdir):
    header = [
        "# Golden values for ctgrad's classification ops: PyTorch %s." % torch.__version__,
        "# Generated by tools/reference_classification.py (via tools/make_reference.py); do not edit by hand.",
        "# <case> <label> <rank> <sizes..> <values..>, or: error <case> <message>",
    ]
    lines = []
    softmax_cases(lines)
    loss_cases(lines)
    error_lines(lines, ERRORS)
    write_file(outdir, "classification.txt", header, lines)


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
