#pragma once
// How an expression becomes passes over memory, decided from its type at compile time:
//
//   pass 0   parts that read no array (`log(sigma)` in a sum over x) are computed once, on the
//            host, before any loop (hoist)
//   pass d   every reduction of depth d (expr/traits.hpp) is summed in one fused loop; those
//            inside it are finished by then and read as numbers. sum(x) needs one pass,
//            sum(pow<2>(x - mean(x))) two, whatever the number of reductions at each depth.
//   then     the scalar expression around the reductions, once; for value_and_grad its
//            reverse walk, whose adjoints flow from outer reductions into inner ones (run_passes
//            keeps each reduction's partials with respect to the ones inside it)
//   last     only for gradients of array variables: one loop writing them element by element
//
// `to_string(plan(e))` prints this for an expression; the entry points of expr/evaluation.hpp
// run it through a backend's executor.
#include <string>
#include <utility>

#include "executor.hpp"
#include "kernel.hpp"
#include "to_string.hpp"

namespace ctgrad::expr {

namespace detail {

// Whether E is a part worth computing once: an operation (not a leaf) that reads none of the
// arrays and holds no reduction.
template <class E, class Arrays>
inline constexpr bool worth_hoisting_v =
    (is_unary_v<E> || is_binary_v<E>) && !depends_on_v<E, Arrays> && reduction_count_v<E> == 0;

template <class E, class Arrays>
inline constexpr bool divides_by_invariant_v = [] {
    if constexpr (is_binary_op_v<E, div_op>)
        return !depends_on_v<decltype(E::b), Arrays> && reduction_count_v<decltype(E::b)> == 0;
    else return false;
}();

}  // namespace detail

// E with every largest part that reads none of Arrays wrapped as a hoisted value.
//
// A division by a part that reads no array becomes a product with its reciprocal, computed once
// (what compilers do under -freciprocal-math): a division costs several multiplications, and its
// partials divide again. The result may differ from the division in the last bit.
template <class Arrays, class E>
constexpr auto hoist(const E& e) {
    if constexpr (detail::worth_hoisting_v<E, Arrays>) {
        return reduction<hoisted_op, E>{e};
    } else if constexpr (detail::divides_by_invariant_v<E, Arrays>) {
        using A = decltype(hoist<Arrays>(e.a));
        using Reciprocal = reduction<hoisted_op, binary<div_op, one_t, decltype(E::b)>>;
        return binary<mul_op, A, Reciprocal>{hoist<Arrays>(e.a), Reciprocal{{one_t{}, e.b}}};
    } else if constexpr (is_reduction_v<E>) {
        using A = decltype(hoist<Arrays>(e.a));
        return reduction<typename E::op, A>{hoist<Arrays>(e.a)};
    } else if constexpr (is_unary_v<E>) {
        using A = decltype(hoist<Arrays>(e.a));
        return unary<typename E::op, A>{hoist<Arrays>(e.a)};
    } else if constexpr (is_binary_v<E>) {
        using A = decltype(hoist<Arrays>(e.a));
        using B = decltype(hoist<Arrays>(e.b));
        return binary<typename E::op, A, B>{hoist<Arrays>(e.a), hoist<Arrays>(e.b)};
    } else {
        return e;
    }
}

namespace kernel {

// Pass 0: each hoisted value of E, computed once into ctx.reduced.
template <int K, class E, class Ctx>
void compute_hoisted(const E& e, Ctx& ctx) {
    using S = typename Ctx::scalar_type;
    if constexpr (is_hoisted_v<E>) {
        ctx.reduced[K] = evaluate<S, K + 1>(e.a, ctx);
    } else if constexpr (is_reduction_v<E> || is_unary_v<E>) {
        compute_hoisted<K + (is_reduction_v<E> ? 1 : 0)>(e.a, ctx);
    } else if constexpr (is_binary_v<E>) {
        compute_hoisted<K>(e.a, ctx);
        compute_hoisted<K + reduction_count_v<decltype(E::a)>>(e.b, ctx);
    }
}

// The reverse walk through each hoisted value, once, with the adjoint its uses collected.
template <int K, class Targets, class E, class Ctx, class S, std::size_t R, std::size_t M>
void backward_hoisted(const E& e, const Ctx& ctx, const array<S, R>& adjoints, sink<S, M, 0>& out) {
    if constexpr (is_hoisted_v<E>) {
        if constexpr (depends_on_v<decltype(E::a), Targets>) {
            const auto tape = forward<S, K + 1>(e.a, ctx);
            backward<S, K + 1, Targets>(e.a, tape, adjoints[K], ctx, out);
        }
    } else if constexpr (is_reduction_v<E> || is_unary_v<E>) {
        backward_hoisted<K + (is_reduction_v<E> ? 1 : 0), Targets>(e.a, ctx, adjoints, out);
    } else if constexpr (is_binary_v<E>) {
        backward_hoisted<K, Targets>(e.a, ctx, adjoints, out);
        backward_hoisted<K + reduction_count_v<decltype(E::a)>, Targets>(e.b, ctx, adjoints, out);
    }
}

// Whether E around its reductions of the deepest level D is affine in them (sums, differences,
// negations, products and quotients by parts without such reductions): then their adjoints do
// not depend on their values and are known before pass D.
template <class E>
constexpr bool affine_in_reductions() {
    if constexpr (is_reduction_v<E> || reduction_depth_v<E> == 0) return true;
    else if constexpr (is_unary_op_v<E, neg_op>) return affine_in_reductions<decltype(E::a)>();
    else if constexpr (is_binary_op_v<E, add_op> || is_binary_op_v<E, sub_op>)
        return affine_in_reductions<decltype(E::a)>() && affine_in_reductions<decltype(E::b)>();
    else if constexpr (is_binary_op_v<E, mul_op>)
        return (reduction_depth_v<decltype(E::a)> == 0 && affine_in_reductions<decltype(E::b)>()) ||
               (reduction_depth_v<decltype(E::b)> == 0 && affine_in_reductions<decltype(E::a)>());
    else if constexpr (is_binary_op_v<E, div_op>)
        return reduction_depth_v<decltype(E::b)> == 0 && affine_in_reductions<decltype(E::a)>();
    else return false;
}

// Whether only reductions of depth D read the Arrays (none inside them does).
template <class E, class Arrays, int D>
constexpr bool arrays_only_at_depth() {
    if constexpr (is_hoisted_v<E>) return true;
    else if constexpr (is_reduction_v<E>) {
        if constexpr (reduction_depth_v<E> < D) return !depends_on_v<decltype(E::a), Arrays>;
        else return arrays_only_at_depth<decltype(E::a), Arrays, D>();
    } else if constexpr (is_unary_v<E>) return arrays_only_at_depth<decltype(E::a), Arrays, D>();
    else if constexpr (is_binary_v<E>)
        return arrays_only_at_depth<decltype(E::a), Arrays, D>() && arrays_only_at_depth<decltype(E::b), Arrays, D>();
    else return true;
}

// Whether the gradients of Arrays can be written by the last reduction pass instead of a pass
// of their own: every read of them is in a reduction of the last pass, whose adjoints are known
// before it. True for sum(f(x, mu, sigma)) or a sum of such sums; false for log(sum(exp(x)))
// (the adjoint is 1/sum) and for the variance (mean(x) inside it reads x too).
template <class E, class Arrays>
inline constexpr bool scatter_fuses_v = reduction_depth_v<E> >= 1 && reduction_kinds_t<E>::all_sums &&
                                        affine_in_reductions<E>() && arrays_only_at_depth<E, Arrays, reduction_depth_v<E>>();

// How many inner-reduction slots each reduction's partials have in Totals.
template <class Totals> inline constexpr std::size_t inner_slots_v = 0;
template <class T, std::size_t R, std::size_t M, std::size_t I, class K>
inline constexpr std::size_t inner_slots_v<totals<T, R, M, I, K>> = I;

// Runs passes 0 to reduction_depth_v<E> over ctx.count elements with the backend Exec: every
// reduction's finished value lands in ctx.reduced, and the sums of each (with Grad, its partials
// for Targets and for the reductions inside it) come back in reduction order. With ArrayTargets
// (where scatter_fuses_v), the last pass also writes their gradients into outs.
template <bool Grad, class Targets, class ArrayTargets = type_list<>, class Exec, class E, class Ctx>
auto run_passes(const Exec& ex, const E& e, Ctx& ctx,
                const array<typename Ctx::scalar_type*, ArrayTargets::size>& outs = {}) {
    using S = typename Ctx::scalar_type;
    constexpr std::size_t R = static_cast<std::size_t>(reduction_count_v<E>);
    constexpr int D = reduction_depth_v<E>;
    static_assert(ArrayTargets::size == 0 || scatter_fuses_v<E, ArrayTargets>, "internal: this scatter cannot fuse");
    using all_totals = totals_for<S, E, Targets>;
    using kinds = reduction_kinds_t<E>;
    all_totals all;
    set_zero(all);
    if constexpr (R > 0) {
        ctx.index = 0;
        compute_hoisted<0>(e, ctx);
        array<S, R> scale{};
        array<int, R> depth{};
        reduction_scales<S, 0, E>(ctx.count, scale);
        reduction_depths<0, E>(depth);
        [&]<int... P>(std::integer_sequence<int, P...>) {
            (
                [&] {
                    constexpr int pass = P + 1;
                    const auto sums = [&] {
                        if constexpr (ArrayTargets::size > 0 && pass == D) {
                            // The last pass's adjoints, from the expression around it: affine
                            // in these reductions, so their (not yet known) values do not matter.
                            ctx.index = 0;
                            for (std::size_t k = 0; k < R; ++k)
                                if (depth[k] == D) ctx.reduced[k] = S(0);
                            const auto tape = forward<S, 0>(e, ctx);
                            sink<S, 0, R> adjoint;
                            set_zero(adjoint);
                            backward<S, 0, type_list<>>(e, tape, S(1), ctx, adjoint);
                            const gradient_writer<S, ArrayTargets, R> writer{adjoint.reduction, outs};
                            return executor<Exec>::template reduce<Grad, Targets, pass>(ex, e, ctx, ctx.count, writer);
                        } else {
                            return executor<Exec>::template reduce<Grad, Targets, pass>(ex, e, ctx, ctx.count);
                        }
                    }();
                    for (std::size_t k = 0; k < R; ++k) {
                        const reduction_kind kind = kinds::at(k);
                        if (depth[k] == pass) {
                            all.value[k] = sums.value[k];
                            if (kind == reduction_kind::sum) {
                                all.grads[k] = sums.grads[k];
                                ctx.reduced[k] = sums.value[k] * scale[k];
                            } else if (kind == reduction_kind::shift) {
                                // torch.logsumexp's rule: an infinite maximum shifts by 0.
                                ctx.reduced[k] = math<S>::finite(sums.value[k]) ? sums.value[k] : S(0);
                            } else {
                                ctx.reduced[k] = sums.value[k];
                            }
                        }
                        if constexpr (Grad && all_totals::counts_ties) {
                            if ((kind == reduction_kind::max || kind == reduction_kind::min) && depth[k] + 1 == pass) {
                                // The ties' partials, pass depth + 1: split evenly among them.
                                all.ties[k] = sums.ties[k];
                                all.grads[k] = sums.grads[k];
                                constexpr std::size_t M = Targets::size, I = inner_slots_v<all_totals>;
                                if constexpr (M > 0)
                                    for (std::size_t j = 0; j < M; ++j) all.grads[k].partial[j] /= sums.ties[k];
                                if constexpr (I > 0)
                                    for (std::size_t r = 0; r < I; ++r) all.grads[k].reduction[r] /= sums.ties[k];
                            }
                        }
                    }
                }(),
                ...);
        }(std::make_integer_sequence<int, pass_count<E, Grad>()>{});
    }
    return all;
}

// The reverse walk's last step, after the scalar expression around the reductions has put each
// reduction's adjoint in outer.reduction: adjoints flow from every reduction into those inside
// it (outer ones come first in reduction order), then each reduction's partials for Targets are
// added, weighted by its adjoint, and the hoisted values are walked back once. On return
// outer.reduction holds every reduction's whole adjoint (what a per-element gradient pass
// needs) and outer.partial the partials of the expression.
template <class Targets, class E, class Ctx, class S, std::size_t R, std::size_t M, std::size_t I, class K>
void finish_backward(const E& e, const Ctx& ctx, const totals<S, R, M, I, K>& all, sink<S, M, R>& outer) {
    if constexpr (R > 0) {
        if constexpr (I > 0)
            for (std::size_t k = 0; k < R; ++k)
                for (std::size_t r = k + 1; r < R; ++r) outer.reduction[r] += outer.reduction[k] * all.grads[k].reduction[r];
        if constexpr (M > 0) {
            for (std::size_t j = 0; j < M; ++j)
                for (std::size_t k = 0; k < R; ++k) outer.partial[j] += outer.reduction[k] * all.grads[k].partial[j];
            sink<S, M, 0> through_hoisted;
            set_zero(through_hoisted);
            backward_hoisted<0, Targets>(e, ctx, outer.reduction, through_hoisted);
            for (std::size_t j = 0; j < M; ++j) outer.partial[j] += through_hoisted.partial[j];
        }
    }
}

// The adjoints a per-element gradient pass applies: a max's or min's divided among its ties.
template <class S, std::size_t R, std::size_t M, std::size_t I, class K>
array<S, R> element_adjoints(const totals<S, R, M, I, K>& all, const array<S, R>& adjoints) {
    array<S, R> out = adjoints;
    if constexpr (totals<S, R, M, I, K>::counts_ties)
        for (std::size_t k = 0; k < R; ++k)
            if (K::at(k) == reduction_kind::max || K::at(k) == reduction_kind::min) out[k] /= all.ties[k];
    return out;
}

}  // namespace kernel

// The passes an expression takes, for printing: `to_string(plan(e))`.
template <class E>
struct evaluation_plan {
    E e;
};

template <expression E>
constexpr evaluation_plan<E> plan(const E& e) {
    return {e};
}

namespace detail {
template <int Pass, class E>
void list_reductions(const E& e, std::string& out) {
    if constexpr (is_reduction_v<E>) {
        if constexpr (reduction_depth_v<E> == Pass) out += (out.empty() ? "" : ", ") + to_string(e);
        else if constexpr (reduction_depth_v<E> > Pass) list_reductions<Pass>(e.a, out);
    } else if constexpr (is_unary_v<E>) {
        list_reductions<Pass>(e.a, out);
    } else if constexpr (is_binary_v<E>) {
        list_reductions<Pass>(e.a, out);
        list_reductions<Pass>(e.b, out);
    }
}
}  // namespace detail

// One line per pass over the data, then what runs once after them, e.g. for
// sum(pow<2>(x - mean(x))):
//   pass 1: mean(x)
//   pass 2: sum((x - mean(x))^2)
//   once: sum((x - mean(x))^2)
// Parts that read no array are hoisted out of the passes at evaluation, once the bindings say
// which variables are arrays; value_and_grad adds one pass when it writes an array's gradient.
template <class E>
std::string to_string(const evaluation_plan<E>& p) {
    std::string out;
    [&]<int... P>(std::integer_sequence<int, P...>) {
        (
            [&] {
                std::string line;
                detail::list_reductions<P + 1>(p.e, line);
                out += "pass " + std::to_string(P + 1) + ": " + line + "\n";
            }(),
            ...);
    }(std::make_integer_sequence<int, reduction_depth_v<E>>{});
    if constexpr (reduction_count_v<E> == 0) out += "pass 1: " + to_string(p.e) + " (element by element)\n";
    else out += "once: " + to_string(p.e) + "\n";
    return out;
}

}  // namespace ctgrad::expr
