#!/usr/bin/env python3
"""Golden values for ctgrad's convolution, pooling and padding: conv2d, max_pool2d (values,
indices), avg_pool2d, constant_pad_nd, nn.Conv2d's initialisation and the ops' error messages,
computed by PyTorch. Read by test/nn/test_conv.cpp.

Called from tools/make_reference.py (write(outdir) writes <outdir>/conv.txt), or alone:

    /usr/bin/python3 tools/reference_conv.py [output-dir]

Format (as tools/reference_classification.py): '#' starts a comment line; a line
'error <case> <message>' holds the message PyTorch raises for <case> (the C++ test makes the same
bad call); every other line is one tensor:

    <case> <label> <rank> <size_1> .. <size_rank> <v_1> .. <v_numel>

values row-major, repr() of each element as a Python float; indices are int64 written as floats.
All tensors are float64 unless the case says otherwise.

    conv/<name>          x, weight [, bias], out, gout, gx, gweight [, gbias]
                         (gradients of sum(out * gout)); conv/basic also wweight, hweight:
                         d/dweight sum(gx * wx) with create_graph (wx under the label wx)
    maxpool/<name>       x, out, indices, gout, gx
    avgpool/<name>       x, out, gout, gx
    pad/<name>           x, out, gout, gx
    init/conv<in>x<out>x<k>[g<groups>]  weight, bias of nn.Conv2d after torch.manual_seed(0) (float32)
The parameters of each case are written in the C++ test next to its name.
"""
import os
import sys

from golden_tensors import error_lines, line, write_file
import torch
import torch.nn.functional as F




# name, x shape, weight shape, bias, stride, padding, dilation, groups
CONV = [
    ("basic", (2, 3, 7, 6), (4, 3, 3, 2), True, 1, 0, 1, 1),
    ("stride_pad", (2, 2, 7, 8), (3, 2, 3, 3), True, (2, 1), (1, 2), 1, 1),
    ("dilation", (1, 2, 9, 8), (2, 2, 3, 2), False, 1, 1, (2, 3), 1),
    ("groups", (2, 4, 6, 6), (6, 2, 3, 3), True, 2, 1, 1, 2),
    ("depthwise", (1, 3, 5, 5), (3, 1, 2, 2), False, 1, 0, 1, 3),
    ("unbatched", (3, 6, 5), (2, 3, 2, 2), True, 1, 0, 1, 1),
    ("all", (2, 4, 9, 10), (4, 2, 3, 2), True, (2, 3), (1, 1), (2, 1), 2),
]

# name, x shape, kernel, stride, padding, dilation, ceil_mode
MAXPOOL = [
    ("k2", (2, 3, 6, 6), 2, None, 0, 1, False),
    ("k3s2p1", (1, 2, 7, 7), 3, 2, 1, 1, False),
    ("ceil", (1, 2, 6, 7), 3, 2, 0, 1, True),
    ("ceil_pad", (1, 1, 5, 5), (3, 2), (2, 2), (1, 1), 1, True),
    ("dilation", (1, 2, 8, 7), (2, 3), 1, (1, 1), (2, 1), False),
    ("unbatched", (2, 5, 5), 2, 1, 0, 1, False),
    ("ties", (1, 2, 5, 5), 3, 1, 1, 1, False),
]

# name, x shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
AVGPOOL = [
    ("k2", (2, 3, 6, 6), 2, None, 0, False, True, None),
    ("k3s2p1", (1, 2, 7, 7), 3, 2, 1, False, True, None),
    ("k3s2p1_nopad", (1, 2, 7, 7), 3, 2, 1, False, False, None),
    ("ceil", (1, 2, 6, 7), 3, 2, 1, True, True, None),
    ("ceil_nopad", (1, 2, 6, 7), 3, 2, 1, True, False, None),
    ("divisor", (1, 2, 5, 5), 2, 1, 1, False, True, 3),
    ("unbatched", (2, 5, 6), (2, 3), (1, 2), 0, False, True, None),
]

# name, x shape, pad, value
PAD = [
    ("last", (2, 3, 4), [1, 2], 0.5),
    ("two_dims", (2, 3, 4), [0, 1, 2, 1], 0.0),
    ("crop", (2, 3, 4), [1, -1, -1, 2], -1.0),
    ("three_dims", (2, 3, 4), [1, 0, 0, 1, 1, 1], 2.0),
]


