#!/usr/bin/env python3
"""Golden strings for ctgrad's tensor printing: what PyTorch's print(tensor) and numpy's
print(tensor.numpy()) show, read by test/tensor/test_format.cpp.

Called from tools/make_reference.py (write(outdir) writes <outdir>/format.txt), or on its own:

    /usr/bin/python3 tools/reference_format.py [output-dir]

Format: '#' starts a comment line; each case is four lines

    case <name> <dtype> <device> <requires_grad 0|1> <grad_fn or -> <rank> <size_1> .. <size_rank>
    values <v_1> .. <v_numel>          (row-major; repr() of the double for float32/float64, 0/1 for bool)
    torch <JSON string>                (print(tensor), without the trailing newline)
    numpy <JSON string>                (print(tensor.detach().cpu().numpy()))

<dtype> is float32, float64, int64, int32, int16, int8, uint8 or bool. The JSON strings use only the escapes \\n, \\" and \\\\
(every character here is printable ASCII).
"""
import json
import math
import os
import sys

import numpy as np
import torch

NAN = float("nan")
INF = float("inf")


def _cases():
    """(name, tensor) pairs; a tensor may carry requires_grad or a grad_fn. Values are fixed
    literals or come from torch's seeded generator, so the file is reproducible."""
    t = torch.tensor
    cases = []

    def add(name, tensor):
        cases.append((name, tensor))

    # 0-d tensors
    add("scalar_int", t(3))
    add("scalar_neg_int", t(-17))
    add("scalar_float_int_valued", t(-2.0))
    add("scalar_one", t(1.0))
    add("scalar_fraction", t(0.5))
    add("scalar_pi_float64", t(math.pi, dtype=torch.float64))
    add("scalar_neg_zero", t(-0.0))
    add("scalar_nan", t(NAN))
    add("scalar_small", t(1e-5))
    add("scalar_bool", t(True))
    add("scalar_requires_grad", t(1.5, requires_grad=True))
    # integers and bools
    add("int_vec", t([1, 2]))
    add("int_mixed_widths", t([-5, 100, 123456789012]))
    add("int_2d", torch.arange(12).reshape(3, 4) - 4)
    add("int_3d", torch.arange(24).reshape(2, 3, 4))
    add("int_4d", torch.arange(16).reshape(2, 2, 2, 2))
    add("bool_vec", t([True, False]))
    add("bool_single_true", t([True]))
    add("bool_2d", t([[True, False, True], [False, False, True]]))
    # float32, fixed-point mode
    add("zeros_2x2", torch.zeros(2, 2))
    torch.manual_seed(0)
    add("rand_2", torch.rand(2))
    add("float_tenths", t([0.1, 0.2, 0.3]))
    add("float_alignment_2d", t([[1.5, -200.25], [3.0, 4.0]]))
    add("float_neg_zero", t([-0.0, 1.5]))
    add("float_zero_and_neg_zero", t([0.0, -0.0]))
    add("float_wrap_1d", torch.arange(30.0) / 7)
    add("float_linspace_25", torch.linspace(-1, 1, 25))
    torch.manual_seed(0)
    add("randn_3x5", torch.randn(3, 5))
    torch.manual_seed(1)
    add("randn_3x15_wraps", torch.randn(3, 15))
    torch.manual_seed(2)
    add("randn_2x3x4", torch.randn(2, 3, 4))
    add("float_rounds_half", t([0.00015, 2.5e-4, 1.23455]))
    # numpy: an array prints a float32's integer digits exactly, a scalar its shortest digits
    add("float32_large_integers", t([-82088248.0, 1234567.5]))
    add("scalar_float32_large", t(1317801856.0))
    # the thresholds themselves: a ratio of exactly 1000 stays fixed; float32(1e-4) < 1e-4
    add("ratio_exactly_1000", t([1.0, 1000.0]))
    add("float32_1e-4", t([1e-4, 0.5]))
    # float32, integer-valued mode
    add("float_int_valued", t([1.0, 2.0, 3.0]))
    add("float_int_valued_neg", t([-10.0, 0.0, 7.0]))
    add("float_int_valued_sci_ratio", t([1.0, 1e5]))
    add("float_int_valued_sci_large", t([2e8, 3e8]))
    # float32, scientific mode
    add("sci_ratio", t([1e-5, 1e3]))
    add("sci_small", t([1e-5, 2e-5]))
    add("sci_large", t([1e10, 1.5]))
    add("sci_with_zero", t([0.0, 1e-5, 1.5e-6]))
    add("sci_numpy_extra_digits", t([1e-5, 1234.5678]))
    add("sci_float32_max", t([3.4e38, -1.0, 0.25]))
    add("sci_2d", t([[1e-6, 2.0], [3.0, -4e5]]))
    # non-finite
    add("nan_inf_fixed", t([NAN, 1.5, INF, -INF]))
    add("nan_inf_int_mode", t([NAN, 1.0, -INF]))
    add("all_nan", t([NAN, NAN]))
    add("nan_inf_sci", t([NAN, 1e-7, INF]))
    # float64
    add("float64_vec", t([1.5, 2.5], dtype=torch.float64))
    add("float64_thirds", t([1 / 3, 2 / 3, 0.1 + 0.2], dtype=torch.float64))
    add("float64_huge_tiny", t([1e300, 1e-300, -1.0], dtype=torch.float64))
    add("float64_requires_grad", t([1.0, -2.25, 3.5], dtype=torch.float64, requires_grad=True))
    add("float64_long_frac", t([1.00000000001, 123.456789012], dtype=torch.float64))
    # autograd suffixes
    x = t([1.0, 2.0, 3.0], requires_grad=True)
    add("requires_grad_vec", x)
    add("grad_fn_mul", x * 2)
    add("grad_fn_sum", x.sum())
    add("grad_fn_add_float64", t([0.5, 1.5], dtype=torch.float64, requires_grad=True) + 1)
    torch.manual_seed(3)
    w = torch.randn(2, 8, requires_grad=True)
    add("grad_fn_suffix_wraps", w * 1000)
    add("requires_grad_suffix_wraps", torch.linspace(0, 1, 12).requires_grad_())
    add("float64_suffixes_wrap", torch.linspace(-1, 1, 10, dtype=torch.float64).requires_grad_())
    # a last line of 79-80 characters: the suffix moves to a line of its own
    add("suffix_to_new_line", torch.linspace(0, 1, 9).requires_grad_())
    add("float64_two_suffixes_new_line", torch.linspace(0, 1, 9, dtype=torch.float64).requires_grad_())
    add("grad_fn_2d_new_line", torch.ones(2, 9, requires_grad=True) * 0.5)
    # empty tensors
    add("empty_1d", t([]))
    add("empty_0x3", torch.zeros(0, 3))
    add("empty_int64", torch.zeros(0, dtype=torch.int64))
    add("empty_bool_3d", torch.zeros(2, 0, 3, dtype=torch.bool))
    add("empty_float64_requires_grad", torch.zeros(0, 2, dtype=torch.float64, requires_grad=True))
    # summarization (numel > 1000)
    add("summary_arange_int", torch.arange(2000))
    add("summary_arange_float", torch.arange(2000.0) / 3)
    add("summary_2d", torch.linspace(-5, 5, 2000).reshape(40, 50))
    torch.manual_seed(4)
    add("summary_3d", torch.randn(10, 10, 12))
    add("summary_1001", torch.arange(1001.0))
    add("summary_narrow_rows", torch.arange(2000).reshape(500, 4))
    add("summary_bool", torch.arange(1500) % 3 == 0)
    add("no_summary_1000", torch.arange(1000))
    # the narrower integer dtypes: always named, columns as int64's
    add("uint8_vec", t([1, 2, 255], dtype=torch.uint8))
    add("int8_2d", t([[-128, 5], [127, 0]], dtype=torch.int8))
    add("int16_scalar", t(-300, dtype=torch.int16))
    add("int32_vec", t([100000, -7, 0], dtype=torch.int32))
    add("int32_summary", torch.arange(1200, dtype=torch.int32))
    add("empty_uint8", torch.zeros(0, dtype=torch.uint8))
    add("empty_int32_2d", torch.zeros(2, 0, dtype=torch.int32))
    return cases


