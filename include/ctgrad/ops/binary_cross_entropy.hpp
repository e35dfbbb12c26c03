#pragma once
// The binary cross-entropy losses as ATen's free functions, PyTorch 1.13's semantics:
//  - ctgrad::binary_cross_entropy(input, target, weight = {}, reduction = Mean): input holds
//    probabilities in [0, 1] (checked: a value outside, or NaN, is an error);
//    loss = -weight * (target * log(input) + (1 - target) * log(1 - input)), each log clamped
//    at -100 as ATen does, so that input 0 or 1 gives a finite loss;
//  - ctgrad::binary_cross_entropy_with_logits(input, target, weight = {}, pos_weight = {},
//    reduction = Mean): input holds logits; with l = log(1 + exp(-input)) written stably,
//    loss = weight * ((1 - target) * input + (1 + (pos_weight - 1) * target) * l).
// target has input's shape; weight and pos_weight broadcast to it (pos_weight usually [C],
// along the last dim). Both record one node each, BinaryCrossEntropyBackward0 and
// BinaryCrossEntropyWithLogitsBackward0 as PyTorch names them, with ATen's gradient formulas for
// input and target (weight and pos_weight get none, nor in PyTorch), written with tensor ops so
// that create_graph differentiates them again. The forward is element-wise ops and a reduction.
#include <cstdint>
#include <string>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/functions.hpp"
#include "elementwise.hpp"
#include "loss.hpp"

namespace ctgrad {

namespace detail::bce {

inline Tensor clamp_min(const Tensor& x, double lo) { return maximum(x, wrapped_scalar(lo, x.scalar_type())); }

// Whether a tensor of shape `from` broadcasts to `to` without growing it.
inline bool broadcasts_to(IntArrayRef from, IntArrayRef to) {
    if (from.size() > to.size()) return false;
    for (std::size_t i = 1; i <= from.size(); ++i)
        if (from[from.size() - i] != 1 && from[from.size() - i] != to[to.size() - i]) return false;
    return true;
}

inline Tensor reduce(const Tensor& loss, std::int64_t reduction) {
    if (reduction == Reduction::None) return loss;
    return reduction == Reduction::Mean ? loss.mean() : loss.sum();
}

// The checks both losses share, in the order of PyTorch's functional forms.
inline void check(const Tensor& input, const Tensor& target, const Tensor& weight, std::int64_t reduction,
                  const char* op) {
    detail::loss::check_reduction(reduction, op);
    const bool logits = std::string(op).find("with_logits") != std::string::npos;
    if (logits && target.sizes() != input.sizes())
        throw Error(std::string(op) + ": Target size (torch.Size(" + shape_str(target.sizes()) +
                    ")) must be the same as input size (torch.Size(" + shape_str(input.sizes()) + "))");
    if (target.sizes() != input.sizes())
        throw Error(std::string(op) + ": Using a target size (" + shape_str(target.sizes()) +
                    ") that is different to the input size (" + shape_str(input.sizes()) +
                    ") is deprecated. Please ensure they have the same size.");
    if (!input.is_floating_point() || !target.is_floating_point())
        throw Error(std::string(op) + ": expected float or double input and target, got " +
                    dtype_name(input.scalar_type()) + " and " + dtype_name(target.scalar_type()));
    if (target.scalar_type() != input.scalar_type())
        throw Error(std::string(op) + ": expected target of the input's dtype (" + dtype_name(input.scalar_type()) +
                    "), got " + dtype_name(target.scalar_type()));
    common_device(op, {&input, &target});
    if (weight.defined()) {
        if (!broadcasts_to(weight.sizes(), input.sizes()))
            throw Error(std::string(op) + ": weight of shape " + shape_str(weight.sizes()) +
                        " does not broadcast to the input's shape " + shape_str(input.sizes()));
        common_device(op, {&input, &weight});
    }
}

// The factor the gradients share: the weight, and 1 / n for the mean.
inline Tensor scaled(Tensor g, const Tensor& weight, std::int64_t reduction, std::int64_t n) {
    if (weight.defined()) g = g * weight;
    if (reduction == Reduction::Mean) g = g / Scalar(static_cast<double>(n));
    return g;
}

struct BinaryCrossEntropyBackward final : autograd::Node {
    autograd::SavedVariable input, target;
    Tensor weight;  // no gradient
    std::int64_t reduction = Reduction::Mean;
    std::string name() const override { return "BinaryCrossEntropyBackward0"; }
    void release_variables() override {
        input.reset_data();
        target.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor x = input.unpack(), t = target.unpack();
        const Tensor g = scaled(grads[0], weight, reduction, x.numel());
        Tensor gi, gt;
        if (should_compute_output(0)) gi = (g * (x - t) / clamp_min((1 - x) * x, 1e-12)).expand(x.sizes());
        if (should_compute_output(1)) gt = (g * (clamp_min(log(1 - x), -100) - clamp_min(log(x), -100))).expand(x.sizes());
        return {gi, gt};
    }
};

struct BinaryCrossEntropyWithLogitsBackward final : autograd::Node {
    autograd::SavedVariable input, target;
    Tensor weight, pos_weight;  // no gradient
    std::int64_t reduction = Reduction::Mean;
    std::string name() const override { return "BinaryCrossEntropyWithLogitsBackward0"; }
    void release_variables() override {
        input.reset_data();
        target.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor x = input.unpack(), t = target.unpack();
        const Tensor g = scaled(grads[0], weight, reduction, x.numel());
        const Tensor s = sigmoid(x);
        Tensor gi, gt;
        if (should_compute_output(0)) {
            if (pos_weight.defined()) {
                const Tensor pt = pos_weight * t;
                gi = g * ((pt + 1 - t) * s - pt);
            } else {
                gi = g * (s - t);
            }
            gi = gi.expand(x.sizes());
        }
        if (should_compute_output(1)) {
            gt = pos_weight.defined() ? g * (log(1 - s) - pos_weight * log(s)) : g * -x;
            gt = gt.expand(x.sizes());
        }
        return {gi, gt};
    }
};

}  // namespace detail::bce

CTGRAD_API Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                                       std::int64_t reduction) {
    using namespace detail;
    using namespace detail::bce;
    const char* op = "binary_cross_entropy";
    check(input, target, weight, reduction, op);
    Tensor out;
    {
        NoGradGuard no_grad;
        if (!all(ge(input, Scalar(0.0))).item<bool>() || !all(le(input, Scalar(1.0))).item<bool>())
            throw Error(std::string(op) + ": all elements of input should be between 0 and 1");
        Tensor loss = (target - 1) * clamp_min(log(1 - input), -100) - target * clamp_min(log(input), -100);
        if (weight.defined()) loss = loss * as_dtype(weight, input.scalar_type());
        out = reduce(loss, reduction);
    }
    if (autograd::compute_requires_grad({&input, &target})) {
        auto node = autograd::record<BinaryCrossEntropyBackward>(out, {&input, &target});
        node->input = autograd::SavedVariable(input, false);
        node->target = autograd::SavedVariable(target, false);
        node->weight = weight.defined() ? as_dtype(weight.detach(), input.scalar_type()) : Tensor();
        node->reduction = reduction;
    }
    return out;
}

