#pragma once
// ctgrad::batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
// cudnn_enabled), ATen's batch_norm: input [N, C, ...] normalised per channel c as
// (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c.
//  - training: mean and var are the batch's (var biased); the running statistics, when given,
//    move in place towards them: running = (1 - momentum) * running + momentum * batch, the
//    running var towards the unbiased var (times M / (M - 1), M = N * spatial size);
//  - not training: the running statistics are used (they must be given).
// weight and bias may be undefined (1 and 0). Every check comes before anything is computed or
// written, so a failed call changes no running statistic.
//
// The forward runs with tensor ops in the input's dtype (ATen's CPU kernel accumulates float
// statistics in double: float32 results may differ in the last bits) and records one node, NativeBatchNormBackward0 as PyTorch 1.13 names it on the CPU. Its gradient is written
// with tensor ops from the saved input (in training the batch statistics are recomputed from
// it, differentiably), so that create_graph differentiates it again, input included.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/functions.hpp"
#include "elementwise.hpp"

namespace ctgrad {

namespace detail::batch_norm {

// Every dim but the channel dim (1): the dims the statistics reduce over.
inline std::vector<std::int64_t> reduced_dims(std::int64_t dim) {
    std::vector<std::int64_t> dims{0};
    for (std::int64_t d = 2; d < dim; ++d) dims.push_back(d);
    return dims;
}

// A per-channel vector [C] shaped [1, C, 1, ...] to broadcast against an input of `dim` dims.
inline Tensor per_channel(const Tensor& v, std::int64_t dim) {
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(dim), 1);
    sizes[1] = v.numel();
    return v.reshape(sizes);
}

// ATen's check_dims_match_num_input_features, after the op's name.
inline void check_features(const char* arg, std::int64_t expected, const Tensor& t) {
    if (t.defined() && t.numel() != expected)
        throw Error(std::string("batch_norm: ") + arg + " should contain " + std::to_string(expected) +
                    " elements not " + std::to_string(t.numel()) + " (" + arg + " of shape " + shape_str(t.sizes()) +
                    " for an input with " + std::to_string(expected) + " channels)");
}

struct NativeBatchNormBackward final : autograd::Node {
    autograd::SavedVariable input, weight;
    Tensor mean, invstd;  // not training: the running statistics' [1, C, 1, ...], constants
    bool training = true;
    double eps = 1e-5;
    std::string name() const override { return "NativeBatchNormBackward0"; }
    void release_variables() override {
        input.reset_data();
        weight.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor x = input.unpack(), w = weight.unpack();
        const Tensor& g = grads[0];
        const std::vector<std::int64_t> dims = reduced_dims(x.dim());
        const std::int64_t channels = x.size(1);
        Tensor mu = mean, inv = invstd;
        if (training) {
            mu = x.mean(dims, true);
            inv = ((x - mu).square().mean(dims, true) + Scalar(eps)).pow(-0.5);
        }
        const Tensor xhat = (x - mu) * inv;
        const Tensor g_sum = g.sum(dims, true), g_xhat = (g * xhat).sum(dims, true);
        Tensor grad_input, grad_weight, grad_bias;
        if (should_compute_output(0)) {
            const Tensor scale = w.defined() ? per_channel(w, x.dim()) * inv : inv;
            if (training) {
                const double m = static_cast<double>(x.numel() / channels);
                grad_input = scale * (g - g_sum / Scalar(m) - xhat * (g_xhat / Scalar(m)));
            } else {
                grad_input = g * scale;
            }
        }
        if (should_compute_output(1)) grad_weight = g_xhat.reshape({channels});
        if (should_compute_output(2)) grad_bias = g_sum.reshape({channels});
        return {grad_input, grad_weight, grad_bias};
    }
};

}  // namespace detail::batch_norm

CTGRAD_API Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                             const Tensor& running_mean, const Tensor& running_var, bool training, double momentum,
                             double eps, bool /*cudnn_enabled*/) {
    using namespace detail;
    using namespace detail::batch_norm;
    if (input.dim() < 2)
        throw Error("batch_norm: expected an input of 2 or more dims ([N, C, ...]), got one of shape " +
                    shape_str(input.sizes()));
    if (!input.is_floating_point())
        throw Error(std::string("batch_norm: \"batch_norm\" not implemented for '") + dtype_name(input.scalar_type()) +
                    "' (it takes float or double tensors)");
    const std::int64_t channels = input.size(1);
    check_features("running_mean", channels, running_mean);
    if (!running_mean.defined() && !training) throw Error("batch_norm: running_mean must be defined in evaluation mode");
    check_features("running_var", channels, running_var);
    if (!running_var.defined() && !training) throw Error("batch_norm: running_var must be defined in evaluation mode");
    check_features("weight", channels, weight);
    check_features("bias", channels, bias);
    for (const Tensor* t : {&weight, &bias, &running_mean, &running_var})
        if (t->defined() && t->scalar_type() != input.scalar_type())
            throw Error(std::string("batch_norm: expected weight, bias and the running statistics in the input's dtype (") +
                        dtype_name(input.scalar_type()) + "), got one of " + dtype_name(t->scalar_type()));

    const std::vector<std::int64_t> dims = reduced_dims(input.dim());
    const std::int64_t per_channel_count = channels > 0 ? input.numel() / channels : 0;
    Tensor out, mean, invstd, batch_mean, batch_var;
    {
        NoGradGuard no_grad;
        Tensor centered;
        if (training) {
            batch_mean = input.mean(dims, true);
            centered = input - batch_mean;
            batch_var = centered.square().mean(dims, true);
            mean = batch_mean;
            invstd = (batch_var + Scalar(eps)).pow(-0.5);
        } else {
            mean = per_channel(running_mean, input.dim());
            invstd = (per_channel(running_var, input.dim()) + Scalar(eps)).pow(-0.5);
            centered = input - mean;
        }
        // (x - mean) * (invstd * weight) + bias: one scale per channel, applied once
        const Tensor scale = weight.defined() ? invstd * per_channel(weight, input.dim()) : invstd;
        out = centered * scale;
        if (bias.defined()) out = out + per_channel(bias, input.dim());
        out = out.contiguous();
    }
    if (autograd::compute_requires_grad({&input, &weight, &bias})) {
        auto node = autograd::record<NativeBatchNormBackward>(out, {&input, &weight, &bias});
        node->input = autograd::SavedVariable(input, false);
        node->weight = autograd::SavedVariable(weight, false);
        node->training = training;
        node->eps = eps;
        if (!training) {
            // a copy: a later training-mode call updates running_mean in place
            node->mean = mean.clone();
            node->invstd = invstd;
        }
    }
    // Last, once nothing can fail: the running statistics move towards the batch's.
    if (training && (running_mean.defined() || running_var.defined())) {
        NoGradGuard no_grad;
        if (running_mean.defined()) {
            Tensor target = running_mean;
            target.mul_(Scalar(1 - momentum)).add_(batch_mean.reshape({channels}), Scalar(momentum));
        }
        if (running_var.defined()) {
            const double n = static_cast<double>(per_channel_count);
            const Tensor unbiased = batch_var.reshape({channels}) * Scalar(n / (n - 1));
            Tensor target = running_var;
            target.mul_(Scalar(1 - momentum)).add_(unbiased, Scalar(momentum));
        }
    }
    return out;
}

}  // namespace ctgrad
