#pragma once
// The user's entry points: eval, value_and_grad and assign. They check the call (at compile
// time where the types tell, at run time for shapes), gather the bound values into a context
// and hand the loops to a backend (expr/executor.hpp). Nothing is written before every check
// has passed.
#include <string>
#include <tuple>
#include <type_traits>

#include "binding.hpp"
#include "executor.hpp"
#include "kernel.hpp"
#include "plan.hpp"

namespace ctgrad::expr {

namespace detail {
using ctgrad::detail::index_in_v;
using ctgrad::detail::type_list;

// Compile errors name what is wrong through these types (a static_assert message cannot print
// a name or a number): the failing assertion shows e.g. variable_is_not_bound<var<"x">>.
// (A plain `value` member, not std::false_type, so that the compiler's note spells the type.)
template <class Var> struct variable_is_not_bound { static constexpr bool value = false; };
template <class Var> struct variable_is_bound_twice { static constexpr bool value = false; };
template <class Shape1, class Shape2> struct fixed_shapes_disagree { static constexpr bool value = false; };
template <class T1, class T2> struct array_element_types_disagree { static constexpr bool value = false; };
template <class Var> struct array_variable_outside_a_reduction { static constexpr bool value = false; };
template <class Var> struct array_in_the_wrong_memory_for_this_backend { static constexpr bool value = false; };

// Variables read outside any sum()/mean(): in a scalar-valued expression these must be scalars.
template <class E> struct outer_variables_of { using type = type_list<>; };
template <class E> requires is_var_v<E> struct outer_variables_of<E> { using type = type_list<E>; };
template <class E> requires is_unary_v<E> struct outer_variables_of<E> {
    using type = typename outer_variables_of<decltype(E::a)>::type;
};
template <class E> requires is_binary_v<E> struct outer_variables_of<E> {
    using type = typename ctgrad::detail::merge_unique<typename outer_variables_of<decltype(E::a)>::type,
                                                       typename outer_variables_of<decltype(E::b)>::type>::type;
};

template <class B> using bound_t = std::remove_cvref_t<typename B::value_type>;
template <class B> inline constexpr bool is_array_binding_v = array_like<bound_t<B>>;

template <class... Bs> struct first_array_element { using type = void; };
template <class B, class... Bs> struct first_array_element<B, Bs...> {
    using type = std::conditional_t<is_array_binding_v<B>, typename traits_of<bound_t<B>>::value_type,
                                    typename first_array_element<Bs...>::type>;
};

// The element type of an evaluation: that of the bound arrays, else the common type of the
// bound numbers (double when they are all integers).
template <class... Bs>
struct element_type {
    using first_array = typename first_array_element<Bs...>::type;
    using scalars = std::common_type_t<double, typename traits_of<bound_t<Bs>>::value_type...>;
    using common = std::conditional_t<(std::is_floating_point_v<typename traits_of<bound_t<Bs>>::value_type> || ...),
                                      std::common_type_t<float, typename traits_of<bound_t<Bs>>::value_type...>, scalars>;
    using type = std::conditional_t<std::is_void_v<first_array>, common, first_array>;
};
template <> struct element_type<> { using type = double; };

// The fixed shape of the first binding that has one, or void.
template <class... Bs> struct first_fixed_shape { using type = void; };
template <class B, class... Bs> struct first_fixed_shape<B, Bs...> : first_fixed_shape<Bs...> {};
template <class B, class... Bs> requires has_fixed_shape<bound_t<B>>
struct first_fixed_shape<B, Bs...> { using type = typename traits_of<bound_t<B>>::fixed_shape_type; };

template <class S, class B>
using source_t = std::conditional_t<is_array_binding_v<B>, kernel::array_source<S>, kernel::scalar_source<S>>;

template <class S, class B>
auto make_source(const B& b) {
    if constexpr (is_array_binding_v<B>) return kernel::array_source<S>{traits_of<bound_t<B>>::data(b.value)};
    else return kernel::scalar_source<S>{static_cast<S>(b.value)};
}

template <class B>
constexpr auto bound_var_name() {
    return B::var_type::name.view();
}

// The variables bound to arrays.
template <class... Bs> struct array_variables { using type = type_list<>; };
template <class B, class... Bs> struct array_variables<B, Bs...> {
    using rest = typename array_variables<Bs...>::type;
    using type = std::conditional_t<is_array_binding_v<B>,
                                    typename ctgrad::detail::merge_unique<type_list<typename B::var_type>, rest>::type, rest>;
};

template <class Exec, class E, class... Bs>
struct call {
    using vars = type_list<typename Bs::var_type...>;
    using arrays = typename array_variables<Bs...>::type;
    using S = typename element_type<Bs...>::type;
    static constexpr bool has_arrays = (is_array_binding_v<Bs> || ...);
    // What runs: E with the parts that read no array hoisted out of the loops (expr/plan.hpp).
    // Without arrays there is no loop to hoist from.
    static constexpr auto planned(const E& e) {
        if constexpr (has_arrays) return hoist<arrays>(e);
        else return e;
    }
    using planned_type = decltype(planned(std::declval<const E&>()));
    static constexpr std::size_t R = static_cast<std::size_t>(reduction_count_v<planned_type>);
    using sources = ctgrad::detail::tuple<source_t<S, Bs>...>;
    using context = kernel::context<vars, sources, S, R>;
    using exec = executor<std::remove_cvref_t<Exec>>;