CTGRAD_API Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                                   const Tensor& pos_weight, std::int64_t reduction) {
    using namespace detail;
    using namespace detail::bce;
    const char* op = "binary_cross_entropy_with_logits";
    check(input, target, weight, reduction, op);
    if (pos_weight.defined()) {
        if (!broadcasts_to(pos_weight.sizes(), input.sizes()))
            throw Error(std::string(op) + ": pos_weight of shape " + shape_str(pos_weight.sizes()) +
                        " does not broadcast to the input's shape " + shape_str(input.sizes()));
        common_device(op, {&input, &pos_weight});
    }
    const Tensor w = weight.defined() ? as_dtype(weight.detach(), input.scalar_type()) : Tensor();
    const Tensor pw = pos_weight.defined() ? as_dtype(pos_weight.detach(), input.scalar_type()) : Tensor();
    Tensor out;
    {
        NoGradGuard no_grad;
        // log(1 + exp(-x)) as max(-x, 0) + log(exp(-max) + exp(-x - max)): no overflow (ATen's form).
        const Tensor max_val = clamp_min(-input, 0);
        const Tensor softplus = log(exp(-max_val) + exp(-input - max_val)) + max_val;
        Tensor loss = (1 - target) * input + (pw.defined() ? ((pw - 1) * target + 1) * softplus : softplus);
        if (w.defined()) loss = loss * w;
        out = reduce(loss, reduction);
    }
    if (autograd::compute_requires_grad({&input, &target})) {
        auto node = autograd::record<BinaryCrossEntropyWithLogitsBackward>(out, {&input, &target});
        node->input = autograd::SavedVariable(input, false);
        node->target = autograd::SavedVariable(target, false);
        node->weight = w;
        node->pos_weight = pw;
        node->reduction = reduction;
    }
    return out;
}

}  // namespace ctgrad
