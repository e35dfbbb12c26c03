#!/usr/bin/env python3
"""Golden values for ctgrad's gather, scatter_add and index_select (ops/gather.hpp), where and
clamp (ops/where.hpp), computed by PyTorch.
Read by test/ops/test_minmax.cpp.

Called from tools/make_reference.py (write(outdir) writes <outdir>/gather.txt), or alone:

    /usr/bin/python3 tools/reference_gather.py [output-dir]

Format: tools/golden_tensors.py's. Tensors are float64 (indices int64 written as floats).

    gather/<name>       x, index, out, gout, gx           (gx: gradient of sum(out * gout))
    scatter_add/<name>  x, index, src, out [, gout, gx, gsrc where src has index's shape]
    index_select/<name> x, index, out, gout, gx
    where/<name>        condition (0/1), x, y, out, gout, gx, gy
    clamp/<name>        x, out, gout, gx   (min and max in the C++ test)
    error <name> <message>
The dim of each case is written in the C++ test next to its name.
"""
import os
import sys

from golden_tensors import error_lines, line, write_file
import torch

# name, x shape, dim, index shape (index entries drawn in [0, x.size(dim)))
GATHER = [
    ("last", (3, 5), 1, (3, 4)),
    ("first", (4, 3), 0, (6, 3)),
    ("middle", (2, 5, 3), 1, (2, 7, 3)),
    ("negative_dim", (2, 3, 4), -1, (2, 3, 2)),
    ("smaller_index", (4, 5, 6), 1, (2, 3, 4)),
    ("vector", (6,), 0, (9,)),
]

# name, x shape, dim, index shape, src shape
SCATTER_ADD = [
    ("last", (3, 5), 1, (3, 4), (3, 4)),
    ("first_repeats", (3, 4), 0, (7, 4), (7, 4)),
    ("middle", (2, 4, 3), 1, (2, 6, 3), (2, 6, 3)),
    ("smaller_index", (4, 5, 6), 2, (3, 2, 4), (4, 3, 5)),
    ("vector", (5,), 0, (8,), (8,)),
]


def index_for(shape, size, generator):
    return torch.randint(0, size, shape, generator=generator, dtype=torch.int64)


def gather_cases(lines, generator):
    for name, xs, dim, ixs in GATHER:
        x = torch.randn(xs, generator=generator, dtype=torch.float64).requires_grad_(True)
        index = index_for(ixs, xs[dim], generator)
        out = torch.gather(x, dim, index)
        gout = torch.randn(out.shape, generator=generator, dtype=torch.float64)
        (gx,) = torch.autograd.grad((out * gout).sum(), [x])
        case = "gather/" + name
        for label, t in [("x", x), ("index", index), ("out", out), ("gout", gout), ("gx", gx)]:
            lines.append(line(case, label, t))


def scatter_add_cases(lines, generator):
    for name, xs, dim, ixs, ss in SCATTER_ADD:
        x = torch.randn(xs, generator=generator, dtype=torch.float64).requires_grad_(True)
        src = torch.randn(ss, generator=generator, dtype=torch.float64).requires_grad_(True)
        index = index_for(ixs, xs[dim], generator)
        out = torch.scatter_add(x, dim, index, src)
        case = "scatter_add/" + name
        for label, t in [("x", x), ("index", index), ("src", src), ("out", out)]:
            lines.append(line(case, label, t))
        if ss != ixs:
            continue  # PyTorch 1.13's backward fails when src is larger than index
        gout = torch.randn(out.shape, generator=generator, dtype=torch.float64)
        gx, gsrc = torch.autograd.grad((out * gout).sum(), [x, src])
        for label, t in [("gout", gout), ("gx", gx), ("gsrc", gsrc)]:
            lines.append(line(case, label, t))


# name, x shape, dim, index length
INDEX_SELECT = [
    ("rows", (5, 3), 0, 7),
    ("columns", (3, 6), 1, 4),
    ("middle", (2, 4, 3), 1, 5),
]

# name, condition shape, x shape, y shape
WHERE = [
    ("same", (3, 4), (3, 4), (3, 4)),
    ("broadcast", (3, 1), (1, 4), (3, 4)),
    ("scalar_other", (2, 3), (2, 3), ()),
]

# name, min, max (None: not given); x is randn(4, 5) * 2 with exact ties at the bounds
CLAMP = [
    ("both", -0.5, 1.0),
    ("min_only", 0.25, None),
    ("max_only", None, -0.25),
    ("min_above_max", 1.0, -1.0),
]


