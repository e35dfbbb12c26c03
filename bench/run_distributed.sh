#!/bin/sh
# Builds bench/distributed (release) and runs it under mpirun on 1 and 2 ranks, with the flags of
# test/distributed/run_mpi.py (shared memory on one machine; works as root, in a container,
# oversubscribed), then prints the numbers of docs/performance.md ("Distributed data
# parallelism"): median over the repetitions, rank 0's wall-clock time.
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
        --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
        --benchmark_out="$out/distributed_np$n.json" --benchmark_out_format=json >/dev/null
done

python3 - "$out" $ranks <<'PY'
import json, sys
out, ranks = sys.argv[1], sys.argv[2:]
medians = {}
for n in ranks:
    for b in json.load(open(f"{out}/distributed_np{n}.json"))["benchmarks"]:
        if b.get("aggregate_name") == "median":
            medians[(n, b["run_name"])] = b["real_time"]
names = sorted({name for _, name in medians}, key=lambda s: list(dict.fromkeys(k[1] for k in medians)).index(s))
print("| benchmark | " + " | ".join(f"{n} rank{'s' if n != '1' else ''} (us)" for n in ranks) + " |")
print("|---|" + "---:|" * len(ranks))
for name in names:
    print(f"| {name} | " + " | ".join(f"{medians[(n, name)]:.1f}" if (n, name) in medians else "" for n in ranks) + " |")
def ratio(a, b, n):
    if (n, a) in medians and (n, b) in medians:
        print(f"{n} ranks: {a} / {b} = {medians[(n, a)] / medians[(n, b)]:.3f}")
for n in ranks:
    if n != "1":  # on one rank ctgrad moves no data at all
        ratio("BM_ctgrad_allreduce/1000000/0/iterations:200/real_time", "BM_MPI_Allreduce/1000000/iterations:200/real_time", n)
        ratio("BM_ctgrad_allreduce/1/0/iterations:20000/real_time", "BM_MPI_Allreduce/1/iterations:20000/real_time", n)
    ratio("BM_step5_ddp/iterations:5000/real_time", "BM_step5_local/iterations:5000/real_time", n)
    ratio("BM_wide_ddp/iterations:100/real_time", "BM_wide_local/iterations:100/real_time", n)
PY
