#pragma once
// nn::Embedding: a table weight [num_embeddings, embedding_dim] looked up by int64
// indices of any shape, giving [*indices.sizes(), embedding_dim] (nn::functional::embedding).
// Initialised as PyTorch 1.13's reset_parameters: normal_(weight), then the padding_idx row
// zeroed, so that after manual_seed(s) the table is PyTorch's. The padding_idx row gets no
// gradient; max_norm rescales the rows looked up in place. Embedding::from_pretrained(table)
// wraps an existing table (frozen unless told otherwise).
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "../autograd/grad_mode.hpp"
#include "../core/error.hpp"
#include "../tensor/functions.hpp"
#include "functional.hpp"
#include "init.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

class EmbeddingImpl : public Module {
public:
    EmbeddingImpl(std::int64_t num_embeddings, std::int64_t embedding_dim)
        : EmbeddingImpl(EmbeddingOptions(num_embeddings, embedding_dim)) {}
    explicit EmbeddingImpl(const EmbeddingOptions& options_);

    // libtorch's checks, then the table: a fresh one, or options._weight() itself.
    void reset();
    void reset_parameters();

    Tensor forward(const Tensor& indices) {
        return functional::embedding(indices, weight,
                                     functional::EmbeddingFuncOptions()
                                         .padding_idx(options.padding_idx())
                                         .max_norm(options.max_norm())
                                         .norm_type(options.norm_type())
                                         .scale_grad_by_freq(options.scale_grad_by_freq())
                                         .sparse(options.sparse()));
    }

    // libtorch's text: the options that differ from their defaults after the two sizes.
    void pretty_print(std::ostream& stream) const override;

    EmbeddingOptions options;
    Tensor weight;
};

// The holder, with libtorch's Embedding::from_pretrained.
class Embedding : public ModuleHolder<EmbeddingImpl> {
public:
    using ModuleHolder<EmbeddingImpl>::ModuleHolder;
    using Impl = EmbeddingImpl;

    // A module around `embeddings` [rows, cols] (the same tensor, not a copy); with freeze (the
    // default) it does not require grad.
    static Embedding from_pretrained(const Tensor& embeddings, const EmbeddingFromPretrainedOptions& options = {});
};

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::nn {

CTGRAD_API EmbeddingImpl::EmbeddingImpl(const EmbeddingOptions& options_) : options(options_) { reset(); }

CTGRAD_API void EmbeddingImpl::reset() {
    const std::int64_t rows = options.num_embeddings(), cols = options.embedding_dim();
    if (rows < 0 || cols < 0)
        throw Error("nn::Embedding: num_embeddings and embedding_dim must be non-negative, got num_embeddings=" +
                    std::to_string(rows) + ", embedding_dim=" + std::to_string(cols));
    if (options.padding_idx()) {
        const std::int64_t p = *options.padding_idx();
        if (p >= rows || p < -rows)
            throw Error("nn::Embedding: Padding_idx " + std::to_string(p) + " must be within num_embeddings (" +
                        std::to_string(rows) + ")");
        if (p < 0) options.padding_idx(rows + p);
    }
    const Tensor& given = options._weight();
    if (given.defined()) {
        if (given.sizes() != IntArrayRef({rows, cols}))
            throw Error("nn::Embedding: Shape of _weight " + shape_str(given.sizes()) +
                        " does not match num_embeddings and embedding_dim [" + std::to_string(rows) + ", " +
                        std::to_string(cols) + "]");
        weight = register_or_replace_parameter("weight", given);
    } else {
        weight = register_or_replace_parameter("weight", ctgrad::empty({rows, cols}));
        reset_parameters();
    }
}

CTGRAD_API void EmbeddingImpl::reset_parameters() {
    init::normal_(weight);
    if (options.padding_idx()) {
        NoGradGuard no_grad;
        weight.narrow(0, *options.padding_idx(), 1).fill_(0);
    }
}

CTGRAD_API void EmbeddingImpl::pretty_print(std::ostream& stream) const {
    stream << "ctgrad::nn::Embedding(num_embeddings=" << options.num_embeddings()
           << ", embedding_dim=" << options.embedding_dim();
    if (options.padding_idx()) stream << ", padding_idx=" << *options.padding_idx();
    if (options.max_norm()) stream << ", max_norm=" << *options.max_norm();
    if (options.norm_type() != 2) stream << ", norm_type=" << options.norm_type();
    if (options.scale_grad_by_freq()) stream << ", scale_grad_by_freq=true";
    if (options.sparse()) stream << ", sparse=true";
    stream << ")";
}

CTGRAD_API Embedding Embedding::from_pretrained(const Tensor& embeddings,
                                                const EmbeddingFromPretrainedOptions& options) {
    if (embeddings.dim() != 2)
        throw Error("nn::Embedding::from_pretrained: Embeddings parameter is expected to be 2-dimensional, got shape " +
                    shape_str(embeddings.sizes()));
    Embedding embedding(EmbeddingOptions(embeddings.size(0), embeddings.size(1))
                            ._weight(embeddings)
                            .padding_idx(options.padding_idx())
                            .max_norm(options.max_norm())
                            .norm_type(options.norm_type())
                            .scale_grad_by_freq(options.scale_grad_by_freq())
                            .sparse(options.sparse()));
    embedding->weight.set_requires_grad(!options.freeze());
    return embedding;
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS
