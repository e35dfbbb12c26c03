#pragma once
// A readable rendering of an expression: to_string(derivative(x*x, x)) == "2*x".
// Parentheses are placed from operator precedence, only where the reading needs them.
#include <sstream>
#include <string>

#include "operators.hpp"

namespace ctgrad::expr {

namespace detail {

// Binding strength of the outermost operator of a rendering.
enum precedence : int { sum_level = 1, product_level = 2, prefix_level = 3, power_level = 4, atom_level = 5 };

template <class E>
constexpr int precedence_of() {
    if constexpr (is_constant_v<E>) {
        if constexpr (E::num < 0) return prefix_level;
        else if constexpr (E::den != 1) return product_level;
        else return atom_level;
    } else if constexpr (is_scalar_v<E>) {
        return prefix_level;  // may print with a sign
    } else if constexpr (is_unary_v<E> || is_binary_v<E>) {
        constexpr print_style s = E::op::style;
        if constexpr (s == print_style::prefix) return prefix_level;
        else if constexpr (s == print_style::power) return power_level;
        else if constexpr (s == print_style::infix_sum || s == print_style::infix_difference) return sum_level;
        else if constexpr (s == print_style::infix_product || s == print_style::infix_quotient) return product_level;
        else return atom_level;
    } else {
        return atom_level;
    }
}

inline std::string parenthesize(std::string s, bool wrap) { return wrap ? "(" + s + ")" : s; }

}  // namespace detail

template <expression E>
std::string to_string(const E& e) {
    using namespace detail;
    if constexpr (is_var_v<E>) {
        return std::string(E::name.view());
    } else if constexpr (is_constant_v<E>) {
        if constexpr (E::den == 1) return std::to_string(E::num);
        else return std::to_string(E::num) + "/" + std::to_string(E::den);
    } else if constexpr (is_scalar_v<E>) {
        std::ostringstream out;
        out << e.value;
        return out.str();
    } else if constexpr (is_reduction_v<E>) {
        return std::string(E::op::symbol) + "(" + to_string(e.a) + ")";
    } else if constexpr (is_unary_v<E>) {
        using A = decltype(E::a);
        constexpr print_style style = E::op::style;
        if constexpr (style == print_style::prefix)
            return E::op::symbol + parenthesize(to_string(e.a), precedence_of<A>() < prefix_level);
        else if constexpr (style == print_style::power)
            return parenthesize(to_string(e.a), precedence_of<A>() <= power_level) + "^" +
                   std::to_string(E::op::exponent);
        else
            return std::string(E::op::symbol) + "(" + to_string(e.a) + ")";
    } else {
        static_assert(is_binary_v<E>);
        using A = decltype(E::a);
        using B = decltype(E::b);
        constexpr print_style style = E::op::style;
        constexpr int own = precedence_of<E>();
        if constexpr (style == print_style::function) {
            return std::string(E::op::symbol) + "(" + to_string(e.a) + ", " + to_string(e.b) + ")";
        } else {
            // Left operands bind as tightly as the operator; right operands of - and / must bind tighter.
            constexpr bool strict_right =
                style == print_style::infix_difference || style == print_style::infix_quotient;
            const bool wrap_right = strict_right ? precedence_of<B>() <= own : precedence_of<B>() < own;
            return parenthesize(to_string(e.a), precedence_of<A>() < own) + E::op::symbol +
                   parenthesize(to_string(e.b), wrap_right);
        }
    }
}

}  // namespace ctgrad::expr