    template <class V>
    static constexpr bool is_array_var = [] {
        constexpr int i = index_in_v<V, vars>;
        if constexpr (i < 0) return false;
        else return is_array_binding_v<std::tuple_element_t<static_cast<std::size_t>(i), std::tuple<Bs...>>>;
    }();

    template <class V>
    static constexpr void check_bound() {
        static_assert(index_in_v<V, vars> >= 0 || variable_is_not_bound<V>::value,
                      "a variable of the expression has no binding: pass it as name = value (the variable is "
                      "named in variable_is_not_bound<...> in the compiler's note)");
    }
    template <class... Vs>
    static constexpr void check_all_bound(type_list<Vs...>) { (check_bound<Vs>(), ...); }

    template <class B>
    static constexpr void check_binding() {
        using V = typename B::var_type;
        static_assert(((std::is_same_v<V, typename Bs::var_type> ? 1 : 0) + ...) == 1 ||
                          variable_is_bound_twice<V>::value,
                      "a variable is bound twice in one call (named in variable_is_bound_twice<...> in the compiler's note)");
        if constexpr (is_array_binding_v<B>) {
            using C = bound_t<B>;
            using T = typename traits_of<C>::value_type;
            static_assert(std::is_same_v<T, S> || array_element_types_disagree<T, S>::value,
                          "the arrays bound in one call must share one element type (both are named in "
                          "array_element_types_disagree<...> in the compiler's note)");
            static_assert(traits_of<C>::space == exec::space || array_in_the_wrong_memory_for_this_backend<V>::value,
                          "an array is in memory this backend cannot read: GPU arrays need a thrust::device "
                          "policy, host arrays a CPU backend or a host policy");
        }
    }

    // Every fixed shape is compared with the first one, so a mismatch is reported once.
    template <class First, class B>
    static constexpr void check_fixed_shape() {
        if constexpr (!std::is_void_v<First> && has_fixed_shape<bound_t<B>>) {
            using F = typename traits_of<bound_t<B>>::fixed_shape_type;
            static_assert(std::is_same_v<First, F> || fixed_shapes_disagree<First, F>::value,
                          "two bound arrays have different fixed shapes (both are named in "
                          "fixed_shapes_disagree<...> in the compiler's note)");
        }
    }

    template <class... Vs>
    static constexpr bool all_bound(type_list<Vs...>) { return ((index_in_v<Vs, vars> >= 0) && ...); }
    // Whether the call can be compiled further; when not, check() has already said why and the
    // entry points stop there instead of piling internal errors on top.
    static constexpr bool valid = exec::known && all_bound(variables_t<E>{});

    static constexpr bool check() {
        static_assert(exec::known, "the first argument is not a backend: use ctgrad::expr::exec::simd, "
                                   "exec::scalar, or a Thrust execution policy (with ctgrad/backend/thrust.hpp)");
        check_all_bound(variables_t<E>{});
        (check_binding<Bs>(), ...);
        (check_fixed_shape<typename first_fixed_shape<Bs...>::type, Bs>(), ...);
        return true;
    }

