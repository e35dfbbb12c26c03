#!/usr/bin/env python3
"""PyTorch eager doing the work of bench/dynamic_overhead.cpp (ctgrad's dynamic layer), for the
table bench/run_dynamic.sh prints. One CPU thread (torch.set_num_threads(1)).

  add_0d/requires_grad:0|1   a + b, two 0-d float tensors
  mul_0d/requires_grad:0|1   a * b
  view                       a [3] tensor viewed as [1, 3]
  sum_3                      sum of 3 elements
  graph3_backward            y = (a * b + c) * a on 0-d leaves, y.backward(), grads set to None
  seed2_step3                one step of the third seed text's Step 3 loop on 2000 points:
                             forward, loss, backward, no-grad update of a, b, c, d, grads None

Protocol of ../shared/pytorch-seeds/_anchor.py: best of N. Each case runs N repetitions of a
batch of iterations (the batch sized to last about --min-time seconds, timed with
time.perf_counter()); the best batch gives the time per iteration. Prints one JSON object:
{"torch": version, "threads": 1, "results": {case: microseconds per iteration},
 "cpu_results": {case: the same in process CPU time}}; the CPU time is the steadier of the two on
a machine shared with other work, as Google Benchmark's "CPU" column is on the ctgrad side.
"""
import argparse
import json
import math
import time

import torch


def scalar(v, requires_grad):
    return torch.full((), v, dtype=torch.float, requires_grad=requires_grad)


def case_add_0d(requires_grad):
    a, b = scalar(1.5, requires_grad), scalar(2.5, requires_grad)
    return lambda: a + b


def case_mul_0d(requires_grad):
    a, b = scalar(1.5, requires_grad), scalar(2.5, requires_grad)
    return lambda: a * b


def case_view():
    x = torch.tensor([1.0, 2.0, 3.0])
    return lambda: x.view(1, 3)


def case_sum_3():
    x = torch.tensor([1.0, 2.0, 3.0])
    return lambda: x.sum()


def case_graph3_backward():
    a, b, c = scalar(1.5, True), scalar(2.5, True), scalar(-0.5, True)

    def step():
        y = (a * b + c) * a
        y.backward()
        a.grad = None
        b.grad = None
        c.grad = None
    return step


def case_seed2_step3():
    torch.manual_seed(0)
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    a = torch.randn((), dtype=torch.float, requires_grad=True)
    b = torch.randn((), dtype=torch.float, requires_grad=True)
    c = torch.randn((), dtype=torch.float, requires_grad=True)
    d = torch.randn((), dtype=torch.float, requires_grad=True)
    learning_rate = 1e-6

    def step():
        nonlocal a, b, c, d  # `a -= ...` rebinds (to the same tensor, updated in place)
        # Forward pass
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        # Compute loss
        loss = (y_pred - y).pow(2).sum()
        # Use autograd to compute gradients
        loss.backward()
        # Manually update weights (no gradient tracking during update)
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return step


CASES = {
    "add_0d/requires_grad:0": lambda: case_add_0d(False),
    "add_0d/requires_grad:1": lambda: case_add_0d(True),
    "mul_0d/requires_grad:0": lambda: case_mul_0d(False),
    "mul_0d/requires_grad:1": lambda: case_mul_0d(True),
    "view": case_view,
    "sum_3": case_sum_3,
    "graph3_backward": case_graph3_backward,
    "seed2_step3": case_seed2_step3,
}


def best_time(fn, repetitions, min_time):
    fn()  # warm-up (allocator, autograd engine)
    batch = 1
    while True:  # size the batch to last about min_time
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        growth = min_time / max(elapsed, 1e-9) * 1.2  # aim a little past min_time, at most 100x per round
        batch = max(batch * 2, math.ceil(batch * min(growth, 100.0)))
    best_wall = best_cpu = math.inf
    for _ in range(repetitions):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(batch):
            fn()
        best_cpu = min(best_cpu, (time.process_time() - start_cpu) / batch)
        best_wall = min(best_wall, (time.perf_counter() - start) / batch)
    return best_wall, best_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds per batch")
    parser.add_argument("--json", help="also write the JSON here")
    args = parser.parse_args()

    torch.set_num_threads(1)
    results, cpu_results = {}, {}
    for name, make in CASES.items():
        wall, cpu = best_time(make(), args.repetitions, args.min_time)
        results[name], cpu_results[name] = wall * 1e6, cpu * 1e6
    report = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results,
              "cpu_results": cpu_results}
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
