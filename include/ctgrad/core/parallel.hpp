#pragma once
// Threads inside a process: how many, and how a loop is split among them.
//
// The threads are OpenMP's (GCC's libgomp): ctgrad's loops are flat ranges of blocks with no
// dependencies between them, which is what `omp parallel` does best, with a team of threads
// that stays alive between regions and no task graph to build (oneTBB's work stealing pays off
// for nested, irregular work ctgrad does not have). OpenMP is a compiler feature: a translation
// unit compiled without -fopenmp runs the same loops on one thread, with the same results.
//
// Results do not depend on the number of threads. Element-wise loops write each element once,
// whoever computes it. Sums are cut into fixed blocks (the executors' block_size, independent
// of the thread count); each block is summed on its own and the block sums are added in block
// order afterwards, so 1, 2 or 64 threads add the same numbers in the same order.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "error.hpp"

namespace ctgrad {

namespace detail {

// The thread count a process starts with: OMP_NUM_THREADS when it holds a positive number (its
// first entry, for a nested list like "4,2"), otherwise the processors this process may run on.
inline int default_thread_count() {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) {
        char* end = nullptr;
        const long n = std::strtol(env, &end, 10);
        if (end != env && n > 0 && n <= 1 << 16) return static_cast<int>(n);
    }
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware > 0 ? static_cast<int>(hardware) : 1;
}

// One setting for the process: an inline function's static is one object across the library
// and every program that includes this header.
inline std::atomic<int>& thread_count_setting() {
    static std::atomic<int> count{default_thread_count()};
    return count;
}

}  // namespace detail

// The number of threads ctgrad's loops use (matrix products included: the BLAS runs on them), as
// torch::set_num_threads. Results do not depend on it (see above).
inline void set_num_threads(int n) {
    if (n < 1) throw Error("set_num_threads: expected a positive number of threads, got " + std::to_string(n));
    detail::thread_count_setting().store(n, std::memory_order_relaxed);
}

inline int get_num_threads() { return detail::thread_count_setting().load(std::memory_order_relaxed); }

namespace detail {

// Below this many elements a loop stays on the calling thread: starting a parallel region costs
// a few microseconds, about what one thread needs for 32768 simple element operations (the
// seeds' 2000-point loops never reach it). PyTorch's CPU kernels use the same grain.
inline constexpr std::int64_t parallel_grain = 32768;

// How many threads to give `items` items when each thread should get at least `grain`.
inline int threads_for(std::int64_t items, std::int64_t grain) {
    const int wanted = get_num_threads();
    if (wanted <= 1 || items < 2 * grain) return 1;
    return static_cast<int>(std::min<std::int64_t>(wanted, items / std::max<std::int64_t>(grain, 1)));
}

// The one OpenMP region: body(context, begin, end) for up to `threads` consecutive parts of
// [0, items), the calling thread taking the first; an exception thrown by a part is rethrown
// after every thread has finished. Not a template, so that the loops stay free of OpenMP
// constructs. Where this translation unit has OpenMP it is defined here; the runtime library
// compiles its loops without -fopenmp, so that the flag leaves the dynamic layer's code as it was
// before threads, and takes it from the library's one OpenMP translation unit
// (src/parallel.cpp) instead (CTGRAD_THREADS_FROM_LIBRARY, set by meson.build).
using part_body = void (*)(const void* context, std::int64_t begin, std::int64_t end);
#if defined(_OPENMP)
#define CTGRAD_HAS_THREADS 1
inline namespace openmp_threads {  // apart from the library's (below): another symbol
[[gnu::noinline]] inline void run_parts(std::int64_t items, int threads, part_body body, const void* context) {
    std::exception_ptr failure;
    std::atomic<bool> failed{false};
#pragma omp parallel num_threads(threads)
    {
        const std::int64_t team = omp_get_num_threads();
        const std::int64_t per_thread = (items + team - 1) / team;
        const std::int64_t begin = std::min<std::int64_t>(items, omp_get_thread_num() * per_thread);
        const std::int64_t end = std::min<std::int64_t>(items, begin + per_thread);
        if (begin < end) {
            try {
                body(context, begin, end);
            } catch (...) {
                // Exceptions must not leave an OpenMP region: keep the first, rethrow below.
                if (!failed.exchange(true)) failure = std::current_exception();
            }
        }
    }
    if (failure) std::rethrow_exception(failure);
}
inline bool in_parallel_region() { return omp_in_parallel(); }
}  // namespace openmp_threads
#elif defined(CTGRAD_THREADS_FROM_LIBRARY)
#define CTGRAD_HAS_THREADS 1
inline namespace library_threads {  // defined in src/parallel.cpp
void run_parts(std::int64_t items, int threads, part_body body, const void* context);
bool in_parallel_region();
}  // namespace library_threads
#else
#define CTGRAD_HAS_THREADS 0
#endif

// A loop's body, called once per part, on one thread or many. Out of line, so that the body is
// compiled once, here, whichever way the loop runs: a second inlined copy in every kernel of the
// runtime used up GCC's inlining budget for the library, and its small ops lost 10%.
template <class F>
[[gnu::noinline]] void run_part(const void* f, std::int64_t begin, std::int64_t end) {
    (*static_cast<const F*>(f))(begin, end);
}

// f(begin, end) over consecutive parts of [0, items) covering it exactly once, each part at
// least `grain` items (but the last), on up to get_num_threads() threads. The calling thread
// takes part too; inside another parallel region everything runs on the calling thread. An
// exception thrown by f on any thread is rethrown here, after every thread has finished.
template <class F>
void parallel_for(std::int64_t items, std::int64_t grain, const F& f) {
    if (items <= 0) return;
#if CTGRAD_HAS_THREADS
    // Small loops (the common case) decide without reading the setting.
    if (items >= 2 * grain) {
        const int threads = threads_for(items, grain);
        if (threads > 1 && !in_parallel_region()) return run_parts(items, threads, &run_part<F>, &f);
    }
#endif
    run_part<F>(&f, 0, items);
}

// parallel_for over the elements [0, n) in whole blocks of `block` elements (the last may be
// shorter): f(first, last) with `first` a multiple of the block, so that threads never share a
// block and SIMD loops keep their alignment.
template <class F>
void parallel_for_blocks(std::int64_t n, std::int64_t block, const F& f) {
    const std::int64_t blocks = (n + block - 1) / block;
    parallel_for(blocks, std::max<std::int64_t>(1, parallel_grain / block), [&f, n, block](std::int64_t b0, std::int64_t b1) {
        f(b0 * block, std::min(n, b1 * block));
    });
}

}  // namespace detail
}  // namespace ctgrad
