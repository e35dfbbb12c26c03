#pragma once
// gather(self, dim, index), scatter_add(self, dim, index, src) and index_select(self, dim,
// index), PyTorch 1.13's ops along one dim with int64 indices:
//
//   gather:      out[i][j][k] = self[i][index[i][j][k]][k]        (dim 1; out has index's sizes)
//   scatter_add: out = self, then out[i][index[i][j][k]][k] += src[i][j][k]
//
// index has self's number of dims and is no larger than self in the dims other than `dim` (and,
// for scatter_add, no larger than src anywhere); only index's extent of src is read. Every index
// must lie in [0, self.size(dim)): ctgrad checks them (on any device) before anything is
// computed, with ATen's message; where several are out of range, the largest (or the most
// negative) is named, where ATen names the first it meets.
//
// Both run on the device's gather_along/scatter_add_along kernels (through take_along and
// place_along, ops/minmax.hpp), which add repeated indices of one slice in order: scatter_add's
// sums do not depend on the device or the thread count. Gradients: GatherBackward0 adds the
// gradient back at the indices (a scatter_add into zeros); scatter_add's gradient is g for self
// and g gathered at the indices for src, both differentiable.
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/functions.hpp"
#include "minmax.hpp"
#include "pad.hpp"
#include "views.hpp"

namespace ctgrad {

namespace detail::indexing_along {

// ATen's gather/scatter shape checks, and the index's range; returns the wrapped dim.
inline std::int64_t check(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor* src,
                          const char* op) {
    check_defined(self, op, "self");
    check_defined(index, op, "index");
    if (src) check_defined(*src, op, "src");
    const std::string who = std::string(op) + "(): ";
    if (index.scalar_type() != kLong)
        throw Error(who + "Expected dtype int64 for index, got " + dtype_name(index.scalar_type()));
    const std::int64_t d = self.wrap_dim(dim, op);
    const std::int64_t rank = std::max<std::int64_t>(self.dim(), 1);
    if (std::max<std::int64_t>(index.dim(), 1) != rank)
        throw Error(who + "Index tensor must have the same number of dimensions as " +
                    (src ? "self tensor" : "input tensor") + " (index " + shape_str(index.sizes()) + ", " +
                    (src ? "self " : "input ") + shape_str(self.sizes()) + ")");
    if (src && std::max<std::int64_t>(src->dim(), 1) != rank)
        throw Error(who + "Index tensor must have the same number of dimensions as src tensor (index " +
                    shape_str(index.sizes()) + ", src " + shape_str(src->sizes()) + ")");
    if (src && src->scalar_type() != self.scalar_type())
        throw Error(who + "Expected self.dtype to be equal to src.dtype (self " + dtype_name(self.scalar_type()) +
                    ", src " + dtype_name(src->scalar_type()) + ")");
    if (index.numel() == 0) return d;
    const auto size_of = [](const Tensor& t, std::int64_t k) { return t.dim() == 0 ? 1 : t.size(k); };
    for (std::int64_t k = 0; k < index.dim(); ++k) {
        if (k != d && index.size(k) > size_of(self, k))
            throw Error(who + "Size does not match at dimension " + std::to_string(k) + " expected index " +
                        shape_str(index.sizes()) + " to be smaller than self " + shape_str(self.sizes()) +
                        " apart from dimension " + std::to_string(d));
        if (src && index.size(k) > size_of(*src, k))
            throw Error(who + "Expected index " + shape_str(index.sizes()) + " to be smaller than self " +
                        shape_str(self.sizes()) + " apart from dimension " + std::to_string(d) +
                        " and to be smaller size than src " + shape_str(src->sizes()));
    }
    const std::int64_t size = self.dim() == 0 ? 1 : self.size(d);
    NoGradGuard no_grad;
    const std::int64_t lo = index.min().item<std::int64_t>(), hi = index.max().item<std::int64_t>();
    if (lo < 0 || hi >= size)
        throw Error(who + "index " + std::to_string(hi >= size ? hi : lo) + " is out of bounds for dimension " +
                    std::to_string(d) + " with size " + std::to_string(size));
    return d;
}

// t's leading part with index's sizes in every dim but `except` (a view; -1: in every dim).
inline Tensor leading_part(const Tensor& t, const Tensor& index, std::int64_t except) {
    Tensor part = t;
    for (std::int64_t k = 0; k < t.dim(); ++k)
        if (k != except && t.size(k) != index.size(k)) part = part.narrow(k, 0, index.size(k));
    return part;
}

}  // namespace detail::indexing_along

CTGRAD_API Tensor gather(const Tensor& self, std::int64_t dim, const Tensor& index, bool sparse_grad) {
    constexpr const char* op = "gather";
    const std::int64_t d = detail::indexing_along::check(self, dim, index, nullptr, op);
    if (sparse_grad) throw Error("gather(): sparse_grad=true is not supported (ctgrad has no sparse tensors)");
    if (index.numel() == 0) return make_empty(index.sizes(), self.scalar_type(), self.device(), op);
    if (self.dim() == 0 || index.dim() == 0)  // a 0-d operand: one element of a vector
        return detail::take_along(self.reshape({-1}), index.reshape({1}), 0).reshape(index.sizes());
    return detail::take_along(detail::indexing_along::leading_part(self, index, d), index, d);
}

CTGRAD_API Tensor scatter_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src) {
    constexpr const char* op = "scatter_add";
    const std::int64_t d = detail::indexing_along::check(self, dim, index, &src, op);
    if (index.numel() == 0) return self.clone();
    if (self.dim() == 0 || index.dim() == 0) {  // a 0-d operand: one element added into a vector
        const Tensor one = src.reshape({-1}).narrow(0, 0, 1);
        const std::int64_t n = self.dim() == 0 ? 1 : self.size(0);
        return self + detail::place_along(one, index.reshape({1}), 0, {n}).reshape(self.sizes());
    }
    // src's part that index reaches, added into zeros of self's leading part, padded to self.
    const Tensor part = detail::indexing_along::leading_part(src, index, -1);
    std::vector<std::int64_t> sizes = self.sizes().vec();
    std::vector<std::int64_t> pad;  // {left, right} of the last dim first
    for (std::int64_t k = self.dim() - 1; k >= 0; --k) {
        const std::int64_t missing = k == d ? 0 : self.size(k) - index.size(k);
        if (k != d) sizes[static_cast<std::size_t>(k)] = index.size(k);
        pad.push_back(0);
        pad.push_back(missing);
    }
    Tensor added = detail::place_along(part, index, d, sizes);
    for (std::int64_t amount : pad)
        if (amount != 0) {
            added = constant_pad_nd(added, pad, 0);
            break;
        }
    return self + added;
}

