#!/usr/bin/env bash
# Gathers, from this Debian machine's packages, what a GPU machine needs to build ctgrad and
# lacks: such a machine has nvcc, a C++ compiler, meson, ninja and python3 with torch, but none
# of ctgrad's Debian dependencies, and fetches nothing. The result is one movable folder, copied
# to the GPU machine beside the source tree (at the repository root), that scripts/gpu-run.sh
# uses there.
#
# usage: scripts/gpu-bundle.sh [OUT_DIR]      (default: gpu-bundle at the repository root)
#
#   include/        Boost.Hana with boost/version.hpp and boost/config (what meson's boost finder
#                   and Hana read), xtensor, xtl, xsimd, doctest, OpenBLAS's cblas.h
#   lib/            libopenblas.so.0 and the libraries it loads that a bare image may lack
#                   (libgfortran, libquadmath), libpkgconf for bin/pkg-config
#   lib/pkgconfig/  xtensor, xtl, xsimd, openblas, doctest .pc files, relative to ${pcfiledir} so
#                   that the folder works wherever it lands
#   bin/pkg-config  pkgconf, for a machine without pkg-config
#
# Needs the packages of scripts/install-deps.sh. Rebuilds OUT_DIR from scratch.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/gpu-bundle}
marker=.ctgrad-gpu-bundle

# Only a folder this script made is wiped: OUT_DIR could be mistyped as something precious.
if [[ -e $out ]]; then
    if [[ -f $out/$marker ]]; then
        rm -rf -- "$out"
    elif [[ -n $(ls -A -- "$out") ]]; then
        echo "gpu-bundle.sh: $out exists, is not empty and is not a bundle; not touching it" >&2
        exit 1
    fi
fi
mkdir -p "$out"/{include/boost,lib/pkgconfig,bin}
out=$(cd "$out" && pwd)
touch "$out/$marker"

need() {  # need <path>: fail naming the package when a source is missing
    if [[ ! -e $1 ]]; then
        echo "gpu-bundle.sh: $1 not found; install $2 (scripts/install-deps.sh)" >&2
        exit 1
    fi
}

# --- headers
inc=/usr/include
need "$inc/boost/hana.hpp" libboost1.81-dev
need "$inc/xtensor/xtensor.hpp" xtensor-dev
need "$inc/xtl/xtl_config.hpp" xtensor-dev
need "$inc/xsimd/xsimd.hpp" libxsimd-dev
need "$inc/doctest/doctest.h" doctest-dev
cp -R "$inc/boost/hana" "$inc/boost/hana.hpp" "$inc/boost/version.hpp" \
      "$inc/boost/config" "$inc/boost/config.hpp" "$out/include/boost/"
cp -R "$inc/xtensor" "$inc/xtl" "$inc/xsimd" "$inc/doctest" "$out/include/"

# OpenBLAS's own cblas.h (Debian's /usr/include/.../cblas.h is an alternatives link that may
# point at netlib's) with the config header it includes.
blas_inc=$(pkg-config --variable=includedir openblas 2>/dev/null || true)
if [[ -z $blas_inc || ! -f $blas_inc/cblas.h ]]; then
    blas_inc=$(dirname "$(readlink -f "$inc/x86_64-linux-gnu/cblas.h")")
fi
need "$blas_inc/cblas.h" libopenblas-dev
for h in cblas.h openblas_config.h f77blas.h; do
    if [[ -f $blas_inc/$h ]]; then cp "$blas_inc/$h" "$out/include/"; fi
done

