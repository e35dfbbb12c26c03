#pragma once
// A synthetic expression tree for timing type-level work: the variables of a balanced binary
// tree of LEAVES leaves that cycles through DISTINCT variables, collected in order of first
// appearance (what ctgrad::expr::variables_t computes). variables_hand.cpp collects them with
// ctgrad's type lists, variables_hana.cpp with Boost.Hana; measure.sh times both.
#include <cstddef>
#include <type_traits>
#include <utility>

#ifndef LEAVES
#define LEAVES 256
#endif
#ifndef DISTINCT
#define DISTINCT 48
#endif

template <int I> struct var {};
template <class L, class R> struct node {};

template <std::size_t Begin, std::size_t Count>
struct tree {
    using type = node<typename tree<Begin, Count / 2>::type, typename tree<Begin + Count / 2, Count - Count / 2>::type>;
};
template <std::size_t Begin>
struct tree<Begin, 1> {
    using type = var<static_cast<int>(Begin % DISTINCT)>;
};

using expression = typename tree<0, LEAVES>::type;
