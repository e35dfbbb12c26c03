#pragma once
// ctgrad::embedding(weight, indices, padding_idx = -1, scale_grad_by_freq = false, sparse =
// false), ATen's embedding: the rows of weight [V, D] that indices (int64, any shape)
// name, shaped [*indices.sizes(), D].
//  - every index must lie in [0, V): the first one outside is reported with V, before anything
//    is computed;
//  - the gradient of weight sums the incoming rows per index; the row padding_idx gets none
//    (a negative padding_idx, -1 by default, is none: nn::functional::embedding counts negative
//    ones from V first); scale_grad_by_freq divides each row's sum by the
//    number of times its index occurs; sparse gradients are not supported.
//
// The forward gathers the rows (the device's gather kernel: exact on any device). The node,
// EmbeddingBackward0 as PyTorch names it, adds each incoming row [n, D] into the row of the
// table its index names, with the device's scatter_add along dim 0 (place_along, ops/minmax.hpp,
// which adds repeated indices in order: the same sums on every device), the padding row's
// entries skipped and scale_grad_by_freq's 1 / count(v) multiplied in first. place_along is
// differentiable in the gradient, so create_graph works.
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/functions.hpp"
#include "../tensor/tensor_data.hpp"
#include "elementwise.hpp"
#include "minmax.hpp"

namespace ctgrad {

namespace detail::embedding {

struct EmbeddingBackward final : autograd::Node {
    Tensor index;   // [n, 1] int64 on the weight's device: the row each incoming row goes to, -1 for none
    Tensor factor;  // [n, 1] in the weight's dtype (scale_grad_by_freq), or undefined
    std::vector<std::int64_t> weight_sizes;
    std::string name() const override { return "EmbeddingBackward0"; }
    variable_list apply(variable_list&& grads) override {
        Tensor g = grads[0].reshape({index.size(0), weight_sizes[1]});
        if (factor.defined()) g = g * factor;
        return {place_along(g, index, 0, weight_sizes)};
    }
};

}  // namespace detail::embedding

CTGRAD_API Tensor embedding(const Tensor& weight, const Tensor& indices, std::int64_t padding_idx,
                            bool scale_grad_by_freq, bool sparse) {
    using namespace detail;
    const char* op = "embedding";
    if (weight.dim() != 2)
        throw Error(std::string(op) + ": 'weight' must be 2-D ([num_embeddings, embedding_dim]), got one of shape " +
                    shape_str(weight.sizes()));
    if (indices.scalar_type() != kLong)
        throw Error(std::string(op) + ": Expected tensor for argument #1 'indices' to have scalar type Long (int64 "
                    "indices); but got " + dtype_name(indices.scalar_type()) + " instead");
    if (sparse) throw Error(std::string(op) + ": sparse gradients are not supported (sparse=true)");
    common_device(op, {&weight, &indices});
    const std::int64_t table = weight.size(0), width = weight.size(1);
    // The indices on the CPU, checked, as int64.
    std::vector<std::int64_t> index;
    {
        NoGradGuard no_grad;
        const Tensor flat = indices.reshape({-1}).to(Device(kCPU)).contiguous();
        const std::int64_t* p = flat.data_ptr<std::int64_t>();
        index.assign(p, p + flat.numel());
    }
    for (std::int64_t i : index)
        if (i < 0 || i >= table)
            throw Error(std::string(op) + ": index " + std::to_string(i) + " is out of range for a table of " +
                        std::to_string(table) + " rows (num_embeddings; indices of shape " +
                        shape_str(indices.sizes()) + ")");

    std::vector<std::int64_t> out_sizes = indices.sizes().vec();
    out_sizes.push_back(width);
    const std::int64_t n = static_cast<std::int64_t>(index.size());
    // The rows as [n, 1] indices on the weight's device (spread over D by the kernels' reader).
    const Tensor rows = ctgrad::tensor(index).reshape({n, 1}).to(weight.device());
    Tensor out;
    {
        NoGradGuard no_grad;
        out = n == 0 ? empty(out_sizes, weight.options()) : take_along(weight, rows, 0).view(out_sizes);
    }
    if (autograd::compute_requires_grad({&weight})) {
        auto node = autograd::record<detail::embedding::EmbeddingBackward>(out, {&weight});
        node->weight_sizes = weight.sizes().vec();
        std::vector<std::int64_t> target = index;
        for (std::int64_t& v : target)
            if (v == padding_idx) v = -1;  // the padding row gets no gradient
        node->index = ctgrad::tensor(target).reshape({n, 1}).to(weight.device());
        if (scale_grad_by_freq) {
            std::vector<double> count(static_cast<std::size_t>(table), 0.0), factor(index.size());
            for (std::int64_t i : index) count[static_cast<std::size_t>(i)] += 1;
            for (std::size_t k = 0; k < index.size(); ++k) factor[k] = 1.0 / count[static_cast<std::size_t>(index[k])];
            node->factor = ctgrad::tensor(factor, TensorOptions().dtype(kDouble)).reshape({n, 1}).to(weight.options());
        }
    }
    return out;
}

}  // namespace ctgrad
