#pragma once
// dropout and feature_dropout (input, p, train) and their in-place forms, as ATen's
// _dropout_impl: in training, each element (dropout) or each channel (feature_dropout: the noise
// has input's first two sizes and 1 after them, so whole [N, C] planes go) is kept with
// probability 1 - p and scaled by 1 / (1 - p), so the expectation is unchanged; p = 0, eval
// mode and empty inputs return the input itself; p = 1 multiplies by 0. The result is
// input * noise, so the gradient (MulBackward0, as PyTorch's CPU path records) flows through
// the kept elements only, scaled alike.
//
// The noise is drawn from ctgrad's generator (manual_seed makes it repeatable) as
// rand(...) < 1 - p, on the host for every device as the other random fills are
// (docs/design.md). It is not PyTorch's bitstream: ATen's bernoulli_ draws differently (and
// through MKL where it has it), so a seeded ctgrad program drops other elements than the same
// PyTorch program; the statistics are the same.
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../tensor/functions.hpp"
#include "compare.hpp"
#include "elementwise.hpp"

namespace ctgrad {

namespace detail {

inline void check_dropout_probability(double p, const char* op) {
    if (!(p >= 0 && p <= 1))
        throw Error(std::string(op) + ": dropout probability has to be between 0 and 1, but got " + number_str(p));
}

// The scaled keep mask: 1 / (1 - p) with probability 1 - p, else 0, in input's dtype and device.
inline Tensor dropout_noise(const Tensor& input, double p, bool feature, const char* op) {
    if (!input.is_floating_point())
        throw Error(std::string(op) + ": result type Float can't be cast to the desired output type " +
                    dtype_name(input.scalar_type()));
    std::vector<std::int64_t> sizes = input.sizes().vec();
    if (feature) {
        if (input.dim() < 2) throw Error(std::string(op) + ": Feature dropout requires at least 2 dimensions in the input");
        for (std::size_t d = 2; d < sizes.size(); ++d) sizes[d] = 1;
    }
    NoGradGuard no_grad;
    const Tensor keep = lt(rand(sizes, TensorOptions().dtype(input.scalar_type()).device(input.device())), Scalar(1 - p));
    return keep.to(input.scalar_type()) / Scalar(1 - p);
}

// Whether dropout changes anything; checks p first (ATen's order).
inline bool dropout_applies(const Tensor& input, double p, bool train, const char* op) {
    check_dropout_probability(p, op);
    return !(p == 0 || !train || input.numel() == 0);
}

inline Tensor dropout_impl(const Tensor& input, double p, bool train, bool feature, const char* op) {
    if (!dropout_applies(input, p, train, op)) return input;
    if (p == 1) return input * zeros({}, TensorOptions().dtype(input.scalar_type()).device(input.device()));
    return input * dropout_noise(input, p, feature, op);
}

inline Tensor& dropout_inplace(Tensor& input, double p, bool train, bool feature, const char* op) {
    if (!dropout_applies(input, p, train, op)) return input;
    if (p == 1) return input.mul_(zeros({}, TensorOptions().dtype(input.scalar_type()).device(input.device())));
    return input.mul_(dropout_noise(input, p, feature, op));
}

}  // namespace detail

CTGRAD_API Tensor dropout(const Tensor& input, double p, bool train) {
    return detail::dropout_impl(input, p, train, false, "dropout");
}
CTGRAD_API Tensor feature_dropout(const Tensor& input, double p, bool train) {
    return detail::dropout_impl(input, p, train, true, "feature_dropout");
}
CTGRAD_API Tensor& dropout_(Tensor& input, double p, bool train) {
    return detail::dropout_inplace(input, p, train, false, "dropout_");
}
CTGRAD_API Tensor& feature_dropout_(Tensor& input, double p, bool train) {
    return detail::dropout_inplace(input, p, train, true, "feature_dropout_");
}

}  // namespace ctgrad
