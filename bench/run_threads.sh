#!/bin/sh
# Runs bench/threads (every case on 1 and 2 threads, next to each other) with repetitions and
# prints the medians with the speed-up of 2 threads over 1: the table of docs/performance.md
# ("Threads").
#
# usage: bench/run_threads.sh [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR  a meson build with benchmarks on (default: build); bench/threads is built here
#   OUT_DIR    where the JSON goes (default: BUILD_DIR/bench-results)
# environment: REPETITIONS (default 5)
set -eu
build=${1:-build}
out=${2:-$build/bench-results}
reps=${REPETITIONS:-5}
mkdir -p "$out"
meson compile -C "$build" bench/threads >/dev/null
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) cores online"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
}
"$build/bench/threads" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_min_time=0.3 --benchmark_out="$out/threads.json" --benchmark_out_format=json >/dev/null
python3 - "$out/threads.json" <<'PY'
import json, sys
rows = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    name, size, threads = b["run_name"].split("/")[:3]
    rows.setdefault((name, size), {})[threads] = b["real_time"]
print("| case | N | 1 thread (us) | 2 threads (us) | speed-up |")
print("|---|---:|---:|---:|---:|")
for (name, size), t in rows.items():
    print(f"| {name} | {size} | {t['1']:.1f} | {t['2']:.1f} | {t['1'] / t['2']:.2f}x |")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
