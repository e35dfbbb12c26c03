#!/usr/bin/env bash
# Times the type-level work of collecting an expression's variables three ways (see
# variables_common.hpp): ctgrad's type lists, Boost.Hana's ordered fold, Boost.Hana's set.
# usage: bench/compile_cost/type_sets/measure.sh [LEAVES DISTINCT]...   (default: 64 16, 256 48)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
CXX=${CXX:-g++}
sizes=("$@")
[[ ${#sizes[@]} -eq 0 ]] && sizes=("64 16" "256 48")
printf '| leaves | distinct | type lists | Hana fold (ordered) | Hana set (unordered) |\n|---:|---:|---:|---:|---:|\n'
for size in "${sizes[@]}"; do
    read -r leaves distinct <<<"$size"
    row="| $leaves | $distinct |"
    for tu in variables_hand variables_hana variables_hana_set; do
        t=$( { /usr/bin/time -f "%e s, %M KB" "$CXX" -std=c++20 -fsyntax-only -I../../../include "$tu.cpp" \
                 -DLEAVES="$leaves" -DDISTINCT="$distinct" >/dev/null; } 2>&1 | tail -1)
        row+=" $t |"
    done
    echo "$row"
done