def conv_cases(out):
    g = torch.Generator().manual_seed(41)
    for name, xs, ws, has_bias, stride, padding, dilation, groups in CONV:
        x = torch.randn(xs, generator=g, dtype=torch.float64, requires_grad=True)
        w = torch.randn(ws, generator=g, dtype=torch.float64, requires_grad=True)
        b = torch.randn(ws[0], generator=g, dtype=torch.float64, requires_grad=True) if has_bias else None
        y = F.conv2d(x, w, b, stride, padding, dilation, groups)
        gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
        inputs = [x, w] + ([b] if has_bias else [])
        grads = torch.autograd.grad(y, inputs, gout, create_graph=True)
        case = "conv/" + name
        labels = [("x", x), ("weight", w)] + ([("bias", b)] if has_bias else []) + [("out", y), ("gout", gout),
                                                                                    ("gx", grads[0]), ("gweight", grads[1])]
        if has_bias:
            labels.append(("gbias", grads[2]))
        if name == "basic":
            wx = torch.randn(x.shape, generator=g, dtype=torch.float64)
            (hw,) = torch.autograd.grad((grads[0] * wx).sum(), w)
            labels += [("wx", wx), ("hweight", hw)]
        for label, t in labels:
            out.append(line(case, label, t))


def pool_cases(out):
    g = torch.Generator().manual_seed(43)
    for name, xs, k, s, p, d, ceil in MAXPOOL:
        if name == "ties":
            x = torch.randint(0, 3, xs, generator=g).double().requires_grad_()
        else:
            x = torch.randn(xs, generator=g, dtype=torch.float64, requires_grad=True)
        y, i = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
        gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
        (gx,) = torch.autograd.grad(y, x, gout)
        for label, t in [("x", x), ("out", y), ("indices", i.double()), ("gout", gout), ("gx", gx)]:
            out.append(line("maxpool/" + name, label, t))
    for name, xs, k, s, p, ceil, include, divisor in AVGPOOL:
        x = torch.randn(xs, generator=g, dtype=torch.float64, requires_grad=True)
        y = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=include, divisor_override=divisor)
        gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
        (gx,) = torch.autograd.grad(y, x, gout)
        for label, t in [("x", x), ("out", y), ("gout", gout), ("gx", gx)]:
            out.append(line("avgpool/" + name, label, t))


def pad_cases(out):
    g = torch.Generator().manual_seed(47)
    for name, xs, pad, value in PAD:
        x = torch.randn(xs, generator=g, dtype=torch.float64, requires_grad=True)
        y = F.pad(x, pad, value=value)
        gout = torch.randn(y.shape, generator=g, dtype=torch.float64)
        (gx,) = torch.autograd.grad(y, x, gout)
        for label, t in [("x", x), ("out", y), ("gout", gout), ("gx", gx)]:
            out.append(line("pad/" + name, label, t))


def init_cases(out):
    for cin, cout, k, groups in [(1, 10, 5, 1), (10, 20, 5, 1), (4, 6, (3, 2), 2)]:
        torch.manual_seed(0)
        m = torch.nn.Conv2d(cin, cout, k, groups=groups)
        ks = "x".join(map(str, k)) if isinstance(k, tuple) else str(k)
        case = "init/conv%dx%dx%s%s" % (cin, cout, ks, "g%d" % groups if groups != 1 else "")
        out.append(line(case, "weight", m.weight))
        out.append(line(case, "bias", m.bias))


