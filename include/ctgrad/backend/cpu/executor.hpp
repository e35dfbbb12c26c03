#pragma once
// The CPU backend: one loop over xsimd batches with a scalar tail (exec::simd), or a scalar loop
// (exec::scalar). Sums run in blocks: each block starts its SIMD accumulators at zero and is added
// to the total afterwards, which keeps float32 sums of millions of terms accurate at no cost.
#include <algorithm>
#include <cstdint>
#include <xtensor/xarray.hpp>

#include "../../expr/binding.hpp"
#include "../../expr/kernel.hpp"
#include "../../expr/executor.hpp"
#include "math.hpp"

namespace ctgrad::expr {

namespace cpu {
inline namespace CTGRAD_SIMD_ABI {

template <class Tag, class S>
using lane_t = std::conditional_t<std::is_same_v<Tag, exec::simd_t>, xsimd::batch<S>, S>;

inline constexpr std::size_t block_size = 4096;

template <class Tag>
struct executor_base {
    static constexpr bool known = true;
    static constexpr memory_space space = memory_space::host;

    template <class S>
    static xt::xarray<S> make_array(const shape_t& shape) {
        return xt::xarray<S>::from_shape(std::vector<std::size_t>(shape.dims, shape.dims + shape.rank));
    }

    // The first index from which `address + index` is aligned to W elements (0 when W is 1 or
    // the address is not a whole number of elements away from a boundary).
    template <class S, std::size_t W>
    static std::size_t aligned_start(const void* address, std::size_t n) {
        constexpr std::size_t alignment = W * sizeof(S);
        const std::size_t offset = reinterpret_cast<std::uintptr_t>(address) % alignment;
        if (W == 1 || address == nullptr || offset == 0 || offset % sizeof(S) != 0) return 0;
        return std::min(n, (alignment - offset) / sizeof(S));
    }

    template <bool Grad, class Targets, class E, class Ctx>
    static auto reduce(const Tag&, const E& e, Ctx ctx, std::size_t n) {
        using S = typename Ctx::scalar_type;
        using B = lane_t<Tag, S>;
        constexpr std::size_t R = static_cast<std::size_t>(reduction_count_v<E>);
        constexpr std::size_t W = static_cast<std::size_t>(math<B>::width);
        kernel::totals<S, R, Targets::size> total;
        kernel::set_zero(total);
        // A few scalar steps first, until the first array sits on a batch boundary: a batch load
        // that straddles two cache lines costs more than the steps (std::vector's data starts
        // 16 bytes into a page; aligning took the cubic fit at N = 1e7 from 2.7 to 1.5 ms).
        const std::size_t start = aligned_start<S, W>(kernel::first_array_address(ctx), n);
        for (std::size_t i = 0; i < start; ++i) {
            ctx.index = i;
            kernel::accumulate<S, 0, Targets, Grad>(e, ctx, total);
        }
        for (std::size_t begin = start; begin < n; begin += block_size) {
            const std::size_t end = std::min(n, begin + block_size);
            kernel::totals<B, R, Targets::size> block;
            kernel::set_zero(block);
            std::size_t i = begin;
            for (; i + W <= end; i += W) {
                ctx.index = i;
                kernel::accumulate<B, 0, Targets, Grad>(e, ctx, block);
            }
            kernel::add_into(total, block);
            if constexpr (W > 1) {
                kernel::totals<S, R, Targets::size> tail;
                kernel::set_zero(tail);
                for (; i < end; ++i) {
                    ctx.index = i;
                    kernel::accumulate<S, 0, Targets, Grad>(e, ctx, tail);
                }
                kernel::add_into(total, tail);
            }
        }
        return total;
    }

    template <class E, class Ctx, class S>
    static void assign(const Tag&, const E& e, Ctx ctx, std::size_t n, S* out) {
        using B = lane_t<Tag, S>;
        constexpr std::size_t W = static_cast<std::size_t>(math<B>::width);
        std::size_t i = 0;
        for (; i + W <= n; i += W) {
            ctx.index = i;
            math<B>::store(out + i, kernel::evaluate<B, 0>(e, ctx));
        }
        for (; i < n; ++i) {
            ctx.index = i;
            out[i] = kernel::evaluate<S, 0>(e, ctx);
        }
    }

    template <class Targets, class E, class Ctx, class S, std::size_t R, std::size_t M>
    static void scatter(const Tag&, const E& e, Ctx ctx, std::size_t n, const ctgrad::detail::array<S, R>& adjoints,
                        const ctgrad::detail::array<S*, M>& outs) {
        using B = lane_t<Tag, S>;
        constexpr std::size_t W = static_cast<std::size_t>(math<B>::width);
        auto step = [&]<class T>(T, std::size_t i) {
            ctx.index = i;
            kernel::sink<T, M, 0> g;
            kernel::set_zero(g);
            kernel::scatter<T, 0, Targets>(e, ctx, adjoints, g);
            for (std::size_t j = 0; j < M; ++j) math<T>::store(outs[j] + i, g.partial[j]);
        };
        std::size_t i = 0;
        for (; i + W <= n; i += W) step(B{}, i);
        for (; i < n; ++i) step(S{}, i);
    }
};

}  // namespace CTGRAD_SIMD_ABI
}  // namespace cpu

template <>
struct executor<exec::simd_t> : cpu::executor_base<exec::simd_t> {};
template <>
struct executor<exec::scalar_t> : cpu::executor_base<exec::scalar_t> {};

}  // namespace ctgrad::expr
