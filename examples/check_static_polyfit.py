#!/usr/bin/env python3
"""Runs examples/static_polyfit and checks its final numbers against PyTorch's run of the same
seed program (../shared/pytorch-seeds/results.md, seed2_step2_tensors: torch 1.13.1, float32).
The golden numbers are copied here so that the check needs no PyTorch."""
import subprocess
import sys

GOLDEN_LOSS = 12.286673545837402  # the loss printed at t = 1999
GOLDEN_PARAMS = [0.058623336255550385, 0.8372474908828735, -0.01011350192129612, -0.09055762737989426]


def close(got, want, rel=1e-4, abs_=1e-6):
    return abs(got - want) <= rel * abs(want) + abs_


out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout.splitlines()
steps = [line.split() for line in out if line and line[0].isdigit()]
assert [int(s[0]) for s in steps] == list(range(99, 2000, 100)), f"unexpected progress lines: {steps}"
loss = float(steps[-1][1])
result = next(line for line in out if line.startswith("Result: y = "))
words = result.replace("Result: y = ", "").split()
params = [float(words[0]), float(words[2]), float(words[5]), float(words[8])]
ok = close(loss, GOLDEN_LOSS) and all(close(p, q) for p, q in zip(params, GOLDEN_PARAMS))
print(f"loss {loss} vs {GOLDEN_LOSS}; params {params} vs {GOLDEN_PARAMS}: {'ok' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
