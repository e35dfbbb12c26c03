#!/usr/bin/env python3
"""Golden values for ctgrad's CPU generator: what torch's CPU generator draws after manual_seed.

Writes test/reference/random.txt, read by test/tensor/test_random.cpp, which replays the file
line by line on ctgrad::default_generator() and compares every number (float32 bit for bit).
Called by tools/make_reference.py; on its own:

    /usr/bin/python3 tools/reference_random.py [output-dir]

Format: one record per line, whitespace separated, '#' starts a comment line:

    manual_seed s
    op dtype a b n v_1 .. v_n

op is rand (a b = 0 1), randn (0 1), uniform (from to), normal (mean std), normal_strided (mean
std: normal_ on every other element of a tensor twice as long, which ATen fills element by
element whatever the size) or randint (low high, high exclusive); dtype is float32, float64 or int64. Values are exact: repr() of the element as a
Python float (float32 elements are exactly representable), int64 as integers. Records follow
each other without reseeding unless a manual_seed line says so, so the file also pins how calls
share the generator's stream and its cached normal sample.

The float32 normal path for >= 16 elements differs with ATen's CPU capability: these values come
from the AVX2 kernel, which ATen picks on any CPU with AVX2. Generate on such a machine (checked).
"""
import os
import sys
import warnings

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}
SEEDS = [0, 42, 2**40 + 7]


def fmt(t):
    if t.dtype == torch.int64:
        return [str(int(v)) for v in t.reshape(-1).tolist()]
    return [repr(float(v)) for v in t.reshape(-1).tolist()]


class Recorder:
    def __init__(self):
        self.lines = []

    def seed(self, s):
        torch.manual_seed(s)
        self.lines.append("manual_seed %d" % s)

    def _record(self, op, dtype, a, b, t):
        a = repr(float(a)) if isinstance(a, float) else str(a)
        b = repr(float(b)) if isinstance(b, float) else str(b)
        self.lines.append(" ".join([op, dtype, a, b, str(t.numel())] + fmt(t)))

    # `shape` is what the seed programs pass; only the element count matters to the stream.
    def rand(self, dtype, shape):
        self._record("rand", dtype, 0, 1, torch.rand(shape, dtype=DTYPES[dtype]))

    def randn(self, dtype, shape):
        self._record("randn", dtype, 0, 1, torch.randn(shape, dtype=DTYPES[dtype]))

    def uniform(self, dtype, n, lo, hi):
        self._record("uniform", dtype, lo, hi, torch.empty(n, dtype=DTYPES[dtype]).uniform_(lo, hi))

    def normal(self, dtype, n, mean, std):
        self._record("normal", dtype, mean, std, torch.empty(n, dtype=DTYPES[dtype]).normal_(mean, std))

    def normal_strided(self, dtype, n, mean, std):
        t = torch.empty(2 * n, dtype=DTYPES[dtype])[::2]
        self._record("normal_strided", dtype, mean, std, t.normal_(mean, std))

    def randint(self, dtype, low, high, shape):
        self._record("randint", dtype, low, high, torch.randint(low, high, shape, dtype=DTYPES[dtype]))


def check_capability():
    config = torch.__config__.show()
    if "CPU capability usage: AVX2" not in config and "CPU capability usage: AVX512" not in config:
        raise SystemExit("reference_random: ATen does not run its AVX2 kernels here; the float32 "
                         "randn values would not be the ones ctgrad reproduces")


def records():
    r = Recorder()
    float_sizes = [1, 5, 15, 16, 17, 100]
    normal_sizes = [1, 3, 15, 16, 17, 33, 100]
    for s in SEEDS:
        # Each draw from a fresh seed, so a mismatch points at one path.
        for dtype in ("float32", "float64"):
            for n in float_sizes:
                r.seed(s)
                r.rand(dtype, (n,))
            for n in normal_sizes:
                r.seed(s)
                r.randn(dtype, (n,))
        # One stream through many calls: uniform and vectorised normal never touch the cached
        # normal sample; the element-wise normal path leaves one behind after an odd count, and
        # the next element-wise normal (any dtype, any mean/std) consumes it first.
        r.seed(s)
        r.randn("float32", (3,))
        r.rand("float32", (2,))
        r.randn("float32", (20,))
        r.randint("int64", 0, 10, (4,))
        r.randn("float64", (1,))
        r.randn("float64", (5,))
        r.normal("float32", 3, 2.0, 0.5)
        r.normal("float64", 1, -1.0, 0.3)
        r.rand("float64", (3,))
        r.randn("float32", (1000,))
        r.randn("float64", (1001,))
        r.normal("float64", 33, -1.0, 0.3)
        r.normal("float32", 47, -1.0, 0.3)
        r.normal("float32", 5, -1.0, 0.3)
        r.normal_strided("float32", 33, 0.0, 1.0)
        r.normal_strided("float64", 20, 2.0, 0.3)
        # randint: below 2^32 one 32-bit word per element, from 2^32 on a 64-bit draw.
        r.seed(s)
        for dtype in ("int64", "float32", "float64"):
            r.randint(dtype, 3, 5, ())
            r.randint(dtype, -10, 10, (7,))
            r.randint(dtype, 0, 2**40, (5,))
        r.randint("int64", 0, 2**32 - 1, (3,))
        r.randint("int64", 0, 2**32, (3,))
        r.randint("int64", -(2**40), 2**35, (4,))
        r.randint("int64", -(2**62), 2**62, (4,))
        # normal_ / uniform_ with other parameters, both paths.
        r.seed(s)
        for dtype in ("float32", "float64"):
            for n in (5, 16, 100):
                r.normal(dtype, n, 2.0, 0.5)
                r.normal(dtype, n, -1.0, 0.3)
                r.uniform(dtype, n, -3.0, 7.0)
                r.uniform(dtype, n, 0.1, 0.7)
    # The seed programs' first draws.
    r.seed(0)
    r.randn("float32", ())
    r.randn("float32", (3, 3))
    r.rand("float32", [2, 2, 2])
    r.randn("float32", [3, 5])
    r.randn("float32", [5, 4])
    r.randint("int64", 3, 5, ())
    r.randn("float32", [3, 1])
    r.rand("float32", 100)
    return r.lines


def write(outdir):
    check_capability()
    previous = torch.get_default_dtype()
    try:
        with warnings.catch_warnings():
            # randint(0, 2**40, dtype=float32) is meant: it pins how torch narrows the range.
            warnings.filterwarnings("ignore", message=".*out of bounds.*")
            lines = records()
    finally:
        torch.set_default_dtype(previous)
    header = [
        "# Golden values for ctgrad's CPU generator: PyTorch %s, AVX2 kernels." % torch.__version__,
        "# Generated by tools/reference_random.py; do not edit by hand.",
        "# manual_seed s | op dtype a b n v_1..v_n  (op: rand randn uniform normal normal_strided randint)",
    ]
    path = os.path.join(outdir, "random.txt")
    with open(path, "w") as fh:
        fh.write("\n".join(header + lines) + "\n")
    print("wrote %d records to %s" % (len(lines), path))


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
