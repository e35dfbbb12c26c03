#!/bin/sh
# Compile cost of dynamic-layer programs: each seed twin in examples/ and the README's snippet
# (dynamic/readme_dynamic.cpp), compiled at -O2 against ctgrad (declarations; the runtime is the library
# libctgrad, built once) and against Debian's libtorch (libtorch-dev) through libtorch_shim/,
# which makes `ctgrad::` mean `torch::`: the same source both times. The two compilers run
# alternately, one program at a time, so that both see the same machine load. Compile only (-c):
# linking is not timed on either side.
#
# usage: bench/compile_cost/measure_dynamic.sh [NAME...]   (NAME: readme_dynamic or an example's
#        name, e.g. seed2_step5_nn; default all). CXX and REPEAT may be set (REPEAT=1 default: each
#        libtorch compile takes about 40 s).
# Without libtorch-dev the libtorch column says "not installed". A program the shim cannot carry
# over (it uses an API libtorch spells otherwise) says why in the libtorch column.
# Target (issue: one implementation per op): ctgrad at most 1/3 of libtorch's time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cxx=${CXX:-g++}
repeat=${REPEAT:-1}
torch_include=/usr/include/torch/csrc/api/include
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# time_compile <label> <flags...> -- prints the median wall seconds, or "error: <first error>"
time_compile() {
    src=$1; shift
    : > "$tmp/times"
    i=0
    while [ "$i" -lt "$repeat" ]; do
        start=$(now)
        if ! $cxx -std=c++20 -O2 "$@" -c "$src" -o "$tmp/out.o" 2> "$tmp/err"; then
            printf 'error: %s\n' "$(grep -m1 'error' "$tmp/err" | sed 's/^.*error: //' | cut -c1-60)"
            return
        fi
        end=$(now)
        echo "$end - $start" | bc -l >> "$tmp/times"
        i=$((i + 1))
    done
    printf '%.2f\n' "$(median < "$tmp/times")"
}

echo "compiler: $($cxx --version | head -n1)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -f "$torch_include/torch/torch.h" ]; then
    echo "libtorch: $(dpkg-query -W -f='${Package} ${Version}' libtorch-dev 2>/dev/null || echo "$torch_include")"
    have_torch=1
else
    echo "libtorch: not installed (apt install libtorch-dev for the libtorch column)"
    have_torch=0
fi
echo "median of $repeat run(s), wall seconds, g++ -std=c++20 -O2 -c"
printf '%-30s %10s %10s %8s\n' "program" "ctgrad" "libtorch" "ratio"
for src in "$here/dynamic/readme_dynamic.cpp" "$root"/examples/seed*.cpp; do
    name=$(basename "$src" .cpp)
    if [ $# -gt 0 ] && ! printf ' %s ' "$@" | grep -q " $name "; then continue; fi
    ours=$(time_compile "$src" -I "$root/include" -I "$root/examples")
    if [ "$have_torch" = 1 ]; then
        theirs=$(time_compile "$src" -I "$here/libtorch_shim" -I "$torch_include" -I "$root/examples" -w)
    else
        theirs="not installed"
    fi
    case "$ours$theirs" in
        *error*|*installed*) ratio="-" ;;
        *) ratio=$(printf '%.3f' "$(echo "$ours / $theirs" | bc -l)") ;;
    esac
    printf '%-30s %10s %10s %8s\n' "$name" "$ours" "$theirs" "$ratio"
done
