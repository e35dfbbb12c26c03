#!/usr/bin/env python3
"""Layers that never look up: every header under include/ctgrad/ may include headers of its own
folder or of a lower layer, never one above. The layers, lowest first (docs/design.md):

  core      config, errors, dtypes, devices, storage and allocators
  detail    type-level helpers of the static layer
  expr      the static layer: nodes, ops, derivatives, simplifier, printing, evaluation
  adapt     containers a static variable binds to
  backend   lowering of static expressions: CPU (xsimd) and Thrust
  device    the dynamic layer's kernel interface, its registry, each backend's kernels
  tensor    Tensor, its storage view, factories, conversions, .npy files
  autograd  graph nodes, the engine, grad mode, custom Functions
  ops       the dynamic ops (with fuse, addmm, the losses, printing)
  optim, nn, data  the optimizers, the modules, the datasets and data loaders (none includes another)
  distributed  process groups over MPI and data-parallel training of modules

The umbrella headers at the top (tensor.hpp, nn.hpp, ...) may include anything; expr.hpp and
cuda.hpp sit just above the layers they gather. Usage: check_layers.py <include dir>
(or --self-test, which checks that a header including upwards is reported)."""
import os
import pathlib
import re
import sys
import tempfile

LAYERS = ["core", "detail", "expr", "adapt", "backend", "device", "tensor", "autograd", "ops", ("optim", "nn", "data"),
          "distributed"]
RANK = {}
for rank, layer in enumerate(LAYERS):
    for name in (layer if isinstance(layer, tuple) else (layer,)):
        RANK[name] = rank
ROOT_RANK = {"expr.hpp": RANK["backend"] + 0.5, "cuda.hpp": RANK["device"] + 0.5}
TOP = len(LAYERS)


def place(rel: str):
    """(folder, rank) of a header given by its path under include/ctgrad."""
    parts = rel.split("/")
    if len(parts) == 1:
        return rel, ROOT_RANK.get(rel, TOP)
    if parts[0] not in RANK:
        raise SystemExit(f"check_layers.py: {rel} is in a folder with no layer ({parts[0]}/): add it to LAYERS")
    return parts[0], RANK[parts[0]]


def violations(include_dir: pathlib.Path):
    root = include_dir / "ctgrad"
    found, checked = [], 0
    for header in sorted(root.rglob("*.hpp")):
        rel = header.relative_to(root).as_posix()
        folder, rank = place(rel)
        checked += 1
        for target in re.findall(r'^\s*#\s*include\s+"([^"]+)"', header.read_text(), re.M):
            target_rel = os.path.normpath(os.path.join(os.path.dirname(rel), target))
            if target_rel.startswith(".."):
                found.append(f"{rel} includes {target}, outside include/ctgrad")
                continue
            target_folder, target_rank = place(target_rel)
            root_to_root = "/" not in rel and "/" not in target_rel  # umbrellas gather umbrellas
            if target_folder != folder and (target_rank > rank if root_to_root else target_rank >= rank):
                found.append(f"{rel} ({folder}) includes {target_rel} ({target_folder}), a layer not below its own")
    return found, checked


def self_test() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(tmp) / "ctgrad"
        for rel, text in {"tensor/a.hpp": '#include "../nn/b.hpp"\n', "nn/b.hpp": '#include "../tensor/a.hpp"\n',
                          "ops/c.hpp": '#include "../core/d.hpp"\n', "core/d.hpp": ""}.items():
            (base / rel).parent.mkdir(parents=True, exist_ok=True)
            (base / rel).write_text(text)
        found, _ = violations(pathlib.Path(tmp))
        ok = found == ["tensor/a.hpp (tensor) includes nn/b.hpp (nn), a layer not below its own"]
        print("self-test:", "ok" if ok else f"FAILED, reported {found}")
        return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    found, checked = violations(pathlib.Path(sys.argv[1]))
    for line in found:
        print(line)
    print(f"{checked - len({f.split(' ')[0] for f in found})} passed, {len({f.split(' ')[0] for f in found})} failed")
    sys.exit(1 if found or checked == 0 else 0)
