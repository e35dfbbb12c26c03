#pragma once
// ctgrad::conv_transpose2d(input, weight, bias = {}, stride = 1, padding = 0, output_padding = 0,
// groups = 1, dilation = 1), ATen's: the adjoint of conv2d with the same stride, padding and
// dilation. input [N, C_in, H, W] (or one [C_in, H, W] sample), weight [C_in, C_out / groups,
// kH, kW], output [N, C_out, H_out, W_out] with
// H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1.
//
// Built from existing ops, each differentiable (so the result is differentiable twice):
//  1. stride - 1 zeros between the input's elements (constant_pad_nd of a [.., H, 1, W, 1] view);
//  2. dilation * (k - 1) - padding zeros on each side, output_padding more at the end (a
//     negative amount crops: constant_pad_nd);
//  3. conv2d with stride 1 and the given dilation and groups, by the weight regrouped to
//     [C_out, C_in / groups, kH, kW] and flipped in both spatial dims (products with the
//     anti-diagonal matrices, exact for finite weights).
// So the grad_fn is conv2d's, ConvolutionBackward0, as PyTorch's (SqueezeBackward1 for one
// sample). The zeros of step 1 make the product stride^2 times the work of ATen's direct kernel.
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../tensor/functions.hpp"
#include "conv.hpp"

namespace ctgrad {

namespace detail::conv_transpose {

// The [k, k] matrix with ones on the anti-diagonal: a product with it reverses a dim.
inline Tensor reversal(std::int64_t k, const Tensor& like) {
    Tensor r = zeros({k, k}, TensorOptions().dtype(kDouble));
    double* p = r.data_ptr<double>();
    for (std::int64_t i = 0; i < k; ++i) p[i * k + (k - 1 - i)] = 1;
    return r.to(like.scalar_type()).to(like.device());
}

}  // namespace detail::conv_transpose

CTGRAD_API Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
                                   IntArrayRef padding, IntArrayRef output_padding, std::int64_t groups,
                                   IntArrayRef dilation) {
    using namespace detail;
    using detail::conv::pair_of;
    const char* op = "conv_transpose2d";
    if (input.dim() != 3 && input.dim() != 4)
        throw Error(std::string(op) + ": Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got "
                    "input of size: " + shape_str(input.sizes()));
    if (weight.dim() != 4)
        throw Error(std::string(op) + ": expected a 4-d weight [in_channels, out_channels / groups, kH, kW], got one of "
                    "shape " + shape_str(weight.sizes()));
    const auto s = pair_of(stride, "stride", op), pad = pair_of(padding, "padding", op);
    const auto out_pad = pair_of(output_padding, "output_padding", op), d = pair_of(dilation, "dilation", op);
    if (groups <= 0) throw Error(std::string(op) + ": non-positive groups is not supported");
    for (int i = 0; i < 2; ++i) {
        if (s[i] <= 0) throw Error(std::string(op) + ": non-positive stride is not supported");
        if (d[i] <= 0) throw Error(std::string(op) + ": non-positive dilation is not supported");
        if (pad[i] < 0) throw Error(std::string(op) + ": negative padding is not supported");
        if (out_pad[i] < 0) throw Error(std::string(op) + ": negative output_padding is not supported");
    }
    if (!(out_pad[0] < s[0] || out_pad[0] < d[0]) || !(out_pad[1] < s[1] || out_pad[1] < d[1]))
        throw Error(std::string(op) + ": output padding must be smaller than either stride or dilation, but got "
                    "output_padding_height: " + std::to_string(out_pad[0]) + " output_padding_width: " +
                    std::to_string(out_pad[1]) + " stride_height: " + std::to_string(s[0]) + " stride_width: " +
                    std::to_string(s[1]) + " dilation_height: " + std::to_string(d[0]) + " dilation_width: " +
                    std::to_string(d[1]));
    const std::int64_t in_channels = weight.size(0);
    if (in_channels % groups != 0)
        throw Error(std::string(op) + ": Given groups=" + std::to_string(groups) + ", expected weight to be divisible by " +
                    std::to_string(groups) + " at dimension 0, but got weight of size " + shape_str(weight.sizes()) +
                    " instead");
    const bool batched = input.dim() == 4;
    const std::int64_t channels = input.size(batched ? 1 : 0);
    if (channels != in_channels)
        throw Error(std::string(op) + ": Given transposed=1, weight of size " + shape_str(weight.sizes()) +
                    ", expected input" + shape_str(input.sizes()) + " to have " + std::to_string(in_channels) +
                    " channels, but got " + std::to_string(channels) + " channels instead");
    const std::int64_t out_per_group = weight.size(1), kh = weight.size(2), kw = weight.size(3);
    if (bias.defined() && !(bias.dim() == 1 && bias.numel() == out_per_group * groups))
        throw Error(std::string(op) + ": Given transposed=1, weight of size " + shape_str(weight.sizes()) +
                    ", expected bias to be 1-dimensional with " + std::to_string(out_per_group * groups) +
                    " elements, but got bias of size " + shape_str(bias.sizes()) + " instead");
    const std::int64_t out_h = (input.size(-2) - 1) * s[0] - 2 * pad[0] + d[0] * (kh - 1) + out_pad[0] + 1;
    const std::int64_t out_w = (input.size(-1) - 1) * s[1] - 2 * pad[1] + d[1] * (kw - 1) + out_pad[1] + 1;
    if (out_h <= 0 || out_w <= 0 || input.size(-2) == 0 || input.size(-1) == 0)
        throw Error(std::string(op) + ": Given input size per channel: (" + std::to_string(input.size(-2)) + " x " +
                    std::to_string(input.size(-1)) + "), calculated output size per channel: (" + std::to_string(out_h) +
                    " x " + std::to_string(out_w) + "). Output size is too small");

    Tensor x = batched ? input : input.unsqueeze(0);
    const std::int64_t n = x.size(0), h = x.size(2), w = x.size(3);
    if (s[0] > 1 || s[1] > 1) {
        // [N, C, H, 1, W, 1] padded to [N, C, H, sH, W, sW]: each element followed by zeros.
        const Tensor spread = constant_pad_nd(x.reshape({n, channels, h, 1, w, 1}), {0, s[1] - 1, 0, 0, 0, s[0] - 1});
        x = constant_pad_nd(spread.reshape({n, channels, h * s[0], w * s[1]}), {0, -(s[1] - 1), 0, -(s[0] - 1)});
    }
    const std::int64_t side_h = d[0] * (kh - 1) - pad[0], side_w = d[1] * (kw - 1) - pad[1];
    x = constant_pad_nd(x, {side_w, side_w + out_pad[1], side_h, side_h + out_pad[0]});
    const Tensor regrouped = weight.reshape({groups, in_channels / groups, out_per_group, kh, kw})
                                 .transpose(1, 2)
                                 .reshape({groups * out_per_group, in_channels / groups, kh, kw});
    const Tensor flipped =
        matmul(matmul(conv_transpose::reversal(kh, weight), regrouped), conv_transpose::reversal(kw, weight));
    const Tensor out = conv2d(x, flipped, bias, 1, 0, {d[0], d[1]}, groups);
    return batched ? out : out.squeeze(0);
}

}  // namespace ctgrad
