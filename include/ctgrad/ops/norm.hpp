#pragma once
// norm(p) over all elements or over dims: p = 2 (the default), 1, +-inf (the largest or smallest
// |x|), 0 (the count of nonzeros) and any other p, (sum |x|^p)^(1/p). As in ATen, each element's
// term (x*x, |x|^p) is computed in the tensor's dtype, so that float32 squares overflow and
// underflow where torch's do; the terms are summed in double. A reduction over no elements is 0.
//
// The gradient is PyTorch's norm_backward, written with differentiable ops (second derivatives
// work) and with its conventions: none at all for p = 0; 0 where the norm is 0 (p >= 1) or where
// x is 0 (p < 1); sign(x) at NaN is 0; for +-inf the gradient is shared evenly by the elements
// that attain the norm.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/functions.hpp"
#include "compare.hpp"
#include "device_select.hpp"
#include "elementwise.hpp"
#include "minmax.hpp"
#include "reduction.hpp"

namespace ctgrad {

namespace detail {

enum class norm_kind { zero, one, two, inf, neg_inf, general };

inline norm_kind kind_of_norm(double p) {
    if (p == 0) return norm_kind::zero;
    if (p == 1) return norm_kind::one;
    if (p == 2) return norm_kind::two;
    if (std::isinf(p)) return p > 0 ? norm_kind::inf : norm_kind::neg_inf;
    return norm_kind::general;
}

// The p-norm of t over `dims` (raw, no autograd), with the reduced dims kept as size 1, from
// ops of t's device: each element's term in t's dtype, summed in double, the root taken in
// double and rounded once. +-inf select the largest/smallest |x| of each slice (NaN wins), the
// reduced dims moved last and flattened.
inline Tensor norm_kernel(const Tensor& t, const std::vector<std::int64_t>& dims, double p) {
    NoGradGuard no_grad;
    const ScalarType dtype = t.scalar_type();
    const std::vector<std::int64_t> kept = reduced_sizes(t.sizes().vec(), dims, true);
    std::int64_t reduced = 1;
    for (auto d : dims) reduced *= t.size(d);
    if (reduced == 0) return zeros(kept, t.options());
    const norm_kind kind = kind_of_norm(p);
    if (kind == norm_kind::inf || kind == norm_kind::neg_inf) {
        std::vector<std::int64_t> order;
        for (std::int64_t d = 0; d < t.dim(); ++d)
            if (std::find(dims.begin(), dims.end(), d) == dims.end()) order.push_back(d);
        order.insert(order.end(), dims.begin(), dims.end());
        const Tensor last = abs(t).permute(order).contiguous();
        const std::int64_t slices = t.numel() / reduced;
        Tensor values = make_empty(kept, dtype, t.device()), indices = make_empty({slices}, kLong, t.device());
        kernels_of(t, "norm").select_along(kind == norm_kind::inf, dtype, last.unsafeGetTensorImpl()->data(), slices,
                                           reduced, 1, values.unsafeGetTensorImpl()->data(),
                                           reinterpret_cast<std::int64_t*>(indices.unsafeGetTensorImpl()->data()));
        return values;
    }
    Tensor term;
    switch (kind) {
        case norm_kind::zero: term = ne(t, Scalar(0.0)); break;
        case norm_kind::one: term = abs(t); break;
        case norm_kind::two: term = t * t; break;
        default: term = pow(abs(t), Scalar(p)); break;
    }
    Tensor total = device_sum_as(term, dims, kDouble, "norm");
    if (kind == norm_kind::two) total = sqrt(total);
    else if (kind == norm_kind::general) total = pow(total, Scalar(1.0 / p));
    return as_dtype(total, dtype);
}

inline Tensor sgn(const Tensor& x) { return unary_op<expr::sign_op>(x, "SgnBackward0"); }

// PyTorch's norm_backward: the gradient of the p-norm `norm` of x over `dims`, with g and norm
// already shaped with the reduced dims kept.
inline Tensor norm_backward(const Tensor& g, const Tensor& x, double p, const Tensor& norm,
                            const std::vector<std::int64_t>& dims) {
    switch (kind_of_norm(p)) {
        case norm_kind::zero: return Tensor();  // a count: no gradient (None in PyTorch)
        case norm_kind::one: return sgn(x) * g;
        case norm_kind::two: return g * masked_fill(x / norm, eq(norm, 0), 0.0);
        case norm_kind::inf:
        case norm_kind::neg_inf: {
            const Tensor attains = extreme_mask(abs(x), norm);
            return sgn(x) * ((g / sum(attains, dims, true)) * attains);
        }
        case norm_kind::general: break;
    }
    if (p < 1) {
        // |x|^(p-1) is infinite at 0, where the convention is 0.
        const Tensor scaled = sgn(x) * masked_fill(pow(abs(x), p - 1), eq(x, 0), 0.0);
        return scaled * g * pow(norm, 1 - p);
    }
    const Tensor scale = masked_fill(g / pow(norm, p - 1), eq(norm, 0), 0.0);
    if (p < 2) return sgn(x) * pow(abs(x), p - 1) * scale;
    return x * pow(abs(x), p - 2) * scale;
}

struct NormBackward final : autograd::Node {
    autograd::SavedVariable self, result;
    double p = 2;
    std::vector<std::int64_t> dims;  // wrapped and sorted
    bool keepdim = false, all = true;
    std::string name() const override { return all ? "NormBackward0" : "NormBackward1"; }
    void release_variables() override {
        self.reset_data();
        result.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor x = self.unpack();
        Tensor norm = result.unpack(shared_from_this()), g = grads[0];
        if (!keepdim)
            for (auto d : dims) {
                g = g.unsqueeze(d);
                norm = norm.unsqueeze(d);
            }
        return {norm_backward(g, x, p, norm, dims)};
    }
};

inline Tensor norm_impl(const Tensor& a, const Scalar& p_, IntArrayRef dims_in, bool keepdim, bool all) {
    if (!a.is_floating_point())
        throw Error(std::string("norm(): input dtype should be either floating point or complex. Got ") +
                    dtype_name(a.scalar_type()) + " instead.");
    const double p = p_.to_double();
    std::vector<std::int64_t> dims = reduction_dims(a, dims_in, "norm");
    if (a.dim() == 0) dims.clear();  // dim 0 of a 0-d tensor names the tensor itself: nothing to reduce
    Tensor r = norm_kernel(a, dims, p);
    if (!keepdim) r = r.view(reduced_sizes(a.sizes(), dims, false));
    if (autograd::compute_requires_grad({&a})) {
        auto node = autograd::record<NormBackward>(r, {&a});
        node->self = autograd::SavedVariable(a, false);
        node->result = autograd::SavedVariable(r, true);
        node->p = p;
        node->dims = dims;
        node->keepdim = keepdim;
        node->all = all;
    }
    return r;
}

}  // namespace detail

CTGRAD_API Tensor norm(const Tensor& a, const Scalar& p) { return detail::norm_impl(a, p, {}, false, true); }
CTGRAD_API Tensor norm(const Tensor& a, const Scalar& p, IntArrayRef dims, bool keepdim) {
    return detail::norm_impl(a, p, dims, keepdim, false);
}

CTGRAD_API Tensor Tensor::norm(const Scalar& p) const { return ctgrad::norm(*this, p); }
CTGRAD_API Tensor Tensor::norm(const Scalar& p, IntArrayRef dims, bool keepdim) const {
    return ctgrad::norm(*this, p, dims, keepdim);
}

}  // namespace ctgrad
