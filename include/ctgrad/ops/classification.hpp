#pragma once
// The classification losses as ATen's free functions: ctgrad::nll_loss(input, target, weight = {},
// reduction = Reduction::Mean, ignore_index = -100) (ATen's nll_loss_nd) and
// ctgrad::cross_entropy(input, target, weight, reduction, ignore_index, label_smoothing = 0)
// (ATen's cross_entropy_loss), PyTorch 1.13's semantics:
//  - input [C] with a 0-d target, [N, C] with target [N], or [N, C, d1, ...] with target
//    [N, d1, ...]; target int64 class indices in [0, C), or ignore_index;
//  - loss_i = -weight[t_i] * input[i, t_i], 0 where t_i == ignore_index; the mean divides the sum
//    by the sum of weight[t_i] over the targets not ignored (NaN when every target is ignored);
//  - cross_entropy is log_softmax over the class dim followed by nll_loss; a floating target
//    of input's shape holds class probabilities; label_smoothing mixes in the uniform
//    distribution (ATen's cross_entropy_loss_label_smoothing / _prob_target formulas).
//
// nll_loss picks input[i, t_i] with take_along (ops/minmax.hpp: the device's gather kernel, so
// any device runs it) and records one node,
// NllLossBackward0 (NllLoss2DBackward0 for inputs of 3 or more dims, as ATen's nll_loss2d path
// names it), whose gradient places -weight[t_i] * g at each picked position with place_along:
// differentiable in g, so create_graph works through it. weight gets no gradient (nor in PyTorch).
//
// Errors carry ATen's wording after the op's name; a target out of range is found on the device
// (first offending target in order) before anything is computed.
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/functions.hpp"
#include "compare.hpp"
#include "elementwise.hpp"
#include "loss.hpp"
#include "minmax.hpp"
#include "reduction.hpp"
#include "softmax.hpp"

