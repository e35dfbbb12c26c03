#pragma once
// Binding a value to a variable for one evaluation (`x = xs`), and the container adapters that
// say how to read a bound value. A binding refers to an lvalue container without copying it; a
// temporary container lives until the end of the full expression that evaluates it.
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

template <class... Vars>
struct wrt_list {
    static_assert((is_var_v<Vars> && ...),
                  "wrt(...) takes variables declared as var<\"name\">, not expressions or numbers");
};

// The variables to differentiate with respect to, in the order of the returned partials.
template <class... Vars>
constexpr wrt_list<Vars...> wrt(const Vars&...) { return {}; }

}  // namespace ctgrad::expr