    // The shape every bound array shares; throws ctgrad::Error naming two arrays that differ.
    static shape_t domain(const char* op, const Bs&... bs) {
        shape_t shape{};
        std::string_view first_name;
        bool seen = false;
        auto visit = [&](const auto& b) {
            using B = std::remove_cvref_t<decltype(b)>;
            if constexpr (is_array_binding_v<B>) {
                const shape_t s = traits_of<bound_t<B>>::shape(b.value);
                if (!seen) {
                    shape = s;
                    first_name = bound_var_name<B>();
                    seen = true;
                } else if (!(s == shape)) {
                    throw Error(std::string(op) + ": bound arrays have different shapes: " + std::string(first_name) +
                                " has shape " + shape.str() + " but " + std::string(bound_var_name<B>()) +
                                " has shape " + s.str());
                }
            }
        };
        (visit(bs), ...);
        // A max or min of nothing has no value (torch.amax refuses an empty tensor too).
        if constexpr (reduction_kinds_t<E>::has_ties)
            if (seen && shape.size() == 0)
                throw Error(std::string(op) + ": max() or min() over no elements: " + std::string(first_name) +
                            " has shape " + shape.str());
        return shape;
    }

    static context make_context(const shape_t& shape, const Bs&... bs) {
        return context{sources{make_source<S>(bs)...}, {}, 0, has_arrays ? shape.size() : 1};
    }
};

template <class C, class V>
constexpr void static_assert_scalar_outer() {
    static_assert(!C::template is_array_var<V> || array_variable_outside_a_reduction<V>::value,
                  "value_and_grad needs a scalar-valued expression: an array variable is used outside sum() or "
                  "mean() (it is named in array_variable_outside_a_reduction<...> in the compiler's note); wrap the expression "
                  "in sum(...) or mean(...)");
}

template <class C, bool Arrays, class... Ws>
struct filter_targets {
    using type = type_list<>;
};
template <class C, bool Arrays, class W, class... Ws>
struct filter_targets<C, Arrays, W, Ws...> {
    using rest = typename filter_targets<C, Arrays, Ws...>::type;
    using type = std::conditional_t<C::template is_array_var<W> == Arrays,
                                    typename ctgrad::detail::merge_unique<type_list<W>, rest>::type, rest>;
};

template <class C, class... Vs>
auto make_array_grads(const shape_t& shape, type_list<Vs...>) {
    return std::tuple{(static_cast<void>(Vs{}), C::exec::template make_array<typename C::S>(shape))...};
}

template <class Exec, class E, class Out, class... Bs>
void assign_checked(const char* op, const Exec& ex, Out& out, const E& e, const Bs&... bs);

template <class Exec, class E, class Out, class... Bs>
void assign_impl(const char* op, const Exec& ex, Out& out, const E& e, const Bs&... bs) {
    using C = call<Exec, E, Bs...>;
    static_assert(C::check());
    if constexpr (C::valid) assign_checked(op, ex, out, e, bs...);
}

template <class Exec, class E, class Out, class... Bs>
void assign_checked(const char* op, const Exec& ex, Out& out, const E& e, const Bs&... bs) {
    using C = call<Exec, E, Bs...>;
    static_assert(array_like<Out>, "assign(out, e, ...): out must be an array container (xt::xarray, "
                                   "std::vector, std::span, a Thrust vector, ...)");
    using T = typename traits_of<Out>::value_type;
    static_assert(std::is_same_v<T, typename C::S> || array_element_types_disagree<T, typename C::S>::value,
                  "assign(out, e, ...): out's element type differs from the bound arrays' (both named in "
                  "array_element_types_disagree<...> in the compiler's note)");
    shape_t shape = C::domain(op, bs...);
    const shape_t out_shape = traits_of<Out>::shape(out);
    if (!C::has_arrays) shape = out_shape;  // a scalar expression fills the whole output
    if (!(shape == out_shape)) {
        if constexpr (requires { traits_of<Out>::resize(out, shape); }) {
            traits_of<Out>::resize(out, shape);
        } else {
            throw Error(std::string(op) + ": the output has shape " + out_shape.str() + " but the expression has shape " +
                        shape.str());
        }
    }
    typename C::context ctx = C::make_context(shape, bs...);
    ctx.count = shape.size();
    const auto p = C::planned(e);
    kernel::run_passes<false, type_list<>>(ex, p, ctx);
    C::exec::assign(ex, p, ctx, ctx.count, traits_of<Out>::data(out));
}

template <class Exec, class E, class... Bs>
auto eval_checked(const Exec& ex, const E& e, const Bs&... bs);

template <class Exec, class E, class... Bs>
auto eval_impl(const Exec& ex, const E& e, const Bs&... bs) {
    using C = call<Exec, E, Bs...>;
    static_assert(C::check());
    if constexpr (!C::valid) return typename C::S{};
    else return eval_checked<Exec, E, Bs...>(ex, e, bs...);
}

template <class Exec, class E, class... Bs>
auto eval_checked(const Exec& ex, const E& e, const Bs&... bs) {
    using C = call<Exec, E, Bs...>;
    using outer = typename outer_variables_of<E>::type;
    constexpr bool elementwise = [] {
        bool any = false;
        [&]<class... Vs>(type_list<Vs...>) { any = (C::template is_array_var<Vs> || ...); }(outer{});
        return any;
    }();
    if constexpr (elementwise) {
        const shape_t shape = C::domain("ctgrad::expr::eval", bs...);
        auto out = C::exec::template make_array<typename C::S>(shape);
        assign_impl("ctgrad::expr::eval", ex, out, e, bs...);
        return out;
    } else {
        const shape_t shape = C::domain("ctgrad::expr::eval", bs...);
        typename C::context ctx = C::make_context(shape, bs...);
        const auto p = C::planned(e);
        kernel::run_passes<false, type_list<>>(ex, p, ctx);
        ctx.index = 0;
        return kernel::evaluate<typename C::S, 0>(p, ctx);
    }
}

template <class V, class G>
struct value_and_grad_result {
    V value;
    G grads;
};

template <class Exec, class E, class... Ws, class... Bs>
auto value_and_grad_checked(const Exec& ex, const E& e, const wrt_list<Ws...>& targets, const Bs&... bs);

template <class Exec, class E, class... Ws, class... Bs>
auto value_and_grad_impl(const Exec& ex, const E& e, const wrt_list<Ws...>& targets, const Bs&... bs) {
    using C = call<Exec, E, Bs...>;
    using S = typename C::S;
    static_assert(C::check());
    (C::template check_bound<target_variable_t<Ws>>(), ...);
    if constexpr (!C::valid || !C::all_bound(type_list<target_variable_t<Ws>...>{}))
        return value_and_grad_result<S, std::tuple<decltype(static_cast<void>(std::declval<Ws>()), S{})...>>{};
    else return value_and_grad_checked(ex, e, targets, bs...);
}

template <class Var> struct into_needs_a_variable_bound_to_an_array { static constexpr bool value = false; };
template <class Var> struct variable_is_in_wrt_twice { static constexpr bool value = false; };

template <class V, class... Vs>
constexpr void check_in_wrt_once() {
    static_assert(((std::is_same_v<V, Vs> ? 1 : 0) + ...) == 1 || variable_is_in_wrt_twice<V>::value,
                  "a variable appears twice in wrt(...), itself or in into(...) (named in "
                  "variable_is_in_wrt_twice<...> in the compiler's note)");
}

// An into(x, out) entry's container, checked before anything runs: its shape must be x's, or it
// is resized to it (resize is true: the first visit only checks, so that nothing changes when
// another entry fails).
template <class C, class W>
void check_gradient_output(const W& w, const shape_t& shape, bool resize) {
    if constexpr (is_gradient_output_v<W>) {
        using V = typename W::var_type;
        using Out = std::remove_cvref_t<decltype(w.out)>;
        static_assert(C::template is_array_var<V> || into_needs_a_variable_bound_to_an_array<V>::value,
                      "into(v, out) writes the gradient of a variable bound to an array: v is bound to a number "
                      "(named in into_needs_a_variable_bound_to_an_array<...> in the compiler's note)");
        static_assert(array_like<Out>, "into(v, out): out must be an array container (std::vector, std::span, "
                                       "xt::xarray, a Thrust vector, ...)");
        if constexpr (array_like<Out>) {
            using T = typename traits_of<Out>::value_type;
            static_assert(std::is_same_v<T, typename C::S> || array_element_types_disagree<T, typename C::S>::value,
                          "into(v, out): out's element type differs from the bound arrays' (both named in "
                          "array_element_types_disagree<...> in the compiler's note)");
            static_assert(traits_of<Out>::space == C::exec::space || array_in_the_wrong_memory_for_this_backend<V>::value,
                          "into(v, out): out is in memory this backend cannot write");
            const shape_t out_shape = traits_of<Out>::shape(w.out);
            if (out_shape == shape) return;
            if constexpr (requires { traits_of<Out>::resize(w.out, shape); }) {
                if (resize) traits_of<Out>::resize(w.out, shape);
            } else {
                throw Error("ctgrad::expr::value_and_grad: into(" + std::string(V::name.view()) + ", out): out has shape " +
                            out_shape.str() + " but " + std::string(V::name.view()) + " has shape " + shape.str());
            }
        }
    }
}

// The position in Ws of the into(...) entry for V, or -1.
template <class V, class... Ws>
constexpr int output_index() {
    int i = 0, found = -1;
    ((is_gradient_output_v<Ws> && std::is_same_v<target_variable_t<Ws>, V> ? (found = i, ++i) : ++i), ...);
    return found;
}

// The array targets without an into(...) entry: their gradients go into arrays made here.
template <class C, class Arrays, class... Ws> struct arrays_to_make;
template <class C, class... Vs, class... Ws>
struct arrays_to_make<C, type_list<Vs...>, Ws...> {
    using type = typename filter_targets<C, true, std::conditional_t<(output_index<Vs, Ws...>() < 0), Vs, void>...>::type;
};

template <class Exec, class E, class... Ws, class... Bs>
auto value_and_grad_checked(const Exec& ex, const E& e, const wrt_list<Ws...>& targets, const Bs&... bs) {
    using C = call<Exec, E, Bs...>;
    using S = typename C::S;
    [&]<class... Vs>(type_list<Vs...>) {
        (static_assert_scalar_outer<C, Vs>(), ...);
    }(typename outer_variables_of<E>::type{});
    (check_in_wrt_once<target_variable_t<Ws>, target_variable_t<Ws>...>(), ...);

    // Targets split by what they are bound to: scalars get one number, arrays one per element.
    using scalar_targets = typename filter_targets<C, false, target_variable_t<Ws>...>::type;
    using array_targets = typename filter_targets<C, true, target_variable_t<Ws>...>::type;
    constexpr std::size_t R = C::R;

    const shape_t shape = C::domain("ctgrad::expr::value_and_grad", bs...);
    std::apply([&](const auto&... w) { (check_gradient_output<C>(w, shape, false), ...); }, targets.items);
    std::apply([&](const auto&... w) { (check_gradient_output<C>(w, shape, true), ...); }, targets.items);
    typename C::context ctx = C::make_context(shape, bs...);
    const auto p = C::planned(e);
    using P = std::remove_cvref_t<decltype(p)>;

    // Where each array target's gradient goes: the caller's container, or one made here.
    using made_targets = typename arrays_to_make<C, array_targets, Ws...>::type;
    auto made = make_array_grads<C>(shape, made_targets{});
    ctgrad::detail::array<S*, array_targets::size> outs{};
    [&]<class... Us>(type_list<Us...>) {
        std::size_t j = 0;
        (
            [&] {
                constexpr int o = output_index<Us, Ws...>();
                if constexpr (o >= 0) outs[j++] = traits_of<std::remove_cvref_t<decltype(std::get<o>(targets.items).out)>>::data(
                                          std::get<o>(targets.items).out);
                else {
                    auto& g = std::get<index_in_v<Us, made_targets>>(made);
                    outs[j++] = traits_of<std::remove_cvref_t<decltype(g)>>::data(g);
                }
            }(),
            ...);
    }(array_targets{});

    // 1. The fused passes (expr/plan.hpp): every reduction's value and its partials for the
    //    scalar targets and for the reductions inside it. When the plan allows (fusable_scatter),
    //    the last pass also writes the arrays' gradients.
    constexpr bool fused = array_targets::size > 0 && kernel::scatter_fuses_v<P, array_targets>;
    const auto sums = [&] {
        if constexpr (fused) return kernel::run_passes<true, scalar_targets, array_targets>(ex, p, ctx, outs);
        else return kernel::run_passes<true, scalar_targets>(ex, p, ctx);
    }();

    // 2. The scalar expression around the reductions, forward and backward once; then the
    //    adjoints flow into inner reductions and hoisted values.
    ctx.index = 0;
    const auto tape = kernel::forward<S, 0>(p, ctx);
    kernel::sink<S, scalar_targets::size, R> outer{};
    kernel::set_zero(outer);
    kernel::backward<S, 0, scalar_targets>(p, tape, S(1), ctx, outer);
    kernel::finish_backward<scalar_targets>(p, ctx, sums, outer);

    // 3. Unless the last pass wrote them: one more pass writing the arrays' gradients.
    if constexpr (array_targets::size > 0 && !fused)
        C::exec::template scatter<array_targets>(ex, p, ctx, ctx.count, kernel::element_adjoints(sums, outer.reduction),
                                                 outs);

    auto pick = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) -> decltype(auto) {
        using W = std::tuple_element_t<I, std::tuple<Ws...>>;
        using V = target_variable_t<W>;
        if constexpr (index_in_v<V, scalar_targets> >= 0) return S(outer.partial[index_in_v<V, scalar_targets>]);
        else if constexpr (is_gradient_output_v<W>) return std::get<I>(targets.items).out;
        else {
            auto& g = std::get<index_in_v<V, made_targets>>(made);
            return std::remove_cvref_t<decltype(g)>(std::move(g));
        }
    };
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        using grads = std::tuple<decltype(pick(std::integral_constant<std::size_t, I>{}))...>;
        return value_and_grad_result<S, grads>{tape.value, grads{pick(std::integral_constant<std::size_t, I>{})...}};
    }(std::index_sequence_for<Ws...>{});
}

