#pragma once
// sum and mean, over all elements or over dims (keepdim as in PyTorch), and sum_to, which
// undoes a broadcast in backward. A contiguous floating-point tensor summed whole goes through
// the static layer's fused SIMD sum; the rest through one strided pass.
#include <algorithm>
#include <optional>
#include <string>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/functions.hpp"
#include "device_fused.hpp"

namespace ctgrad {

namespace detail {

// The dims to reduce, wrapped and sorted, with PyTorch's errors; empty `dims` means all.
inline std::vector<std::int64_t> reduction_dims(const Tensor& t, IntArrayRef dims, const char* op) {
    std::vector<std::int64_t> out;
    if (dims.empty()) {
        for (std::int64_t d = 0; d < t.dim(); ++d) out.push_back(d);
        return out;
    }
    for (auto d : dims) {
        const std::int64_t w = t.wrap_dim(d, op);
        if (std::find(out.begin(), out.end(), w) != out.end())
            throw Error(std::string(op) + ": dim " + std::to_string(w) + " appears multiple times in the list of dims");
        out.push_back(w);
    }
    if (t.dim() == 0) out.clear();  // dim 0 (or -1) of a 0-d tensor is the tensor itself
    std::sort(out.begin(), out.end());
    return out;
}

inline std::vector<std::int64_t> reduced_sizes(IntArrayRef sizes, const std::vector<std::int64_t>& dims, bool keepdim) {
    std::vector<std::int64_t> out;
    for (std::size_t d = 0; d < sizes.size(); ++d) {
        const bool reduced = std::find(dims.begin(), dims.end(), static_cast<std::int64_t>(d)) != dims.end();
        if (!reduced) out.push_back(sizes[d]);
        else if (keepdim) out.push_back(1);
    }
    return out;
}

// The sum of t over `dims` (raw, no autograd) in dtype `dtype`, accumulated in double for
// floating point (int64 for integers), with the reduced dims kept as size 1, or shaped
// `result_sizes` when given (the same elements, as sum_to wants them).
inline Tensor sum_kernel(const Tensor& t, const std::vector<std::int64_t>& dims, ScalarType dtype,
                         std::optional<IntArrayRef> result_sizes = std::nullopt) {
    const TensorImpl& in = *t.unsafeGetTensorImpl();
    std::vector<std::int64_t> kept = reduced_sizes(in.sizes, dims, true);
    Tensor out = make_empty(result_sizes ? *result_sizes : IntArrayRef(kept), dtype, t.device());
    const TensorImpl& o = *out.unsafeGetTensorImpl();
    std::int64_t kept_count = 1;
    for (auto s : kept) kept_count *= s;
    if (o.numel() != kept_count) throw Error("internal: sum_kernel's result shape holds another number of elements");
    DeviceKernels& kernels = kernels_of(t, "sum");
    if (in.numel() == 0) kernels.fill(view_of(o), 0);
    // Every element of a contiguous floating-point tensor into one (all dims, or all but dims of
    // size 1): the fused blocked sum.
    else if (o.numel() == 1 && in.is_contiguous() && in.dtype == dtype && ctgrad::is_floating_point(dtype))
        device_sum<A>("sum", out, in.numel(), Tensor(), t, Tensor(), Tensor());
    else kernels.sum(contiguous_view_as(o, kept), view_of(in));
    return out;
}

// The gradient of a reduction over dims: g with the reduced dims put back, expanded.
inline Tensor unreduce(const Tensor& g, IntArrayRef input_sizes, const std::vector<std::int64_t>& dims, bool keepdim) {
    Tensor r = g;
    if (!keepdim)
        for (auto d : dims) r = r.unsqueeze(d);
    return r.expand(input_sizes);
}

struct SumBackward final : autograd::Node {
    std::vector<std::int64_t> input_sizes, dims;
    bool keepdim = false, all = true;
    std::string name() const override { return all ? "SumBackward0" : "SumBackward1"; }
    variable_list apply(variable_list&& grads) override { return {unreduce(grads[0], input_sizes, dims, keepdim)}; }
};

struct MeanBackward final : autograd::Node {
    std::vector<std::int64_t> input_sizes, dims;
    bool keepdim = false, all = true;
    std::int64_t count = 1;
    std::string name() const override { return all ? "MeanBackward0" : "MeanBackward1"; }
    variable_list apply(variable_list&& grads) override {
        return {unreduce(grads[0], input_sizes, dims, keepdim) / Scalar(static_cast<double>(count))};
    }
};

inline ScalarType sum_dtype(const Tensor& t, std::optional<ScalarType> dtype) {
    if (dtype) return *dtype;
    return t.is_floating_point() ? t.scalar_type() : kLong;  // integers and bools sum to int64
}

inline Tensor sum_impl(const Tensor& t, IntArrayRef dims_in, bool keepdim, std::optional<ScalarType> dtype, bool all) {
    const std::vector<std::int64_t> dims = reduction_dims(t, dims_in, "sum");
    const std::vector<std::int64_t> final_sizes = reduced_sizes(t.sizes(), dims, keepdim);
    Tensor r = sum_kernel(t, dims, sum_dtype(t, dtype), IntArrayRef(final_sizes));
    if (r.is_floating_point() && autograd::compute_requires_grad({&t})) {
        auto node = autograd::record<SumBackward>(r, {&t});
        node->input_sizes = t.sizes().vec();
        node->dims = dims;
        node->keepdim = keepdim;
        node->all = all;
    }
    return r;
}

inline Tensor mean_impl(const Tensor& t, IntArrayRef dims_in, bool keepdim, std::optional<ScalarType> dtype, bool all) {
    const ScalarType d = dtype.value_or(t.scalar_type());
    if (!ctgrad::is_floating_point(d))
        throw Error(std::string("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                                "complex dtype. Got: ") + dtype_name(d));
    const std::vector<std::int64_t> dims = reduction_dims(t, dims_in, "mean");
    std::int64_t count = 1;
    for (auto k : dims) count *= t.size(k);
    Tensor r;
    {
        NoGradGuard no_grad;
        r = sum_impl(t, dims, keepdim, d, all) / Scalar(static_cast<double>(count));
    }
    if (autograd::compute_requires_grad({&t})) {
        auto node = autograd::record<MeanBackward>(r, {&t});
        node->input_sizes = t.sizes().vec();
        node->dims = dims;
        node->keepdim = keepdim;
        node->all = all;
        node->count = count;
    }
    return r;
}

}  // namespace detail

CTGRAD_API Tensor sum(const Tensor& a, std::optional<ScalarType> dtype) { return detail::sum_impl(a, {}, false, dtype, true); }
CTGRAD_API Tensor sum(const Tensor& a, IntArrayRef dims, bool keepdim, std::optional<ScalarType> dtype) {
    return detail::sum_impl(a, dims, keepdim, dtype, false);
}
CTGRAD_API Tensor mean(const Tensor& a, std::optional<ScalarType> dtype) { return detail::mean_impl(a, {}, false, dtype, true); }
CTGRAD_API Tensor mean(const Tensor& a, IntArrayRef dims, bool keepdim, std::optional<ScalarType> dtype) {
    return detail::mean_impl(a, dims, keepdim, dtype, false);
}

CTGRAD_API Tensor sum_to(const Tensor& a, IntArrayRef target) {
    if (a.sizes() == target) return a;
    const std::int64_t lead = a.dim() - static_cast<std::int64_t>(target.size());
    if (lead < 0)
        throw Error("sum_to: cannot reduce a tensor of shape " + shape_str(a.sizes()) + " to shape " + shape_str(target));
    std::vector<std::int64_t> dims;
    for (std::int64_t i = 0; i < lead; ++i) dims.push_back(i);
    for (std::size_t i = 0; i < target.size(); ++i) {
        const std::int64_t have = a.size(lead + static_cast<std::int64_t>(i));
        if (target[i] == have) continue;
        if (target[i] != 1)
            throw Error("sum_to: shape " + shape_str(target) + " is not expandable to shape " + shape_str(a.sizes()));
        dims.push_back(lead + static_cast<std::int64_t>(i));
    }
    if (dims.empty()) return a.view(target);
    // Nothing to record (backward passes without create_graph): the kernel writes the result in
    // its final shape, with no intermediate tensors.
    if (!autograd::compute_requires_grad({&a})) return detail::sum_kernel(a, dims, a.scalar_type(), target);
    return sum(a, dims, true).view(target);
}

CTGRAD_API Tensor Tensor::sum(std::optional<ScalarType> dtype) const { return ctgrad::sum(*this, dtype); }
CTGRAD_API Tensor Tensor::sum(IntArrayRef dims, bool keepdim, std::optional<ScalarType> dtype) const {
    return ctgrad::sum(*this, dims, keepdim, dtype);
}
CTGRAD_API Tensor Tensor::mean(std::optional<ScalarType> dtype) const { return ctgrad::mean(*this, dtype); }
CTGRAD_API Tensor Tensor::mean(IntArrayRef dims, bool keepdim, std::optional<ScalarType> dtype) const {
    return ctgrad::mean(*this, dims, keepdim, dtype);
}
CTGRAD_API Tensor Tensor::sum_to_size(IntArrayRef sizes) const { return sum_to(*this, sizes); }

}  // namespace ctgrad
