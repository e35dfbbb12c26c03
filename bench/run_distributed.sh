#!/bin/sh
# Builds bench/distributed (release) and runs it under mpirun on 1 and 2 ranks, with the flags of
# test/distributed/run_mpi.py (shared memory on one machine; works as root, in a container,
# oversubscribed), then prints the numbers of docs/performance.md ("Distributed data
# parallelism"): rank 0's wall-clock time per iteration, median and minimum over the
# repetitions (on a machine that other work shares, the minimum is the better estimate of the
# uncontended cost; both are reported).
#
# usage: bench/run_distributed.sh [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR  a meson build directory; configured here (release, benchmarks on) if it is not one
#              yet (default: build-bench)
#   OUT_DIR    where the JSON goes (default: BUILD_DIR/bench-results)
# environment: REPETITIONS (default 5), RANKS (default "1 2")
# Each rank computes on one thread (OpenBLAS's and OpenMP's threads would oversubscribe the
# cores the ranks already share); set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS to change it.
set -eu
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-build-bench}
out=${2:-$build/bench-results}
reps=${REPETITIONS:-5}
ranks=${RANKS:-1 2}

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" --buildtype=release -Dbenchmarks=enabled
fi
meson compile -C "$build" bench/distributed
mkdir -p "$out"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) cores online; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

for n in $ranks; do
    "$root/test/distributed/run_mpi.py" --np "$n" --timeout 600 "$build/bench/distributed" \
        --benchmark_repetitions="$reps" --benchmark_display_aggregates_only=true \
        --benchmark_out="$out/distributed_np$n.json" --benchmark_out_format=json >/dev/null
done

python3 - "$out" $ranks <<'PY'
import json, statistics, sys
out, ranks = sys.argv[1], sys.argv[2:]
runs = {}
for n in ranks:
    for b in json.load(open(f"{out}/distributed_np{n}.json"))["benchmarks"]:
        if b.get("run_type") == "iteration":
            runs.setdefault((n, b["run_name"]), []).append(b["real_time"])
names = list(dict.fromkeys(name for _, name in runs))
median = {k: statistics.median(v) for k, v in runs.items()}
low = {k: min(v) for k, v in runs.items()}
print("| benchmark | " + " | ".join(f"{n} rank{'s' if n != '1' else ''}: median (min), us" for n in ranks) + " |")
print("|---|" + "---:|" * len(ranks))
for name in names:
    print(f"| {name.split('/iterations')[0]} | " + " | ".join(
        f"{median[(n, name)]:.1f} ({low[(n, name)]:.1f})" if (n, name) in median else "" for n in ranks) + " |")
def ratio(a, b, n):
    a, b = (next(k for k in names if k.startswith(x + "/iterations")) for x in (a, b))
    if (n, a) in median and (n, b) in median:
        print(f"{n} ranks: {a.split('/iterations')[0]} / {b.split('/iterations')[0]} = "
              f"{median[(n, a)] / median[(n, b)]:.3f} (medians), {low[(n, a)] / low[(n, b)]:.3f} (minima)")
for n in ranks:
    if n != "1":  # on one rank ctgrad moves no data at all
        ratio("BM_ctgrad_allreduce/1000000/0", "BM_MPI_Allreduce/1000000", n)
        ratio("BM_ctgrad_allreduce/1/0", "BM_MPI_Allreduce/1", n)
    ratio("BM_step5_ddp", "BM_step5_local", n)
    ratio("BM_wide_ddp", "BM_wide_local", n)
PY