template <class V, class J>
struct value_and_jacobian_result {
    V value;
    J jacobian;
};

template <class E> struct jacobian_needs_an_element_wise_expression { static constexpr bool value = false; };
template <class Reduction> struct reduction_reads_a_wrt_variable { static constexpr bool value = false; };
template <class W> struct jacobian_takes_variables_not_into { static constexpr bool value = false; };

// The first reduction of E whose operand reads one of Vars, or void.
template <class E, class Vars>
constexpr auto reduction_reading() {
    if constexpr (is_reduction_v<E>) {
        if constexpr (depends_on_v<decltype(E::a), Vars>) return static_cast<E*>(nullptr);
        else return static_cast<void*>(nullptr);
    } else if constexpr (is_unary_v<E>) return reduction_reading<decltype(E::a), Vars>();
    else if constexpr (is_binary_v<E>) {
        if constexpr (!std::is_void_v<std::remove_pointer_t<decltype(reduction_reading<decltype(E::a), Vars>())>>)
            return reduction_reading<decltype(E::a), Vars>();
        else return reduction_reading<decltype(E::b), Vars>();
    } else return static_cast<void*>(nullptr);
}

template <class W>
constexpr void check_jacobian_target() {
    static_assert(is_var_v<W> || jacobian_takes_variables_not_into<W>::value,
                  "value_and_jacobian(e, wrt(...), ...): wrt takes variables here (the Jacobian's columns are "
                  "returned; into(...) is value_and_grad's)");
}

