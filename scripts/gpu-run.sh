#!/usr/bin/env bash
# Builds ctgrad on a GPU machine and runs its CUDA tests, unit tests and GPU benchmarks, with the
# dependencies taken from the folder scripts/gpu-bundle.sh made (carried there as gpu-bundle/).
# Run from anywhere in the repository, on the GPU machine (docs/cuda.md shows the device call).
#
# usage: scripts/gpu-run.sh [STAGE...]        stages run in order; none given: all
#   setup       meson setup build-gpu -Dcuda=enabled -Dbenchmarks=disabled (tests, examples on)
#   build-cuda  the CUDA test programs and the GPU benchmarks only
#   test-cuda   meson test --suite cuda; a skipped test (no GPU seen) counts as a failure
#   bench       bench/gpu/run_gpu.sh: the GPU benchmarks next to PyTorch, docs/performance.md's tables
#   build       everything: unit tests, examples, CUDA programs
#   test-unit   meson test --suite unit
#   test        test-cuda, then test-unit
#   all         setup build-cuda test-cuda bench build test-unit
#   env         print the environment the stages use (export lines), and nothing else
# Every stage first does what it needs and is missing (configuring, building), so a stage also
# works on a fresh machine, only slower. The first failure stops the run with a message naming it.
#
# Output: the log (appended) and, at exit whether or not a stage failed, the bench summary and a
# tarball of build-gpu/gpu-results (meson's logs, test logs, benchmark JSON): into $OUT when set
# (a folder the caller collects afterwards: three files), else into build-gpu/gpu-results.
# Environment: GPU_BUNDLE (default: gpu-bundle at the repository root), GPU_BUILD_DIR (default:
# build-gpu), NINJA_JOBS (ninja -j; default: ninja's own), REPETITIONS and PYTHON (run_gpu.sh's).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1

bundle=$(realpath -m "${GPU_BUNDLE:-$repo/gpu-bundle}")
build=$(realpath -m "${GPU_BUILD_DIR:-build-gpu}")
results=$build/gpu-results

# --- environment: the bundle's packages, found through the variables each tool reads
# PKG_CONFIG_LIBDIR too, so that only the bundle's .pc files count (a system xtensor of another
# version would otherwise mix in). BOOST_ROOT: meson's boost finder, which needs no .pc file.
export PKG_CONFIG_PATH=$bundle/lib/pkgconfig
export PKG_CONFIG_LIBDIR=$bundle/lib/pkgconfig
export BOOST_ROOT=$bundle
# CPATH reaches what no meson dependency passes on: nvcc's host compiler for kernels/*.cu, and
# cpp.has_header. LIBRARY_PATH and LD_LIBRARY_PATH: -lopenblas and its runtime libraries.
export CPATH=$bundle/include${CPATH:+:$CPATH}
export LIBRARY_PATH=$bundle/lib${LIBRARY_PATH:+:$LIBRARY_PATH}
export LD_LIBRARY_PATH=$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The bundle's pkgconf only where the machine has no pkg-config of its own.
if ! command -v pkg-config >/dev/null 2>&1; then
    export PATH=$PATH:$bundle/bin
fi
# nvcc is not always on PATH; kernels/meson.build also looks in /usr/local/cuda/bin.
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
    export PATH=$PATH:/usr/local/cuda/bin
fi

if [[ ${1:-} == env ]]; then
    for v in PKG_CONFIG_PATH PKG_CONFIG_LIBDIR BOOST_ROOT CPATH LIBRARY_PATH LD_LIBRARY_PATH PATH; do
        printf 'export %s=%q\n' "$v" "${!v}"
    done
    exit 0
fi

mkdir -p "$results"
if [[ -n ${OUT:-} ]]; then
    mkdir -p "$OUT"
    log=$OUT/gpu-run.log
else
    log=$results/gpu-run.log
fi
stage=start
start_s=$SECONDS
stages=${*:-all}

say() { echo "gpu-run: $*" | tee -a "$log"; }
failed=0
fail() {
    failed=1
    say "FAILED in stage '$stage': $*"
    say "log: $log${OUT:+ (and gpu-results.tar.gz in \$OUT)}"
    exit 1
}
logged() {  # logged CMD...: runs CMD with its output on stdout and in the log
    echo "+ $*" >>"$log"
    "$@" 2>&1 | tee -a "$log"
}

# Whatever happened, what the run produced goes where it can be read afterwards.
collect() {
    local rc=$?
    for f in meson-log.txt testlog.txt testlog.json; do
        if [[ -f $build/meson-logs/$f ]]; then cp "$build/meson-logs/$f" "$results/$f"; fi
    done
    if [[ -n ${OUT:-} ]]; then
        tar -czf "$OUT/gpu-results.tar.gz" -C "$build" gpu-results 2>/dev/null
        if [[ -f $results/bench/summary.md ]]; then cp "$results/bench/summary.md" "$OUT/bench-summary.md"; fi
    fi
    if [[ $stage == end ]]; then
        say "OK: $stages ($((SECONDS - start_s)) s)"
    elif ((failed == 0)); then
        say "STOPPED in stage '$stage' (exit $rc: interrupted?) after $((SECONDS - start_s)) s"
    fi
}

