#!/usr/bin/env python3
"""Writes a synthetic MNIST-shaped data set in the IDX format into a directory:

  train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte

so that ctgrad::data::datasets::MNIST (and libtorch's torch::data::datasets::MNIST, which wants
exactly 60000 training and 10000 test images: the defaults) can read it where the real MNIST
files cannot be downloaded. Each image is 28x28 bytes: the digit of its label drawn as a
seven-segment figure with strokes two pixels wide, shifted by up to two pixels each way, blurred
by a 3x3 box and scaled to a peak of 150-200, plus uniform noise of 0-55 (so no pixel exceeds
255). The classes are distinct and learnable, not handwriting. The output depends only on the
arguments (the seed included). Python's standard library only.

Usage: make_mnist_idx.py OUTDIR [--train N] [--test N] [--seed S]
"""
import argparse
import pathlib
import random
import struct

SIDE = 28
# Segments as line segments (x0, y0, x1, y1) in a 28x28 frame: top, upper right, lower right,
# bottom, lower left, upper left, middle.
SEGMENTS = {
    "a": (9, 5, 18, 5), "b": (18, 5, 18, 13), "c": (18, 13, 18, 22), "d": (9, 22, 18, 22),
    "e": (9, 13, 9, 22), "f": (9, 5, 9, 13), "g": (9, 13, 18, 13),
}
DIGITS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]
SHIFTS = range(-2, 3)
PEAKS = (150, 175, 200)
NOISE_ROWS = 512


def template(digit: int, dx: int, dy: int, peak: int) -> int:
    """The digit's blurred figure as one integer of 784 big-endian bytes."""
    ink = [[0.0] * SIDE for _ in range(SIDE)]
    for name in DIGITS[digit]:
        x0, y0, x1, y1 = SEGMENTS[name]
        for y in range(min(y0, y1), max(y0, y1) + 2):  # two pixels wide
            for x in range(min(x0, x1), max(x0, x1) + 2):
                ink[min(max(y + dy, 0), SIDE - 1)][min(max(x + dx, 0), SIDE - 1)] = 1.0
    blurred = bytearray(SIDE * SIDE)
    for y in range(SIDE):
        for x in range(SIDE):
            total = sum(ink[v][u] for v in range(max(y - 1, 0), min(y + 2, SIDE))
                        for u in range(max(x - 1, 0), min(x + 2, SIDE)))
            blurred[y * SIDE + x] = round(peak * total / 9)
    return int.from_bytes(bytes(blurred), "big")


def write_set(outdir: pathlib.Path, prefix: str, count: int, rng: random.Random, templates, noise) -> None:
    labels = bytes(rng.randrange(10) for _ in range(count))
    with open(outdir / f"{prefix}-images-idx3-ubyte", "wb") as images:
        images.write(struct.pack(">IIII", 2051, count, SIDE, SIDE))
        for label in labels:
            figure = rng.choice(templates[label])
            row = rng.choice(noise)
            start = rng.randrange(SIDE * SIDE)
            # Every byte of figure is at most 200 and of the noise at most 55: adding the two
            # 784-byte integers adds pixel to pixel without a carry.
            images.write((figure + int.from_bytes(row[start:] + row[:start], "big")).to_bytes(SIDE * SIDE, "big"))
    with open(outdir / f"{prefix}-labels-idx1-ubyte", "wb") as out:
        out.write(struct.pack(">II", 2049, count))
        out.write(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=pathlib.Path)
    parser.add_argument("--train", type=int, default=60000, help="training images (default 60000)")
    parser.add_argument("--test", type=int, default=10000, help="test images (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.train < 0 or args.test < 0 or max(args.train, args.test) >= 2**32:
        parser.error("the counts must be between 0 and 2^32 - 1")
    rng = random.Random(args.seed)
    templates = [[template(d, dx, dy, peak) for dx in SHIFTS for dy in SHIFTS for peak in PEAKS] for d in range(10)]
    noise = [bytes(rng.randrange(56) for _ in range(SIDE * SIDE)) for _ in range(NOISE_ROWS)]
    args.outdir.mkdir(parents=True, exist_ok=True)
    write_set(args.outdir, "train", args.train, rng, templates, noise)
    write_set(args.outdir, "t10k", args.test, rng, templates, noise)
    print(f"wrote {args.train} training and {args.test} test images to {args.outdir}")


if __name__ == "__main__":
    main()
