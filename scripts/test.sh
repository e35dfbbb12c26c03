#!/usr/bin/env bash
# Runs the whole test suite in the two configurations CI uses, then the packaging check:
#   build/       optimised (buildtype=release): every suite
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer (debugoptimized, no benchmarks)
#   tools/check-install.sh: install, then consume with CMake, pkg-config and as a subproject
# Every step runs even when an earlier one failed, so one run reports everything; the exit
# status is non-zero when anything failed. Extra arguments go to both `meson test` calls
# (e.g. --suite compile-fail).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# meson setup, or reconfigure an existing build directory with the same options.
configure() {
    local dir=$1; shift
    if [[ -f "$dir/meson-private/coredata.dat" ]]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}

results=()
status=0
stage_start=$SECONDS
record() {  # record <name> <exit status>: the verdict and how long the stage took
    local took="$(( (SECONDS - stage_start) / 60 ))m$(( (SECONDS - stage_start) % 60 ))s"
    if [[ $2 -eq 0 ]]; then results+=("PASS  $1 ($took)"); else results+=("FAIL  $1 ($took)"); status=1; fi
    stage_start=$SECONDS
}

echo "=== release build (build/)"
( configure build --buildtype=release &&
  meson compile -C build &&
  meson test -C build --print-errorlogs "$@" )
record "release build (build/)" $?

echo "=== ASan+UBSan build (build-asan/)"
# The CUDA objects are nvcc's and not sanitized, so they are left to the release build.
# -O1 -g1 is the sanitizers' usual setting: -O1 keeps their reports exact and the tests fast
# enough, and -g1 (functions and line tables, no local variables) is all a report's stack
# trace needs; against -O2 -g it compiles a test in about 40% of the time.
# -Dcpu_dispatch=false: one build of the CPU kernels (this machine's widest vectors) under the
# sanitizers; the release build tests each instruction set's build.
# halt_on_error makes UBSan findings fail the test instead of only printing.
# allocator_may_return_null: an allocation beyond the machine returns null, which ctgrad reports
# as the ctgrad::Error a user sees (tested), instead of ASan aborting the test.
( configure build-asan -Db_sanitize=address,undefined -Db_lundef=false --buildtype=plain \
      -Doptimization=1 -Ddebug=false -Db_ndebug=false -Dcpp_args=-g1 -Dcpu_dispatch=false -Dbenchmarks=disabled -Dcuda=disabled &&
  meson compile -C build-asan &&
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
      meson test -C build-asan --print-errorlogs --timeout-multiplier 3 "$@" )
record "ASan+UBSan build (build-asan/)" $?

echo "=== install check (tools/check-install.sh)"
tools/check-install.sh
record "install check (CMake, pkg-config, subproject)" $?

echo
for line in "${results[@]}"; do echo "test.sh: $line"; done
exit $status