def index_select_cases(lines, generator):
    for name, xs, dim, m in INDEX_SELECT:
        x = torch.randn(xs, generator=generator, dtype=torch.float64).requires_grad_(True)
        index = torch.randint(0, xs[dim], (m,), generator=generator, dtype=torch.int64)
        out = torch.index_select(x, dim, index)
        gout = torch.randn(out.shape, generator=generator, dtype=torch.float64)
        (gx,) = torch.autograd.grad((out * gout).sum(), [x])
        case = "index_select/" + name
        for label, t in [("x", x), ("index", index), ("out", out), ("gout", gout), ("gx", gx)]:
            lines.append(line(case, label, t))


def where_cases(lines, generator):
    for name, cs, xs, ys in WHERE:
        condition = torch.rand(cs, generator=generator) > 0.5
        x = torch.randn(xs, generator=generator, dtype=torch.float64).requires_grad_(True)
        y = torch.randn(ys, generator=generator, dtype=torch.float64).requires_grad_(True)
        out = torch.where(condition, x, y)
        gout = torch.randn(out.shape, generator=generator, dtype=torch.float64)
        gx, gy = torch.autograd.grad((out * gout).sum(), [x, y])
        case = "where/" + name
        for label, t in [("condition", condition.double()), ("x", x), ("y", y), ("out", out), ("gout", gout),
                         ("gx", gx), ("gy", gy)]:
            lines.append(line(case, label, t))


def clamp_cases(lines, generator):
    for name, lo, hi in CLAMP:
        x = torch.randn(4, 5, generator=generator, dtype=torch.float64) * 2
        x[0, 0] = lo if lo is not None else 0.0  # a tie with the bound: the gradient passes
        x[1, 1] = hi if hi is not None else 0.0
        x.requires_grad_(True)
        out = torch.clamp(x, lo, hi)
        gout = torch.randn(out.shape, generator=generator, dtype=torch.float64)
        (gx,) = torch.autograd.grad((out * gout).sum(), [x])
        case = "clamp/" + name
        for label, t in [("x", x), ("out", out), ("gout", gout), ("gx", gx)]:
            lines.append(line(case, label, t))


ERRORS = [
    ("index_select_matrix", lambda: torch.index_select(torch.zeros(3, 4), 0, torch.zeros(2, 2, dtype=torch.int64))),
    ("index_select_out_of_range", lambda: torch.index_select(torch.zeros(3, 4), 0, torch.tensor([0, 3]))),
    ("where_condition_dtype", lambda: torch.where(torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(2, 2))),
    ("where_shapes", lambda: torch.where(torch.zeros(2, 3, dtype=torch.bool), torch.zeros(2, 3), torch.zeros(4, 3))),
    ("clamp_none", lambda: torch.clamp(torch.zeros(2))),
    ("gather_float_index", lambda: torch.gather(torch.zeros(2, 3), 1, torch.zeros(2, 3))),
    ("gather_rank", lambda: torch.gather(torch.zeros(2, 3), 1, torch.zeros(2, dtype=torch.int64))),
    ("gather_too_large", lambda: torch.gather(torch.zeros(2, 3), 1, torch.zeros(3, 2, dtype=torch.int64))),
    ("gather_out_of_bounds", lambda: torch.gather(torch.zeros(2, 3), 1, torch.tensor([[0, 3], [1, 2]]))),
    ("gather_negative", lambda: torch.gather(torch.zeros(2, 3), 1, torch.tensor([[0, -1], [1, 2]]))),
    ("gather_dim", lambda: torch.gather(torch.zeros(2, 3), 2, torch.zeros(2, 3, dtype=torch.int64))),
    ("scatter_add_src_small", lambda: torch.scatter_add(torch.zeros(3, 4), 0, torch.zeros(2, 4, dtype=torch.int64),
                                                        torch.zeros(2, 3))),
    ("scatter_add_out_of_bounds", lambda: torch.scatter_add(torch.zeros(3, 4), 0, torch.tensor([[3, 0, 0, 0]]),
                                                            torch.zeros(1, 4))),
    ("scatter_add_dtype", lambda: torch.scatter_add(torch.zeros(3, 4), 0, torch.zeros(1, 4, dtype=torch.int64),
                                                    torch.zeros(1, 4, dtype=torch.float64))),
]


def write(outdir):
    generator = torch.Generator().manual_seed(2026)
    header = [
        "# Golden values for ctgrad's gather, scatter_add, index_select, where and clamp: PyTorch %s." % torch.__version__,
        "# Generated by tools/reference_gather.py (via tools/make_reference.py); do not edit by hand.",
        "# <case> <label> <rank> <sizes..> <values..>, or: error <case> <message>",
    ]
    lines = []
    gather_cases(lines, generator)
    scatter_add_cases(lines, generator)
    index_select_cases(lines, generator)
    where_cases(lines, generator)
    clamp_cases(lines, generator)
    error_lines(lines, ERRORS)
    write_file(outdir, "gather.txt", header, lines)


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
