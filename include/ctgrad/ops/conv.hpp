#pragma once
// conv2d(input, weight, bias = {}, stride = 1, padding = 0, dilation = 1, groups = 1), PyTorch
// 1.13's op: input [N, C, H, W] (or one [C, H, W] sample), weight [O, C / groups, kH, kW], bias
// [O]; stride, padding and dilation one number or an {h, w} pair.
//
// Forward, im2col and one matrix product per group, built from existing ops so that every
// device runs it: the input is zero-padded (constant_pad_nd), its sliding windows are a strided
// view (ops/windows.hpp) copied once into columns [groups, C / groups * kH * kW, N * oH * oW],
// and weight [groups, O / groups, C / groups * kH * kW] times the columns is a bmm (BLAS on the
// CPU). The product comes out as [O, N, oH, oW] and is laid out as [N, O, oH, oW] with the bias
// added: one GEMM per chunk of samples (as many as keep the columns within 2 MiB, so that they
// stay in cache) rather than one per sample. At the mnist CNN's shapes this beats a direct
// loop 3.3x for Conv2d(10, 20, 5) and loses 1.25x to it for Conv2d(1, 10, 5), whose product has
// 25-long rows (bench/conv.cpp, docs/performance.md "Convolution and the mnist CNN").
//
// Backward, one node, ConvolutionBackward0 (PyTorch's name), from the saved input and weight:
//   grad_input  = col2im(weight^T @ g): the columns' gradient folded back onto the padded
//                 input (fold_windows_kernel_major, the adjoint of the window view, walked
//                 along output rows) and the padding cut off;
//   grad_weight = g @ columns^T, with the forward's columns when the weight needs a gradient
//                 (kH * kW times the input: memory traded for a second copy of every window),
//                 recomputed from the input when the backward records a graph;
//   grad_bias   = the sum of g over N, oH and oW;
// every step a differentiable op, so create_graph and second derivatives work through it.
//
// Errors carry ATen's wording after the op's name and come before anything is computed.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/device_data.hpp"
#include "../tensor/functions.hpp"
#include "pad.hpp"
#include "views.hpp"
#include "windows.hpp"

