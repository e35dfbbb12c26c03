#!/bin/sh
# Builds bench/seed_loops (release, -march=native) and runs it and the PyTorch originals of the
# seed programs (their --bench mode: best of 5 training loops, microseconds per step) in one
# session, then prints the markdown table of docs/performance.md ("Seed training loops").
# Both sides run on one thread: OMP_NUM_THREADS=1, and the PyTorch figure is the --bench line with
# "threads": 1 (torch.set_num_threads(1)). ctgrad's figure is the best repetition's wall time.
#
# usage: bench/run_seed_loops.sh [BUILD_DIR [SEEDS_DIR [OUT_DIR]]]
#   BUILD_DIR  a meson build directory; configured here (release, benchmarks on, no tests or
#              examples) if it is not one yet (default: build-bench)
#   SEEDS_DIR  the PyTorch seed programs (default: ../shared/pytorch-seeds from the repo root)
#   OUT_DIR    where the JSON and logs go (default: BUILD_DIR/bench-results)
# environment: REPETITIONS (default 5), PYTHON (default: /usr/bin/python3; must import torch)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-build-bench}
seeds=${2:-$root/../shared/pytorch-seeds}
out=${3:-$build/bench-results}
reps=${REPETITIONS:-5}
python=${PYTHON:-/usr/bin/python3}
export OMP_NUM_THREADS=1

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" --buildtype=release -Dbenchmarks=enabled -Dtests=false -Dexamples=false
fi
meson compile -C "$build" bench/seed_loops
mkdir -p "$out"

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) cores online"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "compiler: $(c++ --version | head -n1)"
} | tee "$out/seed_loops_session.txt"

"$build/bench/seed_loops" \
    --benchmark_repetitions="$reps" \
    --benchmark_min_time=0.5 \
    --benchmark_out="$out/seed_loops.json" --benchmark_out_format=json \
    2>&1 | tee "$out/seed_loops.txt"

programs="seed0_curve_fit_adam seed2_step5_nn seed2_step6_rmsprop seed2_step7_module seed2_step8_dynamic"
: > "$out/seed_loops_torch.jsonl"
for program in $programs; do
    (cd "$seeds" && "$python" "$program.py" --bench) | tee -a "$out/seed_loops_torch.jsonl"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/seed_loops_session.txt"

python3 - "$out/seed_loops.json" "$out/seed_loops_torch.jsonl" $programs <<'PY' | tee "$out/seed_loops_summary.md"
import json
import sys

ctgrad_json, torch_jsonl, programs = sys.argv[1], sys.argv[2], sys.argv[3:]
to_us = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
best = {}  # (program, "dynamic" | "static") -> best repetition's wall time, us per step
for b in json.load(open(ctgrad_json))["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue  # the aggregates; the table takes the best repetition, as the PyTorch side does
    program, kind = b["run_name"].split("/")
    us = b["real_time"] * to_us[b["time_unit"]]
    best[program, kind] = min(us, best.get((program, kind), float("inf")))
torch_us = {}
for line in open(torch_jsonl):
    r = json.loads(line)
    if r["threads"] == 1:
        torch_us[r["program"]] = r["us_per_step"]


def cells(ours, theirs):
    if ours is None:
        return "n/a | n/a"
    return f"{ours:.2f} | {theirs / ours:.1f}x"


print("| program | PyTorch us/step | ctgrad dynamic us/step | speed-up | ctgrad static us/step | speed-up |")
print("|---|---|---|---|---|---|")
for p in programs:
    t = torch_us[p]
    print(f"| {p} | {t:.1f} | {cells(best.get((p, 'dynamic')), t)} | {cells(best.get((p, 'static')), t)} |")
PY