namespace ctgrad {

namespace detail::classification {

// ATen's checks of nll_loss_nd and nll_loss_forward, in their order. `op` names the caller.
inline void check_nll(const Tensor& input, const Tensor& target, const Tensor& weight, const char* op) {
    const std::string who = std::string(op) + ": ";
    if (input.dim() < 1) throw Error(who + "Expected 1 or more dimensions (got " + std::to_string(input.dim()) + ")");
    if (input.dim() != 1 && (target.dim() == 0 || input.size(0) != target.size(0)))
        throw Error(who + "Expected input batch_size (" + std::to_string(input.size(0)) + ") to match target batch_size (" +
                    (target.dim() == 0 ? std::string("none: a 0-d target") : std::to_string(target.size(0))) + ").");
    if (input.dim() <= 2) {
        if (target.dim() > 1) throw Error(who + "0D or 1D target tensor expected, multi-target not supported");
        // ATen accepts a 1-d input with a 1-d target of the same length (and then reads only its
        // first element); ctgrad asks for the 0-d target a single sample has.
        const bool single = input.dim() == 1 && target.dim() == 0;
        if (!single && (input.dim() == 1 || input.size(0) != target.size(0)))
            throw Error(who + "size mismatch (got input: " + shape_str(input.sizes()) + ", target: " +
                        shape_str(target.sizes()) + ")");
    } else {
        std::vector<std::int64_t> expected{input.size(0)};
        for (std::int64_t d = 2; d < input.dim(); ++d) expected.push_back(input.size(d));
        if (target.sizes() != IntArrayRef(expected))
            throw Error(who + "Expected target size " + shape_str(expected) + ", got " + shape_str(target.sizes()));
    }
    const std::int64_t classes = input.size(input.dim() == 1 ? 0 : 1);
    if (weight.defined() && !(weight.dim() == 1 && weight.numel() == classes))
        throw Error(who + "weight tensor should be defined either for all " + std::to_string(classes) +
                    " classes or no classes but got weight tensor of shape: " + shape_str(weight.sizes()));
    if (!input.is_floating_point())
        throw Error(who + "\"nll_loss_out_frame\" not implemented for '" + dtype_name(input.scalar_type()) + "'");
    if (target.scalar_type() != kLong)
        throw Error(who + "expected scalar type Long but found " + dtype_name(target.scalar_type()));
    if (weight.defined() && !weight.is_floating_point())
        throw Error(who + "expected a floating-point weight, got " + dtype_name(weight.scalar_type()));
    common_device(op, {&input, &target});
    if (weight.defined()) common_device(op, {&input, &weight});
}

// The targets with ignored ones set to -1 (an index no class position equals), after checking
// that every other one names a class: "Target 10 is out of bounds." for the first that does not.
inline Tensor checked_index(const Tensor& target, std::int64_t classes, std::int64_t ignore_index, const char* op) {
    NoGradGuard no_grad;
    const Tensor ignored = eq(target, Scalar(ignore_index));
    if (target.numel() > 0) {
        // 1 where a target not ignored is outside [0, classes), else 0; the first 1 is reported.
        const Tensor outside = (lt(target, Scalar(std::int64_t{0})).to(kLong) + ge(target, Scalar(classes)).to(kLong)) *
                               logical_not(ignored).to(kLong);
        const Tensor flat = outside.reshape({-1});
        const std::int64_t first = flat.argmax().item<std::int64_t>();
        if (flat[first].item<std::int64_t>() != 0)
            throw Error(std::string(op) + ": Target " + std::to_string(target.reshape({-1})[first].item<std::int64_t>()) +
                        " is out of bounds.");
    }
    return masked_fill(target, ignored, -1.0);
}

struct NllLossBackward final : autograd::Node {
    Tensor index;         // [N, 1, d...]: the class of each sample, -1 where ignored
    Tensor sample_weight; // [N, 1, d...]: weight[t_i], 0 where ignored (constant: no gradient)
    Tensor total_weight;  // 0-d, the mean's divisor
    std::vector<std::int64_t> work_sizes, input_sizes;  // [N, C, d...] and the input's own
    std::int64_t reduction = Reduction::Mean;
    bool spatial = false;
    std::string name() const override { return spatial ? "NllLoss2DBackward0" : "NllLossBackward0"; }
    variable_list apply(variable_list&& grads) override {
        Tensor g = grads[0];
        if (reduction == Reduction::None) g = g.reshape(sample_weight.sizes());
        else if (reduction == Reduction::Mean) g = g / total_weight;
        const Tensor picked_grad = -(sample_weight * g);
        return {place_along(picked_grad, index, 1, work_sizes).view(input_sizes)};
    }
};

// nll_loss with its checks done: what ctgrad::nll_loss and cross_entropy share.
inline Tensor nll(const Tensor& input, const Tensor& target, const Tensor& weight, std::int64_t reduction,
                  std::int64_t ignore_index, const char* op) {
    loss::check_reduction(reduction, op);
    check_nll(input, target, weight, op);
    const bool single = input.dim() == 1;
    const std::int64_t classes = input.size(single ? 0 : 1);
    // Worked on as [N, C, d...] with the index [N, 1, d...].
    const Tensor x = single ? input.unsqueeze(0) : input;
    const Tensor index = checked_index(single ? target.reshape({1}) : target, classes, ignore_index, op).unsqueeze(1);
    const std::vector<std::int64_t> work_sizes = x.sizes().vec();
    Tensor out, sample_weight, total_weight;
    {
        NoGradGuard no_grad;
        if (weight.defined()) {
            std::vector<std::int64_t> line(work_sizes.size(), 1);
            line[1] = classes;
            const Tensor w = as_dtype(weight, x.scalar_type()).reshape(line).expand(work_sizes);
            sample_weight = take_along(w, index, 1);
        } else {
            sample_weight = ne(index, Scalar(std::int64_t{-1})).to(x.scalar_type());
        }
        const Tensor losses = -(sample_weight * take_along(x, index, 1));
        if (reduction == Reduction::None) {
            std::vector<std::int64_t> out_sizes = target.sizes().vec();
            out = losses.reshape(out_sizes);
        } else {
            out = losses.sum();
            if (reduction == Reduction::Mean) {
                total_weight = sample_weight.sum();
                out = out / total_weight;
            }
        }
    }
    if (autograd::compute_requires_grad({&input})) {
        // ATen computes inputs of 3 or more dims as nll_loss2d's [N, C, 1, L]; without a reduction
        // the result is then viewed back (ViewBackward0 over NllLoss2DBackward0), as here.
        const bool spatial = input.dim() >= 3;
        const bool viewed = spatial && input.dim() != 4 && reduction == Reduction::None;
        Tensor recorded = viewed ? out.reshape({x.size(0), -1}) : out;
        auto node = autograd::record<NllLossBackward>(recorded, {&input});
        node->index = index;
        node->sample_weight = sample_weight;
        node->total_weight = total_weight;
        node->work_sizes = work_sizes;
        node->input_sizes = input.sizes().vec();
        node->reduction = reduction;
        node->spatial = spatial;
        out = viewed ? recorded.view(target.sizes()) : recorded;
    }
    return out;
}

// weight shaped to broadcast along the class dim of an input of `dims` dims (ATen's expand_weight).
inline Tensor class_weight(const Tensor& weight, std::int64_t dims, std::int64_t class_dim) {
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(dims - class_dim), 1);
    sizes[0] = weight.numel();
    return weight.reshape(sizes);
}

// cross_entropy with class probabilities as target (same shape as input).
inline Tensor cross_entropy_probabilities(const Tensor& self, const Tensor& target, const Tensor& weight,
                                          std::int64_t reduction, double label_smoothing) {
    const char* op = "cross_entropy";
    if (!target.is_floating_point())
        throw Error(std::string(op) + ": Expected floating point type for target with class probabilities, got " +
                    dtype_name(target.scalar_type()));
    const std::int64_t class_dim = self.dim() == 1 ? 0 : 1;
    const std::int64_t classes = self.size(class_dim);
    if (weight.defined() && !(weight.dim() == 1 && weight.numel() == classes))
        throw Error(std::string(op) + ": weight tensor should be defined either for all " + std::to_string(classes) +
                    " classes or no classes but got weight tensor of shape: " + shape_str(weight.sizes()));
    if (label_smoothing > 1.0)
        throw Error(std::string(op) + ": label_smoothing must be between 0.0 and 1.0. Got: " + number_str(label_smoothing));
    const Tensor input = log_softmax(self, class_dim, self.scalar_type());
    const Tensor t = label_smoothing > 0.0
                         ? target * (1 - label_smoothing) + Scalar(label_smoothing / static_cast<double>(classes))
                         : target;
    Tensor product = input * t;
    if (weight.defined()) product = product * class_weight(weight, input.dim(), class_dim);
    if (reduction == Reduction::None) return -product.sum({class_dim});
    if (reduction == Reduction::Sum) return -product.sum();
    if (input.numel() == 0) return -product.sum() * Scalar(std::nan(""));
    return -product.sum() / Scalar(input.numel() / classes);
}

// cross_entropy with class indices and label_smoothing > 0 (ATen's formula).
inline Tensor cross_entropy_smoothed(const Tensor& self, const Tensor& target, const Tensor& weight,
                                     std::int64_t reduction, std::int64_t ignore_index, double label_smoothing) {
    const char* op = "cross_entropy";
    if (label_smoothing > 1.0)
        throw Error(std::string(op) + ": label_smoothing must be between 0.0 and 1.0. Got: " + number_str(label_smoothing));
    const std::int64_t class_dim = self.dim() == 1 ? 0 : 1;
    const Tensor input = log_softmax(self, class_dim, self.scalar_type());
    const Tensor nll_part = nll(input, target, weight, reduction, ignore_index, op);
    const std::int64_t classes = input.size(class_dim);
    const Tensor ignored = eq(target, Scalar(ignore_index));
    Tensor smooth = weight.defined() ? -(input * class_weight(as_dtype(weight, input.scalar_type()), input.dim(), class_dim)).sum({class_dim})
                                     : -input.sum({class_dim});
    smooth = masked_fill(smooth, ignored, 0.0);
    Tensor rest;
    if (reduction == Reduction::None) rest = smooth;
    else if (reduction == Reduction::Sum) rest = smooth.sum();
    else {
        Tensor divisor;
        {
            NoGradGuard no_grad;
            const Tensor kept = logical_not(ignored);
            if (weight.defined()) {
                // The sum of weight[t] over the targets not ignored (every one checked by nll above).
                const Tensor index = masked_fill(target, ignored, -1.0).reshape({1, -1});
                const Tensor w = as_dtype(weight, input.scalar_type()).reshape({-1, 1}).expand({classes, index.size(1)});
                divisor = take_along(w, index, 0).sum();
            } else {
                divisor = kept.sum().to(input.scalar_type());
            }
        }
        rest = smooth.sum() / divisor;
    }
    return (1 - label_smoothing) * nll_part + rest * Scalar(label_smoothing / static_cast<double>(classes));
}

}  // namespace detail::classification

CTGRAD_API Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, std::int64_t reduction,
                           std::int64_t ignore_index) {
    return detail::classification::nll(input, target, weight, reduction, ignore_index, "nll_loss");
}

CTGRAD_API Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, std::int64_t reduction,
                                std::int64_t ignore_index, double label_smoothing) {
    using namespace detail::classification;
    const char* op = "cross_entropy";
    detail::loss::check_reduction(reduction, op);
    if (input.sizes() == target.sizes()) {
        if (ignore_index >= 0)
            throw Error(std::string(op) + ": ignore_index is not supported for floating point target");
        return cross_entropy_probabilities(input, target, weight, reduction, label_smoothing);
    }
    if (label_smoothing > 0.0) return cross_entropy_smoothed(input, target, weight, reduction, ignore_index, label_smoothing);
    const std::int64_t class_dim = input.dim() == 1 ? 0 : 1;
    return nll(log_softmax(input, class_dim, input.scalar_type()), target, weight, reduction, ignore_index, op);
}

}  // namespace ctgrad
