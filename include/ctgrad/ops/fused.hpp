#pragma once
// Tensors as operands of the CPU's fused loops (device/cpu/fused_loops.hpp), for the code that
// runs them directly: fuse(), which compiles a loop per user expression.
#include <array>
#include <cstdint>

#include "../device/cpu/fused_loops.hpp"
#include "../tensor/tensor.hpp"

namespace ctgrad::detail {

// How tensor t can be read by a fused loop over n elements: contiguous with n elements, or one
// value seen at every index (a single element, or an expansion with all strides 0). Returns
// false when neither holds (the caller then materialises it).
template <class S>
bool as_source(const Tensor& t, std::int64_t n, source<S>& out) {
    const TensorImpl& impl = *t.unsafeGetTensorImpl();
    const S* data = reinterpret_cast<const S*>(impl.data());
    if (impl.numel() == 1) {
        out = {data, true};
        return true;
    }
    if (impl.numel() != n) return false;
    bool all_zero = true;
    for (auto s : impl.strides) all_zero = all_zero && s == 0;
    if (all_zero) {
        out = {data, true};
        return true;
    }
    if (!impl.is_contiguous()) return false;
    out = {data, false};
    return true;
}

}  // namespace ctgrad::detail
