#pragma once
// The CPU's fused element-wise loops: a static expression over the variables g, a, b, o
// (incoming gradient, operands, output) run by the static layer's SIMD executor as one loop
// with no temporaries. Each operand is a contiguous array or one value seen at every index.
#include <array>
#include <cstdint>

#include "../../backend/cpu/executor.hpp"
#include "../../expr/core.hpp"
#include "../expressions.hpp"

#include "../../core/config.hpp"

namespace ctgrad::detail {
inline namespace CTGRAD_SIMD_ABI {

template <class S>
using source = expr::kernel::broadcast_source<S>;
template <class S>
using sources = std::array<source<S>, 4>;  // g, a, b, o

template <class S>
inline constexpr source<S> unbound{nullptr, true};

template <class S, std::size_t R>
using fused_context = expr::kernel::context<operand_vars,
                                            ctgrad::detail::tuple<source<S>, source<S>, source<S>, source<S>>, S, R>;

// out[i] = E(g[i], a[i], b[i], o[i]) for i < n.
template <class E, class S>
void fused_assign(S* out, std::int64_t n, const sources<S>& src) {
    static_assert(expr::is_static_v<E>, "internal: a fused dynamic kernel must be a static expression");
    fused_context<S, 0> ctx{{src[0], src[1], src[2], src[3]}, {}, 0, static_cast<std::size_t>(n)};
    expr::executor<expr::exec::simd_t>::assign(expr::exec::simd, E{}, ctx, static_cast<std::size_t>(n), out);
}

// sum over i < n of E(g[i], a[i], b[i], o[i]), in the static layer's blocked SIMD sum.
template <class E, class S>
S fused_sum(std::int64_t n, const sources<S>& src) {
    static_assert(expr::is_static_v<E>, "internal: a fused dynamic kernel must be a static expression");
    using R = expr::reduction<expr::sum_op, E>;
    fused_context<S, 1> ctx{{src[0], src[1], src[2], src[3]}, {}, 0, static_cast<std::size_t>(n)};
    const auto total = expr::executor<expr::exec::simd_t>::template reduce<false, ctgrad::detail::type_list<>>(
        expr::exec::simd, R{}, ctx, static_cast<std::size_t>(n));
    return total.value[0];
}

}  // namespace CTGRAD_SIMD_ABI
}  // namespace ctgrad::detail
