#pragma once
// Per-element evaluation of an expression, shared by every backend: a scalar loop, a SIMD loop
// (T = xsimd::batch) and a Thrust/CUDA functor all call these with their own value type T.
//
//   evaluate  the value of a node
//   forward   the value of every node of a tree, kept in a "tape" that mirrors the tree
//   backward  compile-time reverse mode: walks the tape from the root, multiplying adjoints by
//             each op's local partials (evaluated from the kept values, never recomputed)
//   accumulate / scatter  the reduction pass and the pass that writes per-element gradients
#include <cstdint>
#include <limits>

#include "../detail/type_list.hpp"
#include "derivative.hpp"
#include "traits.hpp"

namespace ctgrad::expr::kernel {

using ctgrad::detail::array;
using ctgrad::detail::type_list;

template <class S> struct array_source { const S* data; };
template <class S> struct scalar_source { S value; };
// An operand whose kind is known only at run time (the dynamic layer's tensors): a contiguous
// array, or one element broadcast to every index. One instantiation serves both, so a
// dynamic op does not compile once per combination of array and scalar operands.
template <class S> struct broadcast_source { const S* data; bool is_scalar; };
// An operand of a device kernel: element i is data[i * stride] (stride 0: one element of device
// memory seen everywhere), or, with data null, a number the host passed by value (a CPU scalar
// beside device tensors needs no device memory of its own).
template <class S> struct device_source { const S* data; std::int64_t stride; S value; };

// What an element-wise evaluation reads: the bound values (in binding order, named by Vars), the
// finished reductions, the element index and the element count.
template <class Vars, class Sources, class S, std::size_t R>
struct context {
    using vars = Vars;
    using scalar_type = S;
    Sources sources;
    array<S, R> reduced;
    std::size_t index;
    std::size_t count;
};

// Adjoints collected by a backward walk: one per target variable and one per reduction node.
template <class T, std::size_t M, std::size_t R>
struct sink {
    array<T, M> partial;
    array<T, R> reduction;
};

// What one pass sums for each reduction: its value and, for value_and_grad, the partials of its
// operand with respect to the targets and (Inner > 0, when reductions nest) with respect to the
// reductions inside it, which carry the chain rule from an outer reduction to an inner one.
// Kinds (kinds_list, or void for all sums) says how each value combines; a max() or min() also
// counts its ties (the elements equal to it), over which its gradient is split.
template <class T, std::size_t R, std::size_t M, std::size_t Inner = 0, class Kinds = void>
struct totals {
    static constexpr bool counts_ties = [] {
        if constexpr (std::is_void_v<Kinds>) return false;
        else return Kinds::has_ties;
    }();
    array<T, R> value;
    array<sink<T, M, Inner>, R> grads;
    array<T, counts_ties ? R : 0> ties;
};
// The totals a pass over E for Targets needs: slots for inner reductions only when they nest.
template <class T, class E, class Targets>
using totals_for = totals<T, static_cast<std::size_t>(reduction_count_v<E>), Targets::size,
                          std::is_void_v<nested_reduction_t<E>> ? 0 : static_cast<std::size_t>(reduction_count_v<E>),
                          std::conditional_t<reduction_kinds_t<E>::all_sums, void, reduction_kinds_t<E>>>;

template <class Kinds>
CTGRAD_INLINE CTGRAD_HOST_DEVICE constexpr reduction_kind kind_at(std::size_t k) {
    if constexpr (std::is_void_v<Kinds>) return reduction_kind::sum;
    else return Kinds::at(k);
}

template <class T, std::size_t M, std::size_t R>
CTGRAD_INLINE CTGRAD_HOST_DEVICE void set_zero(sink<T, M, R>& s) {
    if constexpr (M > 0)
        for (std::size_t j = 0; j < M; ++j) s.partial[j] = T(scalar_type_t<T>(0));
    if constexpr (R > 0)
        for (std::size_t k = 0; k < R; ++k) s.reduction[k] = T(scalar_type_t<T>(0));
}
// Each value starts at its combination's identity: 0 for a sum, -inf for a max, +inf for a min.
template <class T, std::size_t R, std::size_t M, std::size_t I, class K>
CTGRAD_INLINE CTGRAD_HOST_DEVICE void set_zero(totals<T, R, M, I, K>& t) {
    using S = scalar_type_t<T>;
    if constexpr (R > 0)
        for (std::size_t k = 0; k < R; ++k) {
            const reduction_kind kind = kind_at<K>(k);
            t.value[k] = kind == reduction_kind::sum   ? T(S(0))
                         : kind == reduction_kind::min ? T(std::numeric_limits<S>::infinity())
                                                       : T(-std::numeric_limits<S>::infinity());
            set_zero(t.grads[k]);
            if constexpr (totals<T, R, M, I, K>::counts_ties) t.ties[k] = T(S(0));
        }
}
// into += lanes of from (summing SIMD lanes when T is a batch; keeping the largest or smallest
// lane for a max or min)
template <class S, class T, std::size_t R, std::size_t M, std::size_t I, class K>
CTGRAD_INLINE CTGRAD_HOST_DEVICE void add_into(totals<S, R, M, I, K>& into, const totals<T, R, M, I, K>& from) {
    if constexpr (R > 0)
        for (std::size_t k = 0; k < R; ++k) {
            const reduction_kind kind = kind_at<K>(k);
            if (kind == reduction_kind::sum) into.value[k] += math<T>::sum_lanes(from.value[k]);
            else if (kind == reduction_kind::min) into.value[k] = math<S>::min(into.value[k], math<T>::min_lanes(from.value[k]));
            else into.value[k] = math<S>::max(into.value[k], math<T>::max_lanes(from.value[k]));
            if constexpr (totals<S, R, M, I, K>::counts_ties) into.ties[k] += math<T>::sum_lanes(from.ties[k]);
            if constexpr (M > 0)
                for (std::size_t j = 0; j < M; ++j)
                    into.grads[k].partial[j] += math<T>::sum_lanes(from.grads[k].partial[j]);
            if constexpr (I > 0)
                for (std::size_t r = 0; r < I; ++r)
                    into.grads[k].reduction[r] += math<T>::sum_lanes(from.grads[k].reduction[r]);
        }
}

// The address of the first bound array, or null: loops align their batches on it.
template <class Ctx>
const void* first_array_address(const Ctx& ctx) {
    const void* address = nullptr;
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
        (
            [&] {
                const auto& source = ctgrad::detail::get<Is>(ctx.sources);
                if constexpr (requires { source.is_scalar; }) {
                    if (!address && !source.is_scalar) address = source.data;
                } else if constexpr (requires { source.data; }) {
                    if (!address) address = source.data;
                }
            }(),
            ...);
    }(std::make_index_sequence<Ctx::vars::size>{});
    return address;
}

