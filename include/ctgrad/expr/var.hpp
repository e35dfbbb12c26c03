#pragma once
#include <utility>

#include "fixed_string.hpp"
#include "node.hpp"

namespace ctgrad::expr {

// A variable named by a compile-time string: `constexpr var<"x"> x;`. Writing `x = value`
// binds it for one evaluation (see expr/binding.hpp).
template <fixed_string Name>
struct var {
    static constexpr node_kind kind = node_kind::variable;
    static constexpr auto name = Name;

    template <class Value>
        requires(!expression<Value>)
    constexpr binding<var, Value> operator=(Value&& value) const {
        return binding<var, Value>{std::forward<Value>(value)};
    }
};

}  // namespace ctgrad::expr
