#!/usr/bin/env python3
"""Golden values for the dynamic layer's max/min/argmax/argmin, norm, comparisons, all/any and
cat/stack: what PyTorch 1.13 computes, read by test/support/reduce_golden.hpp for
test/ops/test_minmax.cpp, test_norm.cpp, test_compare.cpp and test_join.cpp.

Called from tools/make_reference.py (write(outdir) writes <outdir>/reduce.txt), or on its own:

    /usr/bin/python3 tools/reference_reduce.py [output-dir]

Format: '#' starts a comment line; a case is a block of lines ending with 'end':

    case <name> <grad_fn of output 0, or -> <op> <params...>
    in <tensor>            one per input, in the op's argument order
    out <tensor>           one per output (max(dim)/min(dim): values, then indices)
    w <tensor>             the gradient fed to output 0: the checked gradients are those of
                           sum(out0 * w)                                  (only with a grad_fn)
    grad <tensor>|none     one per input: d sum(out0 * w) / d input       (only with w)
    v <tensor>             a direction for second derivatives (one-input ops whose gradient
                           depends on the input: the norms)
    grad2 <tensor>|none    d sum(grad * v) / d input, through create_graph
    end

<tensor> is '<dtype> <rank> <size_1> .. <size_rank> <v_1> .. <v_numel>' (row-major), dtype one
of float32 float64 int64 bool; floats are repr() of the element as a Python float (exact for
float32; nan, inf, -inf spelled so), int64 as integers, bool as 0/1. 'none' is PyTorch's None
gradient (p = 0 norms, second derivatives of ops whose gradient does not depend on the input).

<op> and its params:
    max | min          all | <dim> <keepdim 0|1>
    argmax | argmin    none | <dim>, then <keepdim 0|1>
    norm               <p> all | <p> <d1,d2,..> <keepdim>      (p as repr(float))
    eq ne lt le gt ge  (two tensor inputs) | scalar <kind f|i|b> <value>   (tensor op number)
    all | any
    cat | stack        <dim>
"""
import math
import os
import sys

import torch

NAN = float("nan")
INF = float("inf")
A = torch.ops.aten

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}


def fmt_tensor(t):
    t = t.detach()
    if t._is_zerotensor():  # autograd's lazy zeros (sgn's gradient) hold no storage
        t = torch.zeros(t.shape, dtype=t.dtype)
    head = [DTYPE_NAMES[t.dtype], str(t.dim())] + [str(s) for s in t.shape]
    flat = t.reshape(-1).tolist()
    if t.dtype == torch.bool:
        vals = ["1" if v else "0" for v in flat]
    elif t.dtype == torch.int64:
        vals = [str(int(v)) for v in flat]
    else:
        vals = [repr(float(v)) for v in flat]
    return " ".join(head + vals)


def generator(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def randn(shape, seed, dtype=torch.float64):
    return torch.randn(shape, generator=generator(seed), dtype=torch.float64).to(dtype)


# Inputs. TIES has equal maxima and minima in rows and overall; NANS has NaNs in one row only.
TIES = torch.tensor([[1.5, -2.0, 3.0, 3.0], [0.5, 4.0, -4.0, 4.0], [-1.0, -4.0, 0.25, 0.75]], dtype=torch.float64)
NANS = torch.tensor([[1.0, NAN, 3.0, NAN], [2.0, 5.0, 5.0, 1.0]], dtype=torch.float64)
CUBE = randn((2, 3, 4), 1)
CUBE32 = randn((2, 3, 4), 2, torch.float32)
# Rows that are all zero, partly zero, and mixed signs: the norm's conventions at 0.
ZEROS = torch.tensor([[0.0, 0.0, 0.0], [0.0, 2.0, -1.0], [1.5, -0.5, 2.5]], dtype=torch.float64)
LONGS = torch.tensor([[3, -1, 7, 7], [2, 9, 9, -5]])
BOOLS = torch.tensor([[True, False, True], [False, False, False]])
SCALAR = torch.tensor(-2.5, dtype=torch.float64)


class Case:
    def __init__(self, name, op, params, inputs, fn):
        self.name, self.op, self.params, self.inputs, self.fn = name, op, params, inputs, fn


def record(case, seed):
    """The block of lines of one case: inputs, outputs and (where torch records a graph) the
    gradients of sum(out0 * w) and the second derivatives along v."""
    xs = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in case.inputs]
    outs = case.fn(*xs)
    outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
    grad_fn = outs[0].grad_fn.name() if outs[0].grad_fn is not None else "-"
    lines = ["case %s %s %s %s" % (case.name, grad_fn, case.op, " ".join(case.params))]
    lines += ["in " + fmt_tensor(x) for x in case.inputs]
    lines += ["out " + fmt_tensor(o) for o in outs]
    if outs[0].grad_fn is None:
        return lines + ["end"]
    w = randn(outs[0].shape, seed, outs[0].dtype)
    lines.append("w " + fmt_tensor(w))
    wanted = [x for x in xs if x.requires_grad]
    grads = torch.autograd.grad((outs[0] * w).sum(), wanted, create_graph=True, allow_unused=True)
    lines += ["grad " + (fmt_tensor(g) if g is not None else "none") for g in grads]
    # Second derivatives of the one-input ops whose gradient depends on the input (norm, here;
    # cat's and stack's gradients are slices of w, max's and min's are w placed by a mask).
    if len(wanted) == 1 and grads[0] is not None and grads[0].requires_grad:
        v = randn(wanted[0].shape, seed + 100000, wanted[0].dtype)
        lines.append("v " + fmt_tensor(v))
        (g2,) = torch.autograd.grad((grads[0] * v).sum(), wanted, allow_unused=True)
        lines.append("grad2 " + (fmt_tensor(g2) if g2 is not None else "none"))
    return lines + ["end"]


