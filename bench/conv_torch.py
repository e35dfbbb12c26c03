#!/usr/bin/env python3
"""PyTorch eager's side of bench/conv.cpp: the mnist network's training step (batch 64 and 8)
and evaluation pass (batch 1000 and 8), plus the conv and pooling rows, one thread.

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/conv_torch.py

Prints one line per case: its name and the median of 5 repetitions in microseconds, each
repetition the mean over enough iterations to last about 0.5 s.
"""
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 5)
        self.conv2 = nn.Conv2d(10, 20, 5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, 0.5, self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def measure(step, seconds=0.5, repetitions=5):
    step()
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < 0.05:
        step()
        calls += 1
    iterations = max(1, int(calls * seconds / 0.05))
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(iterations):
            step()
        times.append((time.perf_counter() - start) / iterations * 1e6)
    return statistics.median(times)


def cnn_train(batch):
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    data = torch.randn(batch, 1, 28, 28)
    target = torch.randint(0, 10, (batch,))
    model.train()

    def step():
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        loss.item()

    return step


def cnn_test(batch):
    torch.manual_seed(0)
    model = Net()
    data = torch.randn(batch, 1, 28, 28)
    target = torch.randint(0, 10, (batch,))
    model.eval()

    def step():
        with torch.no_grad():
            output = model(data)
            F.nll_loss(output, target, reduction='sum').item()
            output.argmax(1).eq(target).sum().item()

    return step


def conv_forward(c, o, n, h):
    torch.manual_seed(0)
    conv = nn.Conv2d(c, o, 5)
    x = torch.randn(n, c, h, h)

    def step():
        with torch.no_grad():
            conv(x)

    return step


def conv_train(c, o, n, h, input_grad):
    torch.manual_seed(0)
    conv = nn.Conv2d(c, o, 5)
    x = torch.randn(n, c, h, h).requires_grad_(input_grad)

    def step():
        conv(x).sum().backward()

    return step


def max_pool_train():
    torch.manual_seed(0)
    x = torch.randn(64, 10, 24, 24).requires_grad_(True)

    def step():
        F.max_pool2d(x, 2).sum().backward()

    return step


def main():
    torch.set_num_threads(1)
    cases = [
        ("cnn_train/64", cnn_train(64)),
        ("cnn_train/8", cnn_train(8)),
        ("cnn_test/1000", cnn_test(1000)),
        ("cnn_test/8", cnn_test(8)),
        ("conv1_forward", conv_forward(1, 10, 64, 28)),
        ("conv2_forward", conv_forward(10, 20, 64, 12)),
        ("conv1_train", conv_train(1, 10, 64, 28, False)),
        ("conv2_train", conv_train(10, 20, 64, 12, True)),
        ("max_pool_train", max_pool_train()),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread")
    for name, step in cases:
        print(f"{name:16s} {measure(step):10.1f} us")


if __name__ == "__main__":
    main()
