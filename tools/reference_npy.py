#!/usr/bin/env python3
"""numpy-written .npy files for ctgrad's reader and writer (test/tensor/test_npy.cpp).

    /usr/bin/python3 tools/reference_npy.py write [output-dir]   writes test/reference/npy/*.npy
    /usr/bin/python3 tools/reference_npy.py check DIR            checks the files ctgrad wrote

`write` (also called by tools/make_reference.py) saves the arrays below with numpy. The C++ test
loads each one and compares it with the same values, and saves those values with
ctgrad::save_npy, which must give the bytes np.save gave (for the files np.save writes: format
1.0, C order, little-endian).

`check` is the other direction, run by hand: run the test with CTGRAD_NPY_KEEP=DIR set, so that
it leaves the files it wrote there, then this loads them with numpy and compares them with
ARRAYS (CI has no numpy; the byte comparison above covers it there).
"""
import os
import sys

import numpy as np
import numpy.lib.format as npy_format


def arrays():
    """name -> array; the C++ test builds the same values."""
    return {
        "f4_2x3": (np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5) - np.float32(1.25)),
        "f8_scalar": np.array(3.25, dtype=np.float64),
        "i8_vec": np.array([-3, 0, 7, 2**40 + 1, -(2**62)], dtype=np.int64),
        "b1_2x2": np.array([[True, False], [False, True]]),
        "f4_empty": np.zeros((0, 3), dtype=np.float32),
        "f8_fortran": np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 8),
        "f8_big_endian": np.array([1.5, -2.25, 1e300], dtype=">f8"),
    }


def write(outdir):
    npy_dir = os.path.join(outdir, "npy")
    os.makedirs(npy_dir, exist_ok=True)
    for name, a in arrays().items():
        np.save(os.path.join(npy_dir, name + ".npy"), a)
    # Format 2.0 (4-byte header length), which np.save only picks for huge headers.
    with open(os.path.join(npy_dir, "f4_v2.npy"), "wb") as fh:
        npy_format.write_array(fh, np.arange(4, dtype=np.float32), version=(2, 0))
    print("wrote %d .npy files to %s" % (len(arrays()) + 1, npy_dir))


def check(directory):
    """Loads what the C++ test saved (CTGRAD_NPY_KEEP) and compares it with the arrays."""
    expected = arrays()
    expected["f8_fortran"] = np.ascontiguousarray(expected["f8_fortran"])
    expected["f8_big_endian"] = expected["f8_big_endian"].astype("<f8")
    checked = 0
    for name, want in expected.items():
        path = os.path.join(directory, name + ".npy")
        got = np.load(path)
        if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
            raise SystemExit("%s: numpy reads %r %s %r, expected %r %s %r"
                             % (path, got.dtype, got.shape, got, want.dtype, want.shape, want))
        checked += 1
    transposed = np.load(os.path.join(directory, "f8_transposed.npy"))
    want = (np.arange(12, dtype=np.float64).reshape(3, 4) / 4).T
    if not np.array_equal(transposed, want):
        raise SystemExit("f8_transposed.npy: numpy reads %r, expected %r" % (transposed, want))
    print("check: numpy reads all %d files ctgrad wrote in %s" % (checked + 1, directory))


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if len(sys.argv) >= 2 and sys.argv[1] == "check" and len(sys.argv) == 3:
        check(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "write":
        write(sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "test", "reference"))
    else:
        raise SystemExit(__doc__)
