#pragma once
// softmax and log_softmax along one dim (input, dim, dtype = nullopt), PyTorch 1.13's ops.
//
// Forward, numerically stable and built from existing ops (so every device runs it): the max of
// each slice is subtracted first, z = x - max(x, dim), then softmax = exp(z) / sum(exp(z)) and
// log_softmax = z - log(sum(exp(z))); the sums accumulate in double (ops/reduction.hpp). With
// `dtype` the input is converted first (its history then holds a ToCopyBackward0), as in ATen.
//
// Backward, one node each (SoftmaxBackward0, LogSoftmaxBackward0), from the saved output y:
//   softmax:     dx = y * (g - sum(g * y, dim))
//   log_softmax: dx = g - exp(y) * sum(g, dim)
// written with tensor ops, and y unpacked with its own history, so that the gradient is itself
// differentiable (create_graph, double backward) exactly as PyTorch's formulas are.
#include <cstdint>
#include <optional>
#include <string>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/functions.hpp"
#include "elementwise.hpp"
#include "minmax.hpp"
#include "reduction.hpp"

namespace ctgrad {

namespace detail {

struct SoftmaxBackward final : autograd::Node {
    autograd::SavedVariable result;
    std::int64_t dim = 0;
    bool log = false;
    std::string name() const override { return log ? "LogSoftmaxBackward0" : "SoftmaxBackward0"; }
    void release_variables() override { result.reset_data(); }
    variable_list apply(variable_list&& grads) override {
        const Tensor y = result.unpack(shared_from_this());
        const Tensor& g = grads[0];
        if (log) return {g - y.exp() * g.sum({dim}, true)};
        return {y * (g - (g * y).sum({dim}, true))};
    }
};

inline Tensor softmax_impl(const Tensor& input, std::int64_t dim, std::optional<ScalarType> dtype, bool log) {
    const char* op = log ? "log_softmax" : "softmax";
    const std::int64_t d = input.wrap_dim(dim, op);
    const Tensor x = dtype && *dtype != input.scalar_type() ? input.to(*dtype) : input;
    if (!x.is_floating_point()) {
        // ATen's kernel names: the last-dim kernel is named after the op, the other one is
        // "softmax_kernel_impl" for both ops (PyTorch 1.13's wording).
        const bool last = x.dim() == 0 || d == x.dim() - 1;
        const std::string kernel = last ? std::string(op) + "_lastdim_kernel_impl" : "softmax_kernel_impl";
        throw Error(std::string(op) + ": \"" + kernel + "\" not implemented for '" + dtype_name(x.scalar_type()) + "'");
    }
    Tensor out;
    {
        NoGradGuard no_grad;
        if (x.numel() == 0) out = make_empty(x.sizes(), x.scalar_type(), x.device(), op);
        else {
            const Tensor z = x - std::get<0>(x.max(d, true));
            out = log ? z - z.exp().sum({d}, true).log() : [&] {
                const Tensor e = z.exp();
                return e / e.sum({d}, true);
            }();
        }
    }
    if (autograd::compute_requires_grad({&x})) {
        auto node = autograd::record<SoftmaxBackward>(out, {&x});
        node->result = autograd::SavedVariable(out, true);
        node->dim = d;
        node->log = log;
    }
    return out;
}

}  // namespace detail

CTGRAD_API Tensor softmax(const Tensor& input, std::int64_t dim, std::optional<ScalarType> dtype) {
    return detail::softmax_impl(input, dim, dtype, false);
}
CTGRAD_API Tensor log_softmax(const Tensor& input, std::int64_t dim, std::optional<ScalarType> dtype) {
    return detail::softmax_impl(input, dim, dtype, true);
}

CTGRAD_API Tensor Tensor::softmax(std::int64_t dim, std::optional<ScalarType> dtype) const {
    return ctgrad::softmax(*this, dim, dtype);
}
CTGRAD_API Tensor Tensor::log_softmax(std::int64_t dim, std::optional<ScalarType> dtype) const {
    return ctgrad::log_softmax(*this, dim, dtype);
}

}  // namespace ctgrad
