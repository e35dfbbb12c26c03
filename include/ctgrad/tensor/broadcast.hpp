#pragma once
// PyTorch's broadcasting rule: shapes align at their last dims; a dim of size 1 (or a missing
// one) stretches to the other's size.
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "int_array_ref.hpp"

namespace ctgrad {

inline std::vector<std::int64_t> broadcast_shapes(IntArrayRef a, IntArrayRef b, const char* op) {
    const std::size_t rank = std::max(a.size(), b.size());
    std::vector<std::int64_t> out(rank);
    // From the last dim, so that the dim PyTorch names (the last that disagrees) is reported.
    for (std::size_t i = rank; i-- > 0;) {
        const std::int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const std::int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (da != db && da != 1 && db != 1)
            throw Error(std::string(op) + ": The size of tensor a (" + std::to_string(da) +
                        ") must match the size of tensor b (" + std::to_string(db) + ") at non-singleton dimension " +
                        std::to_string(i) + " (shapes " + shape_str(a) + " and " + shape_str(b) + ")");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

namespace detail {
// Strides that read a tensor of (sizes, strides) as if expanded to `target`: stride 0 where a
// dim is broadcast. The caller has checked that the shapes broadcast.
inline std::vector<std::int64_t> expanded_strides(IntArrayRef sizes, IntArrayRef strides, IntArrayRef target) {
    std::vector<std::int64_t> out(target.size(), 0);
    const std::size_t lead = target.size() - sizes.size();
    for (std::size_t i = 0; i < sizes.size(); ++i) out[lead + i] = sizes[i] == 1 ? 0 : strides[i];
    return out;
}
}  // namespace detail

}  // namespace ctgrad
