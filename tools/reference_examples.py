#!/usr/bin/env python3
"""Expected output of ctgrad's own examples (examples/regression.cpp, autograd_tour.cpp,
mnist_cnn.cpp): the same steps in PyTorch 1.13, after the same torch.manual_seed, printing the
same lines. ctgrad's generator, its random factories and the initialisation of Linear and
Conv2d give PyTorch's numbers for the same seed (docs/nn.md), so each run here draws the same
weights and data as its twin; examples/check_output.py then compares the two outputs number by
number.

CI never runs this script: the generated files are committed. Regenerate them (Debian: apt
install python3-torch) with

    /usr/bin/python3 tools/reference_examples.py [examples/expected]

It writes regression.txt, autograd_tour.txt and mnist_cnn.txt. The MNIST example's data come from
tools/make_mnist_idx.py (run here into a temporary folder, with the counts and seed the meson
test uses).
"""
import io
import os
import pathlib
import struct
import subprocess
import sys
import tempfile
from contextlib import redirect_stdout

import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------
# regression.cpp
# --------------------------------------------------------------------------------------------
POLY_DEGREE = 4


def make_features(x):
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)


def poly_desc(w, b):
    text = "y ="
    for i in reversed(range(len(w))):
        text += " %+.4f x^%d" % (w[i].item(), i + 1)
    return text + " %+.4f" % b[0].item()


def regression():
    torch.manual_seed(0)
    w_target = torch.randn(POLY_DEGREE, 1) * 5
    b_target = torch.randn(1) * 5
    fc = torch.nn.Linear(POLY_DEGREE, 1)
    optimizer = torch.optim.SGD(fc.parameters(), lr=0.1)
    batch_idx = 0
    while True:
        batch_idx += 1
        batch_x = make_features(torch.rand(32) * 2 - 1)
        batch_y = batch_x.mm(w_target) + b_target.item()
        optimizer.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()
        output.backward()
        optimizer.step()
        if batch_idx % 500 == 0:
            print("Batch %d loss: %.6f" % (batch_idx, loss))
        if loss < 1e-3:
            break
    print("Loss: %.6f after %d batches" % (loss, batch_idx))
    print("==> Learned function:\t" + poly_desc(fc.weight.detach().view(-1), fc.bias.detach()))
    print("==> Actual function:\t" + poly_desc(w_target.view(-1), b_target))


# --------------------------------------------------------------------------------------------
# autograd_tour.cpp
# --------------------------------------------------------------------------------------------
def show(label, value):
    if isinstance(value, bool):
        value = "True" if value else "False"
    print(label, value)


def basic_autograd_operations():
    print('====== Running: "Basic autograd operations" ======')
    x = torch.ones(2, 2, requires_grad=True)
    show("x", x)
    # The C++ program's `x + 2` and `y * 3` call ATen's Scalar overloads, whose nodes are
    # AddBackward1 and MulBackward1; Python's `x + 2` would wrap 2 in a tensor (AddBackward0).
    y = torch.ops.aten.add.Scalar(x, 2)
    show("y", y)
    show("y.grad_fn", y.grad_fn.name())
    z = torch.ops.aten.mul.Scalar(y * y, 3)
    out = z.mean()
    show("z", z)
    show("z.grad_fn", z.grad_fn.name())
    show("out", out)
    show("out.grad_fn", out.grad_fn.name())

    a = torch.randn(2, 2)
    a = (a * 3) / (a - 1)
    show("a.requires_grad", a.requires_grad)
    a.requires_grad_(True)
    show("a.requires_grad", a.requires_grad)
    b = (a * a).sum()
    show("b.grad_fn", b.grad_fn.name())

    out.backward()
    show("x.grad", x.grad)

    x = torch.randn(3, requires_grad=True)
    y = torch.ops.aten.mul.Scalar(x, 2)
    while y.norm().item() < 1000:
        y = torch.ops.aten.mul.Scalar(y, 2)
    show("y", y)
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(v)
    show("x.grad", x.grad)

    show("x.requires_grad", x.requires_grad)
    show("x.pow(2).requires_grad", x.pow(2).requires_grad)
    with torch.no_grad():
        show("x.pow(2).requires_grad (no_grad)", x.pow(2).requires_grad)
    show("x.detach().requires_grad", x.detach().requires_grad)


def higher_order_gradients():
    print('====== Running "Computing higher-order gradients" ======')
    model = torch.nn.Linear(4, 3)
    input = torch.randn(3, 4).requires_grad_(True)
    output = model(input)
    target = torch.randn(3, 3)
    loss = F.mse_loss(output, target)
    grad_output = torch.ones_like(loss)
    gradient = torch.autograd.grad([loss], [input], [grad_output], retain_graph=True, create_graph=True)[0]
    gradient_penalty = torch.pow(gradient.norm(2, dim=1) - 1, 2).mean()
    combined_loss = loss + gradient_penalty
    combined_loss.backward()
    show("loss", loss)
    show("gradient_penalty", gradient_penalty)
    show("input.grad", input.grad)
    show("model.weight.grad", model.weight.grad)


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_bias = grad_output.sum(0) if bias is not None else None
        return grad_output.mm(weight), grad_output.t().mm(input), grad_bias


