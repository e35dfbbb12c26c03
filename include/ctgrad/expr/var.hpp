#pragma once
#include <string_view>
#include <utility>

#include "fixed_string.hpp"
#include "kind.hpp"

namespace ctgrad::expr {

// A variable, identified by its spelling as a pack of characters. Users write `var<"x">`; the
// node type itself is `variable<'x'>` because nvcc's generated host stubs cannot spell a
// class-type template argument (a fixed_string) back, while a char pack round-trips.
// Writing `x = value` binds it for one evaluation (see expr/binding.hpp).
template <char... Chars>
struct variable {
    static constexpr node_kind kind = node_kind::variable;
    static constexpr char spelling[] = {Chars..., '\0'};
    static constexpr fixed_string<sizeof...(Chars) + 1> name{spelling};

    template <class Value>
        requires(!expression<Value>)
    constexpr binding<variable, Value> operator=(Value&& value) const {
        return binding<variable, Value>{std::forward<Value>(value)};
    }
};

namespace detail {
template <fixed_string Name, std::size_t... I>
auto spell(std::index_sequence<I...>) -> variable<Name.chars[I]...>;
}  // namespace detail

// `constexpr var<"x"> x;` declares the variable x.
template <fixed_string Name>
using var = decltype(detail::spell<Name>(std::make_index_sequence<Name.view().size()>{}));

}  // namespace ctgrad::expr
