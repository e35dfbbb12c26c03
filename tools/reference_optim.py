#!/usr/bin/env python3
"""Golden trajectories for ctgrad::optim: 10 steps of torch.optim.{SGD, Adam, AdamW, RMSprop,
Adagrad} (PyTorch's default single-tensor code path) on CPU, float32 and float64, some under a
StepLR schedule, and a few LBFGS steps on a small smooth problem. Read by
test/optim/test_optim.cpp.

Called from tools/make_reference.py (write(outdir) writes <outdir>/optim.txt), or on its own:

    /usr/bin/python3 tools/reference_optim.py [output-dir]

Format: '#' starts a comment line; every other line is one record, whitespace separated:

    case  <name> <optimizer> <dtype> <steps> <key=value ..>   the defaults of the optimizer
    group <name> <g> <key=value ..>                           options of param group g that
                                                              override the defaults
    shape <name> <j> <g> <rank> <size_1> .. <size_rank>       parameter j lives in group g
    init  <name> <j> <v_1> .. <v_numel>                       its initial value
    grad  <name> <step> <j> <v_1> .. <v_numel>                its gradient before that step; no
                                                              record: the grad is None (undefined)
    param <name> <step> <j> <v_1> .. <v_numel>                its value after that step
    state <name> <j> <key> <v_1> .. <v_numel>                 a state buffer after the last step
    sched <name> StepLR <step_size> <gamma>                   scheduler.step() after each step
    plateau <name> <key=value ..>                             a ReduceLROnPlateau (mode 0 min,
                                                              1 max; threshold_mode 0 rel, 1 abs;
                                                              min_lr0, min_lr1 per group) whose
                                                              step(metric) follows each step
    metric <name> <step> <value>                              the metric of that step
    lr    <name> <step> <g> <lr>                              group g's lr after that step
    loss  <name> <step> <loss>                                what LBFGS's step returned

An LBFGS case has no grad records: each step evaluates the closure of lbfgs_loss() below, and
its 'strong_wolfe=1' option stands for line_search_fn="strong_wolfe".

StepLR: libtorch's scheduler counts its steps from 0 where Python's constructor has taken one,
so libtorch's first step() changes nothing and its later ones act as Python's one call before:
the Python side here skips its first scheduler.step() to follow libtorch.

Values are repr() of the elements as Python floats (float32 elements are exactly
representable), row-major. Option keys use libtorch's names (betas are beta1, beta2).
The gradients are a function of the parameter and the step, fixed here and read back by the
test, so both sides see the same numbers bit for bit.
"""
import os
import sys

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}
OPTIMIZERS = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
              "RMSprop": torch.optim.RMSprop, "Adagrad": torch.optim.Adagrad}
STEPS = 10
# Scalar, small shapes (PyTorch's scalar loop tail) and 37 elements (two 16-wide vector blocks
# of the AVX2 kernels plus a tail).
SHAPES = [[], [3], [2, 3], [37]]

