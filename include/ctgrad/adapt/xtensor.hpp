#pragma once
// xtensor containers bind as arrays: xt::xarray, xt::xtensor, and xt::xtensor_fixed, whose
// extents are types and so are checked against other fixed shapes at compile time.
// Row-major layout is required: elements are read in storage order.
#include <vector>
#include <xtensor/xarray.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xtensor.hpp>

#include "../expr/binding.hpp"

namespace ctgrad::expr {

namespace detail {
template <class C>
struct xtensor_traits_base {
    static constexpr bool known = true;
    static constexpr bool is_array = true;
    static constexpr memory_space space = memory_space::host;
    using value_type = typename C::value_type;
    static_assert(C::static_layout == xt::layout_type::row_major,
                  "ctgrad binds row-major xtensor containers only (elements are read in storage order)");
    static const value_type* data(const C& c) { return c.data(); }
    static value_type* data(C& c) { return c.data(); }
    static shape_t shape(const C& c) { return shape_t::from(c.shape(), "ctgrad::expr"); }
};
template <class C>
struct xtensor_resizable : xtensor_traits_base<C> {
    static void resize(C& c, const shape_t& s) {
        using shape_type = typename C::shape_type;
        shape_type shape;
        if constexpr (requires { shape.resize(s.rank); }) shape.resize(s.rank);
        else if (shape.size() != s.rank) throw Error("ctgrad::expr::assign: the output's rank is fixed at " +
                                                     std::to_string(shape.size()) + " but the result has shape " + s.str());
        for (std::size_t i = 0; i < s.rank; ++i) shape[i] = s.dims[i];
        c.resize(shape);
    }
};
}  // namespace detail

template <class EC, xt::layout_type L, class SC, class Tag>
struct container_traits<xt::xarray_container<EC, L, SC, Tag>>
    : detail::xtensor_resizable<xt::xarray_container<EC, L, SC, Tag>> {};

template <class EC, std::size_t N, xt::layout_type L, class Tag>
struct container_traits<xt::xtensor_container<EC, N, L, Tag>>
    : detail::xtensor_resizable<xt::xtensor_container<EC, N, L, Tag>> {};

template <class ET, std::size_t... I, xt::layout_type L, bool SH, class Tag>
struct container_traits<xt::xfixed_container<ET, xt::fixed_shape<I...>, L, SH, Tag>>
    : detail::xtensor_traits_base<xt::xfixed_container<ET, xt::fixed_shape<I...>, L, SH, Tag>> {
    using fixed_shape_type = fixed_shape<I...>;
};

}  // namespace ctgrad::expr
