#!/bin/sh
# Runs bench/threads (every case on 1 and 2 threads, next to each other) with repetitions and
# prints the medians with the speed-up of 2 threads over 1: the table of docs/performance.md
# ("Threads").
#
# usage: bench/run_threads.sh [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR  a meson build with benchmarks on (default: build); bench/threads is built here
#   OUT_DIR    where the JSON goes (default: BUILD_DIR/bench-results)
# environment: REPETITIONS (default 5), BENCH_THREADS (default "1 2": the thread counts)
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
rows, counts = {}, set()
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    name, size, threads = b["run_name"].split("/")[:3]
    rows.setdefault((name, size), {})[int(threads)] = b["real_time"]
    counts.add(int(threads))
counts = sorted(counts)
print("| case | N | " + " | ".join(f"{t} thread{'s' if t > 1 else ''} (us)" for t in counts) +
      " | " + " | ".join(f"speed-up at {t}" for t in counts[1:]) + " |")
print("|---|---:|" + "---:|" * (2 * len(counts) - 1))
for (name, size), t in rows.items():
    times = " | ".join(f"{t[c]:.1f}" for c in counts)
    ups = " | ".join(f"{t[counts[0]] / t[c]:.2f}x" for c in counts[1:])
    print(f"| {name} | {size} | {times} | {ups} |")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
