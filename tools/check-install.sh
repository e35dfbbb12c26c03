#!/usr/bin/env bash
# Checks that ctgrad can be consumed the three ways a user would:
#   1. installed (meson install to a temporary prefix), found by CMake's find_package(ctgrad);
#   2. installed, found by meson's dependency('ctgrad') through pkg-config;
#   3. as a meson subproject (subprojects/ctgrad -> this repository).
# Each consumer (tools/install-check/) computes a value_and_grad and checks the numbers.
# Exits non-zero on the first failure. Set KEEP_TMP=1 to keep the scratch directory.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctgrad-install-check.XXXXXX")
if [[ -z "${KEEP_TMP:-}" ]]; then trap 'rm -rf "$tmp"' EXIT; fi
prefix=$tmp/prefix
log=$tmp/log

step() { printf '== check-install: %s\n' "$*"; }
# Runs a command quietly, showing its output only when it fails.
quiet() {
    if ! "$@" >"$log" 2>&1; then
        cat "$log"
        printf 'check-install: FAILED: %s\n' "$*" >&2
        exit 1
    fi
}

step "install to $prefix"
# Only the headers and the package files: no tests, examples, benchmarks or CUDA objects.
quiet meson setup "$tmp/build" "$repo" --prefix="$prefix" \
    -Dtests=false -Dexamples=false -Dbenchmarks=disabled -Dcuda=disabled
quiet meson install -C "$tmp/build"

# The consumers are copied so that nothing is written into the source tree.
cp -r "$repo/tools/install-check" "$tmp/src"

step "CMake consumer: find_package(ctgrad)"
quiet cmake -S "$tmp/src/cmake" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
quiet cmake --build "$tmp/cmake-build" -j 2
"$tmp/cmake-build/consumer"

step "meson consumer: dependency('ctgrad') via pkg-config"
pcdir=$(dirname "$(find "$prefix" -name ctgrad.pc -print -quit)")
PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
    quiet meson setup "$tmp/meson-build" "$tmp/src/meson" --wrap-mode=nofallback
grep -q 'Run-time dependency ctgrad found: YES' "$tmp/meson-build/meson-logs/meson-log.txt" \
    || { echo 'check-install: ctgrad was not found through pkg-config' >&2; exit 1; }
quiet meson compile -C "$tmp/meson-build" -j 2
"$tmp/meson-build/consumer"

step "meson consumer: ctgrad as a subproject"
mkdir -p "$tmp/src/meson/subprojects"
ln -s "$repo" "$tmp/src/meson/subprojects/ctgrad"
quiet meson setup "$tmp/sub-build" "$tmp/src/meson" --force-fallback-for=ctgrad
quiet meson compile -C "$tmp/sub-build" -j 2
"$tmp/sub-build/consumer"

echo "check-install: OK (CMake find_package, pkg-config, meson subproject)"