template <class T, class Var, class Ctx>
CTGRAD_INLINE CTGRAD_HOST_DEVICE T load(const Ctx& ctx) {
    constexpr int i = ctgrad::detail::index_in_v<Var, typename Ctx::vars>;
    static_assert(i >= 0, "internal: a variable reached evaluation without a binding");
    const auto& source = ctgrad::detail::get<static_cast<std::size_t>(i)>(ctx.sources);
    using source_type = std::remove_cvref_t<decltype(source)>;
    if constexpr (std::is_same_v<source_type, array_source<typename Ctx::scalar_type>>)
        return math<T>::load(source.data + ctx.index);
    else if constexpr (std::is_same_v<source_type, broadcast_source<typename Ctx::scalar_type>>)
        return source.is_scalar ? T(*source.data) : math<T>::load(source.data + ctx.index);
    else if constexpr (std::is_same_v<source_type, device_source<typename Ctx::scalar_type>>)
        // T(...) rather than math<T>::load: device kernels also read int64 data, which has no math<>.
        return source.data ? T(source.data[static_cast<std::int64_t>(ctx.index) * source.stride]) : T(source.value);
    else
        return T(source.value);
}

template <class T, int K, class E, class Ctx>
CTGRAD_INLINE CTGRAD_HOST_DEVICE T evaluate(const E& e, const Ctx& ctx) {
    using S = scalar_type_t<T>;
    if constexpr (is_var_v<E>) return load<T, E>(ctx);
    else if constexpr (is_constant_v<E>) return T(E::template as<S>());
    else if constexpr (is_scalar_v<E>) {
        if constexpr (std::is_same_v<typename E::value_type, T>) return e.value;
        else return T(static_cast<S>(e.value));
    } else if constexpr (is_unary_v<E>) return E::op::apply(evaluate<T, K>(e.a, ctx));
    else if constexpr (is_binary_v<E>)
        return E::op::apply(evaluate<T, K>(e.a, ctx), evaluate<T, K + reduction_count_v<decltype(E::a)>>(e.b, ctx));
    else return T(ctx.reduced[K]);
}

