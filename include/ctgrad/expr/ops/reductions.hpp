#pragma once
#include "op_traits.hpp"

namespace ctgrad::expr {

// Reductions over every element of the evaluation. `scale(n)` turns the running sum into the
// result: the derivative of a reduction is the same reduction of the derivative.
struct sum_op {
    static constexpr const char* symbol = "sum";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T scale(std::size_t) { return T(1); }
};

struct mean_op {
    static constexpr const char* symbol = "mean";
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T scale(std::size_t n) { return T(1) / T(n); }
};

}  // namespace ctgrad::expr
