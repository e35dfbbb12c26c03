#pragma once
// Binding a value to a variable for one evaluation (`x = xs`), and the container adapters that
// say how to read a bound value. A binding refers to an lvalue container without copying it; a
// temporary container lives until the end of the full expression that evaluates it.
#include <tuple>
#include <type_traits>
#include <utility>

#include "kind.hpp"
#include "shape.hpp"

namespace ctgrad::expr {

enum class memory_space { host, device };

// How to read a bound value. Specialised for numbers here and for containers in ctgrad/adapt/.
// An array adapter provides: value_type, space, data(c), shape(c), and optionally
// fixed_shape_type (extents as a type) and resize(c, shape) for outputs that can grow.
template <class C, class Enable = void>
struct container_traits {
    static constexpr bool known = false;
};

template <class T>
struct container_traits<T, std::enable_if_t<std::is_arithmetic_v<T>>> {
    static constexpr bool known = true;
    static constexpr bool is_array = false;
    using value_type = T;
};

template <class C>
using traits_of = container_traits<std::remove_cvref_t<C>>;

template <class C>
concept bindable = traits_of<C>::known;

template <class C>
concept array_like = bindable<C> && traits_of<C>::is_array;

template <class C>
concept has_fixed_shape = array_like<C> && requires { typename traits_of<C>::fixed_shape_type; };

template <class Var, class Value>
struct binding {
    static_assert(bindable<Value>,
                  "a variable can be bound to a number, an xt::xarray/xtensor/xtensor_fixed, a contiguous "
                  "std::vector/std::span or a Thrust vector (include ctgrad/adapt/thrust.hpp for the last)");
    using var_type = Var;
    using value_type = Value;  // a reference type for lvalues: the container is not copied
    Value value;
};

// into(x, out) in wrt(...): the gradient of the array variable x is written into the caller's
// container out (no array is allocated for it), which must have x's shape or be resizable.
template <class Var, class Out>
struct gradient_output {
    using var_type = Var;
    Out& out;
};

template <class T>
inline constexpr bool is_gradient_output_v = false;
template <class Var, class Out>
inline constexpr bool is_gradient_output_v<gradient_output<Var, Out>> = true;

template <class Var, class Out>
constexpr gradient_output<Var, Out> into(const Var&, Out& out) {
    static_assert(is_var_v<Var>, "into(v, out): v must be a variable declared as var<\"name\">");
    return {out};
}

// The variable a wrt(...) entry stands for.
template <class W>
struct target_variable { using type = W; };
template <class Var, class Out>
struct target_variable<gradient_output<Var, Out>> { using type = Var; };
template <class W>
using target_variable_t = typename target_variable<W>::type;

template <class... Ws>
struct wrt_list {
    static_assert(((is_var_v<Ws> || is_gradient_output_v<Ws>) && ...),
                  "wrt(...) takes variables declared as var<\"name\">, not expressions or numbers");
    // The into(...) entries' containers (the variables are empty).
    std::tuple<Ws...> items;
};

// The variables to differentiate with respect to, in the order of the returned partials; an
// entry into(x, out) writes x's gradient into out.
template <class... Ws>
constexpr wrt_list<Ws...> wrt(const Ws&... ws) { return {{ws...}}; }

}  // namespace ctgrad::expr