trap collect EXIT
trap 'exit 143' TERM INT HUP

[[ -f $bundle/include/boost/hana.hpp && -f $bundle/lib/pkgconfig/xtensor.pc ]] ||
    fail "no bundle at $bundle: run scripts/gpu-bundle.sh where the Debian packages are and copy gpu-bundle/ here"
# A transfer may drop the symbolic link the linker's -lopenblas needs: remake it.
if [[ ! -e $bundle/lib/libopenblas.so && -f $bundle/lib/libopenblas.so.0 ]]; then
    ln -sf libopenblas.so.0 "$bundle/lib/libopenblas.so"
fi

if command -v meson >/dev/null 2>&1; then
    meson=(meson)
else
    meson=(python3 -m mesonbuild.mesonmain)
fi
command -v ninja >/dev/null 2>&1 || fail "ninja not found"
ninja_jobs=(${NINJA_JOBS:+-j "$NINJA_JOBS"})

{
    echo "=== gpu-run $stages: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
    if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L 2>&1; else echo "nvidia-smi: not found"; fi
    echo "nvcc: $(command -v nvcc || echo 'not found') $(nvcc --version 2>/dev/null | tail -n1)"
    echo "c++: $(c++ --version 2>/dev/null | head -n1)"
    echo "meson: $("${meson[@]}" --version 2>&1), ninja: $(ninja --version), pkg-config: $(command -v pkg-config)"
    echo "bundle: $bundle ($(du -sh "$bundle" | cut -f1)), build: $build"
} 2>&1 | tee -a "$log"

configured() { [[ -f $build/meson-private/coredata.dat ]]; }
do_setup() {
    if configured; then
        say "setup: $build already configured"
        return
    fi
    logged "${meson[@]}" setup "$build" -Dcuda=enabled -Dbenchmarks=disabled -Dtests=true -Dexamples=true \
        --buildtype=release || fail "meson setup failed (see meson-log.txt in gpu-results)"
}

# ninja targets (paths in the build dir) of a suite's tests, or benchmarks with --benchmarks
suite_targets() {
    "${meson[@]}" introspect "$build" --targets "--$2" | python3 -c '
import json, os, sys
suite, build = sys.argv[1], sys.argv[2]
data = json.load(sys.stdin)
targets, tests = data["targets"], data[sys.argv[3]]
wanted = {d for t in tests if any(s.split(":")[-1] == suite for s in t["suite"]) for d in t.get("depends", [])}
for t in targets:
    if t["id"] in wanted:
        for f in t["filename"]:
            print(os.path.relpath(f, build))
' "$1" "$build" "$2"
}

build_targets() {  # build_targets WHAT TARGET...
    local what=$1
    shift
    (($# > 0)) || fail "no $what targets: is nvcc found? (meson-log.txt)"
    logged ninja -C "$build" "${ninja_jobs[@]}" "$@" || fail "building $what failed"
}
do_build_cuda() {
    do_setup
    local t
    mapfile -t t < <(suite_targets cuda tests; suite_targets cuda benchmarks)
    build_targets "CUDA" "${t[@]}"
}
do_build() {
    do_setup
    logged ninja -C "$build" "${ninja_jobs[@]}" || fail "ninja failed"
}

run_suite() {  # run_suite SUITE [no-skips]: meson test; with no-skips a skipped test fails too
    local suite=$1
    logged "${meson[@]}" test -C "$build" --no-rebuild --suite "$suite" --print-errorlogs ||
        fail "meson test --suite $suite failed (testlog.txt in gpu-results)"
    [[ ${2:-} == no-skips ]] || return 0
    local skipped
    skipped=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("result") == "SKIP":
        print(r["name"])
' "$build/meson-logs/testlog.json")
    [[ -z $skipped ]] || fail "skipped in suite $suite (exit 77: no usable GPU?): ${skipped//$'\n'/ }"
}
do_test_cuda() {
    do_build_cuda
    run_suite cuda no-skips
}
do_test_unit() {
    do_setup
    local t
    mapfile -t t < <(suite_targets unit tests)
    build_targets "unit test" "${t[@]}"
    run_suite unit
}
do_bench() {
    do_build_cuda
    rm -rf "$results/bench"
    logged bench/gpu/run_gpu.sh "$build" "$results/bench" || fail "bench/gpu/run_gpu.sh failed"
}

for stage in $stages; do
    case $stage in
        setup|build-cuda|test-cuda|bench|build|test-unit|test|all) ;;
        *) fail "unknown stage (setup build-cuda test-cuda bench build test-unit test all env)" ;;
    esac
done
for stage in $stages; do
    say "--- stage $stage ($((SECONDS - start_s)) s so far)"
    case $stage in
        setup) do_setup ;;
        build-cuda) do_build_cuda ;;
        test-cuda) do_test_cuda ;;
        bench) do_bench ;;
        build) do_build ;;
        test-unit) do_test_unit ;;
        test) do_test_cuda; do_test_unit ;;
        all) do_setup; do_test_cuda; do_bench; do_build; do_test_unit ;;
    esac
done
stage=end
