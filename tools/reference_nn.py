#!/usr/bin/env python3
"""Golden values for ctgrad::nn: initialisers, Linear, the seed's Sequential step and the
regression losses, computed by PyTorch. Read by test/nn/test_nn.cpp.

Called from tools/make_reference.py (write(outdir) writes <outdir>/nn.txt), or on its own:

    /usr/bin/python3 tools/reference_nn.py [output-dir]

Format: '#' starts a comment line; every other line is one tensor of one case:

    <case> <label> <rank> <size_1> .. <size_rank> <v_1> .. <v_numel>

values row-major, repr() of each element as a Python float (float32 values are exact).

    init/*      a tensor after torch.manual_seed(s) and one initialiser (float32): label out
    linear/*    Linear(3, 1) and Linear(4, 5) after manual_seed(0): weight, bias (float32)
    fwd/*       F.linear in float64: x, w, b, out, gout, gx, gw, gb
    seed/*      the seed2_step5 model (manual_seed(0), float32) on its 2000 points: loss,
                gw, gb (gradients of the summed MSE), w1, b1 (after one SGD step, lr 1e-6)
    loss/<f>/<reduction>[/bcast]  float64: a, b, out, gout, ga, gb; mse also wa, ha: the
                Hessian-vector product d/da sum(ga * wa) with create_graph
"""
import math
import os
import sys
import warnings

from golden_tensors import line, write_file
import torch
import torch.nn.functional as F




def init_cases(out):
    torch.nn.init  # noqa: B018  (documentation: the functions below are torch.nn.init's)
    cases = [
        ("kaiming_uniform", 1, (5, 4), lambda t: torch.nn.init.kaiming_uniform_(t)),
        ("kaiming_uniform_a", 1, (5, 4), lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5))),
        ("kaiming_normal_fan_out_relu", 2, (6, 3),
         lambda t: torch.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")),
        ("kaiming_uniform_conv", 7, (4, 3, 2, 2), lambda t: torch.nn.init.kaiming_uniform_(t, a=0.1)),
        ("xavier_uniform_gain2", 3, (4, 7), lambda t: torch.nn.init.xavier_uniform_(t, gain=2.0)),
        ("xavier_normal", 4, (3, 5), lambda t: torch.nn.init.xavier_normal_(t)),
        ("uniform", 5, (7,), lambda t: torch.nn.init.uniform_(t, -2.0, 3.0)),
        ("normal", 6, (2, 3), lambda t: torch.nn.init.normal_(t, 1.0, 0.5)),
    ]
    for name, seed, shape, f in cases:
        torch.manual_seed(seed)
        t = torch.empty(shape)
        f(t)
        out.append(line("init/" + name, "out", t))
    for i, o in [(3, 1), (4, 5)]:
        torch.manual_seed(0)
        lin = torch.nn.Linear(i, o)
        out.append(line("linear/%dx%d" % (i, o), "weight", lin.weight))
        out.append(line("linear/%dx%d" % (i, o), "bias", lin.bias))


def linear_cases(out):
    g = torch.Generator().manual_seed(11)
    for name, xshape in [("2d", (5, 3)), ("1d", (3,)), ("3d", (2, 4, 3))]:
        x = torch.randn(xshape, generator=g, dtype=torch.float64, requires_grad=True)
        w = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
        b = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)
        y = F.linear(x, w, b)
        gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
        gx, gw, gb = torch.autograd.grad(y, (x, w, b), gout)
        case = "fwd/" + name
        for label, t in [("x", x), ("w", w), ("b", b), ("out", y), ("gout", gout), ("gx", gx), ("gw", gw), ("gb", gb)]:
            out.append(line(case, label, t))


def seed_cases(out):
    torch.manual_seed(0)
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    loss = torch.nn.MSELoss(reduction="sum")(model(xx), y)
    model.zero_grad()
    loss.backward()
    lin = model[0]
    out.append(line("seed/step5", "w0", lin.weight))
    out.append(line("seed/step5", "b0", lin.bias))
    out.append(line("seed/step5", "loss", loss))
    out.append(line("seed/step5", "gw", lin.weight.grad))
    out.append(line("seed/step5", "gb", lin.bias.grad))
    with torch.no_grad():
        for p in model.parameters():
            p -= 1e-6 * p.grad
    out.append(line("seed/step5", "w1", lin.weight))
    out.append(line("seed/step5", "b1", lin.bias))


LOSSES = {
    "mse": lambda a, b, r: F.mse_loss(a, b, reduction=r),
    "l1": lambda a, b, r: F.l1_loss(a, b, reduction=r),
    "smooth_l1": lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r),
    "smooth_l1_beta0.5": lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.5),
    "huber": lambda a, b, r: F.huber_loss(a, b, reduction=r),
    "huber_delta0.7": lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=0.7),
}


def loss_cases(out):
    # PyTorch warns that input and target sizes differ: the broadcast cases do that on purpose.
    warnings.filterwarnings("ignore", message="Using a target size")
    g = torch.Generator().manual_seed(5)
    for name, f in LOSSES.items():
        for reduction in ["none", "mean", "sum"]:
            for bcast in [False, True]:
                a = (1.5 * torch.randn(3, 4, generator=g, dtype=torch.float64)).requires_grad_()
                b = (1.5 * torch.randn(4 if bcast else (3, 4), generator=g, dtype=torch.float64)).requires_grad_()
                with torch.no_grad():
                    # keep |a - b| away from the kinks (0 and beta / delta) for finite differences
                    d = a - b
                    a += torch.where(d.abs() < 0.05, 0.2, 0.0)
                    for k in (0.5, 0.7, 1.0):
                        d = a - b
                        a += torch.where((d.abs() - k).abs() < 0.05, 0.15, 0.0)
                value = f(a, b, reduction)
                gout = torch.randn(value.shape, generator=g, dtype=torch.float64)
                ga, gb = torch.autograd.grad(value, (a, b), gout, create_graph=True)
                case = "loss/%s/%s%s" % (name, reduction, "/bcast" if bcast else "")
                for label, t in [("a", a), ("b", b), ("out", value), ("gout", gout), ("ga", ga), ("gb", gb)]:
                    out.append(line(case, label, t))
                if name == "mse":
                    wa = torch.randn(a.shape, generator=g, dtype=torch.float64)
                    (ha,) = torch.autograd.grad((ga * wa).sum(), a)
                    out.append(line(case, "wa", wa))
                    out.append(line(case, "ha", ha))


def write(outdir):
    header = [
        "# Golden values for ctgrad::nn: PyTorch %s." % torch.__version__,
        "# Generated by tools/reference_nn.py (via tools/make_reference.py); do not edit by hand.",
        "# <case> <label> <rank> <sizes..> <values..>",
    ]
    lines = []
    init_cases(lines)
    linear_cases(lines)
    seed_cases(lines)
    loss_cases(lines)
    write_file(outdir, "nn.txt", header, lines)


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
