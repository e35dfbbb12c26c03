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
    leaky_relu/<slope>  float64: x, out, gout, gx
    bn/<case>[/<step>]  BatchNorm1d / 2d in float64, one forward each: x, out, gout, gx, weight,
                bias, gw, gb
                and the buffers after it (num_batches_tracked as a float); some also wx, hx
                (d/dx sum(gx * wx) with create_graph)
    embedding/<case>    init (the float32 table after manual_seed), indices, out, gout, gw
                (float64); embedding/max_norm: table, indices, out, after (the renormed table)
    bce/<reduction>[/weight], bce_logits/<reduction>[/weight|/pos_weight]  float64: x, t, w,
                out, gout, gx, gt, wx, hx; bce/clamped: x, t, out at input 0 and 1
    conv_transpose/<case>  ConvTranspose2d after manual_seed: init_weight, init_bias (float32);
                in float64: x, out, gout, gx, gw, gb, wx, hw (d/dweight sum(gx * wx))
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


def leaky_relu_cases(out):
    g = torch.Generator().manual_seed(21)
    for name, slope in [("default", None), ("0.2", 0.2), ("-0.5", -0.5)]:
        x = torch.randn(3, 4, generator=g, dtype=torch.float64)
        with torch.no_grad():
            x += torch.where(x.abs() < 0.05, 0.2, 0.0)  # away from the kink, for finite differences
        x.requires_grad_()
        y = F.leaky_relu(x) if slope is None else F.leaky_relu(x, slope)
        gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
        (gx,) = torch.autograd.grad(y, x, gout)
        case = "leaky_relu/" + name
        for label, t in [("x", x), ("out", y), ("gout", gout), ("gx", gx)]:
            out.append(line(case, label, t))


def batch_norm_step(out, case, bn, x, g, second_order=False):
    """One forward of bn on x (float64): out, gradients of sum(out * gout), the buffers after."""
    x = x.clone().requires_grad_()
    y = bn(x)
    gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
    params = [p for p in (bn.weight, bn.bias) if p is not None]
    grads = torch.autograd.grad(y, [x] + params, gout, create_graph=second_order)
    items = [("x", x), ("out", y), ("gout", gout), ("gx", grads[0])]
    if params:
        items += [("weight", bn.weight), ("bias", bn.bias), ("gw", grads[1]), ("gb", grads[2])]
    if bn.running_mean is not None:
        items += [("running_mean", bn.running_mean), ("running_var", bn.running_var),
                  ("num_batches_tracked", bn.num_batches_tracked.double())]
    if second_order:
        wx = torch.randn(x.shape, generator=g, dtype=torch.float64)
        (hx,) = torch.autograd.grad((grads[0] * wx).sum(), x)
        items += [("wx", wx), ("hx", hx)]
    for label, t in items:
        out.append(line(case, label, t))


def batch_norm_cases(out):
    g = torch.Generator().manual_seed(31)

    def randomise(bn):
        with torch.no_grad():
            if bn.weight is not None:
                bn.weight.copy_(torch.randn(bn.weight.shape, generator=g, dtype=torch.float64))
                bn.bias.copy_(torch.randn(bn.bias.shape, generator=g, dtype=torch.float64))
        return bn

    # BatchNorm1d on [N, C]: two training steps (running statistics with momentum 0.1).
    bn = randomise(torch.nn.BatchNorm1d(3).double())
    for step in (1, 2):
        batch_norm_step(out, "bn/1d_train/%d" % step, bn, 2 * torch.randn(5, 3, generator=g, dtype=torch.float64) + 1, g,
                        second_order=step == 1)
    # BatchNorm1d on [N, C, L], momentum None (cumulative average): three steps.
    bn = randomise(torch.nn.BatchNorm1d(2, momentum=None, eps=1e-3).double())
    for step in (1, 2, 3):
        batch_norm_step(out, "bn/1d_cumulative/%d" % step, bn, torch.randn(4, 2, 3, generator=g, dtype=torch.float64) - 2, g)
    # BatchNorm2d: training, then eval with the statistics it gathered.
    bn = randomise(torch.nn.BatchNorm2d(2, momentum=0.3).double())
    batch_norm_step(out, "bn/2d_train", bn, torch.randn(2, 2, 3, 3, generator=g, dtype=torch.float64), g,
                    second_order=True)
    bn.eval()
    batch_norm_step(out, "bn/2d_eval", bn, torch.randn(3, 2, 2, 2, generator=g, dtype=torch.float64), g)
    # Without affine parameters and without running statistics (batch statistics in eval too).
    bn = torch.nn.BatchNorm2d(2, affine=False, track_running_stats=False).double().eval()
    batch_norm_step(out, "bn/2d_plain_eval", bn, torch.randn(2, 2, 2, 3, generator=g, dtype=torch.float64), g)


def embedding_cases(out):
    # The tables after manual_seed (float32, bit for bit), then lookups and gradients in float64.
    cases = [
        ("plain", 0, dict(num_embeddings=10, embedding_dim=3), [[1, 2, 4], [4, 3, 9]]),
        ("padding", 1, dict(num_embeddings=6, embedding_dim=2, padding_idx=2), [2, 0, 2, 5, 0]),
        ("padding_negative", 2, dict(num_embeddings=5, embedding_dim=3, padding_idx=-2), [[3, 1], [0, 3]]),
        ("scale_grad_by_freq", 3, dict(num_embeddings=4, embedding_dim=2, scale_grad_by_freq=True), [1, 3, 1, 1, 0]),
    ]
    g = torch.Generator().manual_seed(41)
    for name, seed, kwargs, indices in cases:
        torch.manual_seed(seed)
        emb = torch.nn.Embedding(**kwargs)
        case = "embedding/" + name
        out.append(line(case, "init", emb.weight))
        emb = emb.double()
        idx = torch.tensor(indices, dtype=torch.int64)
        y = emb(idx)
        gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
        (gw,) = torch.autograd.grad(y, emb.weight, gout)
        for label, t in [("indices", idx.double()), ("out", y), ("gout", gout), ("gw", gw)]:
            out.append(line(case, label, t))
    # from_pretrained with max_norm: the rows looked up are rescaled in place first.
    table = 2 * torch.randn(5, 3, generator=g, dtype=torch.float64)
    emb = torch.nn.Embedding.from_pretrained(table.clone(), freeze=False, max_norm=1.5)
    idx = torch.tensor([4, 0, 4, 2], dtype=torch.int64)
    y = emb(idx)
    case = "embedding/max_norm"
    for label, t in [("table", table), ("indices", idx.double()), ("out", y), ("after", emb.weight)]:
        out.append(line(case, label, t))


def bce_cases(out):
    g = torch.Generator().manual_seed(51)
    for logits in (False, True):
        for reduction in ["none", "mean", "sum"]:
            for weighted in ("", "/weight", "/pos_weight") if logits else ("", "/weight"):
                x = 2 * torch.randn(3, 4, generator=g, dtype=torch.float64)
                if not logits:
                    x = 0.05 + 0.9 * torch.rand(3, 4, generator=g, dtype=torch.float64)
                x.requires_grad_()
                t = torch.rand(3, 4, generator=g, dtype=torch.float64).requires_grad_()
                w = 0.5 + torch.rand(4, generator=g, dtype=torch.float64)
                kwargs = dict(reduction=reduction)
                if weighted == "/weight":
                    kwargs["weight"] = w
                if weighted == "/pos_weight":
                    kwargs["pos_weight"] = w
                f = F.binary_cross_entropy_with_logits if logits else F.binary_cross_entropy
                y = f(x, t, **kwargs)
                gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
                gx, gt = torch.autograd.grad(y, (x, t), gout, create_graph=True)
                wx = torch.randn(x.shape, generator=g, dtype=torch.float64)
                (hx,) = torch.autograd.grad((gx * wx).sum(), x)
                case = "%s/%s%s" % ("bce_logits" if logits else "bce", reduction, weighted)
                for label, v in [("x", x), ("t", t), ("w", w), ("out", y), ("gout", gout), ("gx", gx), ("gt", gt),
                                 ("wx", wx), ("hx", hx)]:
                    out.append(line(case, label, v))
    # The clamp of the logs at -100: input exactly 0 and 1.
    x = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    t = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    out.append(line("bce/clamped", "x", x))
    out.append(line("bce/clamped", "t", t))
    out.append(line("bce/clamped", "out", F.binary_cross_entropy(x, t, reduction="none")))


def conv_transpose_cases(out):
    # The layer after manual_seed (float32 weight and bias, bit for bit), then in float64: x, out,
    # gout, gx, gw, gb, and wx, hx (d/dx sum(gx * wx) with create_graph, through the weight).
    cases = [
        ("basic", 0, dict(in_channels=2, out_channels=3, kernel_size=3), (2, 2, 4, 4)),
        ("strided", 1, dict(in_channels=4, out_channels=2, kernel_size=(3, 2), stride=(2, 3), padding=(1, 0),
                            output_padding=(1, 2), groups=2, bias=False), (2, 4, 3, 2)),
        ("dilated", 2, dict(in_channels=3, out_channels=4, kernel_size=2, stride=2, padding=1, dilation=2,
                            output_padding=1), (3, 3, 3)),
    ]
    g = torch.Generator().manual_seed(61)
    for name, seed, kwargs, xshape in cases:
        torch.manual_seed(seed)
        layer = torch.nn.ConvTranspose2d(**kwargs)
        case = "conv_transpose/" + name
        out.append(line(case, "init_weight", layer.weight))
        if layer.bias is not None:
            out.append(line(case, "init_bias", layer.bias))
        layer = layer.double()
        x = torch.randn(xshape, generator=g, dtype=torch.float64, requires_grad=True)
        y = layer(x)
        gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
        params = [x] + list(layer.parameters())
        grads = torch.autograd.grad(y, params, gout, create_graph=True)
        wx = torch.randn(x.shape, generator=g, dtype=torch.float64)
        (hw,) = torch.autograd.grad((grads[0] * wx).sum(), layer.weight)
        items = [("x", x), ("out", y), ("gout", gout), ("gx", grads[0]), ("gw", grads[1])]
        if layer.bias is not None:
            items.append(("gb", grads[2]))
        items += [("wx", wx), ("hw", hw)]
        for label, t in items:
            out.append(line(case, label, t))


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
    leaky_relu_cases(lines)
    batch_norm_cases(lines)
    embedding_cases(lines)
    bce_cases(lines)
    conv_transpose_cases(lines)
    write_file(outdir, "nn.txt", header, lines)


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