template <class T> struct leaf_tape { T value; };
template <class T, class TA> struct unary_tape { T value; TA a; };
template <class T, class TA, class TB> struct binary_tape { T value; TA a; TB b; };

template <class T, int K, class E, class Ctx>
CTGRAD_INLINE CTGRAD_HOST_DEVICE auto forward(const E& e, const Ctx& ctx) {
    if constexpr (is_unary_v<E>) {
        auto ta = forward<T, K>(e.a, ctx);
        return unary_tape<T, decltype(ta)>{E::op::apply(ta.value), ta};
    } else if constexpr (is_binary_v<E>) {
        auto ta = forward<T, K>(e.a, ctx);
        auto tb = forward<T, K + reduction_count_v<decltype(E::a)>>(e.b, ctx);
        return binary_tape<T, decltype(ta), decltype(tb)>{E::op::apply(ta.value, tb.value), ta, tb};
    } else {
        return leaf_tape<T>{evaluate<T, K>(e, ctx)};
    }
}

// Whether a backward walk into E can reach anything it collects.
template <class E, class Targets>
inline constexpr bool reaches_v = depends_on_v<E, Targets> || reduction_count_v<E> > 0;

template <class T, int K, class Targets, class E, class Tape, class Ctx, std::size_t M, std::size_t R>
CTGRAD_INLINE CTGRAD_HOST_DEVICE void backward(const E& e, const Tape& tape, const T& adjoint, const Ctx& ctx, sink<T, M, R>& out) {
    if constexpr (is_var_v<E>) {
        constexpr int j = ctgrad::detail::index_in_v<E, Targets>;
        if constexpr (j >= 0) out.partial[j] += adjoint;
    } else if constexpr (is_reduction_v<E>) {
        // A reduction is a leaf here (its value is known); its adjoint is collected when asked.
        if constexpr (R > 0 && E::op::kind != reduction_kind::shift)
            out.reduction[K] += adjoint * T(E::op::template scale<scalar_type_t<T>>(ctx.count));
    } else if constexpr (is_unary_v<E>) {
        using A = decltype(E::a);
        if constexpr (reaches_v<A, Targets>) {
            const auto local = E::op::partial(scalar<T>{tape.a.value}, scalar<T>{tape.value});
            backward<T, K, Targets>(e.a, tape.a, adjoint * evaluate<T, 0>(local, ctx), ctx, out);
        }
    } else if constexpr (is_binary_v<E>) {
        using A = decltype(E::a);
        using B = decltype(E::b);
        const scalar<T> a{tape.a.value}, b{tape.b.value}, value{tape.value};
        if constexpr (reaches_v<A, Targets>)
            backward<T, K, Targets>(e.a, tape.a, adjoint * evaluate<T, 0>(E::op::partial_lhs(a, b, value), ctx), ctx, out);
        if constexpr (reaches_v<B, Targets>)
            backward<T, K + reduction_count_v<A>, Targets>(
                e.b, tape.b, adjoint * evaluate<T, 0>(E::op::partial_rhs(a, b, value), ctx), ctx, out);
    }
}

// One element's contribution to the reductions of E summed in pass Pass (those of depth Pass; the
// ones inside them are finished and read from ctx): each one's value and, with Grad, the partials
// of its operand with respect to the Targets and to the inner reductions, all from one forward
// and one backward walk.
template <class T, int K, class Targets, bool Grad, int Pass = 1, class E, class Ctx, std::size_t R, std::size_t M,
          std::size_t I, class Kinds>