# Hana pulls in more of Boost than the folders above when a compiler takes another path through
# its config: copy whatever boost header still resolves outside the bundle until none does.
probe=$(mktemp -d)
trap 'rm -rf -- "$probe"' EXIT
printf '#include <boost/hana.hpp>\n#include <boost/version.hpp>\n' >"$probe/probe.cpp"
for _ in 1 2 3 4 5 6 7 8; do
    # shellcheck disable=SC1003  # the backslash is a make line continuation
    missing=$(${CXX:-c++} -std=c++20 -I"$out/include" -M "$probe/probe.cpp" | tr ' \\' '\n' |
              grep "^$inc/boost/" | sort -u || true)
    [[ -z $missing ]] && break
    while read -r h; do
        mkdir -p "$out/include/$(dirname "${h#"$inc"/}")"
        cp "$h" "$out/include/${h#"$inc"/}"
    done <<<"$missing"
done

# --- libraries, each under its SONAME (the name the dynamic loader looks for)
soname() { objdump -p "$1" | sed -n 's/^ *SONAME *//p'; }
blas_so=$(readlink -f "$(pkg-config --variable=libdir openblas 2>/dev/null || echo /nonexistent)/libopenblas.so" || true)
if [[ ! -f $blas_so ]]; then
    blas_so=$(readlink -f "$(ldconfig -p | sed -n 's/.*libopenblas\.so\.0 (libc6,x86-64) => //p' | head -n1)")
fi
need "$blas_so" libopenblas-dev
blas_soname=$(soname "$blas_so")
cp "$blas_so" "$out/lib/$blas_soname"
ln -s "$blas_soname" "$out/lib/libopenblas.so"   # what -lopenblas links against
# glibc and libgcc_s come with every compiler image; the Fortran runtime does not.
ldd "$blas_so" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' |
while read -r dep; do
    case $(basename "$dep") in
        libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libgcc_s.so*|libstdc++.so*|ld-linux*) ;;
        *) cp "$(readlink -f "$dep")" "$out/lib/$(soname "$dep")" ;;
    esac
done

pkgconf_bin=$(readlink -f "$(command -v pkgconf || command -v pkg-config)")
cp "$pkgconf_bin" "$out/bin/pkg-config"
ldd "$pkgconf_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | grep libpkgconf |
while read -r dep; do cp "$(readlink -f "$dep")" "$out/lib/$(soname "$dep")"; done

# --- pkg-config files, relative to where they lie (lib/pkgconfig)
# shellcheck disable=SC2016  # ${...} here is pkg-config's, written as it stands
pc() {  # pc <name> <version> <description> [Libs and Requires lines]
    local name=$1 version=$2 description=$3
    shift 3
    {
        echo 'prefix=${pcfiledir}/../..'
        echo 'includedir=${prefix}/include'
        echo 'libdir=${prefix}/lib'
        echo
        echo "Name: $name"
        echo "Description: $description (ctgrad GPU bundle)"
        echo "Version: $version"
        echo 'Cflags: -I${includedir}'
        for line in "$@"; do echo "$line"; done
    } >"$out/lib/pkgconfig/$name.pc"
}
version_of() { pkg-config --modversion "$1"; }
pc xtl "$(version_of xtl)" 'Basic tools used by xtensor'
pc xsimd "$(version_of xsimd)" 'SIMD wrappers'
pc xtensor "$(version_of xtensor)" 'Multi-dimensional arrays' 'Requires: xtl'
doctest_version=$(sed -n 's/^#define DOCTEST_VERSION_STR "\(.*\)"/\1/p' "$inc/doctest/doctest.h")
pc doctest "$doctest_version" 'Unit test framework'
# shellcheck disable=SC2016
pc openblas "$(version_of openblas)" 'Optimized BLAS' 'Libs: -L${libdir} -lopenblas' \
   'Libs.private: -lm -lpthread -lgfortran'

bytes=$(du -sb "$out" | cut -f1)
echo "gpu-bundle: $out: $(du -sh "$out" | cut -f1) ($bytes bytes), $(find "$out" -type f | wc -l) files"
if ((bytes > 48 * 1024 * 1024)); then
    echo "gpu-bundle.sh: warning: over 48 MiB; keep the bundle small, it is copied to the GPU machine with the source tree" >&2
fi