def cases():
    out = []

    def add(name, op, params, inputs, fn):
        out.append(Case(name, op, [str(p) for p in params], inputs, fn))

    # max / min
    for op in ("max", "min"):
        f = getattr(torch, op)
        for iname, x in (("ties", TIES), ("nans", NANS), ("cube", CUBE), ("cube32", CUBE32), ("longs", LONGS),
                         ("bools", BOOLS), ("scalar", SCALAR)):
            add("%s_all_%s" % (op, iname), op, ["all"], [x], lambda a, f=f: f(a))
        for iname, x, dims in (("ties", TIES, (0, 1, -1)), ("nans", NANS, (1,)), ("cube", CUBE, (0, 2, -2)),
                               ("cube32", CUBE32, (1,)), ("longs", LONGS, (1,)), ("bools", BOOLS, (0,)),
                               ("scalar", SCALAR, (0, -1))):
            for d in dims:
                for keep in (0, 1):
                    add("%s_dim%d_keep%d_%s" % (op, d, keep, iname), op, [d, keep], [x],
                        lambda a, f=f, d=d, keep=keep: f(a, d, bool(keep)))
    # argmax / argmin
    for op in ("argmax", "argmin"):
        f = getattr(torch, op)
        for iname, x in (("ties", TIES), ("nans", NANS), ("cube", CUBE), ("longs", LONGS), ("scalar", SCALAR)):
            for keep in (0, 1):
                add("%s_none_keep%d_%s" % (op, keep, iname), op, ["none", keep], [x],
                    lambda a, f=f, keep=keep: f(a, keepdim=bool(keep)))
            for d in ((0, -1) if x.dim() > 0 else (0,)):
                for keep in (0, 1):
                    add("%s_dim%d_keep%d_%s" % (op, d, keep, iname), op, [d, keep], [x],
                        lambda a, f=f, d=d, keep=keep: f(a, d, bool(keep)))
    # norm: aten::norm.Scalar (all) and aten::norm.ScalarOpt_dim (dims), as libtorch's norm calls them
    for p in (2.0, 1.0, INF, -INF, 0.0, 3.0, 0.5, 1.5, -1.0, 4.0):
        pn = repr(p).replace(".", "_").replace("-", "m")
        for iname, x in (("cube", CUBE), ("zeros", ZEROS), ("nans", NANS), ("scalar", SCALAR)):
            add("norm_p%s_all_%s" % (pn, iname), "norm", [repr(p), "all"], [x], lambda a, p=p: A.norm.Scalar(a, p))
        for iname, x, dims, keep in (("cube", CUBE, [2], 0), ("cube", CUBE, [0, 2], 1), ("cube", CUBE, [-1, 0], 0),
                                     ("zeros", ZEROS, [1], 0), ("zeros", ZEROS, [0], 1), ("nans", NANS, [1], 1),
                                     ("scalar", SCALAR, [0], 1)):
            dn = ",".join(str(d) for d in dims)
            add("norm_p%s_dims%s_keep%d_%s" % (pn, dn.replace(",", "_").replace("-", "m"), keep, iname), "norm",
                [repr(p), dn, keep], [x], lambda a, p=p, dims=dims, keep=keep: A.norm.ScalarOpt_dim(a, p, dims, bool(keep)))
    for p in (2.0, 3.0, INF):
        add("norm_p%s_all_cube32" % repr(p).replace(".", "_"), "norm", [repr(p), "all"], [CUBE32],
            lambda a, p=p: A.norm.Scalar(a, p))
        add("norm_p%s_dims1_keep0_cube32" % repr(p).replace(".", "_"), "norm", [repr(p), "1", 0], [CUBE32],
            lambda a, p=p: A.norm.ScalarOpt_dim(a, p, [1], False))
    # float32 squares that overflow and underflow, as ATen computes them
    for iname, x in (("big32", torch.tensor([1e30, 1e30])), ("tiny32", torch.tensor([3e-30, 4e-30]))):
        add("norm_p2_0_all_%s" % iname, "norm", [repr(2.0), "all"], [x], lambda a: A.norm.Scalar(a, 2.0))
    # comparisons: broadcasting, promotion (int64 against float compares in float), NaN
    row = torch.tensor([1.0, NAN, 3.0, 4.0], dtype=torch.float64)
    col = torch.tensor([[1.0], [3.0], [NAN]], dtype=torch.float64)
    big = torch.tensor([16777217, 3, -2])
    pairs = (("rowcol", row, col), ("ties", TIES, TIES[1]), ("long_float", LONGS, torch.tensor([3.0, -1.5, 7.0, 9.5])),
             ("big_f32scalar", big, torch.tensor(16777216.0)), ("f64_f32scalar", torch.tensor([0.1, 0.2], dtype=torch.float64), torch.tensor(0.1)),
             ("f32_f64", torch.tensor([0.1, 0.2]), torch.tensor([0.1, 0.2], dtype=torch.float64)),
             ("bools_long", BOOLS, torch.tensor([1, 0, 1])), ("scalar_cube", SCALAR, CUBE))
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        f = getattr(torch, op)
        for iname, a, b in pairs:
            add("%s_%s" % (op, iname), op, [], [a, b], lambda a, b, f=f: f(a, b))
        for iname, x, kind, value in (("ties_f", TIES, "f", 3.0), ("ties_i", TIES, "i", 3), ("longs_f", LONGS, "f", 2.5),
                                      ("longs_i", LONGS, "i", 7), ("bools_i", BOOLS, "i", 1), ("bools_b", BOOLS, "b", True),
                                      ("big_f", big, "f", 16777216.0), ("nans_f", NANS, "f", NAN),
                                      ("cube32_f", CUBE32, "f", 0.1)):
            shown = repr(float(value)) if kind == "f" else str(int(value))
            add("%s_scalar_%s" % (op, iname), op, ["scalar", kind, shown], [x], lambda a, f=f, v=value: f(a, v))
    for op in ("all", "any"):
        f = getattr(torch, op)
        for iname, x in (("ties", TIES), ("zeros", ZEROS), ("nans", NANS), ("longs", LONGS), ("bools", BOOLS),
                         ("empty", torch.empty(0, 3)), ("scalar", SCALAR), ("zero_row", ZEROS[0]), ("nan_zero", torch.tensor([0.0, NAN]))):
            add("%s_%s" % (op, iname), op, [], [x], lambda a, f=f: f(a))
    # cat / stack: dims, negative dims, promotion, skipped legacy empties
    m23, m24, m33 = randn((2, 3), 11), randn((2, 4), 12), randn((3, 3), 13)
    m23f = randn((2, 3), 14, torch.float32)
    for d in (0, 1, -1, -2):
        add("cat_dim%d_same" % d, "cat", [d], [m23, randn((2, 3), 15)], lambda *ts, d=d: torch.cat(ts, d))
    add("cat_dim1_widths", "cat", [1], [m23, m24, randn((2, 1), 16)], lambda *ts: torch.cat(ts, 1))
    add("cat_dim0_heights", "cat", [0], [m23, m33], lambda *ts: torch.cat(ts, 0))
    add("cat_promote_f32_f64", "cat", [1], [m23f, m24], lambda *ts: torch.cat(ts, 1))
    add("cat_promote_long_f32", "cat", [0], [LONGS[:, :3], m23f], lambda *ts: torch.cat(ts, 0))
    add("cat_legacy_empty", "cat", [0], [torch.empty(0, dtype=torch.float64), m23, torch.empty(0, dtype=torch.float64)],
        lambda *ts: torch.cat(ts, 0))
    add("cat_bools", "cat", [1], [BOOLS, BOOLS], lambda *ts: torch.cat(ts, 1))
    for d in (0, 1, 2, -1, -3):
        add("stack_dim%d" % d, "stack", [d], [m23, randn((2, 3), 17), randn((2, 3), 18)], lambda *ts, d=d: torch.stack(ts, d))
    add("stack_scalars", "stack", [0], [SCALAR, torch.tensor(1.5, dtype=torch.float64)], lambda *ts: torch.stack(ts, 0))
    add("stack_promote", "stack", [1], [m23f, m23], lambda *ts: torch.stack(ts, 1))
    return out


def write(outdir):
    torch.set_default_dtype(torch.float32)
    lines = [
        "# Golden values for max/min/argmax/argmin, norm, comparisons, all/any, cat/stack: PyTorch %s." % torch.__version__,
        "# Generated by tools/reference_reduce.py; do not edit by hand. Format: see that script.",
    ]
    all_cases = cases()
    for k, case in enumerate(all_cases):
        lines += record(case, 1000 + k)
    path = os.path.join(outdir, "reduce.txt")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote %d cases to %s" % (len(all_cases), path))


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
