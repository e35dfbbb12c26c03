#pragma once
// ctgrad::fuse(e, x = t1, y = t2, ...): a static-layer expression evaluated over tensors as ONE
// node of the dynamic graph ("FusedBackward0", one edge per bound tensor).
//
//   using namespace ctgrad::expr;
//   constexpr var<"x"> x; constexpr var<"a"> a;
//   Tensor L = ctgrad::fuse(sum(pow<2>(a * x - 1_c)), x = xs, a = a_t);   // 0-d, one fused pass
//
// The variables are bound at run time, where the tensors' dtype and shape are known: all bound
// tensors share one floating dtype and live on the CPU; tensors of one element broadcast, all
// others share one shape (the static layer's rule). A variable may also be bound to a number.
//
// Two kinds of expression, told apart at run time by what the variables outside every sum() or
// mean() are bound to:
//  - scalar-valued (all of them one-element): the result has one element. When a graph is
//    recorded the forward pass computes the value and the partials of every bound tensor in
//    the same fused loop (the static layer's value_and_grad pass); backward then only scales
//    them by the incoming gradient, plus one pass that writes per-element gradients for bound
//    arrays that require grad.
//  - element-wise: the result has the broadcast shape; backward is one fused pass writing
//    g * de/dx for every array and summing it for every one-element tensor.
// When backward records a graph (create_graph), or for an element-wise expression that also
// holds reductions, the gradients are computed instead by reverse mode over the expression
// with tensor ops, so that they are differentiable again (higher-order derivatives).
//
// fuse(e, wrt(a, b), x = t, ...) differentiates for the variables of wrt(...) only (see fuse()).
#include "../core/config.hpp"
#if !CTGRAD_RUNTIME_DEFINITIONS
#error "ctgrad/ops/fuse.hpp instantiates the runtime's element-wise templates for each expression, so it needs the runtime's definitions: define CTGRAD_HEADER_ONLY before the first include (meson: ctgrad_header_only_dep) and do not link the library ctgrad"
#endif
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/cpu/executor.hpp"
#include "../expr/core.hpp"
#include "elementwise.hpp"
#include "fused.hpp"
#include "reduction.hpp"
#include "views.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/factories.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/saved_variable.hpp"

namespace ctgrad::expr {

// `x = tensor` makes a binding. A Tensor's element type and shape are known only at run time, so
// it is not an array of the static layer: only ctgrad::fuse reads such a binding.
template <>
struct container_traits<ctgrad::Tensor> {
    static constexpr bool known = true;
    static constexpr bool is_array = false;
    using value_type = double;
};

}  // namespace ctgrad::expr

