#!/usr/bin/env bash
# Longer fuzzing of ctgrad's loaders with libFuzzer (test/fuzz/fuzz_load.cpp), beyond the
# bounded run of test/test_load_fuzz.cpp that CI makes.
#   tools/fuzz_load.sh [seconds per loader] [loader ...]
# loaders: module tensor list npy (default: all four, 60 s each). Builds with clang++ (Debian's
# clang and libclang-rt-dev: -fsanitize=fuzzer,address,undefined), the runtime compiled in
# (CTGRAD_HEADER_ONLY), into build-fuzz/; writes a seed corpus of valid files per loader, then
# runs the fuzzer on it. A finding stops the run and leaves crash-* (the input) in build-fuzz/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-60}
shift || true
loaders=("$@")
[[ ${#loaders[@]} -eq 0 ]] && loaders=(module tensor list npy)

clangxx=$(command -v clang++ || command -v clang++-14 || true)
[[ -n "$clangxx" ]] || { echo "fuzz_load.sh: clang++ not found (apt install clang libclang-rt-14-dev)" >&2; exit 1; }

out=build-fuzz
mkdir -p "$out"
binary=$out/fuzz_load
if [[ ! -x "$binary" || test/fuzz/fuzz_load.cpp -nt "$binary" || -n "$(find include -newer "$binary" -name '*.hpp' | head -1)" ]]; then
    echo "fuzz_load.sh: compiling $binary"
    # Boost.Hana, xtensor and xsimd are found in the default include path (Debian's packages).
    "$clangxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Iinclude test/fuzz/fuzz_load.cpp -o "$binary" -lz -lopenblas -pthread
fi

rm -rf "$out/seeds"
CTGRAD_FUZZ_WRITE_CORPUS="$out/seeds" "$binary"
for loader in "${loaders[@]}"; do
    corpus=$out/corpus-$loader
    mkdir -p "$corpus"
    case $loader in
        npy) cp "$out"/seeds/*.npy "$corpus"/ ;;
        *) cp "$out"/seeds/"$loader".bin "$corpus"/ ;;
    esac
    echo "fuzz_load.sh: $loader for ${seconds}s"
    ( cd "$out" && CTGRAD_FUZZ_LOADER=$loader ASAN_OPTIONS=allocator_may_return_null=0:detect_leaks=1 \
        UBSAN_OPTIONS=print_stacktrace=1 ./fuzz_load -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=4096 \
        -print_final_stats=1 "corpus-$loader" 2>&1 | tee "fuzz-$loader.log" | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==ERROR|SUMMARY)' )
done
