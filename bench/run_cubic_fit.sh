#!/bin/sh
# Runs the cubic-fit benchmarks back to back in one session: bench/cubic_fit (ctgrad, hand-written
# loops, xtensor, the read-only bound; Google Benchmark with repetitions) and then
# bench/cubic_fit_torch.py (PyTorch, one thread), and prints the tables of docs/performance.md.
#
# usage: bench/run_cubic_fit.sh [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR  a meson build of this project with benchmarks on (default: build);
#              e.g. meson setup build -Dbenchmarks=enabled && ninja -C build bench/cubic_fit
#   OUT_DIR    where the JSON and logs go (default: BUILD_DIR/bench-results)
# environment: REPETITIONS (default 10), PYTHON (default: python3; must import torch)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
out=${2:-$build/bench-results}
reps=${REPETITIONS:-10}
python=${PYTHON:-python3}
mkdir -p "$out"

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores online"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "compiler: $(c++ --version | head -n1)"
} | tee "$out/session.txt"

"$build/bench/cubic_fit" \
    --benchmark_repetitions="$reps" \
    --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/cubic_fit.json" --benchmark_out_format=json \
    2>&1 | tee "$out/cubic_fit.txt"

if "$python" -c 'import torch' 2>/dev/null; then
    "$python" "$here/cubic_fit_torch.py" --repetitions "$reps" --json "$out/cubic_fit_torch.json" \
        | tee "$out/cubic_fit_torch.txt"
    torch_json="$out/cubic_fit_torch.json"
else
    echo "PyTorch not importable by $python: skipping bench/cubic_fit_torch.py" | tee -a "$out/session.txt"
    torch_json=""
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/session.txt"

python3 "$here/summarize_cubic_fit.py" "$out/cubic_fit.json" $torch_json | tee "$out/summary.md"
