#pragma once
// Visiting every element of N operands that share one logical shape but have their own strides
// (views, broadcasts with stride 0): an odometer over the outer dims and a plain loop over the
// innermost one. The CPU kernels' general path; contiguous operands go through the fused SIMD
// loops.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../../core/config.hpp"

namespace ctgrad::detail {
inline namespace CTGRAD_SIMD_ABI {

// The odometer over the outer dims as given: row(offsets, count, steps) for every row of the
// innermost dim (`count` elements, operand k's at offsets[k] + i * steps[k]).
template <std::size_t N, class Row>
void strided_rows_as_given(std::size_t rank, const std::int64_t* sizes,
                           const std::array<const std::int64_t*, N>& strides, Row&& row) {
    std::array<std::int64_t, N> offsets{};
    if (rank == 0) {
        row(offsets, std::int64_t(1), offsets);
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
        row(offsets, inner, inner_stride);
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

// row(offsets, count, steps) for every row of the shape sizes[0..rank) in row-major order, as
// above. Dims of size 1 are dropped and neighbours that every operand steps through as one are
// merged first, so that rows are as long as the layouts allow (a [2000, 1] column is one row
// of 2000, not 2000 turns of the odometer). Nothing is called for a shape with no elements.
template <std::size_t N, class Row>
void strided_rows(std::size_t rank, const std::int64_t* sizes, const std::array<const std::int64_t*, N>& strides,
                  Row&& row) {
    for (std::size_t d = 0; d < rank; ++d)
        if (sizes[d] == 0) return;
    constexpr std::size_t merged_rank = 32;
    if (rank > merged_rank) return strided_rows_as_given<N>(rank, sizes, strides, row);
    std::int64_t merged_sizes[merged_rank];
    std::int64_t merged_strides[N][merged_rank];
    std::size_t r = 0;
    for (std::size_t d = 0; d < rank; ++d) {
        if (sizes[d] == 1) continue;
        bool joins = r > 0;
        for (std::size_t k = 0; k < N && joins; ++k) joins = merged_strides[k][r - 1] == strides[k][d] * sizes[d];
        if (joins) {
            merged_sizes[r - 1] *= sizes[d];
            for (std::size_t k = 0; k < N; ++k) merged_strides[k][r - 1] = strides[k][d];
            continue;
        }
        merged_sizes[r] = sizes[d];
        for (std::size_t k = 0; k < N; ++k) merged_strides[k][r] = strides[k][d];
        ++r;
    }
    std::array<const std::int64_t*, N> per_operand;
    for (std::size_t k = 0; k < N; ++k) per_operand[k] = merged_strides[k];
    strided_rows_as_given<N>(r, merged_sizes, per_operand, row);
}

// f(offsets) for every index of the shape sizes[0..rank) in row-major order, where offsets[k]
// is the element offset of operand k (the sum of index * strides[k][d]).
template <std::size_t N, class F>
void strided_loop(std::size_t rank, const std::int64_t* sizes, const std::array<const std::int64_t*, N>& strides,
                  F&& f) {
    strided_rows<N>(rank, sizes, strides,
                    [&](std::array<std::int64_t, N> o, std::int64_t count, const std::array<std::int64_t, N>& steps) {
                        for (std::int64_t i = 0; i < count; ++i) {
                            f(o);
                            for (std::size_t k = 0; k < N; ++k) o[k] += steps[k];
                        }
                    });
}

}  // namespace CTGRAD_SIMD_ABI
}  // namespace ctgrad::detail
