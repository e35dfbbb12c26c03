#!/usr/bin/env bash
# A newcomer's first command (as root, or through sudo: `sudo scripts/setup.sh`):
# installs the Debian packages, configures build/, builds the runtime library (libctgrad) and the
# flagship example, the cubic fit of sin(x) whose loss and four partial derivatives come from one
# fused pass, and runs it. It builds nothing else: `scripts/test.sh` builds and runs the test
# suites, `meson compile -C build` the other examples and the benchmarks.
set -euo pipefail
self=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$self")/.."

if [[ "${1:-}" != --no-deps ]]; then
    scripts/install-deps.sh
    # Under sudo, build as the calling user, so that build/ is not root's and scripts/test.sh
    # can run without sudo afterwards.
    if [[ $(id -u) -eq 0 && -n "${SUDO_USER:-}" && "$SUDO_USER" != root ]]; then
        exec sudo -u "$SUDO_USER" -- "$self" --no-deps
    fi
fi

if [[ -f build/meson-private/coredata.dat ]]; then
    meson setup --reconfigure build --buildtype=release >/dev/null
else
    meson setup build --buildtype=release
fi
meson compile -C build ctgrad:shared_library examples/static_polyfit

echo
echo "=== build/examples/static_polyfit"
build/examples/static_polyfit
echo
echo "setup.sh: done. Next: scripts/test.sh runs every test suite."
