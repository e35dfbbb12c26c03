#!/bin/sh
# Builds bench/dynamic_overhead (release, -march=native) and runs it and bench/dynamic_torch.py
# (PyTorch eager, one thread) back to back in one session, then prints the markdown table of
# docs/performance.md ("Dynamic layer"): microseconds per iteration, best of the repetitions on
# both sides, and how many times faster ctgrad is, in wall-clock time (PyTorch's anchor protocol)
# and in process CPU time (steadier when other work shares the machine).
#
# usage: bench/run_dynamic.sh [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR  a meson build directory; configured here (release, benchmarks on) if it is not one
#              yet (default: build-bench)
#   OUT_DIR    where the JSON and logs go (default: BUILD_DIR/bench-results)
# environment: REPETITIONS (default 10), PYTHON (default: /usr/bin/python3; must import torch)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-build-bench}
out=${2:-$build/bench-results}
reps=${REPETITIONS:-10}
python=${PYTHON:-/usr/bin/python3}

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" --buildtype=release -Dbenchmarks=enabled
fi
meson compile -C "$build" bench/dynamic_overhead bench/dynamic_overhead_fuse
mkdir -p "$out"

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores online"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "compiler: $(c++ --version | head -n1)"
} | tee "$out/dynamic_session.txt"

# Each repetition is one Google Benchmark run of about 0.5 s per case; the table takes the best.
"$build/bench/dynamic_overhead" \
    --benchmark_repetitions="$reps" \
    --benchmark_min_time=0.5 \
    --benchmark_out="$out/dynamic_overhead.json" --benchmark_out_format=json \
    2>&1 | tee "$out/dynamic_overhead.txt"
# The fused step (header-only build of the same file).
"$build/bench/dynamic_overhead_fuse" --benchmark_filter=seed2_step3_fuse \
    --benchmark_repetitions="$reps" \
    --benchmark_min_time=0.5 \
    --benchmark_out="$out/dynamic_overhead_fuse.json" --benchmark_out_format=json \
    2>&1 | tee -a "$out/dynamic_overhead.txt"

"$python" "$here/dynamic_torch.py" --repetitions "$reps" --min-time 0.5 --json "$out/dynamic_torch.json" \
    | tee "$out/dynamic_torch.txt"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/dynamic_session.txt"

python3 - "$out/dynamic_overhead.json" "$out/dynamic_torch.json" "$out/dynamic_overhead_fuse.json" <<'EOF' | tee "$out/dynamic_summary.md"
import json
import sys

ctgrad_json, torch_json = sys.argv[1:3]
to_us = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
wall, cpu = {}, {}
for b in json.load(open(ctgrad_json))["benchmarks"] + json.load(open(sys.argv[3]))["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue  # the aggregates (mean, median, stddev); the table uses the best repetition
    name, unit = b["run_name"], to_us[b["time_unit"]]
    wall[name] = min(b["real_time"] * unit, wall.get(name, float("inf")))
    cpu[name] = min(b["cpu_time"] * unit, cpu.get(name, float("inf")))
torch_report = json.load(open(torch_json))


def reference(results, name):
    # the fused step does the work of PyTorch's seed2_step3
    return results.get(name, results.get(name.removesuffix("_fuse")))


def cells(ours, theirs):
    if theirs is None:
        return f"{ours:.3f} | n/a | n/a"
    return f"{ours:.3f} | {theirs:.3f} | {theirs / ours:.1f}x"


print(f"ctgrad: bench/dynamic_overhead; PyTorch {torch_report['torch']} eager, "
      f"{torch_report['threads']} thread; best of the repetitions, microseconds per iteration "
      "(wall clock, and process CPU time)")
print()
print("| case | ctgrad us | PyTorch us | PyTorch / ctgrad | ctgrad CPU us | PyTorch CPU us | PyTorch / ctgrad (CPU) |")
print("|---|---|---|---|---|---|---|")
for name in wall:
    print(f"| {name} | {cells(wall[name], reference(torch_report['results'], name))} | "
          f"{cells(cpu[name], reference(torch_report['cpu_results'], name))} |")
EOF