// index_select(self, dim, index): the slices of self along `dim` at the positions of the 1-d
// int64 `index`, as gather with the index spread over the other dims.
CTGRAD_API Tensor index_select(const Tensor& self, std::int64_t dim, const Tensor& index) {
    constexpr const char* op = "index_select";
    detail::check_defined(self, op, "self");
    detail::check_defined(index, op, "index");
    if (index.dim() > 1) throw Error("index_select(): Index is supposed to be a vector");
    if (index.scalar_type() != kLong)
        throw Error(std::string("index_select(): Expected dtype int64 for index, got ") + dtype_name(index.scalar_type()));
    if (self.dim() == 0) return gather(self, dim, index.reshape({}));
    const std::int64_t d = self.wrap_dim(dim, op);
    std::vector<std::int64_t> line(static_cast<std::size_t>(self.dim()), 1), sizes = self.sizes().vec();
    line[static_cast<std::size_t>(d)] = index.numel();
    sizes[static_cast<std::size_t>(d)] = index.numel();
    if (index.numel() > 0) {
        NoGradGuard no_grad;
        const std::int64_t lo = index.min().item<std::int64_t>(), hi = index.max().item<std::int64_t>();
        if (lo < 0 || hi >= self.size(d))
            throw Error("index_select(): index out of range in self: index " + std::to_string(hi >= self.size(d) ? hi : lo) +
                        " for dimension " + std::to_string(d) + " of size " + std::to_string(self.size(d)));
    }
    return gather(self, d, index.reshape(line).expand(sizes));
}

CTGRAD_API Tensor Tensor::gather(std::int64_t dim, const Tensor& index, bool sparse_grad) const {
    return ctgrad::gather(*this, dim, index, sparse_grad);
}
CTGRAD_API Tensor Tensor::scatter_add(std::int64_t dim, const Tensor& index, const Tensor& src) const {
    return ctgrad::scatter_add(*this, dim, index, src);
}
CTGRAD_API Tensor Tensor::index_select(std::int64_t dim, const Tensor& index) const {
    return ctgrad::index_select(*this, dim, index);
}

}  // namespace ctgrad
