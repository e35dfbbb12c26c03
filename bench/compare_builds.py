#!/usr/bin/env python3
"""Runs one Google Benchmark program from two builds alternately (A, B, A, B, ...) and prints,
for each case, the best wall time of each and their ratio: a before/after comparison in one
session, with both sides seeing the same machine load.

usage: bench/compare_builds.py BEFORE_EXE AFTER_EXE [--rounds N] [--filter REGEX] [--min-time S]
  e.g. bench/compare_builds.py /tmp/base/build-bench/bench/seed_loops build/bench/seed_loops
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def run(exe, regex, min_time):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    try:
        cmd = [exe, f"--benchmark_min_time={min_time}", f"--benchmark_out={path}", "--benchmark_out_format=json"]
        if regex:
            cmd.append(f"--benchmark_filter={regex}")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})
        with open(path) as f:
            report = json.load(f)
    finally:
        os.unlink(path)
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
    return {b["name"]: b["real_time"] * scale[b["time_unit"]] for b in report["benchmarks"]
            if b.get("run_type", "iteration") == "iteration"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--filter", default="")
    p.add_argument("--min-time", default="0.3")
    a = p.parse_args()
    best = [{}, {}]
    for _ in range(a.rounds):
        for side, exe in enumerate((a.before, a.after)):
            for name, us in run(exe, a.filter, a.min_time).items():
                best[side][name] = min(us, best[side].get(name, float("inf")))
    print(f"best of {a.rounds} alternated runs, microseconds per iteration (OMP_NUM_THREADS=1)")
    print("| case | before us | after us | after / before |")
    print("|---|---:|---:|---:|")
    for name in best[0]:
        if name in best[1]:
            print(f"| {name} | {best[0][name]:.3f} | {best[1][name]:.3f} | {best[1][name] / best[0][name]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