namespace ctgrad {

namespace detail::conv {

// A parameter given as one number or an {h, w} pair, as a pair; ATen's message otherwise.
inline std::vector<std::int64_t> pair_of(IntArrayRef p, const char* name, const char* op) {
    if (p.size() == 1) return {p[0], p[0]};
    if (p.size() == 2) return {p[0], p[1]};
    throw Error(std::string(op) + ": expected " + name +
                " to be a single integer value or a list of 2 values to match the convolution dimensions, but got " +
                name + "=" + shape_str(p));
}

// ATen's legacy type names, as its convolution's dtype message spells them (torch.FloatTensor).
inline std::string legacy_type_name(const Tensor& t) {
    return std::string("torch.") + (t.is_cuda() ? "cuda." : "") + dtype_name(t.scalar_type()) + "Tensor";
}
struct params {
    std::vector<std::int64_t> stride, padding, dilation;
    std::int64_t groups = 1;
    window_geometry geometry;
};

// ATen's checks of conv2d (its order): input rank, the parameters, the weight's shape and
// groups, the input's channels, the bias, the kernel against the padded input, the dtypes.
inline params check(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
                    IntArrayRef padding, IntArrayRef dilation, std::int64_t groups, const char* op) {
    check_defined(input, op, "input");
    check_defined(weight, op, "weight");
    const std::string who = std::string(op) + ": ";
    if (input.dim() != 3 && input.dim() != 4)
        throw Error(who + "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: " +
                    shape_str(input.sizes()));
    params p;
    p.stride = pair_of(stride, "stride", op);
    p.padding = pair_of(padding, "padding", op);
    p.dilation = pair_of(dilation, "dilation", op);
    p.groups = groups;
    for (auto v : p.padding)
        if (v < 0) throw Error(who + "negative padding is not supported");
    for (auto v : p.stride)
        if (v <= 0) throw Error(who + "non-positive stride is not supported");
    for (auto v : p.dilation)
        if (v <= 0) throw Error(who + "non-positive dilation is not supported");
    if (groups <= 0) throw Error(who + "non-positive groups is not supported");
    const std::vector<std::int64_t> in = input.dim() == 4 ? input.sizes().vec() : [&] {
        std::vector<std::int64_t> s = input.sizes().vec();
        s.insert(s.begin(), 1);
        return s;
    }();
    if (weight.dim() != 4)
        throw Error(who + "Expected 4-dimensional weight for conv2d, but got " + std::to_string(weight.dim()) +
                    "-dimensional weight of size " + shape_str(weight.sizes()) + " instead");
    const std::string w = shape_str(weight.sizes());
    if (weight.size(0) < groups)
        throw Error(who + "Given groups=" + std::to_string(groups) + ", expected weight to be at least " +
                    std::to_string(groups) + " at dimension 0, but got weight of size " + w + " instead");
    if (weight.size(0) % groups != 0)
        throw Error(who + "Given groups=" + std::to_string(groups) + ", expected weight to be divisible by " +
                    std::to_string(groups) + " at dimension 0, but got weight of size [" + w + "] instead");
    if (input.size(-3) != weight.size(1) * groups)
        throw Error(who + "Given groups=" + std::to_string(groups) + ", weight of size " + w + ", expected input" +
                    shape_str(input.sizes()) + " to have " + std::to_string(weight.size(1) * groups) +
                    " channels, but got " + std::to_string(input.size(-3)) + " channels instead");
    if (bias.defined() && !(bias.dim() == 1 && bias.size(0) == weight.size(0)))
        throw Error(who + "Given weight of size " + w + ", expected bias to be 1-dimensional with " +
                    std::to_string(weight.size(0)) + " elements, but got bias of size " + shape_str(bias.sizes()) +
                    " instead");
    const std::int64_t padded_h = in[2] + 2 * p.padding[0], padded_w = in[3] + 2 * p.padding[1];
    const std::int64_t span_h = p.dilation[0] * (weight.size(2) - 1) + 1, span_w = p.dilation[1] * (weight.size(3) - 1) + 1;
    if (padded_h < span_h || padded_w < span_w)
        throw Error(who + "Calculated padded input size per channel: (" + std::to_string(padded_h) + " x " +
                    std::to_string(padded_w) + "). Kernel size: (" + std::to_string(span_h) + " x " +
                    std::to_string(span_w) + "). Kernel size can't be greater than actual input size");
    if (input.scalar_type() != weight.scalar_type())
        throw Error(who + "Input type (" + legacy_type_name(input) + ") and weight type (" + legacy_type_name(weight) +
                    ") should be the same or input should be a MKLDNN tensor and weight is a dense tensor");
    if (bias.defined() && bias.scalar_type() != input.scalar_type())
        throw Error(who + "Input type (" + element_type_name(input.scalar_type()) + ") and bias type (" +
                    element_type_name(bias.scalar_type()) + ") should be the same");
    if (!input.is_floating_point())
        throw Error(who + "\"" + op + "\" not implemented for '" + dtype_name(input.scalar_type()) +
                    "' (ctgrad convolves float and double tensors)");
    common_device(op, {&input, &weight});
    if (bias.defined()) common_device(op, {&input, &bias});
    window_geometry& g = p.geometry;
    g.kernel_h = weight.size(2), g.kernel_w = weight.size(3);
    g.stride_h = p.stride[0], g.stride_w = p.stride[1];
    g.dilation_h = p.dilation[0], g.dilation_w = p.dilation[1];
    g.out_h = (padded_h - span_h) / g.stride_h + 1;
    g.out_w = (padded_w - span_w) / g.stride_w + 1;
    return p;
}

inline Tensor padded(const Tensor& x, const params& p) {
    if (p.padding[0] == 0 && p.padding[1] == 0) return x;
    return constant_pad_nd(x, {p.padding[1], p.padding[1], p.padding[0], p.padding[0]}, 0);
}

// The columns of x [N, C, H, W] (padded already): [groups, C / groups * kH * kW, N * oH * oW],
// rows ordered (channel, kernel row, kernel column) as the weight's elements are.
inline Tensor columns(const Tensor& x, const params& p) {
    const window_geometry& g = p.geometry;
    return windows(x, g).permute({1, 4, 5, 0, 2, 3}).reshape(
        {p.groups, x.size(1) / p.groups * g.kernel_h * g.kernel_w, x.size(0) * g.out_h * g.out_w});
}

// How many samples one im2col product takes: as many as keep their columns within 2 MiB, so
// that the GEMM reads them back from cache and the allocator reuses their buffer (the columns of
// a whole test batch, 58 MB for Conv2d(1, 10, 5) at batch 1000, would be fresh pages at every
// call). Every device takes the same chunks, so results do not depend on the device.
inline std::int64_t samples_per_chunk(const Tensor& x, const params& p) {
    const window_geometry& g = p.geometry;
    const std::int64_t per_sample = x.size(1) * g.kernel_h * g.kernel_w * g.out_h * g.out_w *
                                    static_cast<std::int64_t>(element_size(x.scalar_type()));
    constexpr std::int64_t budget = std::int64_t{2} << 20;
    return std::clamp<std::int64_t>(budget / std::max<std::int64_t>(per_sample, 1), 1, std::max<std::int64_t>(x.size(0), 1));
}

// f(start, length) for each chunk of samples_per_chunk samples of the batch.
template <class F>
void for_each_chunk(const Tensor& x, const params& p, F&& f) {
    const std::int64_t n = x.size(0), chunk = samples_per_chunk(x, p);
    for (std::int64_t start = 0; start < n; start += chunk) f(start, std::min(chunk, n - start));
}

inline Tensor samples(const Tensor& t, std::int64_t start, std::int64_t length) {
    return start == 0 && length == t.size(0) ? t : t.narrow(0, start, length);
}

struct ConvolutionBackward final : autograd::Node {
    autograd::SavedVariable input, weight;  // input: [N, C, H, W], unpadded
    // The forward's columns, chunk by chunk, kept when the weight needs a gradient: the weight's
    // gradient then reads them instead of copying the windows again. A backward that records
    // its own graph (create_graph) recomputes them from the input, to differentiate through it.
    std::vector<Tensor> saved_columns;
    params p;
    std::string name() const override { return "ConvolutionBackward0"; }
    void release_variables() override {
        input.reset_data();
        weight.reset_data();
        saved_columns.clear();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor x = input.unpack(), w = weight.unpack();
        const window_geometry& geo = p.geometry;
        const std::int64_t out = w.size(0), groups = p.groups;
        const Tensor w3 = w.reshape({groups, out / groups, w.size(1) * geo.kernel_h * geo.kernel_w});
        std::vector<Tensor> input_parts;
        Tensor grad_input, grad_weight, grad_bias;
        const bool use_saved = !saved_columns.empty() && !GradMode::is_enabled();
        std::size_t chunk = 0;
        // Chunk by chunk of samples, as the forward: each chunk's input gradient is its own, the
        // weight's gradient the sum of the chunks'.
        for_each_chunk(x, p, [&](std::int64_t start, std::int64_t n) {
            const Tensor xs = samples(x, start, n);
            // g as [groups, O / groups, n * oH * oW], the layout of the forward's product.
            const Tensor g = samples(grads[0], start, n)
                                 .reshape({n, groups, out / groups, geo.out_h * geo.out_w})
                                 .permute({1, 2, 0, 3})
                                 .reshape({groups, out / groups, n * geo.out_h * geo.out_w});
            if (should_compute_output(0)) {
                const std::vector<std::int64_t> padded_sizes{n, x.size(1), x.size(2) + 2 * p.padding[0],
                                                             x.size(3) + 2 * p.padding[1]};
                const Tensor cols = bmm(w3.transpose(1, 2), g);  // [groups, C / groups * kH * kW, n * oH * oW]
                // [n, C, kH, kW, oH, oW]: folded along the columns' contiguous output rows
                const Tensor per_window = cols.view({x.size(1), geo.kernel_h, geo.kernel_w, n, geo.out_h, geo.out_w})
                                              .permute({3, 0, 1, 2, 4, 5});
                const Tensor folded = fold_windows_kernel_major(per_window, padded_sizes, geo);
                input_parts.push_back(p.padding[0] == 0 && p.padding[1] == 0
                                          ? folded
                                          : constant_pad_nd(folded, {-p.padding[1], -p.padding[1], -p.padding[0], -p.padding[0]}, 0));
            }
            if (should_compute_output(1)) {
                const Tensor cols = use_saved ? saved_columns[chunk] : columns(padded(xs, p), p);
                const Tensor part = bmm(g, cols.transpose(1, 2));
                grad_weight = grad_weight.defined() ? grad_weight + part : part;
            }
            ++chunk;
        });
        if (x.size(0) == 0) {  // no chunk ran: zero gradients, as ATen's
            if (should_compute_output(0)) grad_input = zeros_like(x);
            if (should_compute_output(1)) grad_weight = zeros_like(w);
        } else {
            if (should_compute_output(0)) grad_input = input_parts.size() == 1 ? input_parts[0] : cat(input_parts, 0);
            if (should_compute_output(1)) grad_weight = grad_weight.view(w.sizes());
        }
        if (should_compute_output(2)) grad_bias = grads[0].sum({0, 2, 3});
        return {grad_input, grad_weight, grad_bias};
    }
};

// conv2d of a 4-d input, checked.
inline Tensor convolution(const Tensor& x, const Tensor& weight, const Tensor& bias, const params& p) {
    const window_geometry& geo = p.geometry;
    const std::int64_t out = weight.size(0);
    const bool keep_columns = autograd::compute_requires_grad({&weight});
    std::vector<Tensor> kept;
    Tensor y;
    {
        NoGradGuard no_grad;
        const Tensor w3 = weight.reshape({p.groups, out / p.groups, weight.size(1) * geo.kernel_h * geo.kernel_w});
        // a tensor of its own (not a view of a product), so that in-place ops treat it as one
        y = make_empty({x.size(0), out, geo.out_h, geo.out_w}, x.scalar_type(), x.device(), "conv2d");
        for_each_chunk(x, p, [&](std::int64_t start, std::int64_t n) {
            const Tensor cols = columns(padded(samples(x, start, n), p), p);
            if (keep_columns) kept.push_back(cols);
            const Tensor product = bmm(w3, cols);
            copy_elements(*samples(y, start, n).unsafeGetTensorImpl(),
                          *product.view({out, n, geo.out_h, geo.out_w}).permute({1, 0, 2, 3}).unsafeGetTensorImpl());
        });
        if (bias.defined()) y.add_(bias.reshape({1, out, 1, 1}));
    }
    if (autograd::compute_requires_grad({&x, &weight, &bias})) {
        auto node = autograd::record<ConvolutionBackward>(y, {&x, &weight, &bias});
        node->input = autograd::SavedVariable(x, false);
        node->weight = autograd::SavedVariable(weight, false);
        node->saved_columns = std::move(kept);
        node->p = p;
    }
    return y;
}

}  // namespace detail::conv

CTGRAD_API Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
                         IntArrayRef padding, IntArrayRef dilation, std::int64_t groups) {
    using namespace detail::conv;
    const params p = check(input, weight, bias, stride, padding, dilation, groups, "conv2d");
    // One sample [C, H, W] is a batch of one (its result's grad_fn a SqueezeBackward1, as ATen's).
    if (input.dim() == 3) return convolution(input.unsqueeze(0), weight, bias, p).squeeze(0);
    return convolution(input, weight, bias, p);
}

}  // namespace ctgrad
