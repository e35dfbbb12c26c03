#pragma once
// Backends are chosen by tag. A backend says what it can do by specialising `executor`:
//   reduce<Grad, Targets, Pass>(e, ctx, n)    -> kernel::totals   (one fused pass: the reductions
//                                              of depth Pass, expr/plan.hpp)
//   assign(e, ctx, n, out)                    element-wise values into out[0, n)
//   scatter<Targets>(e, ctx, n, adjoints, outs) per-element gradients of array variables
//   array<S>(shape)                           a container for results that are arrays
//   space                                     the memory the backend reads (host or device)
// CPU: ctgrad/backend/cpu.hpp (exec::simd, exec::scalar). Thrust: ctgrad/backend/thrust.hpp
// (any Thrust execution policy: thrust::omp::par, thrust::device, ...).
#include <type_traits>

#include "../core/config.hpp"

namespace ctgrad::expr {

namespace exec {
// The CPU's tags name their instruction set (core/config.hpp), so that everything instantiated
// for them does too.
inline namespace CTGRAD_SIMD_ABI {
struct simd_t {};
struct scalar_t {};
// One loop over xsimd batches (the widest the compiler flags allow) and a scalar tail.
inline constexpr simd_t simd{};
// A plain scalar loop: the reference the SIMD and Thrust paths are tested against.
inline constexpr scalar_t scalar{};
}  // namespace CTGRAD_SIMD_ABI
}  // namespace exec

template <class Policy, class Enable = void>
struct executor {
    static constexpr bool known = false;
};

template <class P>
concept execution_backend = executor<std::remove_cvref_t<P>>::known;

}  // namespace ctgrad::expr
