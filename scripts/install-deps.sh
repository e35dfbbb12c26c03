#!/usr/bin/env bash
# Installs every Debian 12 package ctgrad needs to build, test, benchmark and package itself.
#   scripts/install-deps.sh               the toolchain and libraries (what CI needs)
#   scripts/install-deps.sh --with-torch  also PyTorch and NumPy: only for regenerating golden
#                                         data and for the PyTorch side-by-side benchmarks
# Idempotent: when everything is already installed it changes nothing and needs no network.
# Runs apt-get through sudo unless it is already root.
set -euo pipefail

packages=(
    g++ meson ninja-build pkg-config cmake python3     # build tools (cmake: the install check)
    libboost1.81-dev                                   # Boost.Hana (type-level lists and maps)
    xtensor-dev libxsimd-dev libxtensor-blas-dev       # arrays, SIMD batches, BLAS bindings
    libopenblas-dev                                    # BLAS/LAPACK behind xtensor-blas
    libthrust-dev                                      # Thrust backend (OpenMP system on CPUs)
    zlib1g-dev                                         # crc32: checksums of ctgrad::save's files
    doctest-dev                                        # test framework
    libbenchmark-dev                                   # bench/
    libopenmpi-dev openmpi-bin                         # ctgrad::distributed: MPI and mpirun
)

for arg in "$@"; do
    case "$arg" in
        --with-torch) packages+=(python3-torch python3-numpy) ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "install-deps.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#packages[@]} packages are installed"
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null; then
    sudo=(sudo)
else
    echo "install-deps.sh: run as root or install sudo" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
