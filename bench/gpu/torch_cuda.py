#!/usr/bin/env python3
"""The programs of bench/gpu/dynamic_loops.cpp in PyTorch on CUDA, with the same step counts.

  seed0_curve_fit_adam   w [3, 1] on cuda, 100 fresh samples per step (torch.rand on cuda),
                         mse_loss, torch.optim.Adam(lr=0.1)
  seed2_step5_nn         Sequential(Linear(3, 1), Flatten(0, 1)).cuda(), MSELoss(sum), manual SGD
                         update under torch.no_grad()
  seed2_step6_rmsprop    the same model, torch.optim.RMSprop(lr=1e-3)
  seed2_step7_module     Polynomial3 module, torch.optim.SGD(lr=1e-6)
  seed2_step8_dynamic    DynamicNet (random.randint(3, 5) terms e x^4), SGD(lr=1e-8, momentum=0.9)
  cubic_N                sum((a + b x + c x^2 + d x^3 - y)^2) and loss.backward(), a..d 0-d leaves,
                         x = linspace(-pi, pi, N), y = sin(x), N = 1e6, 1e7, 1e8 by default

The loop bodies are those of ../shared/pytorch-seeds/*.py (loss.item() every 100 steps, 2000 for
step8, as their print does), with the data, model and parameters on cuda; setup is not timed. Each
repetition times `steps` consecutive steps with time.perf_counter(), torch.cuda.synchronize() before
each reading of the clock; the figure is the median over repetitions of the time per step.
Exits 77 when torch.cuda.is_available() is false.
"""
import argparse
import json
import math
import random
import statistics
import sys
import time

import torch


def seed_all(s=0):
    torch.manual_seed(s)
    random.seed(s)


class LossReader:
    """The originals' print(t, loss.item()) every `period` steps: the read stays, the print goes."""

    def __init__(self, period):
        self.period = period
        self.t = 0
        self.last = None

    def __call__(self, loss):
        if self.t % self.period == self.period - 1:
            self.last = loss.item()
        self.t += 1


def seed_x():
    return torch.linspace(-math.pi, math.pi, 2000)


def seed_xx(x):
    return x.unsqueeze(-1).pow(torch.tensor([1, 2, 3])).cuda()


def seed0_curve_fit_adam():
    seed_all()
    w = torch.randn([3, 1]).cuda().requires_grad_(True)
    opt = torch.optim.Adam([w], 0.1)

    def step():
        x = torch.rand(100, device='cuda') * 20 - 10  # generate_data()
        y = 5 * x * x + 3
        f = torch.stack([x * x, x, torch.ones_like(x)], 1)  # model(x)
        yhat = torch.squeeze(f @ w, 1)
        loss = torch.nn.functional.mse_loss(yhat, y)  # compute_loss(y, yhat)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def seed_model():
    return torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).cuda()


def seed2_step5_nn():
    seed_all()
    x = seed_x()
    y = torch.sin(x).cuda()
    xx = seed_xx(x)
    model = seed_model()
    loss_fn = torch.nn.MSELoss(reduction='sum')
    read = LossReader(100)
    learning_rate = 1e-6

    def step():
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        read(loss)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad

    return step


def seed2_step6_rmsprop():
    seed_all()
    x = seed_x()
    y = torch.sin(x).cuda()
    xx = seed_xx(x)
    model = seed_model()
    loss_fn = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    read = LossReader(100)

    def step():
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        read(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))
        self.e = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for _ in range(random.randint(3, 5)):
            y = y + self.e * x ** 4
        return y


def module_loop(model, make_optimizer, period):
    """step7 and step8 share their loop: model, MSELoss(sum), optimizer, item() every `period`."""
    x = seed_x()
    y = torch.sin(x).cuda()
    xg = x.cuda()
    model.cuda()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = make_optimizer(model.parameters())
    read = LossReader(period)

    def step():
        y_pred = model(xg)
        loss = criterion(y_pred, y)
        read(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def seed2_step7_module():
    seed_all()
    return module_loop(Polynomial3(), lambda p: torch.optim.SGD(p, lr=1e-6), 100)


def seed2_step8_dynamic():
    seed_all()
    return module_loop(DynamicNet(), lambda p: torch.optim.SGD(p, lr=1e-8, momentum=0.9), 2000)


def cubic(n):
    """The cubic fit's loss and its four partials through autograd; grads reset every step."""
    seed_all()
    w = [torch.randn(()).cuda().requires_grad_(True) for _ in range(4)]
    x = torch.linspace(-math.pi, math.pi, n, device='cuda')
    y = torch.sin(x)

    def step():
        for p in w:
            p.grad = None
        a, b, c, d = w
        loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
        loss.backward()

    return step


PROGRAMS = [("seed0_curve_fit_adam", seed0_curve_fit_adam),
            ("seed2_step5_nn", seed2_step5_nn),
            ("seed2_step6_rmsprop", seed2_step6_rmsprop),
            ("seed2_step7_module", seed2_step7_module),
            ("seed2_step8_dynamic", seed2_step8_dynamic)]


def time_steps(step, steps, warmup, repetitions):
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    per_step = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        per_step.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(per_step), min(per_step), max(per_step)


def sizes(text):
    return [int(float(s)) for s in text.split(',') if s]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--steps', type=int, default=500, help='steps per repetition (seed loops)')
    parser.add_argument('--warmup', type=int, default=100, help='warm-up steps (seed loops)')
    parser.add_argument('--repetitions', type=int, default=10)
    parser.add_argument('--cubic-steps', type=int, default=20)
    parser.add_argument('--cubic-warmup', type=int, default=3)
    parser.add_argument('--cubic-sizes', type=sizes, default=[1_000_000, 10_000_000, 100_000_000])
    parser.add_argument('--json', help='write the results here')
    args = parser.parse_args()
    if min(args.steps, args.repetitions, args.cubic_steps) < 1 or min(args.warmup, args.cubic_warmup) < 0:
        parser.error('--steps, --repetitions and --cubic-steps must be >= 1, warm-ups >= 0')

    if not torch.cuda.is_available():
        print('torch_cuda.py: torch.cuda.is_available() is false: skipped')
        return 77
    device = torch.cuda.get_device_name()
    print(f'PyTorch {torch.__version__} (CUDA {torch.version.cuda}) on {device}; {args.repetitions} repetitions '
          f'(median reported); seed loops: {args.steps} steps after {args.warmup} warm-up steps; cubic: '
          f'{args.cubic_steps} steps after {args.cubic_warmup} warm-up steps\n')
    print('| program | median us/step | min | max |\n|---|---:|---:|---:|')
    results = []

    def record(name, n, steps, warmup, make):
        median, low, high = time_steps(make(), steps, warmup, args.repetitions)
        results.append({"program": name, "n": n, "steps": steps, "warmup": warmup,
                        "median_us": median, "min_us": low, "max_us": high})
        print(f'| {name} | {median:.2f} | {low:.2f} | {high:.2f} |', flush=True)

    for name, make in PROGRAMS:
        record(name, 0, args.steps, args.warmup, make)
    for n in args.cubic_sizes:
        record(f'cubic_{n}', n, args.cubic_steps, args.cubic_warmup, lambda n=n: cubic(n))

    if args.json:
        with open(args.json, 'w') as f:
            json.dump({"program": "torch_cuda", "device": device, "torch": torch.__version__,
                       "torch_cuda": torch.version.cuda, "repetitions": args.repetitions,
                       "results": results}, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