namespace ctgrad {

namespace detail::fusion {

using ctgrad::detail::type_list;
namespace kernel = expr::kernel;

// Compile errors name the variable through this type (see expr/evaluation.hpp).
template <class Var> struct variable_is_bound_to_neither_a_tensor_nor_a_number { static constexpr bool value = false; };

template <class B>
concept a_binding = requires {
    typename B::var_type;
    typename B::value_type;
};

template <class B> using bound_t = std::remove_cvref_t<typename B::value_type>;
template <class B> inline constexpr bool binds_tensor_v = std::is_same_v<bound_t<B>, Tensor>;
template <class B> inline constexpr bool binds_number_v = std::is_arithmetic_v<bound_t<B>>;

template <class T, class List> struct prepend;
template <class T, class... Ts> struct prepend<T, type_list<Ts...>> { using type = type_list<T, Ts...>; };

// The variables bound to tensors, in binding order: the targets of differentiation, and the
// order of the node's edges.
template <class... Bs> struct tensor_vars { using type = type_list<>; };
template <class B, class... Bs> struct tensor_vars<B, Bs...> {
    using rest = typename tensor_vars<Bs...>::type;
    using type = std::conditional_t<binds_tensor_v<B>, typename prepend<typename B::var_type, rest>::type, rest>;
};

// The variables of wrt(...), when fuse is given one.
template <class W> struct wrt_targets {};
template <class... Ws> struct wrt_targets<expr::wrt_list<Ws...>> { using type = type_list<Ws...>; };

// One bound value, as fuse sees it at run time.
struct operand {
    std::string_view name;
    Tensor tensor;  // undefined when bound to a number
    double number = 0;
};

// What the bound tensors look like together.
struct layout {
    ScalarType dtype = kFloat;
    std::vector<std::int64_t> domain;  // the shape every array shares ([] when all are one-element)
    std::vector<std::int64_t> full;    // the broadcast of every bound tensor's shape
    std::int64_t n = 1;                // elements of the domain: what sum() and mean() run over
};

// Checks the bound tensors against each other; throws naming the variables at fault.
inline layout check_operands(const std::vector<operand>& ops) {
    layout L;
    const operand* first = nullptr;
    const operand* first_array = nullptr;
    for (const operand& op : ops) {
        const Tensor& t = op.tensor;
        if (!t.defined()) continue;
        const std::string name = std::string(op.name);
        if (!t.is_cpu())
            throw Error("ctgrad::fuse: " + name + " is on " + t.device().str() + ", but fuse runs on CPU tensors");
        if (!t.is_floating_point())
            throw Error("ctgrad::fuse: " + name + " has dtype " + dtype_name(t.scalar_type()) +
                        ", but fuse reads float or double tensors");
        if (!first) {
            first = &op;
            L.dtype = t.scalar_type();
        } else if (t.scalar_type() != L.dtype) {
            throw Error("ctgrad::fuse: bound tensors have different dtypes: " + std::string(first->name) + " has dtype " +
                        dtype_name(L.dtype) + " but " + name + " has dtype " + dtype_name(t.scalar_type()));
        }
        if (t.numel() != 1) {
            if (!first_array) {
                first_array = &op;
                L.domain = t.sizes().vec();
                L.n = t.numel();
            } else if (!(t.sizes() == IntArrayRef(L.domain))) {
                throw Error("ctgrad::fuse: bound tensors have different shapes: " + std::string(first_array->name) +
                            " has shape " + shape_str(L.domain) + " but " + name + " has shape " +
                            shape_str(t.sizes()) + " (one-element tensors broadcast; all others must share one shape)");
            }
        }
    }
    for (const operand& op : ops)
        if (op.tensor.defined()) L.full = broadcast_shapes(L.full, op.tensor.sizes(), "ctgrad::fuse");
    return L;
}

// The run-time sources of one evaluation: each bound tensor read in place (or a contiguous copy
// when its layout cannot be), each number as a one-element source.
template <class S>
struct bound_sources {
    std::vector<Tensor> keep;       // the tensors read (copies made here stay alive with them)
    std::vector<S> numbers;         // sized once: sources point into it
    std::vector<source<S>> items;   // one per binding
};

template <class S>
bound_sources<S> bind_sources(const std::vector<operand>& ops, const layout& L) {
    bound_sources<S> b;
    b.numbers.resize(ops.size());
    b.items.resize(ops.size());
    for (std::size_t j = 0; j < ops.size(); ++j) {
        if (!ops[j].tensor.defined()) {
            b.numbers[j] = static_cast<S>(ops[j].number);
            b.items[j] = {&b.numbers[j], true};
            continue;
        }
        Tensor t = ops[j].tensor;
        if (!as_source<S>(t, L.n, b.items[j])) {
            t = contiguous_copy(t, t.scalar_type());
            as_source<S>(t, L.n, b.items[j]);
        }
        b.keep.push_back(std::move(t));
    }
    return b;
}

template <class V, class S> using source_for = source<S>;

template <class S, class Vars, std::size_t R> struct context_of;
template <class S, class... Vs, std::size_t R>
struct context_of<S, type_list<Vs...>, R> {
    using type = kernel::context<type_list<Vs...>, ctgrad::detail::tuple<source_for<Vs, S>...>, S, R>;
    static type make(const std::vector<source<S>>& items, std::int64_t n) {
        return make(items, n, std::index_sequence_for<Vs...>{});
    }
    template <std::size_t... I>
    static type make(const std::vector<source<S>>& items, std::int64_t n, std::index_sequence<I...>) {
        return type{{items[I]...}, {}, 0, static_cast<std::size_t>(n)};
    }
};

// The static layer's loops, driven over run-time sources -----------------------------------------

using cpu_executor = expr::executor<expr::exec::simd_t>;
template <class S> using lanes = expr::cpu::lane_t<expr::exec::simd_t, S>;

// Runs every reduction of E (values only) and stores its finished value in ctx.
template <class S, class E, class Ctx>
void reduce_into(const E& e, Ctx& ctx) {
    constexpr std::size_t R = static_cast<std::size_t>(expr::reduction_count_v<E>);
    if constexpr (R > 0) {
        const auto sums = cpu_executor::template reduce<false, type_list<>>(expr::exec::simd, e, ctx, ctx.count);
        ctgrad::detail::array<S, R> scale{};
        kernel::reduction_scales<S, 0, E>(ctx.count, scale);
        for (std::size_t k = 0; k < R; ++k) ctx.reduced[k] = sums.value[k] * scale[k];
    }
}

// The value of a scalar-valued E and, with Grad, the partial of E for every target (a bound
// tensor seen as broadcast: the sum over elements) and the adjoint of every reduction (what a
// per-element gradient pass needs), all from one fused pass over the data.
template <class S, std::size_t M, std::size_t R>
struct scalar_pass {
    S value{};
    std::array<double, M> partial{};
    std::array<double, R> adjoint{};
};

template <class S, class Targets, bool Grad, class E, class Ctx>
auto evaluate_scalar(const E& e, Ctx ctx) {
    constexpr std::size_t R = static_cast<std::size_t>(expr::reduction_count_v<E>);
    constexpr std::size_t M = Targets::size;
    scalar_pass<S, M, R> out;
    const auto sums = cpu_executor::template reduce<Grad, Targets>(expr::exec::simd, e, ctx, ctx.count);
    ctgrad::detail::array<S, R> scale{};
    kernel::reduction_scales<S, 0, E>(ctx.count, scale);
    for (std::size_t k = 0; k < R; ++k) ctx.reduced[k] = sums.value[k] * scale[k];
    ctx.index = 0;
    if constexpr (!Grad) {
        out.value = kernel::evaluate<S, 0>(e, ctx);
    } else {
        // The scalar expression around the reductions, forward and backward once.
        const auto tape = kernel::forward<S, 0>(e, ctx);
        kernel::sink<S, M, R> outer;
        kernel::set_zero(outer);
        kernel::backward<S, 0, Targets>(e, tape, S(1), ctx, outer);
        out.value = tape.value;
        for (std::size_t j = 0; j < M; ++j) {
            S p = outer.partial[j];
            for (std::size_t k = 0; k < R; ++k) p += outer.reduction[k] * sums.grads[k].partial[j];
            out.partial[j] = static_cast<double>(p);
        }
        for (std::size_t k = 0; k < R; ++k) out.adjoint[k] = static_cast<double>(outer.reduction[k]);
    }
    return out;
}

// Walks [begin, end) in SIMD batches, then a scalar tail: step(T{}, i) with T the lane type.
template <class S, class Step>
CTGRAD_INLINE void for_each_lane_group(std::size_t begin, std::size_t end, Step&& step) {
    using B = lanes<S>;
    constexpr std::size_t W = static_cast<std::size_t>(expr::math<B>::width);
    std::size_t i = begin;
    for (; i + W <= end; i += W) step(B{}, i);
    for (; i < end; ++i) step(S{}, i);
}

// Per-element gradients of a scalar-valued E for the array targets (outs[j] non-null), given
// each reduction's adjoint: the static layer's scatter pass, writing only what is asked.
template <class S, class Targets, class E, class Ctx, std::size_t R, std::size_t M>
void scatter_pass(const E& e, Ctx ctx, const ctgrad::detail::array<S, R>& adjoints, const std::array<S*, M>& outs) {
    for_each_lane_group<S>(0, ctx.count, [&]<class T>(T, std::size_t i) {
        ctx.index = i;
        kernel::sink<T, M, 0> g;
        kernel::set_zero(g);
        kernel::scatter<T, 0, Targets>(e, ctx, adjoints, g);
        for (std::size_t j = 0; j < M; ++j)
            if (outs[j]) expr::math<T>::store(outs[j] + i, g.partial[j]);
    });
}

// Backward of an element-wise E without reductions, in one pass: per element, the expression's
// tape forward and its partials backward from the incoming gradient g[i]; an array target gets
// them written (outs[j]), a one-element target their sum (sums[j], where summed[j]).
template <class S, class Targets, class E, class Ctx, std::size_t M>
void elementwise_backward_pass(const E& e, Ctx ctx, const source<S>& g, const std::array<S*, M>& outs,
                               const std::array<bool, M>& summed, std::array<S, M>& sums) {
    using B = lanes<S>;
    sums.fill(S(0));
    for (std::size_t begin = 0; begin < ctx.count; begin += expr::cpu::block_size) {
        const std::size_t end = std::min(ctx.count, begin + expr::cpu::block_size);
        std::array<B, M> batch_sum;
        std::array<S, M> tail_sum;
        batch_sum.fill(B(S(0)));
        tail_sum.fill(S(0));
        for_each_lane_group<S>(begin, end, [&]<class T>(T, std::size_t i) {
            ctx.index = i;
            const T adjoint = g.is_scalar ? T(*g.data) : expr::math<T>::load(g.data + i);
            const auto tape = kernel::forward<T, 0>(e, ctx);
            kernel::sink<T, M, 0> d;
            kernel::set_zero(d);
            kernel::backward<T, 0, Targets>(e, tape, adjoint, ctx, d);
            for (std::size_t j = 0; j < M; ++j) {
                if (outs[j]) expr::math<T>::store(outs[j] + i, d.partial[j]);
                if (summed[j]) {
                    if constexpr (std::is_same_v<T, S>) tail_sum[j] += d.partial[j];
                    else batch_sum[j] += d.partial[j];
                }
            }
        });
        for (std::size_t j = 0; j < M; ++j) sums[j] += expr::math<B>::sum_lanes(batch_sum[j]) + tail_sum[j];
    }
}

// Reverse mode with tensor ops (differentiable when grad mode is on) ------------------------------

struct environment {
    std::vector<interpreted> values;  // per binding: the tensor, or the number
    const layout* shape = nullptr;
};

template <class TA> struct tape1 { interpreted value; TA a; };
template <class TA, class TB> struct tape2 { interpreted value; TA a; TB b; };
struct tape0 { interpreted value; };

inline Tensor as_tensor(const interpreted& v, ScalarType dtype) {
    return v.t.defined() ? v.t : wrapped_scalar(v.s, dtype);
}

// An operand of sum()/mean(), seen over the whole domain (a one-element value counts n times).
inline Tensor over_domain(const Tensor& t, const layout& L) {
    const std::vector<std::int64_t> target = broadcast_shapes(t.sizes(), L.full, "ctgrad::fuse");
    return t.sizes() == IntArrayRef(target) ? t : t.expand(target);
}

template <class Vars, class E>
auto tape_forward(const E& e, const environment& env) {
    const ScalarType dtype = env.shape->dtype;
    if constexpr (expr::is_var_v<E>) {
        return tape0{env.values[static_cast<std::size_t>(ctgrad::detail::index_in_v<E, Vars>)]};
    } else if constexpr (expr::is_constant_v<E>) {
        return tape0{{Tensor(), E::template as<double>()}};
    } else if constexpr (expr::is_scalar_v<E>) {
        return tape0{{Tensor(), static_cast<double>(e.value)}};
    } else if constexpr (expr::is_unary_v<E>) {
        using Op = typename E::op;
        auto a = tape_forward<Vars>(e.a, env);
        interpreted v = a.value.t.defined() ? interpreted{unary_op<Op>(a.value.t)} : interpreted{Tensor(), Op::apply(a.value.s)};
        return tape1<decltype(a)>{std::move(v), std::move(a)};
    } else if constexpr (expr::is_binary_v<E>) {
        using Op = typename E::op;
        auto a = tape_forward<Vars>(e.a, env);
        auto b = tape_forward<Vars>(e.b, env);
        interpreted v;
        if (!a.value.t.defined() && !b.value.t.defined()) v = {Tensor(), Op::apply(a.value.s, b.value.s)};
        else v = {binary_op<Op>(as_tensor(a.value, dtype), as_tensor(b.value, dtype))};
        return tape2<decltype(a), decltype(b)>{std::move(v), std::move(a), std::move(b)};
    } else {
        static_assert(expr::is_reduction_v<E>);
        constexpr bool is_mean = std::is_same_v<typename E::op, expr::mean_op>;
        auto a = tape_forward<Vars>(e.a, env);
        interpreted v;
        if (!a.value.t.defined()) v = {Tensor(), is_mean ? a.value.s : a.value.s * static_cast<double>(env.shape->n)};
        else v = {is_mean ? ctgrad::mean(over_domain(a.value.t, *env.shape)) : ctgrad::sum(over_domain(a.value.t, *env.shape))};
        return tape1<decltype(a)>{std::move(v), std::move(a)};
    }
}

// Adds the gradient of the value of E (adjoint `g`, at least the shape of E's value) into
// grads[j] of every target variable j below E; each operand's gradient is summed to its shape.
template <class Vars, class Targets, class E, class Tape>
void tape_backward(const E& e, const Tape& tape, const Tensor& g, const environment& env, variable_list& grads) {
    const ScalarType dtype = env.shape->dtype;
    if constexpr (expr::is_var_v<E>) {
        constexpr int j = ctgrad::detail::index_in_v<E, Targets>;
        if constexpr (j >= 0) {
            Tensor& slot = grads[static_cast<std::size_t>(j)];
            slot = slot.defined() ? ctgrad::add(slot, g) : g;
        }
    } else if constexpr (expr::is_unary_v<E>) {
        using A = decltype(E::a);
        if constexpr (expr::depends_on_v<A, Targets>) {
            const Tensor& a = tape.a.value.t;
            if (a.defined())
                tape_backward<Vars, Targets>(
                    e.a, tape.a, evaluate_gradient<unary_gradient_t<typename E::op>>(g, a, Tensor(), tape.value.t, a.sizes()),
                    env, grads);
        }
    } else if constexpr (expr::is_binary_v<E>) {
        using Op = typename E::op;
        using A = decltype(E::a);
        using B = decltype(E::b);
        const Tensor a = as_tensor(tape.a.value, dtype), b = as_tensor(tape.b.value, dtype);
        const Tensor& o = tape.value.t;
        if constexpr (expr::depends_on_v<A, Targets>)
            if (tape.a.value.t.defined())
                tape_backward<Vars, Targets>(e.a, tape.a, evaluate_gradient<lhs_gradient_t<Op>>(g, a, b, o, a.sizes()), env,
                                             grads);
        if constexpr (expr::depends_on_v<B, Targets>)
            if (tape.b.value.t.defined())
                tape_backward<Vars, Targets>(e.b, tape.b, evaluate_gradient<rhs_gradient_t<Op>>(g, a, b, o, b.sizes()), env,
                                             grads);
    } else if constexpr (expr::is_reduction_v<E>) {
        using A = decltype(E::a);
        if constexpr (expr::depends_on_v<A, Targets>) {
            const Tensor& a = tape.a.value.t;
            if (a.defined()) {
                Tensor scaled = std::is_same_v<typename E::op, expr::mean_op>
                                    ? ctgrad::div(g, wrapped_scalar(static_cast<double>(env.shape->n), dtype))
                                    : g;
                const std::vector<std::int64_t> target = broadcast_shapes(a.sizes(), env.shape->full, "ctgrad::fuse");
                tape_backward<Vars, Targets>(e.a, tape.a, scaled.expand(target), env, grads);
            }
        }
    }
}

// The gradient of every target from the incoming gradient g, by tensor ops.
template <class Vars, class Targets, class E>
variable_list interpreted_gradients(const E& e, const std::vector<operand>& ops, const layout& L, const Tensor& g) {
    environment env;
    env.shape = &L;
    for (const operand& op : ops) env.values.push_back(op.tensor.defined() ? interpreted{op.tensor} : interpreted{Tensor(), op.number});
    const auto tape = tape_forward<Vars>(e, env);
    variable_list grads(Targets::size);
    if (tape.value.t.defined()) tape_backward<Vars, Targets>(e, tape, g, env, grads);
    return grads;
}

// The node -------------------------------------------------------------------------------------

// Edges are the bound tensors in binding order; targets are the variables differentiated for
// (all tensor-bound ones, or those of wrt(...)). edge_target[j]: the target of edge j, or -1.
template <class Targets, class... Bs>
inline constexpr auto edge_targets = [] {
    std::array<int, (static_cast<std::size_t>(binds_tensor_v<Bs>) + ... + 0)> out{};
    std::size_t j = 0;
    ((binds_tensor_v<Bs> ? (out[j++] = ctgrad::detail::index_in_v<typename Bs::var_type, Targets>, 0) : 0), ...);
    return out;
}();

template <class E, class Vars, class Targets, auto EdgeTargets>
struct FusedBackward final : autograd::Node {
    static constexpr std::size_t R = static_cast<std::size_t>(expr::reduction_count_v<E>);
    static constexpr std::size_t M = Targets::size;

