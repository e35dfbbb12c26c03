// The variables of the synthetic tree as a hana::set (hana::union_ of the children's sets):
// Hana's own type set. It does not keep the order of first appearance, which the static layer
// binds variables by, so it could only serve the questions that ignore order (depends_on).
#include <boost/hana/contains.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/set.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/union.hpp>

#include "variables_common.hpp"

namespace hana = boost::hana;

template <int I>
constexpr auto variables(hana::basic_type<var<I>>) { return hana::make_set(hana::type_c<var<I>>); }
template <class L, class R>
constexpr auto variables(hana::basic_type<node<L, R>>) {
    return hana::union_(variables(hana::type_c<L>), variables(hana::type_c<R>));
}

constexpr auto found = variables(hana::type_c<expression>);
static_assert(decltype(hana::length(found))::value == DISTINCT);
static_assert(decltype(hana::contains(found, hana::type_c<var<DISTINCT - 1>>))::value);
