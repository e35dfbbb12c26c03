#pragma once
// max and min, over all elements or along one dim (values and int64 indices), and argmax and
// argmin, for every dtype (argmax/argmin not for bool, as in PyTorch). NaN wins every comparison,
// so a slice holding a NaN reduces to its first NaN; among equal values the first one is taken.
//
// Gradients, as PyTorch 1.13 computes them: max()/min() over all elements share the gradient
// evenly among the elements equal to the result (MaxBackward1); max(dim)/min(dim) send it to the
// index each slice selected (MaxBackward0). Both are written with differentiable ops, so
// create_graph works through them. The selection is the device's select_along kernel (the
// CPU's too), the gradients' masks its compare and where kernels, and the index placements its
// gather_along and scatter_add_along kernels.
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/functions.hpp"
#include "compare.hpp"
#include "device_select.hpp"
#include "elementwise.hpp"
#include "reduction.hpp"

namespace ctgrad {

namespace detail {


// The orders max and min select by: `a` replaces the best so far `b` when it beats it.
struct max_order {
    static constexpr const char* name = "max";
    static constexpr const char* arg_name = "argmax";
    static constexpr const char* all_backward = "MaxBackward1";
    static constexpr const char* dim_backward = "MaxBackward0";
    static constexpr bool largest = true;
};
struct min_order {
    static constexpr const char* name = "min";
    static constexpr const char* arg_name = "argmin";
    static constexpr const char* all_backward = "MinBackward1";
    static constexpr const char* dim_backward = "MinBackward0";
    static constexpr bool largest = false;
};

// The selected element of every slice of t along `dim` (of all of t, flattened, without a dim):
// its value and its index, with the reduced dims kept as size 1. Every slice is non-empty.
template <class Order>
std::pair<Tensor, Tensor> select_along(const Tensor& t, std::optional<std::int64_t> dim) {
    const Tensor c = t.is_contiguous() ? t : contiguous_copy(t, t.scalar_type());
    // Seen as [outer, n, inner] with the selection over n.
    std::int64_t outer = 1, n = c.numel(), inner = 1;
    std::vector<std::int64_t> kept(static_cast<std::size_t>(c.dim()), 1);
    if (dim && c.dim() > 0) {
        kept = c.sizes().vec();
        const auto d = static_cast<std::size_t>(*dim);
        kept[d] = 1;
        outer = 1;
        for (std::size_t i = 0; i < d; ++i) outer *= c.sizes()[i];
        n = c.sizes()[d];
        inner = 1;
        for (std::size_t i = d + 1; i < kept.size(); ++i) inner *= c.sizes()[i];
    }
    Tensor values = make_empty(kept, c.scalar_type(), c.device()), indices = make_empty(kept, kLong, c.device());
    kernels_of(c, Order::name)
        .select_along(Order::largest, c.scalar_type(), c.unsafeGetTensorImpl()->data(), outer, n, inner,
                      values.unsafeGetTensorImpl()->data(),
                      reinterpret_cast<std::int64_t*>(indices.unsafeGetTensorImpl()->data()));
    return {values, indices};
}

// Where x attains `extreme` (broadcast to x's shape): equal to it, or NaN where it is NaN.
inline Tensor extreme_mask(const Tensor& x, const Tensor& extreme) {
    const Device device = common_device("max/min backward", {&x, &extreme});
    const Tensor e = as_dtype(extreme, x.scalar_type());
    return device_compare(device_relation::same, x, e, x.sizes(), device, "max/min backward");
}

// The gradient of max()/min() over all elements: grad / count at each of the `count` elements
// that attain the result, 0 elsewhere (PyTorch's evenly_distribute_backward).
template <class Order>
struct ExtremeBackward final : autograd::Node {
    autograd::SavedVariable self, result;
    std::string name() const override { return Order::all_backward; }
    void release_variables() override {
        self.reset_data();
        result.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor x = self.unpack(), r = result.unpack(shared_from_this());
        const Tensor attains = extreme_mask(x, r);
        const std::int64_t count = sum(attains).item<std::int64_t>();
        const Tensor share = (grads[0] / Scalar(static_cast<double>(count))).expand(x.sizes());
        return {masked_fill(share, logical_not(attains), 0.0)};
    }
};

Tensor take_along(const Tensor& x, const Tensor& index, std::int64_t dim);
Tensor place_along(const Tensor& src, const Tensor& index, std::int64_t dim, IntArrayRef sizes);

// The backward of place_along: each slice takes back the element placed at its index.
struct PlaceAlongBackward final : autograd::Node {
    Tensor index;  // the reduction's indices: an output nobody differentiates
    std::int64_t dim = 0;
    std::string name() const override { return "ScatterBackward0"; }
    variable_list apply(variable_list&& grads) override { return {take_along(grads[0], index, dim)}; }
};
struct TakeAlongBackward final : autograd::Node {
    Tensor index;
    std::int64_t dim = 0;
    std::vector<std::int64_t> input_sizes;
    std::string name() const override { return "GatherBackward0"; }
    variable_list apply(variable_list&& grads) override { return {place_along(grads[0], index, dim, input_sizes)}; }
};

// `sizes` seen as [outer, n, inner] around `dim`, as the device's gather/scatter kernels see
// contiguous arrays.
struct extent_along {
    std::int64_t outer = 1, n = 1, inner = 1;
    extent_along(IntArrayRef sizes, std::int64_t dim) {
        for (std::size_t d = 0; d < sizes.size(); ++d) {
            const auto i = static_cast<std::int64_t>(d);
            if (i < dim) outer *= sizes[d];
            else if (i == dim) n = sizes[d];
            else inner *= sizes[d];
        }
    }
};

// The index of take_along/place_along as the kernels read it: contiguous int64 on `device`,
// expanded to `sizes` (a size-1 index broadcasts over the other dims).
inline Tensor index_as_kernels_read(const Tensor& index, IntArrayRef sizes, Device device) {
    const Tensor expanded = index.sizes() == sizes ? index : index.expand(sizes);
    return expanded.is_contiguous() && expanded.device() == device ? expanded : contiguous_copy_on(expanded, device);
}

// zeros(sizes).scatter_add(dim, index, src): src[..., j, ...] added at [..., index[..., j, ...], ...]
// along `dim` (src and index have the same sizes, those of `sizes` except at `dim`). An index
// of -1 places nothing (nll_loss's ignored targets). The device's scatter_add_along kernel.
inline Tensor place_along(const Tensor& src, const Tensor& index, std::int64_t dim, IntArrayRef sizes) {
    const Device device = common_device("max/min backward", {&src, &index});
    std::vector<std::int64_t> placed = sizes.vec();
    placed[static_cast<std::size_t>(dim)] = index.size(dim);
    const Tensor idx = index_as_kernels_read(index, placed, device);
    const Tensor values = src.sizes() == IntArrayRef(placed) && src.is_contiguous()
                              ? src
                              : contiguous_copy_on(src.expand(placed), device);
    Tensor out = zeros(sizes, TensorOptions().dtype(src.scalar_type()).device(device));
    const extent_along e(sizes, dim);
    kernels_of(out, "max/min backward")
        .scatter_add_along(src.scalar_type(), values.unsafeGetTensorImpl()->data(), e.outer, index.size(dim), e.inner,
                           reinterpret_cast<const std::int64_t*>(idx.unsafeGetTensorImpl()->data()), e.n,
                           out.unsafeGetTensorImpl()->data());
    if (autograd::compute_requires_grad({&src})) {
        auto node = autograd::record<PlaceAlongBackward>(out, {&src});
        node->index = index;
        node->dim = dim;
    }
    return out;
}

// x.gather(dim, index): x[..., index[..., j, ...], ...] along `dim` (index has x's sizes except
// at `dim`); 0 where the index is -1. The device's gather_along kernel.
inline Tensor take_along(const Tensor& x, const Tensor& index, std::int64_t dim) {
    const Device device = common_device("max/min", {&x, &index});
    std::vector<std::int64_t> picked = x.sizes().vec();
    picked[static_cast<std::size_t>(dim)] = index.size(dim);
    const Tensor idx = index_as_kernels_read(index, picked, device);
    const Tensor from = x.is_contiguous() ? x : contiguous_copy_on(x, device);
    Tensor out = make_empty(picked, x.scalar_type(), device);
    const extent_along e(x.sizes(), dim);
    kernels_of(out, "max/min")
        .gather_along(x.scalar_type(), from.unsafeGetTensorImpl()->data(), e.outer, e.n, e.inner,
                      reinterpret_cast<const std::int64_t*>(idx.unsafeGetTensorImpl()->data()), index.size(dim),
                      out.unsafeGetTensorImpl()->data());
    if (autograd::compute_requires_grad({&x})) {
        auto node = autograd::record<TakeAlongBackward>(out, {&x});
        node->index = index;
        node->dim = dim;
        node->input_sizes = x.sizes().vec();
    }
    return out;
}

// The gradient of max(dim)/min(dim): to the selected index of each slice, 0 elsewhere.
template <class Order>
struct SelectAlongBackward final : autograd::Node {
    std::vector<std::int64_t> input_sizes;
    std::int64_t dim = 0;
    bool keepdim = false;
    autograd::SavedVariable indices;
    std::string name() const override { return Order::dim_backward; }
    void release_variables() override { indices.reset_data(); }
    variable_list apply(variable_list&& grads) override {
        Tensor g = grads[0], index = indices.unpack();
        if (input_sizes.empty()) return {g};  // a 0-d input is its own maximum
        if (!keepdim) {
            g = g.unsqueeze(dim);
            index = index.unsqueeze(dim);
        }
        return {place_along(g, index, dim, input_sizes)};
    }
};

template <class Order>
Tensor extreme_all(const Tensor& a) {
    if (a.numel() == 0)
        throw Error(std::string(Order::name) + "(): Expected reduction dim to be specified for input.numel() == 0. "
                    "Specify the reduction dim with the 'dim' argument.");
    Tensor value = select_along<Order>(a, std::nullopt).first.view(IntArrayRef{});
    if (a.is_floating_point() && autograd::compute_requires_grad({&a})) {
        auto node = autograd::record<ExtremeBackward<Order>>(value, {&a});
        node->self = autograd::SavedVariable(a, false);
        node->result = autograd::SavedVariable(value, true);
    }
    return value;
}

// The dim a reduction along one dim works on, checked as PyTorch checks it.
inline std::int64_t selection_dim(const Tensor& a, std::int64_t dim, const char* op) {
    const std::int64_t d = a.wrap_dim(dim, op);
    if (a.dim() > 0 && a.size(d) == 0)
        throw Error(std::string(op) + "(): Expected reduction dim " + std::to_string(d) + " to have non-zero size.");
    return d;
}

template <class Order>
std::tuple<Tensor, Tensor> extreme_along(const Tensor& a, std::int64_t dim, bool keepdim) {
    const std::int64_t d = selection_dim(a, dim, Order::name);
    auto [values, indices] = select_along<Order>(a, d);
    if (!keepdim && a.dim() > 0) {
        values = values.squeeze(d);
        indices = indices.squeeze(d);
    }
    if (a.is_floating_point() && autograd::compute_requires_grad({&a})) {
        auto node = autograd::record<SelectAlongBackward<Order>>(values, {&a});
        node->input_sizes = a.sizes().vec();
        node->dim = d;
        node->keepdim = keepdim;
        node->indices = autograd::SavedVariable(indices, false);
    }
    return {values, indices};
}

template <class Order>
Tensor arg_extreme(const Tensor& a, std::optional<std::int64_t> dim, bool keepdim) {
    if (a.scalar_type() == kBool)
        throw Error(std::string("\"") + Order::arg_name + "_cpu\" not implemented for 'Bool'");
    if (!dim) {
        if (a.numel() == 0)
            throw Error(std::string(Order::arg_name) + "(): Expected reduction dim to be specified for input.numel() == 0.");
        Tensor index = select_along<Order>(a, std::nullopt).second;
        return keepdim ? index : index.view(IntArrayRef{});
    }
    const std::int64_t d = selection_dim(a, *dim, Order::arg_name);
    Tensor index = select_along<Order>(a, d).second;
    return keepdim || a.dim() == 0 ? index : index.squeeze(d);
}

}  // namespace detail

CTGRAD_API Tensor max(const Tensor& a) { return detail::extreme_all<detail::max_order>(a); }
CTGRAD_API Tensor min(const Tensor& a) { return detail::extreme_all<detail::min_order>(a); }
CTGRAD_API std::tuple<Tensor, Tensor> max(const Tensor& a, std::int64_t dim, bool keepdim) {
    return detail::extreme_along<detail::max_order>(a, dim, keepdim);
}
CTGRAD_API std::tuple<Tensor, Tensor> min(const Tensor& a, std::int64_t dim, bool keepdim) {
    return detail::extreme_along<detail::min_order>(a, dim, keepdim);
}
CTGRAD_API Tensor argmax(const Tensor& a, std::optional<std::int64_t> dim, bool keepdim) {
    return detail::arg_extreme<detail::max_order>(a, dim, keepdim);
}
CTGRAD_API Tensor argmin(const Tensor& a, std::optional<std::int64_t> dim, bool keepdim) {
    return detail::arg_extreme<detail::min_order>(a, dim, keepdim);
}

CTGRAD_API Tensor Tensor::max() const { return ctgrad::max(*this); }
CTGRAD_API Tensor Tensor::min() const { return ctgrad::min(*this); }
CTGRAD_API std::tuple<Tensor, Tensor> Tensor::max(std::int64_t dim, bool keepdim) const { return ctgrad::max(*this, dim, keepdim); }
CTGRAD_API std::tuple<Tensor, Tensor> Tensor::min(std::int64_t dim, bool keepdim) const { return ctgrad::min(*this, dim, keepdim); }
CTGRAD_API Tensor Tensor::argmax(std::optional<std::int64_t> dim, bool keepdim) const { return ctgrad::argmax(*this, dim, keepdim); }
CTGRAD_API Tensor Tensor::argmin(std::optional<std::int64_t> dim, bool keepdim) const { return ctgrad::argmin(*this, dim, keepdim); }

}  // namespace ctgrad