    struct slot {
        std::string_view name;
        autograd::SavedVariable tensor;
        double number = 0;
        bool is_tensor = false;
    };

    E e;
    std::vector<slot> slots;  // per binding
    std::vector<std::vector<std::int64_t>> edge_sizes;  // per bound tensor
    layout shape;
    bool scalar_valued = false;
    // From the forward pass of a scalar-valued expression (in the element type, kept as double).
    std::array<double, M> partial{};
    std::array<double, R> adjoint{};

    explicit FusedBackward(const E& expression) : e(expression) {}
    std::string name() const override { return "FusedBackward0"; }
    void release_variables() override {
        for (slot& s : slots) s.tensor.reset_data();
    }

    variable_list apply(variable_list&& grads) override {
        std::vector<operand> ops;
        ops.reserve(slots.size());
        for (const slot& s : slots) ops.push_back({s.name, s.is_tensor ? s.tensor.unpack() : Tensor(), s.number});
        const Tensor& g = grads[0];
        variable_list out(EdgeTargets.size());
        const bool fused = !GradMode::is_enabled() && g.scalar_type() == shape.dtype && g.is_cpu() &&
                           (scalar_valued || R == 0);
        if (fused) {
            dispatch_floating(shape.dtype, "FusedBackward0", [&](auto tag) {
                using S = typename decltype(tag)::type;
                if (scalar_valued) scalar_gradients<S>(ops, g, out);
                else elementwise_gradients<S>(ops, g, out);
            });
        } else {
            const variable_list per_target = interpreted_gradients<Vars, Targets>(e, ops, shape, g);
            for (std::size_t j = 0; j < out.size(); ++j)
                if (EdgeTargets[j] >= 0 && should_compute_output(j)) out[j] = per_target[static_cast<std::size_t>(EdgeTargets[j])];
        }
        // Exactly the input's shape; nothing for an input that the expression does not read.
        for (std::size_t j = 0; j < out.size(); ++j) {
            if (EdgeTargets[j] < 0 || !reads[static_cast<std::size_t>(EdgeTargets[j])]) out[j] = Tensor();
            else if (out[j].defined() && !(out[j].sizes() == IntArrayRef(edge_sizes[j]))) out[j] = sum_to(out[j], edge_sizes[j]);
        }
        return out;
    }

private:
    // Whether E reads each target at all.
    static constexpr auto reads = []<class... Vs>(type_list<Vs...>) {
        return std::array<bool, M>{(ctgrad::detail::index_in_v<Vs, expr::variables_t<E>> >= 0)...};
    }(Targets{});