template <class Exec, class E, class... Ws, class... Bs>
auto value_and_jacobian_impl(const Exec& ex, const E& e, const wrt_list<Ws...>&, const Bs&... bs) {
    using C = call<Exec, E, Bs...>;
    using S = typename C::S;
    using targets = type_list<Ws...>;
    static_assert(C::check());
    (check_jacobian_target<Ws>(), ...);
    (C::template check_bound<target_variable_t<Ws>>(), ...);
    constexpr bool element_wise = [] {
        bool any = false;
        [&]<class... Vs>(type_list<Vs...>) { any = (C::template is_array_var<Vs> || ...); }(
            typename outer_variables_of<E>::type{});
        return any;
    }();
    static_assert(element_wise || jacobian_needs_an_element_wise_expression<E>::value,
                  "value_and_jacobian needs an element-wise expression (an array outside every reduction); for a "
                  "scalar-valued one, its gradient is value_and_grad's");
    using reading = std::remove_pointer_t<decltype(reduction_reading<E, targets>())>;
    static_assert(std::is_void_v<reading> || reduction_reads_a_wrt_variable<reading>::value,
                  "value_and_jacobian: a reduction inside the expression reads a variable of wrt(...), which makes "
                  "every element depend on every other (a dense Jacobian, not computed here; the reduction is "
                  "named in reduction_reads_a_wrt_variable<...> in the compiler's note)");
    using result = value_and_jacobian_result<decltype(C::exec::template make_array<S>(shape_t{})),
                                             std::tuple<decltype(static_cast<void>(std::declval<Ws>()),
                                                                 C::exec::template make_array<S>(shape_t{}))...>>;
    if constexpr (!C::valid || !element_wise || !std::is_void_v<reading> || !(is_var_v<Ws> && ...) ||
                  !C::all_bound(type_list<target_variable_t<Ws>...>{})) {
        return result{};
    } else {
        const shape_t shape = C::domain("ctgrad::expr::value_and_jacobian", bs...);
        typename C::context ctx = C::make_context(shape, bs...);
        ctx.count = shape.size();
        const auto p = C::planned(e);
        kernel::run_passes<false, type_list<>>(ex, p, ctx);
        result out{C::exec::template make_array<S>(shape),
                   {(static_cast<void>(Ws{}), C::exec::template make_array<S>(shape))...}};
        C::exec::assign(ex, p, ctx, ctx.count, traits_of<decltype(out.value)>::data(out.value));
        // Each element's partials are the per-element gradient of sum(e): the gradient pass of
        // value_and_grad with the sum's adjoint 1, writing a column per variable (a variable
        // bound to a number gets its partial at every element).
        const reduction<sum_op, std::remove_cvref_t<decltype(p)>> whole{p};
        constexpr std::size_t R = C::R + 1;
        kernel::context<typename C::vars, typename C::sources, S, R> whole_ctx{ctx.sources, {}, 0, ctx.count};
        for (std::size_t k = 1; k < R; ++k) whole_ctx.reduced[k] = ctx.reduced[k - 1];
        ctgrad::detail::array<S, R> adjoints{};
        adjoints[0] = S(1);
        ctgrad::detail::array<S*, sizeof...(Ws)> columns{};
        std::size_t j = 0;
        std::apply([&](auto&... c) { ((columns[j++] = traits_of<std::remove_cvref_t<decltype(c)>>::data(c)), ...); },
                   out.jacobian);
        C::exec::template scatter<targets>(ex, whole, whole_ctx, whole_ctx.count, adjoints, columns);
        return out;
    }
}

}  // namespace detail

