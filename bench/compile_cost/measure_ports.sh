#!/bin/sh
# Compile cost of libtorch programs ported by a namespace change: each given .cpp (written for
# libtorch, e.g. pytorch/examples' cpp/regression/regression.cpp, cpp/autograd/autograd.cpp,
# cpp/mnist/mnist.cpp) is compiled to an object file with g++ -O2 twice: against Debian's libtorch
# (libtorch-dev, -std=c++17 as its headers expect) and against ctgrad through a generated
# torch/torch.h that holds `#include <ctgrad/ctgrad.hpp>` and `namespace torch = ctgrad;`
# (-std=c++20). The two compilers alternate, one program at a time, so that both see the same
# machine load; each figure is the smallest of REPEAT runs (the machine's noise only ever adds).
# Linking is not timed on either side. Target: ctgrad at most 1/3 of libtorch's time.
#
# usage: bench/compile_cost/measure_ports.sh FILE.cpp...   (CXX and REPEAT=3 may be set)
# Prints wall seconds and CPU seconds (user + system) of each side and their ratios.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cxx=${CXX:-g++}
repeat=${REPEAT:-3}
torch_include=/usr/include/torch/csrc/api/include
[ $# -gt 0 ] || { sed -n '2,12p' "$0"; exit 2; }
[ -f "$torch_include/torch/torch.h" ] || { echo "libtorch-dev is not installed (apt install libtorch-dev)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/shim/torch"
printf '#pragma once\n#include <ctgrad/ctgrad.hpp>\nnamespace torch = ctgrad;\n' > "$tmp/shim/torch/torch.h"

# one_compile <src> <flags...>: prints "wall cpu" in seconds, or fails with the compiler's first error
one_compile() {
    src=$1; shift
    /usr/bin/time -f '%e %U %S' -o "$tmp/time" $cxx -O2 "$@" -c "$src" -o "$tmp/out.o" 2> "$tmp/err" || {
        grep -m1 'error' "$tmp/err" >&2; return 1; }
    awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$tmp/time"
}
# smallest <file>...: one line, the smallest wall and the smallest cpu figure of each file's
# lines "wall cpu"
smallest() {
    for f in "$@"; do printf '%s %s ' "$(sort -n -k1,1 "$f" | head -n1 | cut -d' ' -f1)" \
                                      "$(sort -n -k2,2 "$f" | head -n1 | cut -d' ' -f2)"; done
    echo
}

echo "compiler: $($cxx --version | head -n1)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "libtorch: $(dpkg-query -W -f='${Package} ${Version}' libtorch-dev 2>/dev/null || echo "$torch_include")"
echo "smallest of $repeat run(s), seconds, $cxx -O2 -c"
printf '%-14s %9s %9s %7s   %9s %9s %7s\n' program "ctgrad" "libtorch" ratio "ctgrad" "libtorch" ratio
printf '%-14s %9s %9s %7s   %9s %9s %7s\n' "" wall wall "" cpu cpu ""
for src in "$@"; do
    name=$(basename "$src" .cpp)
    : > "$tmp/ours"; : > "$tmp/theirs"
    i=0
    while [ "$i" -lt "$repeat" ]; do
        one_compile "$src" -std=c++20 -fopenmp -I "$tmp/shim" -I "$root/include" >> "$tmp/ours"
        one_compile "$src" -std=c++17 -w -I "$torch_include" >> "$tmp/theirs"
        i=$((i + 1))
    done
    smallest "$tmp/ours" "$tmp/theirs" | {
        read -r our_wall our_cpu their_wall their_cpu
        printf '%-14s %9s %9s %7.3f   %9s %9s %7.3f\n' "$name" "$our_wall" "$their_wall" \
            "$(echo "$our_wall / $their_wall" | bc -l)" "$our_cpu" "$their_cpu" "$(echo "$our_cpu / $their_cpu" | bc -l)"
    }
done
