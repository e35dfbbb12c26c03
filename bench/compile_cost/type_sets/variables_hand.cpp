// The variables of the synthetic tree with ctgrad's own type lists (detail/type_list.hpp).
#include <ctgrad/detail/type_list.hpp>

#include "variables_common.hpp"

using ctgrad::detail::type_list;

template <class E> struct variables_of;
template <int I> struct variables_of<var<I>> { using type = type_list<var<I>>; };
template <class L, class R> struct variables_of<node<L, R>> {
    using type = typename ctgrad::detail::merge_unique<typename variables_of<L>::type, typename variables_of<R>::type>::type;
};

static_assert(variables_of<expression>::type::size == DISTINCT);
static_assert(ctgrad::detail::index_in_v<var<DISTINCT - 1>, variables_of<expression>::type> == DISTINCT - 1);