# name -> (optimizer, dtype, options). One param group holding one parameter of each shape.
CASES = {
    "sgd_plain": ("SGD", "float32", dict(lr=0.1)),
    "sgd_momentum": ("SGD", "float32", dict(lr=0.1, momentum=0.9)),
    "sgd_dampening": ("SGD", "float32", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd_nesterov": ("SGD", "float32", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_weight_decay": ("SGD", "float32", dict(lr=0.1, weight_decay=0.01)),
    "sgd_all": ("SGD", "float32", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    "sgd_momentum_f64": ("SGD", "float64", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "adam_default": ("Adam", "float32", dict(lr=0.1)),
    "adam_lr_default": ("Adam", "float32", dict()),
    "adam_weight_decay": ("Adam", "float32", dict(lr=0.1, weight_decay=0.1)),
    "adam_amsgrad": ("Adam", "float32", dict(lr=0.1, amsgrad=True)),
    "adam_betas_eps": ("Adam", "float32", dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3)),
    "adam_f64": ("Adam", "float64", dict(lr=0.1, weight_decay=0.05, amsgrad=True)),
    "adamw_default": ("AdamW", "float32", dict(lr=0.1)),
    "adamw_amsgrad": ("AdamW", "float32", dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
    "adamw_f64": ("AdamW", "float64", dict(lr=0.1)),
    "rmsprop_default": ("RMSprop", "float32", dict(lr=0.01)),
    "rmsprop_alpha": ("RMSprop", "float32", dict(lr=0.01, alpha=0.9)),
    "rmsprop_momentum": ("RMSprop", "float32", dict(lr=0.01, momentum=0.5)),
    "rmsprop_centered": ("RMSprop", "float32", dict(lr=0.01, centered=True)),
    "rmsprop_weight_decay": ("RMSprop", "float32", dict(lr=0.01, weight_decay=0.1)),
    "rmsprop_centered_momentum": ("RMSprop", "float32", dict(lr=0.01, centered=True, momentum=0.9, eps=1e-6)),
    "rmsprop_f64": ("RMSprop", "float64", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    "adagrad_default": ("Adagrad", "float32", dict(lr=0.1)),
    "adagrad_lr_default": ("Adagrad", "float32", dict()),
    "adagrad_lr_decay": ("Adagrad", "float32", dict(lr=0.1, lr_decay=0.05)),
    "adagrad_weight_decay": ("Adagrad", "float32", dict(lr=0.1, weight_decay=0.1)),
    "adagrad_initial_eps": ("Adagrad", "float32", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-3)),
    "adagrad_f64": ("Adagrad", "float64", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05,
                                               initial_accumulator_value=0.1, eps=1e-6)),
}

# Param groups: name -> (optimizer, dtype, defaults, [(group overrides, [shapes])]).
GROUP_CASES = {
    "adam_groups": ("Adam", "float32", dict(lr=0.1),
                    [(dict(), [[3]]), (dict(lr=0.01, amsgrad=True), [[2, 3]])]),
    "sgd_groups": ("SGD", "float32", dict(lr=0.1, momentum=0.9),
                   [(dict(), [[3]]), (dict(lr=0.5, momentum=0.0), [[2, 3]])]),
    "rmsprop_groups": ("RMSprop", "float32", dict(lr=0.01),
                       [(dict(), [[3]]), (dict(centered=True, momentum=0.5), [[2, 3]])]),
    "adagrad_groups": ("Adagrad", "float32", dict(lr=0.1),
                       [(dict(), [[3]]), (dict(lr=0.05, lr_decay=0.1, initial_accumulator_value=0.2), [[2, 3]])]),
}

# Under StepLR: name -> (optimizer, dtype, defaults, [(group overrides, [shapes])], step_size, gamma).
SCHEDULE_CASES = {
    "steplr_sgd": ("SGD", "float32", dict(lr=0.1, momentum=0.9), [(dict(), SHAPES)], 3, 0.5),
    "steplr_adam_groups": ("Adam", "float32", dict(lr=0.1),
                           [(dict(), [[3]]), (dict(lr=0.02, weight_decay=0.1), [[2, 3]])], 2, 0.7),
}

# Under ReduceLROnPlateau: name -> (optimizer, defaults, groups, scheduler keywords, metrics).
PLATEAU_CASES = {
    "plateau_min_rel": ("SGD", dict(lr=0.1, momentum=0.9), [(dict(), SHAPES)],
                        dict(mode="min", factor=0.5, patience=1),
                        [5.0, 4.0, 4.0, 4.0, 3.9999, 3.5, 3.5, 3.5, 3.5, 3.5]),
    "plateau_max_abs_cooldown": ("Adam", dict(lr=0.1), [(dict(), [[3]]), (dict(lr=0.01), [[2, 3]])],
                                 dict(mode="max", threshold_mode="abs", factor=0.3, patience=0, threshold=0.05,
                                      cooldown=2, min_lr=[0.02, 0.001]),
                                 [1.0, 1.02, 1.1, 1.1, 1.0, 1.2, 1.2, 1.2, 1.2, 1.26]),
}

# LBFGS on lbfgs_loss, float64: name -> (options, steps).
LBFGS_CASES = {
    "lbfgs_default": (dict(), 3),
    "lbfgs_history": (dict(lr=0.5, max_iter=7, history_size=3), 4),
    "lbfgs_max_eval": (dict(lr=1.0, max_iter=30, max_eval=9, tolerance_change=1e-7), 3),
    "lbfgs_strong_wolfe": (dict(line_search_fn="strong_wolfe"), 3),
    "lbfgs_strong_wolfe_history": (dict(lr=0.8, max_iter=8, history_size=2, line_search_fn="strong_wolfe"), 4),
}
LBFGS_SHAPES = [[3], [2, 2]]

# Parameters without a gradient at some steps: name -> (optimizer, defaults, steps at which
# parameter 1 has a gradient). Parameter 0 always has one; parameter 2 never does.
SKIP_CASES = {
    "sgd_skip": ("SGD", dict(lr=0.1, momentum=0.9), {3, 4, 7}),
    "adam_skip": ("Adam", dict(lr=0.1), {3, 4, 7}),
    "adamw_skip": ("AdamW", dict(lr=0.1), {3, 4, 7}),
    "rmsprop_skip": ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5), {3, 4, 7}),
    "adagrad_skip": ("Adagrad", dict(lr=0.1, lr_decay=0.1), {3, 4, 7}),
}


