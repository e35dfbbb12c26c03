#!/bin/sh
# Compile cost of the static layer: times the compilation of each translation unit here (median
# of REPEAT runs, wall seconds) and prints the object's size. Three flag sets:
#   -O2                  the project's flags: g++ -std=c++20 -O2 -I include
#   -O2 -march=native    as bench/ and examples/ build (AVX-512 batches here)
#   -fsyntax-only        templates instantiated and checked, no code generated
#
# usage: bench/compile_cost/measure.sh   (from anywhere; CXX, REPEAT and EXTRA_FLAGS may be set)
# Target (docs/performance.md): each TU under 5 s at -O2.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cxx=${CXX:-g++}
repeat=${REPEAT:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
base="-std=c++20 -I $root/include ${EXTRA_FLAGS:-}"

now() { date +%s.%N; }

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "compiler: $($cxx --version | head -n1)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median of $repeat runs, wall seconds; object file bytes and size(1)'s text+data+bss of the -c runs"
printf '%-36s %-20s %10s %12s %12s\n' "translation unit" "flags" "seconds" "object B" "code+data B"
# A baseline: the cost of including the static layer and doing nothing with it.
printf '#include <ctgrad/expr.hpp>\nint main() {}\n' > "$tmp/include_only.cpp"
for src in "$tmp/include_only.cpp" "$here"/*.cpp; do
    name=$(basename "$src" .cpp)
    for flags in "-O2" "-O2 -march=native" "-fsyntax-only"; do
        : > "$tmp/times"
        i=0
        while [ "$i" -lt "$repeat" ]; do
            start=$(now)
            if [ "$flags" = "-fsyntax-only" ]; then
                $cxx $base $flags "$src"
            else
                $cxx $base $flags -c "$src" -o "$tmp/$name.o"
            fi
            end=$(now)
            echo "$end - $start" | bc -l >> "$tmp/times"
            i=$((i + 1))
        done
        seconds=$(median < "$tmp/times")
        if [ "$flags" = "-fsyntax-only" ]; then
            bytes="-"; text="-"
        else
            bytes=$(stat -c %s "$tmp/$name.o")
            text=$(size "$tmp/$name.o" | awk 'NR == 2 { print $4 }')
        fi
        printf '%-36s %-20s %10.2f %12s %12s\n' "$name" "$flags" "$seconds" "$bytes" "$text"
    done
done
