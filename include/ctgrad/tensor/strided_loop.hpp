#pragma once
// Visiting every element of N operands that share one logical shape but have their own strides
// (views, broadcasts with stride 0): an odometer over the outer dims and a plain loop over the
// innermost one. The slow general path; contiguous operands go through the fused SIMD loops.
#include <array>
#include <cstdint>
#include <vector>

#include "int_array_ref.hpp"

namespace ctgrad::detail {

// Calls f(offsets) for every index of `sizes` in row-major order, where offsets[k] is the
// element offset of operand k (sum of index * strides[k]).
template <std::size_t N, class F>
void strided_loop(IntArrayRef sizes, const std::array<std::vector<std::int64_t>, N>& strides, F&& f) {
    const std::size_t rank = sizes.size();
    std::array<std::int64_t, N> offsets{};
    for (auto s : sizes)
        if (s == 0) return;
    if (rank == 0) {
        f(offsets);
        return;
    }
    const std::int64_t inner = sizes[rank - 1];
    std::array<std::int64_t, N> inner_stride;
    for (std::size_t k = 0; k < N; ++k) inner_stride[k] = strides[k][rank - 1];
    std::vector<std::int64_t> index(rank, 0);
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
