#pragma once
// max_pool2d(input, kernel_size, stride = {} (= kernel_size), padding = 0, dilation = 1,
// ceil_mode = false), max_pool2d_with_indices (the same, and the flat index h * W + w of each
// maximum in its input plane), and avg_pool2d(input, kernel_size, stride = {}, padding = 0,
// ceil_mode = false, count_include_pad = true, divisor_override = nullopt): PyTorch 1.13's ops
// on [N, C, H, W] or one [C, H, W] sample.
//
// Both read the sliding windows of the padded input (ops/windows.hpp: a strided view, no copy)
// and reduce over each window with existing ops, so every device runs them:
//  - max: the input padded with -inf (and, with ceil_mode, on the bottom and right as far as the
//    last window reaches), the windows copied to [N, C, kH * kW, oH, oW] and their max along
//    dim 2, which takes the first maximum of a window in row-major order as ATen's kernel does;
//    its flat index in the input plane gathered from a table of the windows' positions, where a
//    window whose maximum is -inf takes its first element inside the input, as ATen's;
//  - avg: the input padded with zeros, the sum over each window's two dims divided by ATen's
//    divisor (the window's size within the padded input with count_include_pad, its size within
//    the input without, or divisor_override).
//
// Backward, one node each with PyTorch's name, written with differentiable ops so that
// create_graph works:
//  - MaxPool2DWithIndicesBackward0: g added at each maximum's index in its input plane
//    (place_along, the device's scatter_add along each plane, which adds up what overlapping
//    windows share);
//  - AvgPool2DBackward0: g / divisor spread over each window (an expand), folded back the same way.
//
// Errors carry ATen's wording after the op's name and come before anything is computed.
//
// Deviation: a window holding several NaNs reports the first one's index (ATen's kernel the last).
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/device_data.hpp"
#include "../tensor/functions.hpp"
#include "minmax.hpp"
#include "pad.hpp"
#include "views.hpp"
#include "windows.hpp"

