#!/usr/bin/env python3
"""The seeds' cubic fit in PyTorch, for comparison with bench/cubic_fit (ctgrad).

loss = sum((a + b x + c x^2 + d x^3 - y)^2), float32, x = linspace(-pi, pi, N), y = sin(x),
for N = 2e3, 1e6, 1e7, on ONE CPU thread (torch.set_num_threads(1)):

  torch_forward      the loss alone, under torch.no_grad()            (compare with ctgrad_eval)
  torch_autograd     loss.backward(): the loss and d loss / d(a,b,c,d)  (compare with ctgrad_value_and_grad)
  torch_manual_grad  the seed's step 2: tensor ops with hand-derived gradients, no autograd

Times are medians over repetitions of time.perf_counter() around a batch of calls; GB/s counts
x and y read once (2 * N * 4 bytes), as bench/cubic_fit does. Run through bench/run_cubic_fit.sh.
"""
import argparse
import json
import math
import statistics
import time

import torch


def make_data(n):
    x = torch.linspace(-math.pi, math.pi, n, dtype=torch.float32)
    return x, torch.sin(x)


def weights(requires_grad):
    # the seed's torch.manual_seed(0) draws, as in bench/cubic_fit.cpp
    values = (1.5409960746765137, -0.293428897857666, -2.1787893772125244, 0.5684312582015991)
    return [torch.tensor(v, dtype=torch.float32, requires_grad=requires_grad) for v in values]


def torch_forward(x, y, w):
    a, b, c, d = w
    with torch.no_grad():
        return (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum().item()


def torch_autograd(x, y, w):
    a, b, c, d = w
    for p in w:
        p.grad = None
    loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
    loss.backward()
    return loss.item(), a.grad.item(), b.grad.item(), c.grad.item(), d.grad.item()


def torch_manual_grad(x, y, w):
    a, b, c, d = w
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = 2.0 * (y_pred - y)
    return (loss, grad_y_pred.sum().item(), (grad_y_pred * x).sum().item(),
            (grad_y_pred * x ** 2).sum().item(), (grad_y_pred * x ** 3).sum().item())


METHODS = [("torch_forward", torch_forward, False),
           ("torch_autograd", torch_autograd, True),
           ("torch_manual_grad", torch_manual_grad, False)]


def time_one(fn, x, y, w, repetitions, min_batch_s):
    fn(x, y, w)  # warm-up (allocator, autograd engine)
    # calls per batch: enough for the batch to last about min_batch_s
    start = time.perf_counter()
    fn(x, y, w)
    once = max(time.perf_counter() - start, 1e-7)
    batch = max(1, int(min_batch_s / once))
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(batch):
            fn(x, y, w)
        samples.append((time.perf_counter() - start) / batch)
    return statistics.median(samples), min(samples), max(samples), batch


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--min-batch-s", type=float, default=0.1, help="seconds per timed batch")
    parser.add_argument("--sizes", type=int, nargs="*", default=[2_000, 1_000_000, 10_000_000])
    parser.add_argument("--json", help="also write the medians here (read by bench/summarize_cubic_fit.py)")
    args = parser.parse_args()

    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{args.repetitions} repetitions, median reported")
    print(f"{'method':<20}{'N':>10}{'median us':>14}{'min us':>12}{'max us':>12}{'GB/s':>10}{'calls/batch':>13}")
    results = []
    for n in args.sizes:
        x, y = make_data(n)
        for name, fn, grad in METHODS:
            med, lo, hi, batch = time_one(fn, x, y, weights(grad), args.repetitions, args.min_batch_s)
            gbs = 2 * n * 4 / med / 1e9
            print(f"{name:<20}{n:>10}{med * 1e6:>14.2f}{lo * 1e6:>12.2f}{hi * 1e6:>12.2f}{gbs:>10.2f}{batch:>13}",
                  flush=True)
            results.append({"name": name, "n": n, "median_s": med, "min_s": lo, "max_s": hi, "batch": batch})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(),
                       "repetitions": args.repetitions, "results": results}, f, indent=1)
    # the numbers the methods compute, for a check against bench/cubic_fit's float64 loop
    x, y = make_data(2_000)
    print("check N=2000 autograd:", ["%.6g" % v for v in torch_autograd(x, y, weights(True))])


if __name__ == "__main__":
    main()
