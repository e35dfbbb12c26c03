#pragma once
// nn::functional: the layers and losses as functions (libtorch's torch::nn::functional, usually
// spelled `namespace F = ctgrad::nn::functional;`).
#include <string>
#include <tuple>

#include "../autograd/grad_mode.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../tensor/functions.hpp"
#include "enum.hpp"
#include "options.hpp"

namespace ctgrad::nn::functional {

// input @ weight^T + bias over the last dim of input (any leading dims), as PyTorch 1.13's
// at::linear: a 2-d input (and a contiguous 3-d one, folded to 2-d) takes the fused addmm path;
// other inputs a matmul and an add.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {});

// With inplace, the result is written back into input (its history then ends in a copy).
// relu's backward reads the values it was given, which that copy overwrites: while a graph is
// recorded it is given a clone, as the other in-place ops do (ops/inplace.hpp).
Tensor relu(Tensor input, const ReLUFuncOptions& options = {});
// As relu: with inplace, written back into input (a clone is given to the op while recording).
Tensor leaky_relu(Tensor input, const LeakyReLUFuncOptions& options = {});
inline Tensor tanh(const Tensor& input) { return ctgrad::tanh(input); }
inline Tensor sigmoid(const Tensor& input) { return ctgrad::sigmoid(input); }
inline Tensor softmax(const Tensor& input, const SoftmaxFuncOptions& options) {
    return ctgrad::softmax(input, options.dim(), options.dtype());
}
inline Tensor log_softmax(const Tensor& input, const LogSoftmaxFuncOptions& options) {
    return ctgrad::log_softmax(input, options.dim(), options.dtype());
}

// Dropout with options.training() (true by default; the modules pass is_training()).
Tensor dropout(Tensor input, const DropoutFuncOptions& options = {});
// Zeroes whole channels: of [N, C, H, W], or of [C, H, W] seen as one sample (libtorch's
// _dropoutNd_helper<3, 4>: any input but a 4-d one is given a batch dim of 1 first).
Tensor dropout2d(Tensor input, const Dropout2dFuncOptions& options = {});

// Convolution and pooling, libtorch's F::conv2d(input, weight, Conv2dFuncOptions().stride(2)),
// F::max_pool2d(input, MaxPool2dFuncOptions(2)), F::avg_pool2d, F::pad (ops/conv.hpp,
// ops/pooling.hpp, ops/pad.hpp).
inline Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options = {}) {
    return ctgrad::conv2d(input, weight, options.bias(), options.stride(), options.padding(), options.dilation(),
                          options.groups());
}
inline Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const ConvTranspose2dFuncOptions& options = {}) {
    return ctgrad::conv_transpose2d(input, weight, options.bias(), options.stride(), options.padding(),
                                    options.output_padding(), options.groups(), options.dilation());
}
inline Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& options) {
    return ctgrad::max_pool2d(input, options.kernel_size(), options.stride(), options.padding(), options.dilation(),
                              options.ceil_mode());
}
inline std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, const MaxPool2dFuncOptions& options) {
    return ctgrad::max_pool2d_with_indices(input, options.kernel_size(), options.stride(), options.padding(),
                                           options.dilation(), options.ceil_mode());
}
inline Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& options) {
    return ctgrad::avg_pool2d(input, options.kernel_size(), options.stride(), options.padding(), options.ceil_mode(),
                              options.count_include_pad(), options.divisor_override());
}
inline Tensor pad(const Tensor& input, const PadFuncOptions& options) {
    return ctgrad::constant_pad_nd(input, options.pad(), options.value());
}

// Batch normalisation over the channel dim (1) of [N, C, ...] (ctgrad::batch_norm,
// ops/batch_norm.hpp). In training each channel needs more than one value, as libtorch checks.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& options = {});

// The rows of weight that input (int64 indices) names (ctgrad::embedding,
// ops/embedding.hpp). padding_idx counts from the end when negative. With max_norm, each row
// looked up whose norm_type-norm exceeds max_norm is first rescaled in place (without
// gradient) to max_norm / (norm + 1e-7) of itself, as ATen's embedding_renorm_.
Tensor embedding(const Tensor& input, const Tensor& weight, const EmbeddingFuncOptions& options = {});

inline Tensor flatten(const Tensor& input, std::int64_t start_dim = 0, std::int64_t end_dim = -1) {
    return input.flatten(start_dim, end_dim);
}

inline Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossFuncOptions& options = {}) {
    return ctgrad::mse_loss(input, target, enumtype::reduction_get_enum(options.reduction()));
}
inline Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossFuncOptions& options = {}) {
    return ctgrad::l1_loss(input, target, enumtype::reduction_get_enum(options.reduction()));
}
inline Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossFuncOptions& options = {}) {
    return ctgrad::smooth_l1_loss(input, target, enumtype::reduction_get_enum(options.reduction()), options.beta());
}
inline Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossFuncOptions& options = {}) {
    return ctgrad::huber_loss(input, target, enumtype::reduction_get_enum(options.reduction()), options.delta());
}

// libtorch's F::nll_loss asks for a batch ([N, C, ...]; ctgrad::nll_loss also takes one [C] sample).
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossFuncOptions& options = {});
inline Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyFuncOptions& options = {}) {
    return ctgrad::cross_entropy(input, target, options.weight(), enumtype::reduction_get_enum(options.reduction()),
                                 options.ignore_index(), options.label_smoothing());
}