    // The edges whose gradient is computed, each with its target: (edge, target) pairs.
    std::vector<std::pair<std::size_t, std::size_t>> wanted() const {
        std::vector<std::pair<std::size_t, std::size_t>> w;
        for (std::size_t j = 0; j < EdgeTargets.size(); ++j)
            if (EdgeTargets[j] >= 0 && should_compute_output(j)) w.emplace_back(j, static_cast<std::size_t>(EdgeTargets[j]));
        return w;
    }

    // Scalar-valued: a one-element input's gradient is g times the partial kept by forward; an
    // array's comes from one pass over the data with the reductions' adjoints scaled by g.
    template <class S>
    void scalar_gradients(const std::vector<operand>& ops, const Tensor& g, variable_list& out) {
        const S gv = static_cast<S>(g.item().to_double());
        std::array<S*, M> arrays{};
        bool any_array = false;
        for (auto [j, t] : wanted()) {
            out[j] = make_empty(edge_sizes[j], shape.dtype);
            if (out[j].numel() == 1) {
                *out[j].template data_ptr<S>() = gv * static_cast<S>(partial[t]);
            } else {
                arrays[t] = out[j].template data_ptr<S>();
                any_array = true;
            }
        }
        if constexpr (R > 0) {
            if (any_array) {
                const bound_sources<S> b = bind_sources<S>(ops, shape);
                ctgrad::detail::array<S, R> adjoints{};
                for (std::size_t k = 0; k < R; ++k) adjoints[k] = gv * static_cast<S>(adjoint[k]);
                scatter_pass<S, Targets>(e, context_of<S, Vars, R>::make(b.items, shape.n), adjoints, arrays);
            }
        }
    }