# Devices other than the CPU: Debian's torch has no CUDA, so these strings come from torch's own
# printing internals (_tensor_str, _add_suffixes) fed the suffix list that _str_intern builds for
# a non-CPU tensor: device first, then dtype (float64 only), then requires_grad.
DEVICE_CASES = [
    ("cuda_vec", "cuda:0", lambda: torch.tensor([1.0, 2.0])),
    ("cuda_float64_grad", "cuda:0", lambda: torch.tensor([0.25, -1.0], dtype=torch.float64, requires_grad=True)),
    ("cuda_wraps", "cuda:1", lambda: torch.linspace(0, 1, 12).requires_grad_()),
]


def _dtype_name(tensor):
    return {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "bool",
            torch.uint8: "uint8", torch.int8: "int8", torch.int16: "int16", torch.int32: "int32"}[tensor.dtype]


def _value_text(v):
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    return repr(float(v))


def _record(name, tensor, device, torch_str):
    plain = tensor.detach()
    grad_fn = type(tensor.grad_fn).__name__ if tensor.grad_fn is not None else "-"
    header = ["case", name, _dtype_name(tensor), device, str(int(tensor.requires_grad)), grad_fn,
              str(plain.dim())] + [str(s) for s in plain.shape]
    values = plain.reshape(-1).tolist()
    numpy_str = str(plain.numpy())
    return [" ".join(header),
            " ".join(["values"] + [_value_text(v) for v in values]),
            "torch " + json.dumps(torch_str),
            "numpy " + json.dumps(numpy_str)]


def _device_torch_str(tensor, device):
    from torch import _tensor_str as ts
    suffixes = ["device='%s'" % device]
    if tensor.dtype == torch.float64:
        suffixes.append("dtype=torch.float64")
    if tensor.requires_grad:
        suffixes.append("requires_grad=True")
    prefix = "tensor("
    with torch.no_grad():
        body = ts._tensor_str(tensor, len(prefix))
    return ts._add_suffixes(prefix + body, suffixes, len(prefix), False)


def write(outdir):
    torch.set_printoptions(profile="default")
    np.set_printoptions()  # numpy's defaults
    lines = [
        "# Golden strings for ctgrad's tensor printing: PyTorch %s, numpy %s." % (torch.__version__, np.__version__),
        "# Generated by tools/reference_format.py (via tools/make_reference.py); do not edit by hand.",
        "# case <name> <dtype> <device> <requires_grad> <grad_fn|-> <rank> <sizes..> / values .. / torch <json> / numpy <json>",
    ]
    count = 0
    for name, tensor in _cases():
        lines += _record(name, tensor, "cpu", str(tensor))
        count += 1
    for name, device, make in DEVICE_CASES:
        tensor = make()
        lines += _record(name, tensor, device, _device_torch_str(tensor, device))
        count += 1
    for line in lines:
        assert all(32 <= ord(c) < 127 for c in line), line
    path = os.path.join(outdir, "format.txt")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote %d printing cases to %s" % (count, path))


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
