// The variables of the synthetic tree with Boost.Hana: an ordered set as a hana::tuple of types
// folded with "append unless contained" (hana::set does not keep the order of first appearance,
// which the static layer binds variables by).
#include <boost/hana/append.hpp>
#include <boost/hana/contains.hpp>
#include <boost/hana/equal.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/if.hpp>
#include <boost/hana/index_if.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "variables_common.hpp"

namespace hana = boost::hana;

template <int I>
constexpr auto variables(hana::basic_type<var<I>>) { return hana::tuple_t<var<I>>; }
template <class L, class R>
constexpr auto variables(hana::basic_type<node<L, R>>) {
    return hana::fold_left(variables(hana::type_c<R>), variables(hana::type_c<L>), [](auto seen, auto t) {
        return hana::if_(hana::contains(seen, t), seen, hana::append(seen, t));
    });
}

constexpr auto found = variables(hana::type_c<expression>);
static_assert(decltype(hana::length(found))::value == DISTINCT);
static_assert(std::remove_cvref_t<decltype(hana::index_if(found, hana::equal.to(hana::type_c<var<DISTINCT - 1>>)).value())>::value ==
              DISTINCT - 1);