CTGRAD_INLINE CTGRAD_HOST_DEVICE void accumulate(const E& e, const Ctx& ctx, totals<T, R, M, I, Kinds>& acc) {
    if constexpr (is_reduction_v<E>) {
        using Inner = decltype(E::a);
        constexpr int depth = reduction_depth_v<E>;
        constexpr reduction_kind kind = E::op::kind;
        constexpr bool inner_adjoints = I > 0 && reduction_count_v<Inner> > 0;
        if constexpr (depth == Pass && kind == reduction_kind::min) {
            acc.value[K] = math<T>::min(acc.value[K], evaluate<T, K + 1>(e.a, ctx));
        } else if constexpr (depth == Pass && kind != reduction_kind::sum) {
            acc.value[K] = math<T>::max(acc.value[K], evaluate<T, K + 1>(e.a, ctx));
        } else if constexpr (Grad && has_ties_v<E> && depth + 1 == Pass) {
            // The pass after a max's or min's value: the partials of the elements that equal it.
            const auto tape = forward<T, K + 1>(e.a, ctx);
            const T tie = math<T>::equal(tape.value, T(ctx.reduced[K]));
            acc.ties[K] += tie;
            if constexpr (depends_on_v<Inner, Targets> || inner_adjoints)
                backward<T, K + 1, Targets>(e.a, tape, tie, ctx, acc.grads[K]);
        } else if constexpr (depth == Pass) {
            if constexpr (Grad && (depends_on_v<Inner, Targets> || inner_adjoints)) {
                const auto tape = forward<T, K + 1>(e.a, ctx);
                acc.value[K] += tape.value;
                backward<T, K + 1, Targets>(e.a, tape, T(scalar_type_t<T>(1)), ctx, acc.grads[K]);
            } else {
                acc.value[K] += evaluate<T, K + 1>(e.a, ctx);
            }
            // A max or min inside, found in the pass before, has its ties counted in this one.
            if constexpr (Grad && totals<T, R, M, I, Kinds>::counts_ties && reduction_count_v<Inner> > 0)
                accumulate<T, K + 1, Targets, Grad, Pass>(e.a, ctx, acc);
        } else if constexpr (depth > Pass) {
            accumulate<T, K + 1, Targets, Grad, Pass>(e.a, ctx, acc);
        }
    } else if constexpr (is_unary_v<E>) {
        accumulate<T, K, Targets, Grad, Pass>(e.a, ctx, acc);
    } else if constexpr (is_binary_v<E>) {
        accumulate<T, K, Targets, Grad, Pass>(e.a, ctx, acc);
        accumulate<T, K + reduction_count_v<decltype(E::a)>, Targets, Grad, Pass>(e.b, ctx, acc);
    }
}

// The same element's walk when the pass also writes the gradients of ArrayTargets (their
// reductions' adjoints are known before the pass, expr/plan.hpp): the backward walk that gives
// the reductions' partials for the scalar Targets gives the element's partials for the arrays
// too, which `out` collects weighted by each reduction's adjoint.
template <class T, int K, class Targets, class ArrayTargets, int Pass, class E, class Ctx, std::size_t R, std::size_t M,
          std::size_t I, class Kinds, std::size_t MA, class S>
CTGRAD_INLINE CTGRAD_HOST_DEVICE void accumulate_writing(const E& e, const Ctx& ctx, totals<T, R, M, I, Kinds>& acc,
                                                         const array<S, R>& adjoints, sink<T, MA, 0>& out) {
    if constexpr (is_reduction_v<E>) {
        constexpr int depth = reduction_depth_v<E>;
        static_assert(E::op::kind == reduction_kind::sum || depth < Pass, "internal: only sums write gradients in their pass");
        if constexpr (depth == Pass) {
            using All = typename ctgrad::detail::merge_unique<Targets, ArrayTargets>::type;
            const auto tape = forward<T, K + 1>(e.a, ctx);
            acc.value[K] += tape.value;
            sink<T, All::size, I> local;
            set_zero(local);
            backward<T, K + 1, All>(e.a, tape, T(scalar_type_t<T>(1)), ctx, local);
            if constexpr (M > 0)
                for (std::size_t j = 0; j < M; ++j) acc.grads[K].partial[j] += local.partial[j];
            if constexpr (I > 0)
                for (std::size_t r = 0; r < I; ++r) acc.grads[K].reduction[r] += local.reduction[r];
            for (std::size_t j = 0; j < MA; ++j) out.partial[j] += T(adjoints[K]) * local.partial[M + j];
        } else if constexpr (depth > Pass) {
            accumulate_writing<T, K + 1, Targets, ArrayTargets, Pass>(e.a, ctx, acc, adjoints, out);
        }
    } else if constexpr (is_unary_v<E>) {
        accumulate_writing<T, K, Targets, ArrayTargets, Pass>(e.a, ctx, acc, adjoints, out);
    } else if constexpr (is_binary_v<E>) {
        accumulate_writing<T, K, Targets, ArrayTargets, Pass>(e.a, ctx, acc, adjoints, out);
        accumulate_writing<T, K + reduction_count_v<decltype(E::a)>, Targets, ArrayTargets, Pass>(e.b, ctx, acc, adjoints,
                                                                                                  out);
    }
}

// What a reduction pass does per element besides summing: nothing (no_writes), or write the
// gradients of the arrays (gradient_writer). Backends call accumulate_step at every element.
struct no_writes {};

template <class S, class ArrayTargets, std::size_t R>
struct gradient_writer {
    array<S, R> adjoints;
    array<S*, ArrayTargets::size> outs;

