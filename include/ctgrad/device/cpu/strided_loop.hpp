#pragma once
// Visiting every element of N operands that share one logical shape but have their own strides
// (views, broadcasts with stride 0): an odometer over the outer dims and a plain loop over the
// innermost one. The CPU kernels' general path; contiguous operands go through the fused SIMD
// loops.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ctgrad::detail {

// Calls f(offsets) for every index of the shape sizes[0..rank) in row-major order, where
// offsets[k] is the element offset of operand k (the sum of index * strides[k][d]).
template <std::size_t N, class F>
void strided_loop(std::size_t rank, const std::int64_t* sizes, const std::array<const std::int64_t*, N>& strides,
                  F&& f) {
    std::array<std::int64_t, N> offsets{};
    for (std::size_t d = 0; d < rank; ++d)
        if (sizes[d] == 0) return;
    if (rank == 0) {
        f(offsets);
        return;
    }
    const std::int64_t inner = sizes[rank - 1];
    std::array<std::int64_t, N> inner_stride;
    for (std::size_t k = 0; k < N; ++k) inner_stride[k] = strides[k][rank - 1];
    // The odometer lives on the stack up to 16 dims: this loop also runs for one-element
    // tensors, where a heap allocation would cost more than the work.
    constexpr std::size_t stack_rank = 16;
    std::int64_t stack_index[stack_rank] = {};
    std::vector<std::int64_t> heap_index(rank > stack_rank ? rank : 0, 0);
    std::int64_t* index = rank > stack_rank ? heap_index.data() : stack_index;
    while (true) {
        std::array<std::int64_t, N> o = offsets;
        for (std::int64_t i = 0; i < inner; ++i) {
            f(o);
            for (std::size_t k = 0; k < N; ++k) o[k] += inner_stride[k];
        }
        // Advance the odometer over the outer dims.
        std::size_t d = rank - 1;
        while (true) {
            if (d == 0) return;
            --d;
            ++index[d];
            for (std::size_t k = 0; k < N; ++k) offsets[k] += strides[k][d];
            if (index[d] < sizes[d]) break;
            for (std::size_t k = 0; k < N; ++k) offsets[k] -= strides[k][d] * sizes[d];
            index[d] = 0;
        }
    }
}

}  // namespace ctgrad::detail
