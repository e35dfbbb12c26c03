// The runtime library's one OpenMP translation unit: the parallel region that the library's
// loops, compiled without -fopenmp, call (core/parallel.hpp says why).
#include <ctgrad/core/parallel.hpp>

#if !defined(_OPENMP)
#error "src/parallel.cpp is compiled with OpenMP (meson.build)"
#endif

namespace ctgrad::detail {
inline namespace library_threads {

void run_parts(std::int64_t items, int threads, part_body body, const void* context) {
    openmp_threads::run_parts(items, threads, body, context);
}

bool in_parallel_region() { return openmp_threads::in_parallel_region(); }

}  // namespace library_threads
}  // namespace ctgrad::detail
