#!/usr/bin/env python3
"""Runs an example and compares what it prints with what its PyTorch original printed.

usage: check_output.py EXECUTABLE EXPECTED.txt [--rel R] [--abs A] [-- PROGRAM ARGUMENTS]

EXPECTED.txt is the stdout of the original (../shared/pytorch-seeds/<name>.py, torch 1.13.1),
committed so that the check needs no PyTorch. The comparison is line by line:
- the text around the numbers must be identical, spaces included;
- the numbers must agree within |got - want| <= R * |want| + A. ctgrad and PyTorch both compute
  in float32, but their reductions add in different orders, so losses and parameters drift
  apart by a few float32 roundings over a training loop (about 1e-6 relative; A covers
  parameters that converge to zero, where a relative bound means nothing);
- ctgrad's error messages name the op before PyTorch's wording and the shapes after it
  (DESIGN.md, "Errors"): "add: The size ... dimension 1 (shapes [3, 5] and [5, 4])" matches
  PyTorch's "The size ... dimension 1".
Prints the largest share of its tolerance that a number used, to show how much room is left.
A program that exits with 77 (no GPU for `--device cuda`) is reported as skipped, as meson reads 77.
"""
import argparse
import re
import subprocess
import sys

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf")
OP_PREFIX = re.compile(r"(?<=: )[A-Za-z_][A-Za-z0-9_]*: ")
SHAPES_SUFFIX = re.compile(r" \(shapes [^()]*\)$")
SKIPPED = 77


def split(line):
    """The line's text with every number replaced by '#', and the numbers."""
    numbers = [float(m.group()) for m in NUMBER.finditer(line)]
    return NUMBER.sub("#", line), numbers


def without_error_decoration(line):
    return SHAPES_SUFFIX.sub("", OP_PREFIX.sub("", line, count=1))


def compare(got_line, want_line, rel, abs_):
    """Returns (matches, largest share of the tolerance used by one number)."""
    worst = 0.0
    for candidate in (got_line, without_error_decoration(got_line)):
        got_text, got_numbers = split(candidate)
        want_text, want_numbers = split(want_line)
        if got_text != want_text or len(got_numbers) != len(want_numbers):
            continue
        ok = True
        for g, w in zip(got_numbers, want_numbers):
            worst = max(worst, abs(g - w) / (rel * abs(w) + abs_))
            if not abs(g - w) <= rel * abs(w) + abs_ and not (g != g and w != w):
                ok = False
        return ok, worst
    return False, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("executable")
    parser.add_argument("expected")
    # The seed loops drift by up to 6.5e-7 relative (AVX-512 and SSE2 builds measured).
    parser.add_argument("--rel", type=float, default=3e-6)
    parser.add_argument("--abs", type=float, default=1e-8)
    # A program that turns chaotic (seed2_step6: RMSprop oscillating about its minimum) keeps the
    # strict tolerance up to the line where the chaos starts, and a looser one from there.
    parser.add_argument("--loose-from", type=int, default=None, metavar="LINE",
                        help="1-based line from which --loose-rel/--loose-abs apply")
    parser.add_argument("--loose-rel", type=float, default=3e-2)
    parser.add_argument("--loose-abs", type=float, default=1e-4)
    # The program's own arguments follow `--` (argparse would take `--device` for an option of ours).
    argv = sys.argv[1:]
    split_at = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split_at])
    program = [args.executable] + argv[split_at + 1:]

    # stderr passes through, so that the test log shows why a program failed (a ctgrad::Error).
    run = subprocess.run(program, stdout=subprocess.PIPE, text=True)
    if run.returncode == SKIPPED:
        print(run.stdout, end="")
        return SKIPPED
    if run.returncode != 0:
        raise subprocess.CalledProcessError(run.returncode, program, run.stdout)
    got = run.stdout.splitlines()
    with open(args.expected) as f:
        want = f.read().splitlines()

    failures, worst = [], 0.0
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else "<missing>"
        w = want[i] if i < len(want) else "<missing>"
        loose = args.loose_from is not None and i + 1 >= args.loose_from
        ok, diff = compare(g, w, args.loose_rel if loose else args.rel, args.loose_abs if loose else args.abs)
        worst = max(worst, diff)
        if not ok:
            failures.append(f"line {i + 1}:\n  ctgrad:  {g}\n  pytorch: {w}")
    loose_note = (f"; from line {args.loose_from}: {args.loose_rel:g} relative + {args.loose_abs:g} absolute"
                  if args.loose_from is not None else "")
    print(f"{len(want)} lines expected, {len(got)} printed; a number used at most {worst:.0%} of its tolerance "
          f"({args.rel:g} relative + {args.abs:g} absolute{loose_note})")
    if failures:
        print("MISMATCH\n" + "\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