    template <class T, class Targets, int Pass, class E, class Ctx, class Acc>
    CTGRAD_INLINE CTGRAD_HOST_DEVICE void step(const E& e, const Ctx& ctx, Acc& acc) const {
        constexpr std::size_t MA = ArrayTargets::size;
        sink<T, MA, 0> g;
        set_zero(g);
        accumulate_writing<T, 0, Targets, ArrayTargets, Pass>(e, ctx, acc, adjoints, g);
        for (std::size_t j = 0; j < MA; ++j) math<T>::store(outs[j] + ctx.index, g.partial[j]);
    }
};

template <class T, class Targets, bool Grad, int Pass, class E, class Ctx, class Acc, class Writer>
CTGRAD_INLINE CTGRAD_HOST_DEVICE void accumulate_step(const E& e, const Ctx& ctx, Acc& acc, const Writer& writer) {
    if constexpr (std::is_same_v<Writer, no_writes>) accumulate<T, 0, Targets, Grad, Pass>(e, ctx, acc);
    else writer.template step<T, Targets, Pass>(e, ctx, acc);
}

// One element's gradient with respect to array-valued Targets, given each reduction's adjoint.
template <class T, int K, class Targets, class E, class Ctx, std::size_t R, std::size_t M>
CTGRAD_INLINE CTGRAD_HOST_DEVICE void scatter(const E& e, const Ctx& ctx, const array<scalar_type_t<T>, R>& adjoints,
                                sink<T, M, 0>& out) {
    if constexpr (is_reduction_v<E>) {
        // This reduction's own term (inner reductions held fixed), then theirs: their adjoints
        // already include what flows to them through this one.
        // A max's or min's adjoint (already divided by its ties) goes to the elements equal to it;
        // a shift carries none, to it or to the reductions inside it.
        constexpr reduction_kind kind = E::op::kind;
        if constexpr (kind != reduction_kind::shift) {
            if constexpr (depends_on_v<decltype(E::a), Targets>) {
                const auto tape = forward<T, K + 1>(e.a, ctx);
                if constexpr (kind == reduction_kind::sum)
                    backward<T, K + 1, Targets>(e.a, tape, T(adjoints[K]), ctx, out);
                else
                    backward<T, K + 1, Targets>(e.a, tape, math<T>::equal(tape.value, T(ctx.reduced[K])) * T(adjoints[K]),
                                                ctx, out);
            }
            if constexpr (reduction_count_v<decltype(E::a)> > 0) scatter<T, K + 1, Targets>(e.a, ctx, adjoints, out);
        }
    } else if constexpr (is_unary_v<E>) {
        scatter<T, K, Targets>(e.a, ctx, adjoints, out);
    } else if constexpr (is_binary_v<E>) {
        scatter<T, K, Targets>(e.a, ctx, adjoints, out);
        scatter<T, K + reduction_count_v<decltype(E::a)>, Targets>(e.b, ctx, adjoints, out);
    }
}

// The scale of each reduction (1 for sum, 1/n for mean), in tree order.
template <class S, int K, class E, std::size_t R>
CTGRAD_INLINE CTGRAD_HOST_DEVICE void reduction_scales(std::size_t n, array<S, R>& out) {
    if constexpr (is_reduction_v<E>) {
        out[K] = E::op::template scale<S>(n);
        reduction_scales<S, K + 1, decltype(E::a)>(n, out);
    } else if constexpr (is_unary_v<E>) reduction_scales<S, K, decltype(E::a)>(n, out);
    else if constexpr (is_binary_v<E>) {
        reduction_scales<S, K, decltype(E::a)>(n, out);
        reduction_scales<S, K + reduction_count_v<decltype(E::a)>, decltype(E::b)>(n, out);
    }
}

// The depth of each reduction (reduction_depth_v), in reduction order.
template <int K, class E, std::size_t R>
constexpr void reduction_depths(array<int, R>& out) {
    if constexpr (is_reduction_v<E>) {
        out[K] = reduction_depth_v<E>;
        reduction_depths<K + 1, decltype(E::a)>(out);
    } else if constexpr (is_unary_v<E>) reduction_depths<K, decltype(E::a)>(out);
    else if constexpr (is_binary_v<E>) {
        reduction_depths<K, decltype(E::a)>(out);
        reduction_depths<K + reduction_count_v<decltype(E::a)>, decltype(E::b)>(out);
    }
}

}  // namespace ctgrad::expr::kernel
