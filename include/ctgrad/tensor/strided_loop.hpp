#pragma once
// strided_loop over a tensor's sizes and per-operand stride vectors: the CPU kernels' odometer
// (device/cpu/strided_loop.hpp) spelled with the dynamic layer's containers.
#include <array>
#include <cstdint>
#include <vector>

#include "../device/cpu/strided_loop.hpp"
#include "int_array_ref.hpp"

namespace ctgrad::detail {

// Calls f(offsets) for every index of `sizes` in row-major order, where offsets[k] is the
// element offset of operand k (sum of index * strides[k]).
template <std::size_t N, class F>
void strided_loop(IntArrayRef sizes, const std::array<std::vector<std::int64_t>, N>& strides, F&& f) {
    std::array<const std::int64_t*, N> per_operand;
    for (std::size_t k = 0; k < N; ++k) per_operand[k] = strides[k].data();
    strided_loop<N>(sizes.size(), sizes.data(), per_operand, f);
}

}  // namespace ctgrad::detail