def fmt(t):
    return " ".join(repr(float(v)) for v in t.detach().reshape(-1).tolist())


def options_text(options):
    parts = []
    for key, value in options.items():
        if key == "betas":
            parts += ["beta1=%r" % value[0], "beta2=%r" % value[1]]
        elif key == "line_search_fn":
            parts.append("strong_wolfe=1")
        else:
            parts.append("%s=%s" % (key, int(value) if isinstance(value, bool) else repr(value)))
    return " ".join(parts)


def gradient(p, step, j, generator):
    """A gradient that depends on the parameter (a quadratic bowl around 0.5) and the step (noise)."""
    noise = torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p.dtype)
    return (p.detach() - 0.5) * (1.5 + 0.25 * j) + noise * (1.0 / (1 + step))


def run(name, opt_name, dtype_name, defaults, groups, has_grad, schedule=None):
    """groups: [(overrides, [shapes])]; has_grad(step, j) -> bool; schedule: None or
    (step_size, gamma) of a StepLR. Returns the records."""
    dtype = DTYPES[dtype_name]
    generator = torch.Generator().manual_seed(sum(map(ord, name)))
    lines = ["case %s %s %s %d %s" % (name, opt_name, dtype_name, STEPS, options_text(defaults))]
    params, torch_groups = [], []
    for g, (overrides, shapes) in enumerate(groups):
        if overrides:
            lines.append("group %s %d %s" % (name, g, options_text(overrides)))
        group_params = []
        for shape in shapes:
            j = len(params)
            p = (torch.randn(shape, generator=generator, dtype=torch.float64) * 2).to(dtype).requires_grad_()
            lines.append("shape %s %d %d %d %s" % (name, j, g, len(shape), " ".join(map(str, shape))))
            lines.append("init %s %d %s" % (name, j, fmt(p)))
            params.append(p)
            group_params.append(p)
        torch_groups.append(dict(params=group_params, **overrides))
    opt = OPTIMIZERS[opt_name](torch_groups, **defaults)
    scheduler = plateau = None
    if schedule and schedule[0] == "plateau":
        keywords, metrics = schedule[1], schedule[2]
        text = []
        for key, value in keywords.items():
            if key == "mode":
                text.append("mode=%d" % (value == "max"))
            elif key == "threshold_mode":
                text.append("threshold_mode=%d" % (value == "abs"))
            elif key == "min_lr":
                text += ["min_lr%d=%r" % (g, v) for g, v in enumerate(value)]
            else:
                text.append("%s=%r" % (key, value))
        lines.append("plateau %s %s" % (name, " ".join(text)))
        lines += ["metric %s %d %r" % (name, step, m) for step, m in enumerate(metrics)]
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **keywords)
    elif schedule:
        lines.append("sched %s StepLR %d %r" % (name, schedule[0], schedule[1]))
        scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=schedule[0], gamma=schedule[1])
    for step in range(STEPS):
        for j, p in enumerate(params):
            if has_grad(step, j):
                p.grad = gradient(p, step, j, generator)
                lines.append("grad %s %d %d %s" % (name, step, j, fmt(p.grad)))
            else:
                p.grad = None
        opt.step()
        if scheduler is not None:
            if step > 0:  # libtorch's first scheduler step() changes nothing (see the docstring)
                scheduler.step()
        if plateau is not None:
            plateau.step(schedule[2][step])
        if scheduler is not None or plateau is not None:
            for g, group in enumerate(opt.param_groups):
                lines.append("lr %s %d %d %r" % (name, step, g, group["lr"]))
        for j, p in enumerate(params):
            lines.append("param %s %d %d %s" % (name, step, j, fmt(p)))
    for j, p in enumerate(params):
        # Adagrad makes every parameter's state in its constructor; ctgrad (as the other
        # optimizers) makes it at the parameter's first gradient: only those are compared.
        if opt_name == "Adagrad" and float(opt.state[p]["step"]) == 0:
            continue
        for key, value in opt.state[p].items():
            if torch.is_tensor(value) and value.numel() == p.numel() and value.dim() == p.dim():
                lines.append("state %s %d %s %s" % (name, j, key, fmt(value)))
            elif key == "step":
                lines.append("state %s %d step %r" % (name, j, float(value)))
    return lines