namespace ctgrad {

namespace detail::pooling {

struct params {
    window_geometry geometry;
    std::int64_t pad_h = 0, pad_w = 0;
    std::int64_t extra_h = 0, extra_w = 0;  // ceil_mode: more padding after the input, for the last window
    std::int64_t height = 0, width = 0;     // of the input
    bool batched = true;
};

// ATen's pooling_output_shape for one dim, with its checks.
inline std::int64_t output_size(std::int64_t in, std::int64_t kernel, std::int64_t pad, std::int64_t stride,
                                std::int64_t dilation, bool ceil_mode, const std::string& who) {
    if (stride == 0) throw Error(who + "stride should not be zero");
    if (pad < 0) throw Error(who + "pad must be non-negative, but got pad: " + std::to_string(pad));
    if (pad > kernel / 2)
        throw Error(who + "pad should be at most half of kernel size, but got pad=" + std::to_string(pad) +
                    " and kernel_size=" + std::to_string(kernel));
    const std::int64_t numerator = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
    // division rounding towards minus infinity (ATen's div_rtn)
    std::int64_t q = numerator / stride;
    if ((numerator % stride != 0) && ((numerator < 0) != (stride < 0))) --q;
    std::int64_t out = q + 1;
    // the last window must start inside the input or its left padding
    if (ceil_mode && (out - 1) * stride >= in + pad) --out;
    return out;
}

// The checks of ATen's max_pool2d_with_indices / avg_pool2d (their order), and the geometry.
inline params check(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                    IntArrayRef dilation, bool ceil_mode, const char* op, bool is_max) {
    check_defined(input, op, "input");
    const std::string who = std::string(op) + ": ";
    if (input.dim() != 3 && input.dim() != 4) throw Error(who + "non-empty 3D or 4D (batch mode) tensor expected for input");
    if (kernel_size.size() != 1 && kernel_size.size() != 2)
        throw Error(who + "kernel_size must either be a single int, or a tuple of two ints");
    if (!stride.empty() && stride.size() != 1 && stride.size() != 2)
        throw Error(who + "stride must either be omitted, a single int, or a tuple of two ints");
    if (padding.size() != 1 && padding.size() != 2)
        throw Error(who + (is_max ? "padding must be either be a single int, or a tuple of two ints"
                                 : "padding must either be a single int, or a tuple of two ints"));
    if (dilation.size() != 1 && dilation.size() != 2)
        throw Error(who + "dilation must be either a single int, or a tuple of two ints");
    const auto second = [](IntArrayRef a) { return a.size() == 2 ? a[1] : a[0]; };
    params p;
    window_geometry& g = p.geometry;
    g.kernel_h = kernel_size[0], g.kernel_w = second(kernel_size);
    g.stride_h = stride.empty() ? g.kernel_h : stride[0], g.stride_w = stride.empty() ? g.kernel_w : second(stride);
    g.dilation_h = dilation[0], g.dilation_w = second(dilation);
    p.pad_h = padding[0], p.pad_w = second(padding);
    p.batched = input.dim() == 4;
    p.height = input.size(-2), p.width = input.size(-1);
    const std::int64_t planes = input.size(-3);
    g.out_h = output_size(p.height, g.kernel_h, p.pad_h, g.stride_h, g.dilation_h, ceil_mode, who);
    g.out_w = output_size(p.width, g.kernel_w, p.pad_w, g.stride_w, g.dilation_w, ceil_mode, who);
    // ATen's pool2d_shape_check
    if (g.kernel_h <= 0 || g.kernel_w <= 0)
        throw Error(who + "kernel size should be greater than zero, but got kH: " + std::to_string(g.kernel_h) +
                    " kW: " + std::to_string(g.kernel_w));
    if (g.stride_h <= 0 || g.stride_w <= 0)
        throw Error(who + "stride should be greater than zero, but got dH: " + std::to_string(g.stride_h) +
                    " dW: " + std::to_string(g.stride_w));
    if (g.dilation_h <= 0 || g.dilation_w <= 0)
        throw Error(who + "dilation should be greater than zero, but got dilationH: " + std::to_string(g.dilation_h) +
                    " dilationW: " + std::to_string(g.dilation_w));
    bool valid_dims = input.size(-3) != 0 && input.size(-2) != 0 && input.size(-1) != 0;
    if (!valid_dims || (input.dim() == 3 && input.size(0) == 0))
        throw Error(who + "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:" +
                    shape_str(input.sizes()));
    if (g.out_h < 1 || g.out_w < 1)
        throw Error(who + "Given input size: (" + std::to_string(planes) + "x" + std::to_string(p.height) + "x" +
                    std::to_string(p.width) + "). Calculated output size: (" + std::to_string(planes) + "x" +
                    std::to_string(g.out_h) + "x" + std::to_string(g.out_w) + "). Output size is too small");
    if (!input.is_floating_point())
        throw Error(who + "\"" + op + "\" not implemented for '" + dtype_name(input.scalar_type()) +
                    "' (ctgrad pools float and double tensors)");
    const std::int64_t reach_h = (g.out_h - 1) * g.stride_h + g.dilation_h * (g.kernel_h - 1) + 1;
    const std::int64_t reach_w = (g.out_w - 1) * g.stride_w + g.dilation_w * (g.kernel_w - 1) + 1;
    p.extra_h = std::max<std::int64_t>(0, reach_h - (p.height + 2 * p.pad_h));
    p.extra_w = std::max<std::int64_t>(0, reach_w - (p.width + 2 * p.pad_w));
    return p;
}

inline std::vector<std::int64_t> pads(const params& p) { return {p.pad_w, p.pad_w + p.extra_w, p.pad_h, p.pad_h + p.extra_h}; }
inline std::vector<std::int64_t> crops(const params& p) {
    return {-p.pad_w, -(p.pad_w + p.extra_w), -p.pad_h, -(p.pad_h + p.extra_h)};
}
// t as a tensor of its own: the same elements, not a view (so in-place ops treat it as one).
inline Tensor unaliased(const Tensor& t) {
    const TensorImpl& s = *t.unsafeGetTensorImpl();
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = s.storage;
    impl->sizes = s.sizes;
    impl->strides = s.strides;
    impl->offset = s.offset;
    impl->dtype = s.dtype;
    return Tensor(std::move(impl));
}

inline bool has_padding(const params& p) { return p.pad_h + p.pad_w + p.extra_h + p.extra_w != 0; }

// x [N, C, H, W] padded with `value` as the windows need.
inline Tensor padded(const Tensor& x, const params& p, double value) {
    return has_padding(p) ? constant_pad_nd(x, pads(p), value) : x;
}

// grad [N, C, oH, oW, kH, kW] of the windows of the padded input, as the gradient of the input.
inline Tensor unfold_gradient(const Tensor& per_window, const params& p) {
    const std::vector<std::int64_t> padded_sizes{per_window.size(0), per_window.size(1),
                                                 p.height + 2 * p.pad_h + p.extra_h, p.width + 2 * p.pad_w + p.extra_w};
    const Tensor folded = fold_windows(per_window, padded_sizes, p.geometry);
    return has_padding(p) ? constant_pad_nd(folded, crops(p), 0) : folded;
}

// Per output position (i, j) and window element k = r * kW + c: the element's flat index
// h * W + w in the input plane. An element in the padding maps to the window's first element
// inside the input, the one ATen's kernel reports for a window whose maximum is -inf. With
// dilation a window can hold no element of the input at all: its entries are then -1, the
// index reported for it, and its gradient goes nowhere (ATen reports a position outside the
// plane there). [oH * oW, kH * kW], host.
inline Tensor plane_positions(const params& p) {
    const window_geometry& g = p.geometry;
    const std::int64_t kk = g.kernel_h * g.kernel_w;
    Tensor t = make_empty({g.out_h * g.out_w, kk}, kLong);
    std::int64_t* out = t.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < g.out_h; ++i)
        for (std::int64_t j = 0; j < g.out_w; ++j, out += kk) {
            std::int64_t first_inside = -1;
            for (std::int64_t r = 0; r < g.kernel_h; ++r)
                for (std::int64_t c = 0; c < g.kernel_w; ++c) {
                    const std::int64_t h = i * g.stride_h - p.pad_h + r * g.dilation_h;
                    const std::int64_t w = j * g.stride_w - p.pad_w + c * g.dilation_w;
                    const bool inside = h >= 0 && h < p.height && w >= 0 && w < p.width;
                    out[r * g.kernel_w + c] = inside ? h * p.width + w : -1;
                    if (inside && first_inside < 0) first_inside = h * p.width + w;
                }
            for (std::int64_t k = 0; k < kk; ++k)
                if (out[k] < 0) out[k] = first_inside;
        }
    return t;
}

// The gradient of max_pool2d: g [N, C, oH, oW] added at each window's maximum, indices [N, C,
// oH, oW] (flat in the input plane), with the device's scatter_add along each plane, so that
// windows that overlap add up. Written with a differentiable op (place_along), so that
// create_graph works.
struct MaxPool2DWithIndicesBackward final : autograd::Node {
    Tensor indices;  // [planes, oH * oW]
    params p;
    std::string name() const override { return "MaxPool2DWithIndicesBackward0"; }
    variable_list apply(variable_list&& grads) override {
        const std::int64_t planes = indices.size(0);
        const Tensor g = grads[0].reshape({planes, indices.size(1)});
        const Tensor gx = place_along(g, indices, 1, {planes, p.height * p.width});
        std::vector<std::int64_t> input_sizes = grads[0].sizes().vec();
        input_sizes[input_sizes.size() - 2] = p.height;
        input_sizes[input_sizes.size() - 1] = p.width;
        return {gx.view(input_sizes)};
    }
};

inline std::tuple<Tensor, Tensor> max_pool(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                                           IntArrayRef padding, IntArrayRef dilation, bool ceil_mode, const char* op) {
    const params p = check(input, kernel_size, stride, padding, dilation, ceil_mode, op, true);
    const window_geometry& g = p.geometry;
    const std::int64_t kk = g.kernel_h * g.kernel_w, windows_per_plane = g.out_h * g.out_w;
    Tensor values, indices;
    {
        NoGradGuard no_grad;
        const Tensor x = p.batched ? input : input.unsqueeze(0);
        const std::int64_t planes = x.size(0) * x.size(1);
        // The windows copied kernel-major, [N, C, kH * kW, oH, oW]: the copy runs along output
        // rows, and the max over dim 2 compares whole rows of windows at a time.
        const std::vector<std::int64_t> flat{x.size(0), x.size(1), kk, g.out_h, g.out_w};
        const Tensor win = windows(padded(x, p, -std::numeric_limits<double>::infinity()), g)
                               .permute({0, 1, 4, 5, 2, 3})
                               .reshape(flat);
        auto [v, k] = win.max(2);  // k: the window element each maximum is, [N, C, oH, oW]
        // Its flat index in the input plane: the positions table gathered along each window,
        // with the planes as the gather's columns ([oH * oW, planes]), then back to [planes, oH * oW].
        const Tensor positions = contiguous_copy_on(plane_positions(p), x.device());
        const Tensor per_window = k.reshape({planes, windows_per_plane}).t();
        const Tensor at = take_along(positions, per_window, 1);
        indices = contiguous_copy_on(at.t(), x.device());
        values = v;
        if (!p.batched) values = values.squeeze(0);
        std::vector<std::int64_t> out_sizes = values.sizes().vec();
        indices = indices.view(out_sizes);
        values = unaliased(values);
        indices = unaliased(indices);
    }
    if (autograd::compute_requires_grad({&input})) {
        auto node = autograd::record<MaxPool2DWithIndicesBackward>(values, {&input});
        node->indices = indices.reshape({-1, windows_per_plane});
        node->p = p;
    }
    return {values, indices};
}

struct AvgPool2DBackward final : autograd::Node {
    Tensor divisor;  // [oH, oW]
    params p;
    std::string name() const override { return "AvgPool2DBackward0"; }
    variable_list apply(variable_list&& grads) override {
        const Tensor g = (p.batched ? grads[0] : grads[0].unsqueeze(0)) / divisor;
        const window_geometry& geo = p.geometry;
        const Tensor spread = g.unsqueeze(4).unsqueeze(5).expand(
            {g.size(0), g.size(1), geo.out_h, geo.out_w, geo.kernel_h, geo.kernel_w});
        const Tensor gx = unfold_gradient(spread, p);
        return {p.batched ? gx : gx.squeeze(0)};
    }
};

// ATen's divisor of each output position, [oH, oW] of `dtype` on the host.
inline Tensor avg_divisor(const params& p, bool count_include_pad, std::optional<std::int64_t> divisor_override,
                          ScalarType dtype) {
    const window_geometry& g = p.geometry;
    Tensor t = make_empty({g.out_h, g.out_w}, kDouble);
    double* out = t.data_ptr<double>();
    for (std::int64_t i = 0; i < g.out_h; ++i)
        for (std::int64_t j = 0; j < g.out_w; ++j) {
            std::int64_t h0 = i * g.stride_h - p.pad_h, w0 = j * g.stride_w - p.pad_w;
            std::int64_t h1 = std::min(h0 + g.kernel_h, p.height + p.pad_h), w1 = std::min(w0 + g.kernel_w, p.width + p.pad_w);
            const std::int64_t pool_size = (h1 - h0) * (w1 - w0);
            h0 = std::max<std::int64_t>(h0, 0), w0 = std::max<std::int64_t>(w0, 0);
            h1 = std::min(h1, p.height), w1 = std::min(w1, p.width);
            const std::int64_t d = divisor_override ? *divisor_override
                                   : count_include_pad ? pool_size
                                                       : (h1 - h0) * (w1 - w0);
            *out++ = static_cast<double>(d);
        }
    return dtype == kDouble ? t : contiguous_copy(t, dtype);
}

inline Tensor avg_pool(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                       bool ceil_mode, bool count_include_pad, std::optional<std::int64_t> divisor_override) {
    constexpr const char* op = "avg_pool2d";
    check_defined(input, op, "input");
    // ATen checks the divisor before the shapes
    if (divisor_override && *divisor_override == 0) throw Error(std::string(op) + ": divisor must be not zero");
    const params p = check(input, kernel_size, stride, padding, 1, ceil_mode, op, false);
    const window_geometry& g = p.geometry;
    Tensor out, divisor;
    {
        NoGradGuard no_grad;
        const Tensor x = p.batched ? input : input.unsqueeze(0);
        divisor = contiguous_copy_on(avg_divisor(p, count_include_pad, divisor_override, x.scalar_type()), x.device());
        out = windows(padded(x, p, 0), g).sum({4, 5}) / divisor;
        if (!p.batched) out = unaliased(out.squeeze(0));
    }
    if (autograd::compute_requires_grad({&input})) {
        auto node = autograd::record<AvgPool2DBackward>(out, {&input});
        node->divisor = divisor;
        node->p = p;
    }
    return out;
}

}  // namespace detail::pooling

CTGRAD_API std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                              IntArrayRef stride, IntArrayRef padding,
                                                              IntArrayRef dilation, bool ceil_mode) {
    return detail::pooling::max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d_with_indices");
}

CTGRAD_API Tensor max_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                             IntArrayRef dilation, bool ceil_mode) {
    return std::get<0>(detail::pooling::max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d"));
}

CTGRAD_API Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                             bool ceil_mode, bool count_include_pad, std::optional<std::int64_t> divisor_override) {
    return detail::pooling::avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override);
}

}  // namespace ctgrad