class MulConstant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


def custom_autograd_functions():
    print('====== Running "Using custom autograd function" ======')
    x = torch.randn(2, 3).requires_grad_()
    weight = torch.randn(4, 3).requires_grad_()
    bias = torch.randn(4).requires_grad_()
    y = LinearFunction.apply(x, weight, bias)
    y.sum().backward()
    show("x.grad", x.grad)
    show("weight.grad", weight.grad)
    show("bias.grad", bias.grad)

    x = torch.randn(2).requires_grad_()
    y = MulConstant.apply(x, 5.5)
    y.sum().backward()
    show("y", y.detach())
    show("x.grad", x.grad)


def autograd_tour():
    torch.manual_seed(0)
    basic_autograd_operations()
    higher_order_gradients()
    custom_autograd_functions()


# --------------------------------------------------------------------------------------------
# mnist_cnn.cpp
# --------------------------------------------------------------------------------------------
# The data set of the meson test: tools/make_mnist_idx.py DIR --train 512 --test 128 --seed 0.
MNIST_ARGS = ["--train", "512", "--test", "128", "--seed", "0"]
BATCH = 32
LOG_INTERVAL = 4


def read_idx(path, magic):
    data = pathlib.Path(path).read_bytes()
    dims = 3 if magic == 2051 else 1
    header = struct.unpack(">" + "I" * (dims + 1), data[: 4 * (dims + 1)])
    assert header[0] == magic, path
    values = torch.frombuffer(bytearray(data[4 * (dims + 1):]), dtype=torch.uint8)
    return values.reshape(header[1:])


def mnist(root, train):
    prefix = "train" if train else "t10k"
    images = read_idx(os.path.join(root, prefix + "-images-idx3-ubyte"), 2051)
    labels = read_idx(os.path.join(root, prefix + "-labels-idx1-ubyte"), 2049)
    # MNIST's float(byte) / 255, then Normalize(0.1307, 0.3081) with its float32 mean and stddev.
    images = images.to(torch.float32).div(255).unsqueeze(1)
    images = (images - torch.tensor(0.1307)) / torch.tensor(0.3081)
    return images, labels.to(torch.int64)


def ctgrad_dropout(x, p, training, feature):
    """Dropout with ctgrad's masks: rand(noise shape) < 1 - p, scaled by 1 / (1 - p), drawn from the
    global generator (PyTorch's bernoulli_ would draw other numbers). feature: one draw per channel."""
    if not training or p == 0:
        return x
    shape = x.shape if not feature else x.shape[:2] + (1,) * (x.dim() - 2)
    keep = (torch.rand(shape, dtype=x.dtype) < 1 - p).to(x.dtype) / (1 - p)
    return x * keep


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 10, 5)
        self.conv2 = torch.nn.Conv2d(10, 20, 5)
        self.fc1 = torch.nn.Linear(320, 50)
        self.fc2 = torch.nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(ctgrad_dropout(self.conv2(x), 0.5, self.training, True), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = ctgrad_dropout(x, 0.5, self.training, False)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def mnist_cnn(epochs=3):
    with tempfile.TemporaryDirectory() as root:
        subprocess.run([sys.executable, str(ROOT / "tools" / "make_mnist_idx.py"), root] + MNIST_ARGS, check=True)
        train_images, train_labels = mnist(root, True)
        test_images, test_labels = mnist(root, False)
    torch.manual_seed(1)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for epoch in range(1, epochs + 1):
        model.train()
        seen = 0
        for batch_idx, start in enumerate(range(0, len(train_images), BATCH), 1):
            data, target = train_images[start:start + BATCH], train_labels[start:start + BATCH]
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            optimizer.step()
            seen += len(data)
            if batch_idx % LOG_INTERVAL == 0:
                print("Train Epoch: %d [%5d/%5d] Loss: %.6f" % (epoch, seen, len(train_images), loss.item()))
        model.eval()
        test_loss, correct = 0.0, 0
        with torch.no_grad():
            for start in range(0, len(test_images), 1000):
                data, target = test_images[start:start + 1000], test_labels[start:start + 1000]
                output = model(data)
                test_loss += F.nll_loss(output, target, reduction="sum").item()
                correct += output.argmax(1).eq(target).sum().item()
        test_loss /= len(test_images)
        print("Test set: Average loss: %.6f | Accuracy: %d/%d" % (test_loss, correct, len(test_images)))


EXAMPLES = {"regression": regression, "autograd_tour": autograd_tour, "mnist_cnn": mnist_cnn}


def main():
    out_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "expected"
    for name, run in EXAMPLES.items():
        text = io.StringIO()
        with redirect_stdout(text):
            run()
        (out_dir / (name + ".txt")).write_text(text.getvalue())
        print("wrote", out_dir / (name + ".txt"), file=sys.stderr)


if __name__ == "__main__":
    main()
