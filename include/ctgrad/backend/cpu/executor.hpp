#pragma once
// The CPU backend: one loop over xsimd batches with a scalar tail (exec::simd), or a scalar loop
// (exec::scalar). Sums run in blocks: each block starts its SIMD accumulators at zero and is added
// to the total afterwards, which keeps float32 sums of millions of terms accurate at no cost.
// Above core/parallel.hpp's grain the blocks are shared among threads; block sums are still
// added in block order, so results do not depend on the number of threads.
#include <algorithm>
#include <cstdint>
#include <xtensor/xarray.hpp>

#include "../../core/parallel.hpp"

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
// Block sums are gathered into at most this many part sums (see reduce).
inline constexpr std::size_t max_parts = 128;

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

    // The pass that sums the reductions of depth Pass; writer (kernel::gradient_writer) also
    // writes per-element gradients in the same loop.
    template <bool Grad, class Targets, int Pass = 1, class E, class Ctx, class Writer = kernel::no_writes>
    static auto reduce(const Tag&, const E& e_in, Ctx ctx, std::size_t n, const Writer& writer_in = {}) {
        using S = typename Ctx::scalar_type;
        // With a gradient writer, local copies: a loop that stores could otherwise alias the
        // expression's run-time numbers and reload them at every element. Without one, the
        // references (a copy made the dynamic layer's sum of three elements 25% slower).
        constexpr bool writes = !std::is_same_v<Writer, kernel::no_writes>;
        std::conditional_t<writes, const E, const E&> e = e_in;
        std::conditional_t<writes, const Writer, const Writer&> writer = writer_in;
        using B = lane_t<Tag, S>;
        using totals_t = kernel::totals_for<S, E, Targets>;
        constexpr std::size_t W = static_cast<std::size_t>(math<B>::width);
        totals_t total;
        kernel::set_zero(total);
        // A few scalar steps first, until the first array sits on a batch boundary: a batch load
        // that straddles two cache lines costs more than the steps (std::vector's data starts
        // 16 bytes into a page; aligning took the cubic fit at N = 1e7 from 2.7 to 1.5 ms).
        const std::size_t start = aligned_start<S, W>(kernel::first_array_address(ctx), n);
        for (std::size_t i = 0; i < start; ++i) {
            ctx.index = i;
            kernel::accumulate_step<S, Targets, Grad, Pass>(e, ctx, total, writer);
        }
        using lanes_t = kernel::totals_for<B, E, Targets>;
        const std::size_t blocks = (n - start + block_size - 1) / block_size;
        constexpr std::size_t grain_blocks = std::max<std::size_t>(1, ctgrad::detail::parallel_grain / block_size);
        if (blocks < 2 * grain_blocks) {
            // Too little work for threads at any thread count: one loop, each block's lanes and
            // tail added straight into the total (the seeds' sizes live here).
            for (std::size_t begin = start; begin < n; begin += block_size) {
                const std::size_t end = std::min(n, begin + block_size);
                lanes_t lanes;
                kernel::set_zero(lanes);
                std::size_t i = begin;
                for (; i + W <= end; i += W) {
                    ctx.index = i;
                    kernel::accumulate_step<B, Targets, Grad, Pass>(e, ctx, lanes, writer);
                }
                kernel::add_into(total, lanes);
                if constexpr (W > 1) {
                    totals_t tail;
                    kernel::set_zero(tail);
                    for (; i < end; ++i) {
                        ctx.index = i;
                        kernel::accumulate_step<S, Targets, Grad, Pass>(e, ctx, tail, writer);
                    }
                    kernel::add_into(total, tail);
                }
            }
            return total;
        }
        return reduce_in_parts<Grad, Targets, Pass>(e, ctx, n, start, blocks, total, writer);
    }

    // reduce's sum of its `blocks` blocks when they are enough for threads to share. Out of line,
    // so that reduce stays small enough to be inlined into its callers: with this path inside it,
    // the dynamic layer's sum of three elements took 13% longer.
    template <bool Grad, class Targets, int Pass, class E, class Ctx, class Totals, class Writer>
    [[gnu::noinline]] static Totals reduce_in_parts(const E& e, Ctx ctx, std::size_t n, std::size_t start, std::size_t blocks,
                                  Totals total, const Writer& writer) {
        using S = typename Ctx::scalar_type;
        using B = lane_t<Tag, S>;
        using totals_t = Totals;
        using lanes_t = kernel::totals_for<B, E, Targets>;
        constexpr std::size_t W = static_cast<std::size_t>(math<B>::width);
        constexpr std::size_t grain_blocks = std::max<std::size_t>(1, ctgrad::detail::parallel_grain / block_size);
        // Blocks are summed apart, then added in order: consecutive blocks into at most
        // max_parts part sums (kept on the stack: evaluation allocates nothing), and the part
        // sums into the total. How blocks fall into parts depends on n alone, so one thread or
        // many add the same numbers in the same order (core/parallel.hpp).
        const std::size_t blocks_per_part = std::max<std::size_t>(1, (blocks + max_parts - 1) / max_parts);
        const std::size_t parts = (blocks + blocks_per_part - 1) / blocks_per_part;
        const auto grain = static_cast<std::int64_t>(std::max<std::size_t>(1, grain_blocks / blocks_per_part));
        // The sum of the blocks [first, last): each block's SIMD lanes, then its scalar tail.
        auto blocks_total = [&e_in = e, &writer_in = writer, n, start](Ctx at, std::size_t first, std::size_t last) {
            const E e = e_in;  // local copies, as in reduce
            const Writer writer = writer_in;
            totals_t sum{};
            kernel::set_zero(sum);
            for (std::size_t b = first; b < last; ++b) {
                const std::size_t end = std::min(n, start + (b + 1) * block_size);
                lanes_t lanes;
                kernel::set_zero(lanes);
                std::size_t i = start + b * block_size;
                for (; i + W <= end; i += W) {
                    at.index = i;
                    kernel::accumulate_step<B, Targets, Grad, Pass>(e, at, lanes, writer);
                }
                kernel::add_into(sum, lanes);
                for (; i < end; ++i) {
                    at.index = i;
                    kernel::accumulate_step<S, Targets, Grad, Pass>(e, at, sum, writer);
                }
            }
            return sum;
        };
        auto part_total = [&](Ctx at, std::size_t p) {
            return blocks_total(at, p * blocks_per_part, std::min(blocks, (p + 1) * blocks_per_part));
        };
        if (ctgrad::detail::threads_for(static_cast<std::int64_t>(parts), grain) <= 1) {
            for (std::size_t p = 0; p < parts; ++p) kernel::add_into(total, part_total(ctx, p));
            return total;
        }
        totals_t part_sums[max_parts]{};
        ctgrad::detail::parallel_for(static_cast<std::int64_t>(parts), grain, [&](std::int64_t p0, std::int64_t p1) {
            for (auto p = static_cast<std::size_t>(p0); p < static_cast<std::size_t>(p1); ++p) part_sums[p] = part_total(ctx, p);
        });
        for (std::size_t p = 0; p < parts; ++p) kernel::add_into(total, part_sums[p]);
        return total;
    }

    template <class E, class Ctx, class S>
    static void assign(const Tag&, const E& e_in, Ctx ctx, std::size_t n, S* out) {
        using B = lane_t<Tag, S>;
        constexpr std::size_t W = static_cast<std::size_t>(math<B>::width);
        // Whole blocks to each thread; only the last block has a scalar tail.
        ctgrad::detail::parallel_for_blocks(static_cast<std::int64_t>(n), block_size, [&](std::int64_t first, std::int64_t last) {
            Ctx at = ctx;
            const E e = e_in;  // a local copy: the stores to out cannot alias its numbers
            auto i = static_cast<std::size_t>(first);
            const auto end = static_cast<std::size_t>(last);
            for (; i + W <= end; i += W) {
                at.index = i;
                math<B>::store(out + i, kernel::evaluate<B, 0>(e, at));
            }
            for (; i < end; ++i) {
                at.index = i;
                out[i] = kernel::evaluate<S, 0>(e, at);
            }
        });
    }

    template <class Targets, class E, class Ctx, class S, std::size_t R, std::size_t M>
    static void scatter(const Tag&, const E& e_in, Ctx ctx, std::size_t n, const ctgrad::detail::array<S, R>& adjoints_in,
                        const ctgrad::detail::array<S*, M>& outs_in) {
        using B = lane_t<Tag, S>;
        constexpr std::size_t W = static_cast<std::size_t>(math<B>::width);
        ctgrad::detail::parallel_for_blocks(static_cast<std::int64_t>(n), block_size, [&](std::int64_t first, std::int64_t last) {
            Ctx at = ctx;
            // Local copies: the stores to the gradients cannot alias them.
            const E e = e_in;
            const ctgrad::detail::array<S, R> adjoints = adjoints_in;
            const ctgrad::detail::array<S*, M> outs = outs_in;
            auto step = [&]<class T>(T, std::size_t i) {
                at.index = i;
                kernel::sink<T, M, 0> g;
                kernel::set_zero(g);
                kernel::scatter<T, 0, Targets>(e, at, adjoints, g);
                for (std::size_t j = 0; j < M; ++j) math<T>::store(outs[j] + i, g.partial[j]);
            };
            auto i = static_cast<std::size_t>(first);
            const auto end = static_cast<std::size_t>(last);
            for (; i + W <= end; i += W) step(B{}, i);
            for (; i < end; ++i) step(S{}, i);
        });
    }
};

}  // namespace CTGRAD_SIMD_ABI
}  // namespace cpu

template <>
struct executor<exec::simd_t> : cpu::executor_base<exec::simd_t> {};
template <>
struct executor<exec::scalar_t> : cpu::executor_base<exec::scalar_t> {};

}  // namespace ctgrad::expr
