#!/bin/sh
# Runs the GPU benchmarks in one session and prints the markdown tables for docs/performance.md:
#   static_cubic_fit   ctgrad's static layer on thrust::device next to a device-to-device copy and
#                      a hand-written kernel (cudaEvents)
#   dynamic_loops      ctgrad's dynamic layer on cuda: the seed training loops and the cubic loss
#   torch_cuda.py      the same programs in PyTorch on cuda, same step counts
# Builds nothing: BUILD_DIR must hold bench/gpu/static_cubic_fit and bench/gpu/dynamic_loops, e.g.
#   meson setup build-gpu --buildtype=release -Dtests=false -Dexamples=false && ninja -C build-gpu
#
# usage: bench/gpu/run_gpu.sh BUILD_DIR [OUT_DIR]
#   OUT_DIR  where the JSON, logs and summary go (default: BUILD_DIR/gpu-results)
# environment: REPETITIONS (default: each program's own, 20 for the static and 10 for the rest),
#              PYTHON (default: python3; must import torch with CUDA)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2
    exit 2
fi
build=$1
out=${2:-$build/gpu-results}
python=${PYTHON:-python3}
static_bin=$build/bench/gpu/static_cubic_fit
dynamic_bin=$build/bench/gpu/dynamic_loops
for bin in "$static_bin" "$dynamic_bin"; do
    if [ ! -x "$bin" ]; then
        echo "$0: $bin not found: build BUILD_DIR first (ninja -C $build)" >&2
        exit 2
    fi
done
mkdir -p "$out"
reps_arg=""
if [ -n "${REPETITIONS:-}" ]; then
    reps_arg="--repetitions=$REPETITIONS"
fi

# what the session ran, for the record (the runs below spell the same commands out)
static_cmd="$static_bin ${reps_arg:+$reps_arg }--json=$out/static_cubic_fit.json"
dynamic_cmd="$dynamic_bin ${reps_arg:+$reps_arg }--json=$out/dynamic_loops.json"
torch_cmd="$python $here/torch_cuda.py ${REPETITIONS:+--repetitions $REPETITIONS }--json $out/torch_cuda.json"

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    if command -v nvidia-smi >/dev/null 2>&1; then
        echo "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem \
            --format=csv,noheader 2>&1 | head -n1)"
    fi
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(getconf _NPROCESSORS_ONLN) cores online"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    if command -v nvcc >/dev/null 2>&1; then echo "nvcc: $(nvcc --version | tail -n1)"; fi
    echo "c++: $(c++ --version 2>/dev/null | head -n1)"
    echo "python: $("$python" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1)"
    echo "commands:"
    echo "  $static_cmd"
    echo "  $dynamic_cmd"
    echo "  $torch_cmd"
} | tee "$out/session.txt"
echo

# Runs one command with its output in a log; 77 (no GPU) stops the session, other failures too.
run_logged() {
    name=$1
    shift
    rc=0
    "$@" >"$out/$name.txt" 2>&1 || rc=$?
    cat "$out/$name.txt"
    echo
    if [ "$rc" -eq 77 ]; then
        echo "$0: $name found no GPU (exit 77): nothing to report" >&2
        exit 77
    fi
    if [ "$rc" -ne 0 ]; then
        echo "$0: $name failed (exit $rc); see $out/$name.txt" >&2
        exit "$rc"
    fi
}

# shellcheck disable=SC2086  # reps_arg is empty or one word
run_logged static_cubic_fit "$static_bin" $reps_arg "--json=$out/static_cubic_fit.json"
# shellcheck disable=SC2086
run_logged dynamic_loops "$dynamic_bin" $reps_arg "--json=$out/dynamic_loops.json"
torch_json=""
if "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    run_logged torch_cuda "$python" "$here/torch_cuda.py" ${REPETITIONS:+--repetitions "$REPETITIONS"} \
        --json "$out/torch_cuda.json"
    torch_json="--torch=$out/torch_cuda.json"
else
    echo "PyTorch with CUDA not importable by $python: skipping torch_cuda.py" | tee -a "$out/session.txt"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/session.txt"
echo

"$python" "$here/summarize.py" --session="$out/session.txt" --static="$out/static_cubic_fit.json" --dynamic="$out/dynamic_loops.json" \
    ${torch_json:+"$torch_json"} | tee "$out/summary.md"
