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
// The forward copies the rows (narrow views of weight, joined with cat: exact on any device).
// The node, EmbeddingBackward0 as PyTorch names it, multiplies the transposed one-hot matrix of
// the indices [V, n] (written on the host) with the incoming gradient [n, D] (one mm, any device; differentiable in
// the gradient, so create_graph works). That costs n * V numbers of memory, and a NaN in the
// incoming gradient reaches every row (ATen's index_add leaves the other rows as they are).
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/functions.hpp"
#include "compare.hpp"
#include "elementwise.hpp"

namespace ctgrad {

namespace detail::embedding {

struct EmbeddingBackward final : autograd::Node {
    Tensor rows;  // [V, n] in the weight's dtype: where each incoming row goes (no history)
    std::vector<std::int64_t> weight_sizes;
    std::string name() const override { return "EmbeddingBackward0"; }
    variable_list apply(variable_list&& grads) override {
        return {mm(rows, grads[0].reshape({rows.size(1), weight_sizes[1]}))};
    }
};

// The transposed one-hot matrix [V, n] of the indices, written in dtype T: 1 / count(v) (or 1)
// at [v, k] where index[k] == v, except in the row padding_idx.
template <class T>
void fill_rows(T* r, const std::vector<std::int64_t>& index, std::int64_t table, std::int64_t padding_idx,
               bool scale_grad_by_freq) {
    const auto n = static_cast<std::int64_t>(index.size());
    std::vector<double> count(static_cast<std::size_t>(table), 0.0);
    for (std::int64_t i : index) count[static_cast<std::size_t>(i)] += 1;
    for (std::int64_t k = 0; k < n; ++k) {
        const std::int64_t v = index[static_cast<std::size_t>(k)];
        if (v == padding_idx) continue;
        r[v * n + k] = static_cast<T>(scale_grad_by_freq ? 1.0 / count[static_cast<std::size_t>(v)] : 1.0);
    }
}

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
    Tensor out;
    {
        NoGradGuard no_grad;
        if (n == 0) {
            out = empty(out_sizes, weight.options());
        } else {
            std::vector<Tensor> picked;
            picked.reserve(index.size());
            for (std::int64_t i : index) picked.push_back(weight.narrow(0, i, 1));
            out = cat(picked, 0).view(out_sizes);
        }
    }
    if (autograd::compute_requires_grad({&weight})) {
        Tensor rows;
        {
            NoGradGuard no_grad;
            rows = zeros({table, n}, TensorOptions().dtype(weight.scalar_type()));
            if (weight.scalar_type() == kFloat)
                embedding::fill_rows(rows.data_ptr<float>(), index, table, padding_idx, scale_grad_by_freq);
            else
                embedding::fill_rows(rows.data_ptr<double>(), index, table, padding_idx, scale_grad_by_freq);
            rows = rows.to(weight.device());
        }
        auto node = autograd::record<detail::embedding::EmbeddingBackward>(out, {&weight});
        node->rows = rows;
        node->weight_sizes = weight.sizes().vec();
    }
    return out;
}

}  // namespace ctgrad
