#pragma once
// Joining tensors: cat (along an existing dim) and stack (along a new one), with PyTorch's checks
// and messages and its dtype promotion over all the inputs. The gradient of each input is its
// part of the output's gradient (a narrow or a select, so differentiable again), in its own dtype.
#include <string>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/functions.hpp"

namespace ctgrad {

namespace detail {

// d in [-rank, rank - 1] (a 0-d tensor counts as rank 1), counted from the end when negative.
inline std::int64_t wrap_dim_of_rank(std::int64_t d, std::int64_t rank, const char* op) {
    const std::int64_t n = rank == 0 ? 1 : rank;
    if (d < -n || d >= n)
        throw Error(std::string(op) + ": Dimension out of range (expected to be in range of [" + std::to_string(-n) +
                    ", " + std::to_string(n - 1) + "], but got " + std::to_string(d) + ")");
    return d < 0 ? d + n : d;
}

inline ScalarType promoted_dtype(const TensorList& tensors) {
    ScalarType dtype = tensors[0].scalar_type();
    for (const Tensor& t : tensors) dtype = promote_types(dtype, t.scalar_type());
    return dtype;
}

inline void check_same_devices(const TensorList& tensors, const char* op) {
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        if (!(tensors[i].device() == tensors[0].device()))
            throw Error(std::string(op) + ": expected all tensors on one device, got " + tensors[0].device().str() +
                        " and " + tensors[i].device().str());
    }
}

// PyTorch still accepts 1-d tensors of size 0 anywhere in a cat and skips them.
inline bool is_legacy_empty(const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; }

struct CatBackward final : autograd::Node {
    std::int64_t dim = 0;
    std::vector<std::int64_t> starts, lengths;  // each input's place along dim; length -1: skipped
    std::vector<ScalarType> dtypes;
    std::string name() const override { return "CatBackward0"; }
    variable_list apply(variable_list&& grads) override {
        variable_list out(starts.size());
        for (std::size_t i = 0; i < starts.size(); ++i) {
            if (!should_compute_output(i)) continue;
            if (lengths[i] < 0) out[i] = zeros({0}, grads[0].options().dtype(dtypes[i]));
            else out[i] = grads[0].narrow(dim, starts[i], lengths[i]).to(dtypes[i]);
        }
        return out;
    }
};

struct StackBackward final : autograd::Node {
    std::int64_t dim = 0;
    std::vector<ScalarType> dtypes;
    std::string name() const override { return "StackBackward0"; }
    variable_list apply(variable_list&& grads) override {
        variable_list out(dtypes.size());
        for (std::size_t i = 0; i < dtypes.size(); ++i)
            if (should_compute_output(i)) out[i] = grads[0].select(dim, static_cast<std::int64_t>(i)).to(dtypes[i]);
        return out;
    }
};

inline void record_join(const std::shared_ptr<autograd::Node>& node, const TensorList& tensors, const Tensor& out) {
    autograd::set_next_edges(*node, tensors);
    autograd::set_history(node, {&out});
}

}  // namespace detail

CTGRAD_API Tensor cat(const TensorList& tensors, std::int64_t dim) {
    if (tensors.empty()) throw Error("torch.cat(): expected a non-empty list of Tensors");
    detail::check_same_devices(tensors, "cat");
    for (std::size_t i = 0; i < tensors.size(); ++i)
        if (tensors[i].dim() == 0)
            throw Error("cat: zero-dimensional tensor (at position " + std::to_string(i) + ") cannot be concatenated");
    const ScalarType dtype = detail::promoted_dtype(tensors);
    // The first input that is not skipped fixes the rank, the dim and the other sizes.
    const Tensor* ref = nullptr;
    std::size_t ref_at = 0;
    for (std::size_t i = 0; i < tensors.size() && !ref; ++i)
        if (!detail::is_legacy_empty(tensors[i])) ref = &tensors[i], ref_at = i;
    // With every input skipped the result is one more [0] tensor, whatever dim says.
    const std::int64_t d = ref ? detail::wrap_dim_of_rank(dim, ref->dim(), "cat") : 0;
    std::vector<std::int64_t> sizes = ref ? ref->sizes().vec() : std::vector<std::int64_t>{0};
    sizes[static_cast<std::size_t>(d)] = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i];
        if (detail::is_legacy_empty(t)) continue;
        if (t.dim() != ref->dim())
            throw Error("cat: Tensors must have same number of dimensions: got " + std::to_string(ref->dim()) +
                        " and " + std::to_string(t.dim()));
        for (std::int64_t k = 0; k < t.dim(); ++k)
            if (k != d && t.size(k) != ref->size(k))
                throw Error("cat: Sizes of tensors must match except in dimension " + std::to_string(d) +
                            ". Expected size " + std::to_string(ref->size(k)) + " but got size " +
                            std::to_string(t.size(k)) + " for tensor number " + std::to_string(i) +
                            " in the list (shapes " + shape_str(ref->sizes()) + " at " + std::to_string(ref_at) +
                            " and " + shape_str(t.sizes()) + " at " + std::to_string(i) + ")");
        sizes[static_cast<std::size_t>(d)] += t.size(d);
    }
    Tensor out = make_empty(sizes, dtype, tensors[0].device());
    auto node = std::make_shared<detail::CatBackward>();
    node->dim = d;
    std::int64_t start = 0;
    for (const Tensor& t : tensors) {
        node->dtypes.push_back(t.scalar_type());
        if (detail::is_legacy_empty(t)) {
            node->starts.push_back(0);
            node->lengths.push_back(-1);
            continue;
        }
        const std::int64_t length = t.size(d);
        detail::copy_elements(*out.narrow(d, start, length).unsafeGetTensorImpl(), *t.unsafeGetTensorImpl());
        node->starts.push_back(start);
        node->lengths.push_back(length);
        start += length;
    }
    if (ctgrad::is_floating_point(dtype) && autograd::compute_requires_grad(tensors)) detail::record_join(node, tensors, out);
    return out;
}

CTGRAD_API Tensor stack(const TensorList& tensors, std::int64_t dim) {
    if (tensors.empty()) throw Error("stack expects a non-empty TensorList");
    detail::check_same_devices(tensors, "stack");
    const Tensor& first = tensors[0];
    const std::int64_t d = detail::wrap_dim_of_rank(dim, first.dim() + 1, "stack");
    for (std::size_t i = 1; i < tensors.size(); ++i)
        if (!(tensors[i].sizes() == first.sizes()))
            throw Error("stack expects each tensor to be equal size, but got " + shape_str(first.sizes()) +
                        " at entry 0 and " + shape_str(tensors[i].sizes()) + " at entry " + std::to_string(i));
    const ScalarType dtype = detail::promoted_dtype(tensors);
    std::vector<std::int64_t> sizes = first.sizes().vec();
    sizes.insert(sizes.begin() + d, static_cast<std::int64_t>(tensors.size()));
    Tensor out = make_empty(sizes, dtype, tensors[0].device());
    auto node = std::make_shared<detail::StackBackward>();
    node->dim = d;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        node->dtypes.push_back(tensors[i].scalar_type());
        detail::copy_elements(*out.select(d, static_cast<std::int64_t>(i)).unsafeGetTensorImpl(),
                              *tensors[i].unsafeGetTensorImpl());
    }
    if (ctgrad::is_floating_point(dtype) && autograd::compute_requires_grad(tensors)) detail::record_join(node, tensors, out);
    return out;
}

}  // namespace ctgrad