ERRORS = [
    ("conv_channels", lambda: F.conv2d(torch.randn(64, 3, 28, 28), torch.randn(10, 1, 5, 5))),
    ("conv_rank", lambda: F.conv2d(torch.randn(3, 28), torch.randn(10, 1, 5, 5))),
    ("conv_rank5", lambda: F.conv2d(torch.randn(1, 1, 3, 28, 28), torch.randn(10, 1, 5, 5))),
    ("conv_kernel_too_big", lambda: F.conv2d(torch.randn(1, 1, 4, 4), torch.randn(10, 1, 5, 5))),
    ("conv_stride0", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(10, 1, 5, 5), stride=0)),
    ("conv_stride_negative", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(10, 1, 5, 5), stride=(1, -1))),
    ("conv_dilation0", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(10, 1, 5, 5), dilation=0)),
    ("conv_padding_negative", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(10, 1, 5, 5), padding=-1)),
    ("conv_groups0", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(10, 1, 5, 5), groups=0)),
    ("conv_groups_weight", lambda: F.conv2d(torch.randn(1, 4, 8, 8), torch.randn(3, 2, 5, 5), groups=2)),
    ("conv_groups_channels", lambda: F.conv2d(torch.randn(1, 3, 8, 8), torch.randn(4, 1, 5, 5), groups=2)),
    ("conv_empty_weight", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(0, 1, 3, 3))),
    ("conv_bias", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(10, 1, 5, 5), torch.randn(5))),
    ("conv_dtype", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(10, 1, 5, 5).double())),
    ("conv_bias_dtype", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(10, 1, 5, 5), torch.randn(10).double())),
    ("conv_stride3", lambda: F.conv2d(torch.randn(1, 1, 8, 8), torch.randn(10, 1, 5, 5), stride=(1, 1, 1))),
    ("max_pool_pad", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), 2, padding=3)),
    ("max_pool_pad_negative", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), 2, padding=-1)),
    ("max_pool_stride0", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), 2, stride=0)),
    ("max_pool_stride_negative", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), 2, stride=-1)),
    ("max_pool_kernel0", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), 0, stride=1)),
    ("max_pool_dilation0", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), 2, dilation=0)),
    ("max_pool_rank", lambda: F.max_pool2d(torch.randn(8, 8), 2)),
    ("max_pool_empty_plane", lambda: F.max_pool2d(torch.randn(1, 0, 8, 8), 2)),
    ("max_pool_too_small", lambda: F.max_pool2d(torch.randn(1, 1, 2, 2), 3)),
    ("max_pool_kernel3", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), (2, 2, 2))),
    ("max_pool_stride3", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), 2, stride=(1, 1, 1))),
    ("max_pool_padding3", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), 2, padding=(1, 1, 1))),
    ("max_pool_dilation3", lambda: F.max_pool2d(torch.randn(1, 1, 8, 8), 2, dilation=(1, 1, 1))),
    ("max_pool_long", lambda: F.max_pool2d(torch.ones(1, 1, 8, 8, dtype=torch.long), 2)),
    ("avg_pool_pad", lambda: F.avg_pool2d(torch.randn(1, 1, 8, 8), 2, padding=3)),
    ("avg_pool_stride0", lambda: F.avg_pool2d(torch.randn(1, 1, 8, 8), 2, stride=0)),
    ("avg_pool_kernel0", lambda: F.avg_pool2d(torch.randn(1, 1, 8, 8), 0, stride=1)),
    ("avg_pool_too_small", lambda: F.avg_pool2d(torch.randn(1, 1, 2, 2), 3)),
    ("avg_pool_divisor0", lambda: F.avg_pool2d(torch.randn(1, 1, 8, 8), 2, divisor_override=0)),
    ("avg_pool_kernel3", lambda: F.avg_pool2d(torch.randn(1, 1, 8, 8), (2, 2, 2))),
    ("avg_pool_padding3", lambda: F.avg_pool2d(torch.randn(1, 1, 8, 8), 2, padding=(1, 1, 1))),
    ("pad_odd", lambda: torch.constant_pad_nd(torch.randn(2, 3), [1])),
    ("pad_too_long", lambda: torch.constant_pad_nd(torch.randn(2, 3), [1, 1, 1, 1, 1, 1])),
]




def write(outdir):
    header = [
        "# Golden values for ctgrad's convolution, pooling and padding: PyTorch %s." % torch.__version__,
        "# Generated by tools/reference_conv.py (via tools/make_reference.py); do not edit by hand.",
        "# <case> <label> <rank> <sizes..> <values..>, or: error <case> <message>",
    ]
    lines = []
    conv_cases(lines)
    pool_cases(lines)
    pad_cases(lines)
    init_cases(lines)
    error_lines(lines, ERRORS)
    write_file(outdir, "conv.txt", header, lines)


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
