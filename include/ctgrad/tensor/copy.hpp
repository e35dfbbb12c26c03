#pragma once
// Element copies between tensors of any layout and dtype: the one primitive behind contiguous(),
// to(dtype), clone(), materialising broadcasts and copy_().
#include <cstring>

#include "broadcast.hpp"
#include "strided_loop.hpp"
#include "tensor.hpp"

namespace ctgrad::detail {

template <class To, class From>
inline To convert_element(From v) {
    if constexpr (std::is_same_v<To, bool>) return v != From(0);
    else return static_cast<To>(v);
}

// dst[i] = src[i] for every index of dst, src broadcast to dst's shape and converted to its dtype.
// Writes raw data only: no autograd, no version bump (callers decide).
inline void copy_elements(const TensorImpl& dst, const TensorImpl& src) {
    if (dst.numel() == 0) return;
    if (dst.sizes == src.sizes && dst.dtype == src.dtype && dst.is_contiguous() && src.is_contiguous()) {
        std::memmove(dst.data(), src.data(), static_cast<std::size_t>(dst.numel()) * element_size(dst.dtype));
        return;
    }
    std::array<std::vector<std::int64_t>, 2> strides{dst.strides, expanded_strides(src.sizes, src.strides, dst.sizes)};
    dispatch_dtype(dst.dtype, [&](auto dt) {
        using D = typename decltype(dt)::type;
        dispatch_dtype(src.dtype, [&](auto st) {
            using S = typename decltype(st)::type;
            D* out = reinterpret_cast<D*>(dst.data());
            const S* in = reinterpret_cast<const S*>(src.data());
            strided_loop<2>(dst.sizes, strides, [&](const std::array<std::int64_t, 2>& o) {
                out[o[0]] = convert_element<D>(in[o[1]]);
            });
        });
    });
}

// A contiguous copy of t's data in dtype `dtype` (no autograd).
inline Tensor contiguous_copy(const Tensor& t, ScalarType dtype) {
    Tensor out = make_empty(t.sizes(), dtype, t.device());
    copy_elements(*out.unsafeGetTensorImpl(), *t.unsafeGetTensorImpl());
    return out;
}

}  // namespace ctgrad::detail
