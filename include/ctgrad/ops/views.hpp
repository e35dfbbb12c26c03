#pragma once
// Views: tensors that share their input's storage with other sizes, strides or offset.
// Each view is a function from a layout to a layout. Applied to the input it makes the view;
// applied to a contiguous layout of the input's sizes it describes where the view's elements sit
// in the input, which is all that backward needs: the gradient is scattered back to those places
// (or, for views that only regroup contiguous elements, simply reshaped).
#include <algorithm>
#include <numeric>
#include <optional>
#include <string>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/functions.hpp"
#include "reduction.hpp"

namespace ctgrad {

namespace detail {

struct layout {
    std::vector<std::int64_t> sizes, strides;
    std::int64_t offset = 0;
};

inline std::int64_t product(IntArrayRef s) {
    std::int64_t n = 1;
    for (auto v : s) n *= v;
    return n;
}

// Whether `l` lays its elements out as a contiguous tensor starting at 0 (then a view with this
// description is a reshape of the input, and its gradient a reshape back).
inline bool is_plain_reshape(const layout& l, std::int64_t input_numel) {
    if (l.offset != 0 || product(l.sizes) != input_numel) return false;
    std::int64_t expected = 1;
    for (std::size_t i = l.sizes.size(); i-- > 0;) {
        if (l.sizes[i] == 1) continue;
        if (l.strides[i] != expected) return false;
        expected *= l.sizes[i];
    }
    return true;
}

Tensor view_scatter(const Tensor& g, IntArrayRef input_sizes, const layout& where);

struct ViewBackward final : autograd::Node {
    std::string name_;
    std::vector<std::int64_t> input_sizes;
    layout where;
    explicit ViewBackward(std::string name) : name_(std::move(name)) {}
    std::string name() const override { return name_; }
    variable_list apply(variable_list&& grads) override {
        const Tensor& g = grads[0];
        if (is_plain_reshape(where, product(input_sizes))) return {g.reshape(input_sizes)};
        return {view_scatter(g, input_sizes, where)};
    }
};

// Where a view's elements sit in its base's row-major order; none when the base is not
// contiguous (its row-major order is then not the storage's).
inline std::optional<layout> layout_in_base(const TensorImpl& view) {
    const TensorImpl& base = *view.view_base;
    if (!base.is_contiguous()) return std::nullopt;
    return layout{view.sizes, view.strides, view.offset - base.offset};
}

// Gives `view` the history "this window of the base's current value" (PyTorch's
// AsStridedBackward0), after an in-place write changed the base's history or the view's.
inline void view_history_from_base(TensorImpl& view, const layout& where) {
    const Tensor base(view.view_base);
    auto node = std::make_shared<ViewBackward>("AsStridedBackward0");
    node->input_sizes = base.sizes().vec();
    node->where = where;
    autograd::set_next_edges(*node, {&base});
    node->input_metadata_.push_back({view.sizes, view.dtype, view.storage->device()});
    view.grad_fn = std::move(node);
    view.output_nr = 0;
    view.requires_grad = true;
    view.view_version = view.storage->version();
}

// TensorImpl::refresh_view_history of the views made in grad mode.
inline void refresh_view_history(TensorImpl& view) {
    view.view_version = view.storage->version();
    if (!view.view_base->requires_grad) return;
    if (const auto where = layout_in_base(view)) view_history_from_base(view, *where);
}

// Links a new view to the root of the chain of views it belongs to.
inline void track_base(TensorImpl& view, const Tensor& self) {
    const TensorImpl& s = *self.unsafeGetTensorImpl();
    view.view_base = s.view_base ? s.view_base : self.impl();
    view.view_version = s.storage->version();
    if (GradMode::is_enabled()) view.refresh_view_history = &refresh_view_history;
}

// Makes the view of self laid out as `l` (f(layout of self), computed by the caller); records
// its backward under `name`, with f applied to self's contiguous layout.
template <class F>
Tensor make_view_from(const Tensor& self, layout l, F&& f, const char* name) {
    const TensorImpl& s = *self.unsafeGetTensorImpl();
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = s.storage;
    impl->offset = l.offset;
    impl->sizes = std::move(l.sizes);
    impl->strides = std::move(l.strides);
    impl->dtype = s.dtype;
    track_base(*impl, self);
    Tensor out(std::move(impl));
    if (autograd::compute_requires_grad({&self})) {
        auto node = autograd::record<ViewBackward>(out, {&self}, name);
        node->input_sizes = s.sizes;
        node->where = f(layout{s.sizes, contiguous_strides(s.sizes), 0});
    }
    return out;
}

// Makes the view `f(layout of self)` of self; records its backward under `name`.
template <class F>
Tensor make_view(const Tensor& self, F&& f, const char* name) {
    const TensorImpl& s = *self.unsafeGetTensorImpl();
    return make_view_from(self, f(layout{s.sizes, s.strides, s.offset}), f, name);
}

// The view of a contiguous tensor described by `where` (the backward of view_scatter).
inline Tensor gather_view(const Tensor& g, const layout& where) {
    const Tensor c = g.contiguous();
    return make_view(
        c, [&](const layout& l) { return layout{where.sizes, where.strides, l.offset + where.offset}; },
        "AsStridedBackward0");
}

struct ViewScatterBackward final : autograd::Node {
    layout where;
    std::string name() const override { return "AsStridedScatterBackward0"; }
    variable_list apply(variable_list&& grads) override { return {gather_view(grads[0], where)}; }
};

// zeros(input_sizes) with g added at the places `where` describes (overlaps add up).
inline Tensor view_scatter(const Tensor& g, IntArrayRef input_sizes, const layout& where) {
    Tensor out = zeros(input_sizes, g.options());
    // Dims the view repeats (stride 0, as expand makes) are summed first, by the fast sum; what
    // is left is added into its window of out by the device's accumulate, which also adds up
    // the elements an overlapping view (as_strided) reaches more than once.
    std::vector<std::int64_t> repeated;
    layout w = where;
    for (std::size_t d = 0; d < w.sizes.size(); ++d)
        if (w.strides[d] == 0 && w.sizes[d] > 1) {
            repeated.push_back(static_cast<std::int64_t>(d));
            w.sizes[d] = 1;
        }
    const Tensor h = repeated.empty() ? g : sum_kernel(g, repeated, g.scalar_type());
    if (h.numel() != 0) {
        const TensorImpl& o = *out.unsafeGetTensorImpl();
        device_view window = view_of(o, w.sizes, w.strides);
        window.data = static_cast<char*>(window.data) + w.offset * static_cast<std::int64_t>(element_size(o.dtype));
        kernels_of(out, "backward of a view").accumulate(window, view_as(*h.unsafeGetTensorImpl(), w.sizes));
    }
    if (autograd::compute_requires_grad({&g})) {
        auto node = autograd::record<ViewScatterBackward>(out, {&g});
        node->where = where;
    }
    return out;
}

// The strides that view sizes `to` over (sizes, strides) without copying, or none (PyTorch's
// rule: each group of dims that is merged or split must be contiguous within itself).
inline std::optional<std::vector<std::int64_t>> view_strides(IntArrayRef sizes, IntArrayRef strides, IntArrayRef to) {
    std::vector<std::int64_t> out(to.size());
    if (product(sizes) == 0 || sizes.empty()) return contiguous_strides(to.vec());
    std::int64_t view_d = static_cast<std::int64_t>(to.size()) - 1;
    std::int64_t chunk_base_stride = strides.back();
    std::int64_t tensor_numel = 1, view_numel = 1;
    for (std::int64_t d = static_cast<std::int64_t>(sizes.size()) - 1; d >= 0; --d) {
        tensor_numel *= sizes[d];
        if (d == 0 || (sizes[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || to[view_d] == 1)) {
                out[view_d] = view_numel * chunk_base_stride;
                view_numel *= to[view_d];
                --view_d;
            }
            if (view_numel != tensor_numel) return std::nullopt;
            if (d > 0) {
                chunk_base_stride = strides[d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    if (view_d != -1) return std::nullopt;
    return out;
}

// Sizes with at most one -1 filled in so that they hold `numel` elements.
inline std::vector<std::int64_t> infer_size(IntArrayRef sizes, std::int64_t numel, const char* op, IntArrayRef input) {
    std::vector<std::int64_t> out = sizes.vec();
    std::int64_t known = 1;
    int infer = -1;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == -1) {
            if (infer >= 0) throw Error(std::string(op) + ": only one dimension can be inferred");
            infer = static_cast<int>(i);
        } else if (out[i] < 0) {
            throw Error(std::string(op) + ": invalid shape dimension " + std::to_string(out[i]));
        } else if (__builtin_mul_overflow(known, out[i], &known)) {
            throw Error(std::string(op) + ": shape '" + shape_str(sizes) + "' has more elements than a 64-bit count holds");
        }
    }
    if (infer >= 0 && known != 0 && numel % known == 0) out[infer] = numel / known;
    // A zero dim keeps the count at 0 but not the strides, the products of the dims after it.
    if (infer < 0 && size_product_overflows(out))
        throw Error(std::string(op) + ": shape '" + shape_str(sizes) + "' has strides that overflow a 64-bit count");
    if (product(out) != numel || (infer >= 0 && known == 0))
        throw Error(std::string(op) + ": shape '" + shape_str(sizes) + "' is invalid for input of size " +
                    std::to_string(numel) + " (input shape " + shape_str(input) + ")");
    return out;
}

inline std::int64_t wrap_index(std::int64_t i, std::int64_t size) { return i < 0 ? i + size : i; }

}  // namespace detail

CTGRAD_API Tensor Tensor::view(IntArrayRef sizes) const {
    const std::vector<std::int64_t> to = detail::infer_size(sizes, numel(), "view", this->sizes());
    auto st = detail::view_strides(this->sizes(), strides(), to);
    if (!st)
        throw Error("view size is not compatible with input tensor's size and stride (at least one dimension spans "
                    "across two contiguous subspaces). Use .reshape(...) instead.");
    // The strides just computed are the view's: no second computation (a view costs a few
    // allocations, and most of its time is theirs).
    return detail::make_view_from(
        *this, detail::layout{to, std::move(*st), unsafeGetTensorImpl()->offset},
        [&](const detail::layout& l) { return detail::layout{to, *detail::view_strides(l.sizes, l.strides, to), l.offset}; },
        "ViewBackward0");
}

CTGRAD_API Tensor Tensor::reshape(IntArrayRef sizes) const {
    const std::vector<std::int64_t> to = detail::infer_size(sizes, numel(), "reshape", this->sizes());
    // PyTorch's names: a reshape that can alias is _reshape_alias, one that copies _unsafe_view.
    auto st = detail::view_strides(this->sizes(), strides(), to);
    const auto strides_of = [&](const detail::layout& l) {
        return detail::layout{to, *detail::view_strides(l.sizes, l.strides, to), l.offset};
    };
    if (st) return detail::make_view_from(*this, detail::layout{to, std::move(*st), unsafeGetTensorImpl()->offset},
                                          strides_of, "ReshapeAliasBackward0");
    return detail::make_view(clone(), strides_of, "UnsafeViewBackward0");
}

CTGRAD_API Tensor Tensor::unsqueeze(std::int64_t d) const {
    const std::int64_t n = dim();
    if (d < -n - 1 || d > n)
        throw Error("unsqueeze: Dimension out of range (expected to be in range of [" + std::to_string(-n - 1) + ", " +
                    std::to_string(n) + "], but got " + std::to_string(d) + ")");
    const std::size_t at = static_cast<std::size_t>(d < 0 ? d + n + 1 : d);
    return detail::make_view(
        *this, [&](detail::layout l) {
            const std::int64_t stride = at < l.sizes.size() ? l.sizes[at] * l.strides[at] : 1;
            l.sizes.insert(l.sizes.begin() + static_cast<std::ptrdiff_t>(at), 1);
            l.strides.insert(l.strides.begin() + static_cast<std::ptrdiff_t>(at), stride);
            return l;
        },
        "UnsqueezeBackward0");
}

CTGRAD_API Tensor Tensor::squeeze() const {
    return detail::make_view(
        *this, [](const detail::layout& l) {
            detail::layout out{{}, {}, l.offset};
            for (std::size_t i = 0; i < l.sizes.size(); ++i)
                if (l.sizes[i] != 1) {
                    out.sizes.push_back(l.sizes[i]);
                    out.strides.push_back(l.strides[i]);
                }
            return out;
        },
        "SqueezeBackward0");
}

CTGRAD_API Tensor Tensor::squeeze(std::int64_t d) const {
    const std::size_t at = static_cast<std::size_t>(wrap_dim(d, "squeeze"));
    return detail::make_view(
        *this, [&](detail::layout l) {
            if (!l.sizes.empty() && l.sizes[at] == 1) {
                l.sizes.erase(l.sizes.begin() + static_cast<std::ptrdiff_t>(at));
                l.strides.erase(l.strides.begin() + static_cast<std::ptrdiff_t>(at));
            }
            return l;
        },
        "SqueezeBackward1");
}

CTGRAD_API Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
    if (dim() == 0) return reshape({1});
    const std::int64_t s = wrap_dim(start_dim, "flatten"), e = wrap_dim(end_dim, "flatten");
    if (s > e) throw Error("flatten() has invalid args: start_dim cannot come after end_dim");
    if (s == e) return *this;  // nothing to merge: PyTorch returns the tensor itself
    std::vector<std::int64_t> to;
    for (std::int64_t i = 0; i < s; ++i) to.push_back(size(i));
    std::int64_t merged = 1;
    for (std::int64_t i = s; i <= e; ++i) merged *= size(i);
    to.push_back(merged);
    for (std::int64_t i = e + 1; i < dim(); ++i) to.push_back(size(i));
    return reshape(to);
}

CTGRAD_API Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1) const {
    const std::size_t a = static_cast<std::size_t>(wrap_dim(d0, "transpose"));
    const std::size_t b = static_cast<std::size_t>(wrap_dim(d1, "transpose"));
    return detail::make_view(
        *this, [&](detail::layout l) {
            if (!l.sizes.empty()) {
                std::swap(l.sizes[a], l.sizes[b]);
                std::swap(l.strides[a], l.strides[b]);
            }
            return l;
        },
        "TransposeBackward0");
}

CTGRAD_API Tensor Tensor::t() const {
    if (dim() > 2)
        throw Error("t() expects a tensor with <= 2 dimensions, but self is " + std::to_string(dim()) + "D");
    if (dim() < 2) return detail::make_view(*this, [](const detail::layout& l) { return l; }, "TBackward0");
    return detail::make_view(
        *this, [](detail::layout l) {
            std::swap(l.sizes[0], l.sizes[1]);
            std::swap(l.strides[0], l.strides[1]);
            return l;
        },
        "TBackward0");
}

CTGRAD_API Tensor Tensor::permute(IntArrayRef dims) const {
    if (static_cast<std::int64_t>(dims.size()) != dim())
        throw Error("permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
                    "desired ordering of dimensions i.e. input.dim() = " + std::to_string(dim()) +
                    " is not equal to len(dims) = " + std::to_string(dims.size()));
    std::vector<std::size_t> order;
    std::vector<bool> used(dims.size(), false);
    for (auto d : dims) {
        const auto w = static_cast<std::size_t>(wrap_dim(d, "permute"));
        if (used[w]) throw Error("permute(): duplicate dims are not allowed.");
        used[w] = true;
        order.push_back(w);
    }
    return detail::make_view(
        *this, [&](const detail::layout& l) {
            detail::layout out{{}, {}, l.offset};
            for (auto w : order) {
                out.sizes.push_back(l.sizes[w]);
                out.strides.push_back(l.strides[w]);
            }
            return out;
        },
        "PermuteBackward0");
}

CTGRAD_API Tensor Tensor::select(std::int64_t d, std::int64_t index) const {
    if (dim() == 0) throw Error("select() cannot be applied to a 0-dim tensor.");
    const std::size_t at = static_cast<std::size_t>(wrap_dim(d, "select"));
    const std::int64_t size = sizes()[at];
    if (index < -size || index >= size)
        throw Error("select(): index " + std::to_string(index) + " out of range for tensor of size " +
                    shape_str(sizes()) + " at dimension " + std::to_string(at));
    const std::int64_t i = detail::wrap_index(index, size);
    return detail::make_view(
        *this, [&](detail::layout l) {
            l.offset += i * l.strides[at];
            l.sizes.erase(l.sizes.begin() + static_cast<std::ptrdiff_t>(at));
            l.strides.erase(l.strides.begin() + static_cast<std::ptrdiff_t>(at));
            return l;
        },
        "SelectBackward0");
}

CTGRAD_API Tensor Tensor::slice(std::int64_t d, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                            std::int64_t step) const {
    if (dim() == 0) throw Error("slice() cannot be applied to a 0-dim tensor.");
    if (step <= 0) throw Error("slice step must be positive");
    const std::size_t at = static_cast<std::size_t>(wrap_dim(d, "slice"));
    const std::int64_t size = sizes()[at];
    auto clamp = [&](std::optional<std::int64_t> v, std::int64_t dflt) {
        if (!v) return dflt;
        std::int64_t x = *v < 0 ? *v + size : *v;
        return std::min(std::max<std::int64_t>(x, 0), size);
    };
    const std::int64_t b = clamp(start, 0), e = std::max(clamp(stop, size), b);
    const std::int64_t len = e == b ? 0 : (e - b - 1) / step + 1;  // no overflow for a step near INT64_MAX
    return detail::make_view(
        *this, [&](detail::layout l) {
            l.offset += b * l.strides[at];
            l.sizes[at] = len;
            // A step beyond the dim leaves at most one element, whose stride does not matter
            // and must not overflow.
            std::int64_t stride = 0;
            if (!__builtin_mul_overflow(l.strides[at], step, &stride)) l.strides[at] = stride;
            return l;
        },
        "SliceBackward0");
}

CTGRAD_API Tensor Tensor::narrow(std::int64_t d, std::int64_t start, std::int64_t length) const {
    const std::size_t at = static_cast<std::size_t>(wrap_dim(d, "narrow"));
    const std::int64_t size = sizes()[at];
    const std::int64_t s = start < 0 ? start + size : start;
    if (s < 0 || s > size || length < 0 || length > size - s)
        throw Error("narrow(): start (" + std::to_string(start) + ") + length (" + std::to_string(length) +
                    ") exceeds dimension size (" + std::to_string(size) + ") of tensor of size " + shape_str(sizes()));
    return slice(d, s, s + length);
}

CTGRAD_API Tensor Tensor::index(const std::vector<indexing::TensorIndex>& indices) const {
    using kind = indexing::TensorIndex::kind;
    std::size_t consumed = 0, ellipses = 0;
    for (const auto& ix : indices) {
        if (ix.what() == kind::integer || ix.what() == kind::slice) ++consumed;
        if (ix.what() == kind::ellipsis) ++ellipses;
    }
    if (ellipses > 1) throw Error("index: an index can only have a single ellipsis ('...'), got " + std::to_string(ellipses));
    if (consumed > static_cast<std::size_t>(dim()))
        throw Error("index: too many indices for tensor of dimension " + std::to_string(dim()));
    Tensor t = *this;
    std::int64_t d = 0;     // the dim of t the next index applies to
    std::int64_t from = 0;  // the dim of *this it came from (named in errors, as PyTorch does)
    for (const auto& ix : indices) {
        switch (ix.what()) {
            case kind::integer: {
                const std::int64_t size = t.size(d), i = ix.integer();
                if (i < -size || i >= size)
                    throw Error("index " + std::to_string(i) + " is out of bounds for dimension " +
                                std::to_string(from) + " with size " + std::to_string(size));
                t = t.select(d, i);
                ++from;
                break;
            }
            case kind::slice: t = t.slice(d, ix.slice().start, ix.slice().stop, ix.slice().step); ++d, ++from; break;
            case kind::none: t = t.unsqueeze(d); ++d; break;
            case kind::ellipsis: {
                const std::int64_t skipped = dim() - static_cast<std::int64_t>(consumed);
                d += skipped, from += skipped;
                break;
            }
        }
    }
    return t;
}
CTGRAD_API Tensor Tensor::index(std::initializer_list<indexing::TensorIndex> indices) const {
    return index(std::vector<indexing::TensorIndex>(indices));
}

namespace detail {
struct ExpandBackward final : autograd::Node {
    std::vector<std::int64_t> input_sizes;
    std::string name() const override { return "ExpandBackward0"; }
    variable_list apply(variable_list&& grads) override { return {sum_to(grads[0], input_sizes)}; }
};
}  // namespace detail

CTGRAD_API Tensor Tensor::expand(IntArrayRef sizes) const {
    const std::int64_t n = dim();
    const std::int64_t m = static_cast<std::int64_t>(sizes.size());
    auto fail = [&](std::int64_t i) {
        throw Error("expand: the expanded size of the tensor (" + std::to_string(sizes[static_cast<std::size_t>(i)]) +
                    ") must match the existing size (" + std::to_string(size(i - (m - n))) +
                    ") at non-singleton dimension " + std::to_string(i) + ".  Target sizes: " + shape_str(sizes) +
                    ".  Tensor sizes: " + shape_str(this->sizes()));
    };
    if (m < n)
        throw Error("expand: the number of sizes provided (" + std::to_string(m) +
                    ") must be greater or equal to the number of dimensions in the tensor (" + std::to_string(n) + ")");
    std::vector<std::int64_t> out_sizes(static_cast<std::size_t>(m)), out_strides(static_cast<std::size_t>(m));
    for (std::int64_t i = m - 1; i >= 0; --i) {
        const std::int64_t j = i - (m - n);
        const std::int64_t want = sizes[static_cast<std::size_t>(i)];
        if (j < 0) {
            if (want < 0) throw Error("expand: " + std::to_string(want) + " is not allowed in a leading, non-existing dimension " + std::to_string(i));
            out_sizes[i] = want;
            out_strides[i] = 0;
        } else {
            const std::int64_t have = size(j);
            if (want == -1 || want == have) {
                out_sizes[i] = have;
                out_strides[i] = stride(j);
            } else if (want < 0) {
                throw Error("expand: the expanded size " + std::to_string(want) + " at dimension " + std::to_string(i) +
                            " is negative (-1 alone keeps a size).  Target sizes: " + shape_str(sizes) +
                            ".  Tensor sizes: " + shape_str(this->sizes()));
            } else if (have == 1) {
                out_sizes[i] = want;
                out_strides[i] = 0;
            } else {
                fail(i);
            }
        }
    }
    if (detail::size_product_overflows(out_sizes))
        throw Error("expand: the target sizes " + shape_str(sizes) + " have more elements than a 64-bit count holds");
    const TensorImpl& s = *impl_;
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = s.storage;
    impl->offset = s.offset;
    impl->sizes = out_sizes;
    impl->strides = out_strides;
    impl->dtype = s.dtype;
    detail::track_base(*impl, *this);
    Tensor out(std::move(impl));
    if (autograd::compute_requires_grad({this})) {
        auto node = autograd::record<detail::ExpandBackward>(out, {this});
        node->input_sizes = s.sizes;
    }
    return out;
}

}  // namespace ctgrad
