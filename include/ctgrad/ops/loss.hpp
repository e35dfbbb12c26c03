#pragma once
// The regression losses as ATen's free functions: ctgrad::mse_loss, l1_loss, smooth_l1_loss
// and huber_loss (input, target, reduction = Reduction::Mean [, beta / delta]).
//
// Input and target broadcast against each other and compute in their promoted dtype, as
// PyTorch's Python functions do (PyTorch also warns when the shapes differ; ctgrad does not).
// mse_loss runs forward as ONE fused pass of the static layer's executor ((a - b)^2 summed, or
// written out for reduction none) and its backward as one fused pass when no graph is being
// recorded; under create_graph the backward is written with tensor ops, so that it can be
// differentiated again. smooth_l1_loss and huber_loss are one loop each way, with the same
// tensor-op fallback (on a device: element-wise kernels and a select, and the tensor-op
// backward). l1_loss is composite, as in PyTorch 1.13 (abs(input - target) reduced),
// so its grad_fn is AbsBackward0 / MeanBackward0 / SumBackward0.
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
#include "fused.hpp"
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

template <class S>
source<S> source_of(const Tensor& t, std::int64_t n) {
    source<S> s{nullptr, true};
    if (!as_source<S>(t, n, s)) throw Error("internal: a loss operand is not readable by a fused loop");
    return s;
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
        if (!GradMode::is_enabled() && g.scalar_type() == av.scalar_type() && !g.is_cpu()) {
            const Tensor gc = fusable(g, sizes, n), scale = wrapped_scalar(factor, av.scalar_type());
            if (want_a) {
                ga = make_empty(sizes, av.scalar_type(), av.device());
                device_assign<mse_grad_t>("mse_loss_backward", ga, gc, av, bv, scale);
            }
            if (want_b) {
                gb = make_empty(sizes, av.scalar_type(), av.device());
                device_assign<mse_grad_t>("mse_loss_backward", gb, gc, bv, av, scale);
            }
        } else if (!GradMode::is_enabled() && g.scalar_type() == av.scalar_type()) {
            dispatch_floating(av.scalar_type(), "mse_loss_backward", [&](auto tag) {
                using S = typename decltype(tag)::type;
                const Tensor gc = fusable(g, sizes, n);
                const S scale = static_cast<S>(factor);
                const sources<S> src{source_of<S>(gc, n), source_of<S>(av, n), source_of<S>(bv, n), source<S>{&scale, true}};
                const sources<S> swapped{src[0], src[2], src[1], src[3]};
                if (want_a) {
                    ga = make_empty(sizes, av.scalar_type());
                    fused_assign<mse_grad_t, S>(ga.data_ptr<S>(), n, src);
                }
                if (want_b) {
                    gb = make_empty(sizes, av.scalar_type());
                    fused_assign<mse_grad_t, S>(gb.data_ptr<S>(), n, swapped);
                }
            });
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

// mask ? a : b on a device (the losses' value() on device tensors).
inline Tensor choose(const Tensor& mask, const Tensor& a, const Tensor& b, const char* op) {
    return device_where(mask, a, b, a.sizes(), a.device(), op);
}

// smooth_l1 and huber: value and derivative of one element of z = input - target.
struct smooth_l1 {
    double beta;
    template <class S>
    S value(S z) const {
        const S az = std::abs(z), b = static_cast<S>(beta);
        return az < b ? S(0.5) * z * z / b : az - S(0.5) * b;
    }
    // PyTorch's kernel order: at beta = 0 the derivative at z = 0 is -1, as in ATen.
    template <class S>
    S derivative(S z) const {
        const S b = static_cast<S>(beta);
        return z <= -b ? S(-1) : z >= b ? S(1) : z / b;
    }
    // The derivative with tensor ops (differentiable): clamp(z / beta, -1, 1).
    Tensor derivative(const Tensor& z) const { return clamp_tensor(z / beta, -1.0, 1.0); }
    // value() for z on a device, with the same operations in the same order (no autograd).
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
    template <class S>
    S value(S z) const {
        const S az = std::abs(z), d = static_cast<S>(delta);
        return az < d ? S(0.5) * z * z : d * (az - S(0.5) * d);
    }
    template <class S>
    S derivative(S z) const {
        const S d = static_cast<S>(delta);
        return z < -d ? -d : z > d ? d : z;
    }
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
        Tensor d;  // the gradient wrt the input, at the broadcast shape
        if (!GradMode::is_enabled() && g.scalar_type() == av.scalar_type() && g.is_cpu() && av.is_cpu() &&
            bv.is_cpu()) {
            d = make_empty(sizes, av.scalar_type());
            dispatch_floating(av.scalar_type(), Kind::op, [&](auto tag) {
                using S = typename decltype(tag)::type;
                const Tensor gc = fusable(g, sizes, n);
                const source<S> sg = source_of<S>(gc, n), sa = source_of<S>(av, n), sb = source_of<S>(bv, n);
                const std::int64_t kg = sg.is_scalar ? 0 : 1, ka = sa.is_scalar ? 0 : 1, kb = sb.is_scalar ? 0 : 1;
                const S s = static_cast<S>(norm);
                S* out = d.template data_ptr<S>();
                for (std::int64_t i = 0; i < n; ++i)
                    out[i] = sg.data[i * kg] * s * kind.derivative(sa.data[i * ka] - sb.data[i * kb]);
            });
        } else {
            d = (g * norm) * kind.derivative(av - bv);
        }
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
    Tensor out;
    if (!ops.a.is_cpu() || !ops.b.is_cpu()) {
        // On a device: the element values with device ops, summed in double as on the CPU.
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
    } else out = make_empty(reduction == Reduction::None ? ops.sizes : std::vector<std::int64_t>{}, ops.dtype);
    if (out.is_cpu()) dispatch_floating(ops.dtype, Kind::op, [&](auto tag) {
        using S = typename decltype(tag)::type;
        const source<S> sa = source_of<S>(ops.a, ops.n), sb = source_of<S>(ops.b, ops.n);
        const std::int64_t ka = sa.is_scalar ? 0 : 1, kb = sb.is_scalar ? 0 : 1;
        S* o = out.template data_ptr<S>();
        if (reduction == Reduction::None) {
            for (std::int64_t i = 0; i < ops.n; ++i) o[i] = kind.value(sa.data[i * ka] - sb.data[i * kb]);
        } else {
            double total = 0;  // accumulated in double: float sums of many terms drift
            for (std::int64_t i = 0; i < ops.n; ++i) total += kind.value(sa.data[i * ka] - sb.data[i * kb]);
            *o = static_cast<S>(reduction == Reduction::Mean ? total / static_cast<double>(ops.n) : total);
        }
    });
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
                            ops.a.is_cpu() ? ops.b.device() : ops.a.device());
    if (!out.is_cpu()) {
        if (reduction == Reduction::None) {
            device_assign<mse_value_t>("mse_loss", out, Tensor(), ops.a, ops.b, Tensor());
        } else {
            device_sum<mse_value_t>("mse_loss", out, ops.n, Tensor(), ops.a, ops.b, Tensor());
            if (reduction == Reduction::Mean) {
                NoGradGuard no_grad;
                out = out / Scalar(static_cast<double>(ops.n));
            }
        }
    } else dispatch_floating(ops.dtype, "mse_loss", [&](auto tag) {
        using S = typename decltype(tag)::type;
        const sources<S> src{unbound<S>, source_of<S>(ops.a, ops.n), source_of<S>(ops.b, ops.n), unbound<S>};
        if (reduction == Reduction::None) {
            fused_assign<mse_value_t, S>(out.data_ptr<S>(), ops.n, src);
        } else {
            const S total = fused_sum<mse_value_t, S>(ops.n, src);
            *out.data_ptr<S>() = reduction == Reduction::Mean ? total / static_cast<S>(ops.n) : total;
        }
    });
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
