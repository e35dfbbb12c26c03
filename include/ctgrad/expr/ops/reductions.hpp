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

// Not a reduction the user writes: a part of an expression that reads no array (`log(sigma)`
// inside a sum over x) is computed once before the passes over the data and read from there,
// as a finished reduction is (expr/plan.hpp, hoist). Its adjoint is collected the same way.
struct hoisted_op {
    static constexpr const char* symbol = "hoisted";
    static constexpr bool once = true;
    template <class T> CTGRAD_INLINE CTGRAD_HOST_DEVICE static constexpr T scale(std::size_t) { return T(1); }
};

}  // namespace ctgrad::expr
