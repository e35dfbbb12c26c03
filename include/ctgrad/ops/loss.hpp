#pragma once
// The regression losses as ATen's free functions: ctgrad::mse_loss, l1_loss, smooth_l1_loss
// and huber_loss (input, target, reduction = Reduction::Mean [, beta / delta]).
//
// Input and target broadcast against each other and compute in their promoted dtype, as
// PyTorch's Python functions do (PyTorch also warns when the shapes differ; ctgrad does not).
// mse_loss runs forward as ONE fused kernel of its device ((a - b)^2 summed, or written out for
// reduction none) and its backward as one fused kernel when no graph is being recorded; under
// create_graph the backward is written with tensor ops, so that it can be differentiated again.
// smooth_l1_loss and huber_loss are element-wise ops and a select each way (the backward
// differentiable). l1_loss is composite, as in PyTorch 1.13 (abs(input - target) reduced), so
// its grad_fn is AbsBackward0 / MeanBackward0 / SumBackward0.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/saved_variable.hpp"
#include "compare.hpp"
#include "conversion.hpp"
#include "device_select.hpp"
#include "elementwise.hpp"
#include "reduction.hpp"

namespace ctgrad {

namespace detail::loss {

inline void check_reduction(std::int64_t reduction, const char* op) {
    if (reduction < Reduction::None || reduction > Reduction::Sum)
        throw Error(std::string(op) + ": " + std::to_string(reduction) +
                    " is not a valid value for reduction (expected Reduction::None, Mean or Sum)");
}

// Input and target as one loop reads them: broadcast shape, promoted floating dtype, each
// either contiguous with n elements or a single value (`step` 1 or 0).
struct operands {
    Tensor a, b;
    std::vector<std::int64_t> sizes;
    std::int64_t n = 1;
    ScalarType dtype = kFloat;
};

inline operands prepare(const Tensor& input, const Tensor& target, const char* op) {
    operands r;
    r.sizes = broadcast_shapes(input.sizes(), target.sizes(), op);
    for (auto s : r.sizes) r.n *= s;
    r.dtype = promote_types(input.scalar_type(), target.scalar_type());
    if (!ctgrad::is_floating_point(r.dtype))
        throw Error(std::string(op) + ": \"" + op + "\" not implemented for '" + dtype_name(r.dtype) +
                    "' (losses take float or double tensors)");
    common_device(op, {&input, &target});
    r.a = fusable(as_dtype(input, r.dtype), r.sizes, r.n);
    r.b = fusable(as_dtype(target, r.dtype), r.sizes, r.n);
    return r;
}

// The gradient of the loss at the broadcast shape, brought back to an operand's shape and dtype.
inline Tensor to_operand(Tensor g, const std::vector<std::int64_t>& sizes, ScalarType dtype) {
    if (g.sizes() != IntArrayRef(sizes)) g = sum_to(g, sizes);
    return g.scalar_type() == dtype ? g : g.to(dtype);
}

// mse's two fused expressions, mse_value_t and mse_grad_t, are in device/expressions.hpp
// (the device kernels compile them too).

struct MseLossBackward final : autograd::Node {
    autograd::SavedVariable a, b;  // the prepared operands
    std::vector<std::int64_t> sizes, input_sizes, target_sizes;
    ScalarType input_dtype = kFloat, target_dtype = kFloat;
    std::int64_t reduction = Reduction::Mean, n = 1;