// eval(e, x = ..., ...): the value of e. A number when e is scalar-valued (every array is inside
// a sum() or mean()); otherwise an array of the bound arrays' shape, made by the backend.
// eval(backend, e, ...) picks the backend; the default is exec::simd.
template <class First, class... Rest>
auto eval(const First& first, const Rest&... rest) {
    if constexpr (execution_backend<First>) return detail::eval_impl(first, rest...);
    else return detail::eval_impl(exec::simd, first, rest...);
}

// value_and_grad(e, wrt(a, b, ...), x = ..., ...): the value of a scalar-valued e and its partial
// derivatives, computed together: one fused pass over the data per depth of nested reductions
// for the value and the partials of every scalar variable, plus one pass writing the gradient of
// array variables unless the last pass can (expr/plan.hpp). `auto [value, grads] = ...;
// std::get<i>(grads)` is the partial for the i-th variable of wrt; an entry into(x, out) writes
// x's gradient into out.
template <class First, class... Rest>
auto value_and_grad(const First& first, const Rest&... rest) {
    if constexpr (execution_backend<First>) return detail::value_and_grad_impl(first, rest...);
    else return detail::value_and_grad_impl(exec::simd, first, rest...);
}

// value_and_jacobian(e, wrt(a, x, ...), bindings...): for an element-wise e, its values and the
// Jacobian's columns, one array per variable of wrt: element i of column j is d e_i / d v_j (for
// a variable bound to an array, d e_i / d x_i, the diagonal: the rest of the row is zero). Two
// passes, values then partials (plus the passes of any reduction inside, which may not read a
// variable of wrt). `auto [values, columns] = ...; std::get<j>(columns)`.
template <class First, class... Rest>
auto value_and_jacobian(const First& first, const Rest&... rest) {
    if constexpr (execution_backend<First>) return detail::value_and_jacobian_impl(first, rest...);
    else return detail::value_and_jacobian_impl(exec::simd, first, rest...);
}

// assign(out, e, x = ..., ...): writes the element-wise expression e into out in one pass (plus
// one pass first if e contains reductions). out is resized when it can be; otherwise its shape
// must match, or ctgrad::Error is thrown before anything is written.
template <class First, class Second, class... Rest>
void assign(First&& first, Second&& second, Rest&&... rest) {
    if constexpr (execution_backend<First>) detail::assign_impl("ctgrad::expr::assign", first, second, rest...);
    else detail::assign_impl("ctgrad::expr::assign", exec::simd, first, second, rest...);
}

}  // namespace ctgrad::expr
