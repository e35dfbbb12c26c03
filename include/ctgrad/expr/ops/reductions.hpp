#pragma once
#include "../kind.hpp"
#include "op_traits.hpp"

namespace ctgrad::expr {

// Reductions over every element of the evaluation. `scale(n)` turns the running sum into the
// result: the derivative of a reduction is the same reduction of the derivative.
struct sum_op {
    static constexpr const char* symbol = "sum";
    static constexpr reduction_kind kind = reduction_kind::sum;
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T scale(std::size_t) { return T(1); }
};

struct mean_op {
    static constexpr const char* symbol = "mean";
    static constexpr reduction_kind kind = reduction_kind::sum;
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T scale(std::size_t n) { return T(1) / T(n); }
};

// The largest and the smallest element (torch.amax/amin over every element; NaN wins). Their
// gradient goes to the elements equal to the result, split evenly among ties, as PyTorch's:
// which elements those are is known only once the value is, so value_and_grad sums their
// partials in the pass after the one that finds the value (expr/plan.hpp).
struct amax_op {
    static constexpr const char* symbol = "max";
    static constexpr reduction_kind kind = reduction_kind::max;
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T scale(std::size_t) { return T(1); }
};
struct amin_op {
    static constexpr const char* symbol = "min";
    static constexpr reduction_kind kind = reduction_kind::min;
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T scale(std::size_t) { return T(1); }
};
// The largest element as a constant shift (logsumexp's): no gradient flows through it, and an
// infinite maximum shifts by 0, as in torch.logsumexp.
struct max_shift_op {
    static constexpr const char* symbol = "max_shift";
    static constexpr reduction_kind kind = reduction_kind::shift;
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T scale(std::size_t) { return T(1); }
};

// Not a reduction the user writes: a part of an expression that reads no array (`log(sigma)`
// inside a sum over x) is computed once before the passes over the data and read from there,
// as a finished reduction is (expr/plan.hpp, hoist). Its adjoint is collected the same way.
struct hoisted_op {
    static constexpr const char* symbol = "hoisted";
    static constexpr reduction_kind kind = reduction_kind::sum;
    static constexpr bool once = true;
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T scale(std::size_t) { return T(1); }
};

}  // namespace ctgrad::expr