    std::string name() const override { return "MseLossBackward0"; }
    void release_variables() override {
        a.reset_data();
        b.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor av = a.unpack(), bv = b.unpack();
        const Tensor& g = grads[0];
        const double factor = reduction == Reduction::Mean ? 2.0 / static_cast<double>(n) : 2.0;
        Tensor ga, gb;
        const bool want_a = should_compute_output(0), want_b = should_compute_output(1);
        if (!GradMode::is_enabled() && g.scalar_type() == av.scalar_type()) {
            // One fused kernel per wanted gradient: g * o * (a - b), o carrying the factor.
            const Tensor gc = fusable(g, sizes, n), scale = wrapped_scalar(factor, av.scalar_type());
            if (want_a) {
                ga = make_empty(sizes, av.scalar_type(), av.device());
                device_assign<mse_grad_t>("mse_loss_backward", ga, gc, av, bv, scale);
            }
            if (want_b) {
                gb = make_empty(sizes, av.scalar_type(), av.device());
                device_assign<mse_grad_t>("mse_loss_backward", gb, gc, bv, av, scale);
            }
        } else {
            // Tensor ops: the gradient is itself differentiable (create_graph).
            const Tensor d = (g * factor) * (av - bv);
            if (want_a) ga = d;
            if (want_b) gb = -d;
        }
        if (ga.defined()) ga = to_operand(ga, input_sizes, input_dtype);
        if (gb.defined()) gb = to_operand(gb, target_sizes, target_dtype);
        return {ga, gb};
    }
};

// mask ? a : b at `sizes` (a's when not given), on the device of the tensors.
inline Tensor choose(const Tensor& mask, const Tensor& a, const Tensor& b, const char* op,
                     IntArrayRef sizes = IntArrayRef()) {
    const Device device = common_device(op, {&mask, &a, &b});
    return device_where(mask, a, b, sizes.empty() ? a.sizes() : sizes, device, op);
}

// smooth_l1 and huber: value and derivative of one element of z = input - target.
struct smooth_l1 {
    double beta;
    // The derivative with tensor ops (differentiable): clamp(z / beta, -1, 1). At beta = 0 it
    // is sign(z) with -1 at z = 0, ATen's kernel order (z <= -beta comes first); NaN stays NaN.
    Tensor derivative(const Tensor& z) const {
        if (beta != 0) return clamp_tensor(z / beta, -1.0, 1.0);
        const Tensor zero = wrapped_scalar(0, z.scalar_type());
        const Tensor positive = choose(ge(z, zero), wrapped_scalar(1, z.scalar_type()), z, op, z.sizes());
        return choose(le(z, zero), wrapped_scalar(-1, z.scalar_type()), positive, op, z.sizes());
    }
    // The value of each element, with element-wise ops and a select (no autograd).
    template <class S>
    Tensor value(const Tensor& z, type_tag<S>) const {
        const S b = static_cast<S>(beta);
        const Tensor az = abs(z), bt = wrapped_scalar(b, z.scalar_type());
        const Tensor quadratic = ((z * wrapped_scalar(0.5, z.scalar_type())) * z) / bt;
        const Tensor linear = az - wrapped_scalar(S(0.5) * b, z.scalar_type());
        return choose(lt(az, bt), quadratic, linear, op);
    }
    static constexpr const char* node_name = "SmoothL1LossBackward0";
    static constexpr const char* op = "smooth_l1_loss";
    static Tensor clamp_tensor(const Tensor& x, double lo, double hi) {
        return minimum(maximum(x, wrapped_scalar(lo, x.scalar_type())), wrapped_scalar(hi, x.scalar_type()));
    }
};
struct huber {
    double delta;
    Tensor derivative(const Tensor& z) const { return smooth_l1::clamp_tensor(z, -delta, delta); }
    template <class S>
    Tensor value(const Tensor& z, type_tag<S>) const {
        const S d = static_cast<S>(delta);
        const Tensor az = abs(z), dt = wrapped_scalar(d, z.scalar_type());
        const Tensor quadratic = (z * wrapped_scalar(0.5, z.scalar_type())) * z;
        const Tensor linear = (az - wrapped_scalar(S(0.5) * d, z.scalar_type())) * dt;
        return choose(lt(az, dt), quadratic, linear, op);
    }
    static constexpr const char* node_name = "HuberLossBackward0";
    static constexpr const char* op = "huber_loss";
};

template <class Kind>
struct PiecewiseLossBackward final : autograd::Node {
    Kind kind;
    autograd::SavedVariable a, b;
    std::vector<std::int64_t> sizes, input_sizes, target_sizes;
    ScalarType input_dtype = kFloat, target_dtype = kFloat;
    std::int64_t reduction = Reduction::Mean, n = 1;