    // Element-wise without reductions: one pass over the data for every wanted input.
    template <class S>
    void elementwise_gradients(const std::vector<operand>& ops, const Tensor& g0, variable_list& out) {
        if constexpr (R == 0) {
            const bound_sources<S> b = bind_sources<S>(ops, shape);
            Tensor g = g0;
            source<S> gs;
            if (!as_source<S>(g, shape.n, gs)) {
                g = contiguous_copy(g, g.scalar_type());
                as_source<S>(g, shape.n, gs);
            }
            std::array<S*, M> arrays{};
            std::array<bool, M> summed{};
            const auto w = wanted();
            for (auto [j, t] : w) {
                out[j] = make_empty(edge_sizes[j], shape.dtype);
                if (out[j].numel() == shape.n && shape.n != 1) arrays[t] = out[j].template data_ptr<S>();
                else summed[t] = true;
            }
            std::array<S, M> sums{};
            elementwise_backward_pass<S, Targets>(e, context_of<S, Vars, 0>::make(b.items, shape.n), gs, arrays, summed,
                                                  sums);
            for (auto [j, t] : w)
                if (summed[t]) *out[j].template data_ptr<S>() = sums[t];
        }
    }
};

// Whether variable V is read outside every sum()/mean() of E.
template <class E, class V>
inline constexpr bool is_outer_v = ctgrad::detail::index_in_v<V, typename expr::detail::outer_variables_of<E>::type> >= 0;

template <class B>
operand make_operand(const B& b) {
    operand op;
    op.name = B::var_type::name.view();
    if constexpr (binds_tensor_v<B>) {
        op.tensor = b.value;
        if (!op.tensor.defined())
            throw Error("ctgrad::fuse: " + std::string(op.name) + " is bound to an undefined tensor");
    } else {
        op.number = static_cast<double>(b.value);
    }
    return op;
}

template <class Targets, class E, class... Bs>
Tensor fuse_checked(const E& e, const Bs&... bindings) {
    using Vars = type_list<typename Bs::var_type...>;
    constexpr auto EdgeTargets = edge_targets<Targets, Bs...>;
    constexpr std::size_t R = static_cast<std::size_t>(expr::reduction_count_v<E>);
    constexpr std::array<bool, sizeof...(Bs)> outer{is_outer_v<E, typename Bs::var_type>...};
    // With no variable outside the reductions the result is one number; without reductions
    // it is element-wise. Only when both can happen does the run time decide.
    constexpr bool can_be_scalar = R > 0;
    constexpr bool can_be_elementwise = R == 0 || (is_outer_v<E, typename Bs::var_type> || ...);

    const std::vector<operand> ops{make_operand(bindings)...};
    const layout L = check_operands(ops);

    std::vector<std::int64_t> out_shape;
    bool any_outer_array = false;
    for (std::size_t j = 0; j < ops.size(); ++j)
        if (outer[j] && ops[j].tensor.defined()) {
            out_shape = broadcast_shapes(out_shape, ops[j].tensor.sizes(), "ctgrad::fuse");
            any_outer_array = any_outer_array || ops[j].tensor.numel() != 1;
        }
    const bool scalar_valued = can_be_scalar && (!can_be_elementwise || !any_outer_array);

    variable_list tensors;
    for (const operand& op : ops)
        if (op.tensor.defined()) tensors.push_back(op.tensor);
    const bool record = autograd::compute_requires_grad(tensors);
    if (record)
        for (std::size_t j = 0, k = 0; j < ops.size(); ++j) {
            if (!ops[j].tensor.defined()) continue;
            if (EdgeTargets[k++] < 0 && ops[j].tensor.requires_grad())
                throw Error("ctgrad::fuse: " + std::string(ops[j].name) +
                            " requires grad but is not a variable of wrt(...): add it there, or bind " +
                            std::string(ops[j].name) + ".detach()");
        }

    using Node = FusedBackward<E, Vars, Targets, EdgeTargets>;
    std::shared_ptr<Node> node = record ? std::make_shared<Node>(e) : nullptr;
    Tensor out = make_empty(out_shape, L.dtype);
    dispatch_floating(L.dtype, "ctgrad::fuse", [&](auto tag) {
        using S = typename decltype(tag)::type;
        const bound_sources<S> b = bind_sources<S>(ops, L);
        auto ctx = context_of<S, Vars, R>::make(b.items, L.n);
        if (scalar_valued) {
            if constexpr (can_be_scalar) {
                if (record) {
                    const auto r = evaluate_scalar<S, Targets, true>(e, ctx);
                    *out.data_ptr<S>() = r.value;
                    node->partial = r.partial;
                    node->adjoint = r.adjoint;
                } else {
                    *out.data_ptr<S>() = evaluate_scalar<S, Targets, false>(e, ctx).value;
                }
            }
        } else if constexpr (can_be_elementwise) {
            reduce_into<S>(e, ctx);
            cpu_executor::assign(expr::exec::simd, e, ctx, static_cast<std::size_t>(out.numel()), out.data_ptr<S>());
        }
    });

    if (record) {
        for (const operand& op : ops) {
            typename Node::slot s;
            s.name = op.name;
            s.number = op.number;
            s.is_tensor = op.tensor.defined();
            if (s.is_tensor) {
                s.tensor = autograd::SavedVariable(op.tensor, false);
                node->edge_sizes.push_back(op.tensor.sizes().vec());
            }
            node->slots.push_back(std::move(s));
        }
        node->shape = L;
        node->scalar_valued = scalar_valued;
        autograd::set_next_edges(*node, tensors);
        autograd::set_history(node, {&out});
    }
    return out;
}

template <class V> struct wrt_variable_is_not_bound_to_a_tensor { static constexpr bool value = false; };
template <class Reduction> struct reduction_inside_a_reduction { static constexpr bool value = false; };

template <class E, class Targets, class... Bs>
Tensor fuse_entry(const E& e, const Bs&... bindings) {
    static_assert(expr::expression<E>,
                  "ctgrad::fuse(e, x = t, ...): e must be an expression of the static layer (ctgrad::expr)");
    static_assert((a_binding<Bs> && ...),
                  "ctgrad::fuse(e, x = t, ...): every argument after the expression binds a variable: write x = t");
    if constexpr (expr::expression<E> && (a_binding<Bs> && ...)) {
        constexpr bool kinds_ok = ((binds_tensor_v<Bs> || binds_number_v<Bs>) && ...);
        static_assert(((binds_tensor_v<Bs> || binds_number_v<Bs> ||
                        variable_is_bound_to_neither_a_tensor_nor_a_number<typename Bs::var_type>::value) &&
                       ...),
                      "ctgrad::fuse binds variables to ctgrad::Tensor or to numbers (the variable is named in "
                      "variable_is_bound_to_neither_a_tensor_nor_a_number<...> in the compiler's note)");
        constexpr bool has_tensor = (binds_tensor_v<Bs> || ...);
        static_assert(has_tensor, "ctgrad::fuse needs at least one variable bound to a ctgrad::Tensor");
        using Tensors = typename tensor_vars<Bs...>::type;
        constexpr bool targets_ok = []<class... Ws>(type_list<Ws...>) {
            return ((ctgrad::detail::index_in_v<Ws, Tensors> >= 0 || wrt_variable_is_not_bound_to_a_tensor<Ws>::value) && ...);
        }(Targets{});
        static_assert(targets_ok, "ctgrad::fuse(e, wrt(...), ...): every variable of wrt(...) must be bound to a tensor "
                                  "(the variable is named in wrt_variable_is_not_bound_to_a_tensor<...> in the compiler's note)");
        // The static layer sums nested reductions in several passes (expr/plan.hpp); fuse's
        // backward keeps one pass, so it takes one level.
        constexpr bool one_level = std::is_void_v<expr::nested_reduction_t<E>>;
        static_assert(one_level || reduction_inside_a_reduction<expr::nested_reduction_t<E>>::value,
                      "ctgrad::fuse: a sum() or mean() inside another sum() or mean() is not supported: fuse the "
                      "inner reduction first and bind its result (the outer one is named in "
                      "reduction_inside_a_reduction<...> in the compiler's note), or use ctgrad::expr's "
                      "value_and_grad, which takes any depth");
        constexpr bool sums_only = expr::reduction_kinds_t<E>::all_sums;
        static_assert(sums_only, "ctgrad::fuse takes sum() and mean(); max(), min() and logsumexp() reductions are "
                                 "evaluated by ctgrad::expr's eval and value_and_grad");
        using C = expr::detail::call<expr::exec::simd_t, E, Bs...>;
        static_assert(C::check());
        if constexpr (C::valid && kinds_ok && has_tensor && targets_ok && one_level && sums_only)
            return fuse_checked<Targets>(e, bindings...);
        else return Tensor();
    } else {
        return Tensor();
    }
}

}  // namespace detail::fusion

// fuse(e, x = t, y = u, a = 0.5, ...): the static expression e evaluated over the bound tensors
// (and numbers) in one fused loop, recorded as ONE node of the graph ("FusedBackward0") with an
// edge per bound tensor. See the top of this file for what is supported.
//
// fuse(e, wrt(a, b), x = t, ...) differentiates only for the variables of wrt(...): the forward
// pass of a scalar-valued e then computes just those partials (cheaper when bound arrays are data
// that needs no gradient). Binding a tensor that requires grad to another variable is an error.
template <class E, class First, class... Bs>
Tensor fuse(const E& e, const First& first, const Bs&... bindings) {
    if constexpr (requires { typename detail::fusion::wrt_targets<First>::type; })
        return detail::fusion::fuse_entry<E, typename detail::fusion::wrt_targets<First>::type>(e, bindings...);
    else
        return detail::fusion::fuse_entry<E, typename detail::fusion::tensor_vars<First, Bs...>::type>(e, first, bindings...);
}

}  // namespace ctgrad
