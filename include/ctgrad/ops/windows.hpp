#pragma once
// Sliding windows over the last two dims of [N, C, H, W]: the view that im2col and pooling
// read, and its adjoint. A window is a strided view of the input, no copy:
//
//   windows(x)[n, c, i, j, p, q] = x[n, c, i * sH + p * dH, j * sW + q * dW]
//   sizes [N, C, oH, oW, kH, kW], strides (sN, sC, sH * strideH, sW * strideW, sH * dilH, sW * dilW)
//
// so a convolution is this view reshaped (one copy: the columns) and a matrix product, and a
// pooling a reduction over its last two dims. The view's adjoint, fold_windows, adds each
// window's elements back to where they came from (the device's accumulate, which adds up the
// places overlapping windows share): the gradient of the view, and the col2im of a
// convolution's backward. Both are recorded in the graph (AsStridedBackward0 /
// AsStridedScatterBackward0, each the other's backward), so what is built from them is
// differentiable any number of times. Written once on the view machinery of ops/views.hpp:
// every device runs them with its copy and accumulate kernels.
#include <cstdint>
#include <vector>

#include "../tensor/functions.hpp"
#include "views.hpp"

namespace ctgrad::detail {

// Kernel, stride and dilation along H and W, and the number of windows along each.
struct window_geometry {
    std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
    std::int64_t out_h = 0, out_w = 0;
};

// The windows of a [N, C, H, W] layout (any strides, any offset).
inline layout window_layout(const layout& l, const window_geometry& g) {
    return layout{{l.sizes[0], l.sizes[1], g.out_h, g.out_w, g.kernel_h, g.kernel_w},
                  {l.strides[0], l.strides[1], l.strides[2] * g.stride_h, l.strides[3] * g.stride_w,
                   l.strides[2] * g.dilation_h, l.strides[3] * g.dilation_w},
                  l.offset};
}

// The view [N, C, oH, oW, kH, kW] of x [N, C, H, W]; every window lies inside x.
inline Tensor windows(const Tensor& x, const window_geometry& g) {
    return make_view(x, [&](const layout& l) { return window_layout(l, g); }, "AsStridedBackward0");
}

// zeros(sizes) ([N, C, H, W]) with each element of w ([N, C, oH, oW, kH, kW], any strides)
// added at the place windows() reads it from.
inline Tensor fold_windows(const Tensor& w, IntArrayRef sizes, const window_geometry& g) {
    const std::vector<std::int64_t> s = sizes.vec();
    return view_scatter(w, sizes, window_layout(layout{s, contiguous_strides(s), 0}, g));
}

// The same, from w in kernel-major order ([N, C, kH, kW, oH, oW], any strides): col2im's order,
// whose innermost loop runs along an output row (long and contiguous in a convolution's
// columns) instead of along a kernel row of a few elements; each input element then adds its
// windows' contributions kernel position by kernel position, as ATen's col2im does.
inline Tensor fold_windows_kernel_major(const Tensor& w, IntArrayRef sizes, const window_geometry& g) {
    const std::vector<std::int64_t> s = sizes.vec();
    const layout windows_of = window_layout(layout{s, contiguous_strides(s), 0}, g);
    const std::vector<std::int64_t> order{0, 1, 4, 5, 2, 3};
    layout kernel_major{std::vector<std::int64_t>(6), std::vector<std::int64_t>(6), windows_of.offset};
    for (std::size_t d = 0; d < 6; ++d) {
        kernel_major.sizes[d] = windows_of.sizes[static_cast<std::size_t>(order[d])];
        kernel_major.strides[d] = windows_of.strides[static_cast<std::size_t>(order[d])];
    }
    return view_scatter(w, sizes, kernel_major);
}

}  // namespace ctgrad::detail