    explicit PiecewiseLossBackward(Kind k) : kind(k) {}
    std::string name() const override { return Kind::node_name; }
    void release_variables() override {
        a.reset_data();
        b.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor av = a.unpack(), bv = b.unpack();
        const Tensor& g = grads[0];
        const double norm = reduction == Reduction::Mean ? 1.0 / static_cast<double>(n) : 1.0;
        // Tensor ops (differentiable, so create_graph works), in the order of ATen's kernel.
        const Tensor d = (g * norm) * kind.derivative(av - bv);
        Tensor ga, gb;
        if (should_compute_output(0)) ga = to_operand(d, input_sizes, input_dtype);
        if (should_compute_output(1)) gb = to_operand(-d, target_sizes, target_dtype);
        return {ga, gb};
    }
};

// Records `node` for the loss `out` of (input, target), saving the prepared operands.
template <class NodeT>
void record_loss(const Tensor& out, const Tensor& input, const Tensor& target, const operands& ops,
                 std::int64_t reduction, std::shared_ptr<NodeT> node) {
    autograd::set_next_edges(*node, {&input, &target});
    autograd::set_history(node, {&out});
    node->a = autograd::SavedVariable(ops.a, false);
    node->b = autograd::SavedVariable(ops.b, false);
    node->sizes = ops.sizes;
    node->input_sizes = input.sizes().vec();
    node->target_sizes = target.sizes().vec();
    node->input_dtype = input.scalar_type();
    node->target_dtype = target.scalar_type();
    node->reduction = reduction;
    node->n = ops.n;
}

template <class Kind>
Tensor piecewise_loss(const Tensor& input, const Tensor& target, std::int64_t reduction, Kind kind) {
    check_reduction(reduction, Kind::op);
    const operands ops = prepare(input, target, Kind::op);
    // The element values with element-wise ops and a select, summed in double.
    Tensor out;
    {
        NoGradGuard no_grad;
        dispatch_floating(ops.dtype, Kind::op, [&](auto tag) {
            const Tensor value = kind.value((ops.a - ops.b).expand(ops.sizes), tag);
            if (reduction == Reduction::None) {
                out = value.contiguous();
                return;
            }
            Tensor total = device_total_as(value, kDouble, Kind::op);
            if (reduction == Reduction::Mean) total = total / Scalar(static_cast<double>(ops.n));
            out = as_dtype(total, ops.dtype);
        });
    }
    if (autograd::compute_requires_grad({&input, &target}))
        record_loss(out, input, target, ops, reduction, std::make_shared<PiecewiseLossBackward<Kind>>(kind));
    return out;
}

}  // namespace detail::loss

CTGRAD_API Tensor mse_loss(const Tensor& input, const Tensor& target, std::int64_t reduction) {
    using namespace detail;
    using namespace detail::loss;
    check_reduction(reduction, "mse_loss");
    const operands ops = prepare(input, target, "mse_loss");
    Tensor out = make_empty(reduction == Reduction::None ? ops.sizes : std::vector<std::int64_t>{}, ops.dtype,
                            common_device("mse_loss", {&ops.a, &ops.b}));
    // One fused kernel: (a - b)^2 written out, or summed (and divided by n for the mean).
    if (reduction == Reduction::None) device_assign<mse_value_t>("mse_loss", out, Tensor(), ops.a, ops.b, Tensor());
    else
        device_sum<mse_value_t>("mse_loss", out, ops.n, Tensor(), ops.a, ops.b, Tensor(),
                                reduction == Reduction::Mean ? static_cast<double>(ops.n) : 1.0);
    if (autograd::compute_requires_grad({&input, &target}))
        record_loss(out, input, target, ops, reduction, std::make_shared<MseLossBackward>());
    return out;
}

CTGRAD_API Tensor l1_loss(const Tensor& input, const Tensor& target, std::int64_t reduction) {
    detail::loss::check_reduction(reduction, "l1_loss");
    broadcast_shapes(input.sizes(), target.sizes(), "l1_loss");
    const Tensor loss = (input - target).abs();
    if (reduction == Reduction::None) return loss;
    return reduction == Reduction::Mean ? loss.mean() : loss.sum();
}

CTGRAD_API Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, std::int64_t reduction, double beta) {
    if (beta < 0) throw Error("smooth_l1_loss does not support negative values for beta.");
    return detail::loss::piecewise_loss(input, target, reduction, detail::loss::smooth_l1{beta});
}

CTGRAD_API Tensor huber_loss(const Tensor& input, const Tensor& target, std::int64_t reduction, double delta) {
    if (!(delta > 0)) throw Error("huber_loss does not support non-positive values for delta.");
    return detail::loss::piecewise_loss(input, target, reduction, detail::loss::huber{delta});
}

}  // namespace ctgrad