def lbfgs_loss(params):
    """A smooth, non-separable problem with a minimum: weighted squares around 0.5, a quartic
    and a coupling of the two parameters' sums."""
    loss = 0
    for j, p in enumerate(params):
        loss = loss + ((p - 0.5) * (p - 0.5) * (1.5 + 0.25 * j)).sum() + (p * p * p * p).sum() * 0.25
    return loss + params[0].sum() * params[1].sum() * 0.1


def run_lbfgs(name, options, steps):
    generator = torch.Generator().manual_seed(sum(map(ord, name)))
    lines = ["case %s LBFGS float64 %d %s" % (name, steps, options_text(options))]
    params = []
    for j, shape in enumerate(LBFGS_SHAPES):
        p = (torch.randn(shape, generator=generator, dtype=torch.float64) * 2).requires_grad_()
        lines.append("shape %s %d 0 %d %s" % (name, j, len(shape), " ".join(map(str, shape))))
        lines.append("init %s %d %s" % (name, j, fmt(p)))
        params.append(p)
    opt = torch.optim.LBFGS(params, **options)

    def closure():
        opt.zero_grad()
        loss = lbfgs_loss(params)
        loss.backward()
        return loss

    for step in range(steps):
        loss = opt.step(closure)
        lines.append("loss %s %d %r" % (name, step, float(loss)))
        for j, p in enumerate(params):
            lines.append("param %s %d %d %s" % (name, step, j, fmt(p)))
    state = opt.state[params[0]]
    for key in ("func_evals", "n_iter"):
        lines.append("state %s 0 %s %r" % (name, key, float(state[key])))
    return lines


def records():
    lines = []
    for name, (opt_name, dtype_name, options) in CASES.items():
        lines += run(name, opt_name, dtype_name, options, [(dict(), SHAPES)], lambda step, j: True)
    for name, (opt_name, dtype_name, defaults, groups) in GROUP_CASES.items():
        lines += run(name, opt_name, dtype_name, defaults, groups, lambda step, j: True)
    for name, (opt_name, defaults, steps) in SKIP_CASES.items():
        lines += run(name, opt_name, "float32", defaults, [(dict(), [[3], [2, 3], [2]])],
                     lambda step, j, steps=steps: j == 0 or (j == 1 and step in steps))
    for name, (opt_name, dtype_name, defaults, groups, step_size, gamma) in SCHEDULE_CASES.items():
        lines += run(name, opt_name, dtype_name, defaults, groups, lambda step, j: True, (step_size, gamma))
    for name, (opt_name, defaults, groups, keywords, metrics) in PLATEAU_CASES.items():
        lines += run(name, opt_name, "float32", defaults, groups, lambda step, j: True, ("plateau", keywords, metrics))
    for name, (options, steps) in LBFGS_CASES.items():
        lines += run_lbfgs(name, options, steps)
    return lines


def write(outdir):
    header = [
        "# Golden optimizer trajectories for ctgrad::optim: PyTorch %s, CPU, single-tensor path." % torch.__version__,
        "# Generated by tools/reference_optim.py (via tools/make_reference.py); do not edit by hand.",
        "# case/group/shape/init/grad/param/state records: see the script's docstring.",
    ]
    body = records()
    path = os.path.join(outdir, "optim.txt")
    with open(path, "w") as fh:
        fh.write("\n".join(header + body) + "\n")
    print("wrote %d records to %s" % (len(body), path))


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", "reference"))