inline Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                                   const BinaryCrossEntropyFuncOptions& options = {}) {
    return ctgrad::binary_cross_entropy(input, target, options.weight(), enumtype::reduction_get_enum(options.reduction()));
}
inline Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                               const BinaryCrossEntropyWithLogitsFuncOptions& options = {}) {
    return ctgrad::binary_cross_entropy_with_logits(input, target, options.weight(), options.pos_weight(),
                                                    enumtype::reduction_get_enum(options.reduction()));
}

}  // namespace ctgrad::nn::functional

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <vector>

namespace ctgrad::nn::functional {

CTGRAD_API Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
    if (input.dim() == 2 && bias.defined()) return addmm(bias, input, weight.t());
    if (input.dim() == 3 && bias.defined() && input.is_contiguous()) {
        const Tensor folded = addmm(bias, input.view({input.size(0) * input.size(1), input.size(2)}), weight.t());
        return folded.view({input.size(0), input.size(1), folded.size(1)});
    }
    Tensor out = matmul(input, weight.t());
    return bias.defined() ? out + bias : out;
}

CTGRAD_API Tensor relu(Tensor input, const ReLUFuncOptions& options) {
    if (!options.inplace()) return ctgrad::relu(input);
    const bool recording = GradMode::is_enabled() && input.requires_grad();
    return input.copy_(ctgrad::relu(recording ? input.clone() : input));
}

CTGRAD_API Tensor leaky_relu(Tensor input, const LeakyReLUFuncOptions& options) {
    if (!options.inplace()) return ctgrad::leaky_relu(input, options.negative_slope());
    const bool recording = GradMode::is_enabled() && input.requires_grad();
    return input.copy_(ctgrad::leaky_relu(recording ? input.clone() : input, options.negative_slope()));
}

CTGRAD_API Tensor dropout(Tensor input, const DropoutFuncOptions& options) {
    if (options.inplace()) return ctgrad::dropout_(input, options.p(), options.training());
    return ctgrad::dropout(input, options.p(), options.training());
}

CTGRAD_API Tensor dropout2d(Tensor input, const Dropout2dFuncOptions& options) {
    const bool batched = input.dim() == 4;
    if (options.inplace()) {
        // Through a view of the same storage, so that input is the one changed.
        Tensor seen = batched ? input : input.unsqueeze(0);
        ctgrad::feature_dropout_(seen, options.p(), options.training());
        return batched ? seen : seen.squeeze(0);
    }
    const Tensor out = ctgrad::feature_dropout(batched ? input : input.unsqueeze(0), options.p(), options.training());
    return batched ? out : out.squeeze(0);
}

CTGRAD_API Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                             const BatchNormFuncOptions& options) {
    if (input.dim() < 2)
        throw Error("batch_norm: Expected at least 2 input dimensions, but got " + std::to_string(input.dim()) +
                    " (input of shape " + shape_str(input.sizes()) + ")");
    if (options.training()) {
        std::int64_t per_channel = input.size(0);
        for (std::int64_t d = 2; d < input.dim(); ++d) per_channel *= input.size(d);
        if (per_channel == 1)
            throw Error("batch_norm: Expected more than 1 value per channel when training, got input size " +
                        shape_str(input.sizes()));
    }
    if (!options.momentum()) throw Error("batch_norm: momentum must be given (BatchNormFuncOptions().momentum(0.1))");
    return ctgrad::batch_norm(input, options.weight(), options.bias(), running_mean, running_var, options.training(),
                              *options.momentum(), options.eps());
}

CTGRAD_API Tensor embedding(const Tensor& input, const Tensor& weight, const EmbeddingFuncOptions& options) {
    std::int64_t padding_idx = -1;
    if (options.padding_idx()) {
        const std::int64_t rows = weight.dim() > 0 ? weight.size(0) : 0, p = *options.padding_idx();
        if (p >= rows || p < -rows)
            throw Error("embedding: Padding_idx " + std::to_string(p) + " must be within num_embeddings (" +
                        std::to_string(rows) + ")");
        padding_idx = p < 0 ? p + rows : p;
    }
    if (options.max_norm()) {
        // The lookup first (it checks weight and every index), so that a bad call renorms nothing.
        ctgrad::embedding(weight.detach(), input, padding_idx, false, options.sparse());
        NoGradGuard no_grad;
        const Tensor flat = input.reshape({-1}).cpu().contiguous();
        std::vector<bool> seen(static_cast<std::size_t>(weight.size(0)), false);
        for (std::int64_t k = 0; k < flat.numel(); ++k) {
            const std::int64_t i = flat.data_ptr<std::int64_t>()[k];
            if (seen[static_cast<std::size_t>(i)]) continue;
            seen[static_cast<std::size_t>(i)] = true;
            Tensor row = weight.narrow(0, i, 1);
            const double norm = row.norm(options.norm_type()).item<double>();
            if (norm > *options.max_norm()) row.mul_(Scalar(*options.max_norm() / (norm + 1e-7)));
        }
    }
    return ctgrad::embedding(weight, input, padding_idx, options.scale_grad_by_freq(), options.sparse());
}

CTGRAD_API Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossFuncOptions& options) {
    if (input.dim() < 2) throw Error("nll_loss: Expected 2 or more dimensions (got " + std::to_string(input.dim()) + ")");
    if (target.dim() == 0 || input.size(0) != target.size(0))
        throw Error("nll_loss: Expected input batch_size (" + std::to_string(input.size(0)) +
                    ") to match target batch_size (" +
                    (target.dim() == 0 ? std::string("none: a 0-d target") : std::to_string(target.size(0))) + ").");
    return ctgrad::nll_loss(input, target, options.weight(), enumtype::reduction_get_enum(options.reduction()),
                            options.ignore_index());
}

}  // namespace ctgrad::nn::functional
#endif  // CTGRAD_RUNTIME_DEFINITIONS
