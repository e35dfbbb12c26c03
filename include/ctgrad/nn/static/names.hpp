#pragma once
// The static layer's variables that a static model's loss is written in: one per parameter
// (p0, p1, ...: numbered across the whole model), per input feature (x0, x1, ...) and per target
// column (y0, ...). Their names are spelled from the numbers at compile time.
#include <array>
#include <cstddef>
#include <utility>

#include "../../expr/core.hpp"

namespace ctgrad::nn::static_detail {

template <std::size_t N>
struct decimal {
    static constexpr std::size_t length = [] {
        std::size_t n = 1;
        for (std::size_t v = N; v >= 10; v /= 10) ++n;
        return n;
    }();
    static constexpr std::array<char, length> digits = [] {
        std::array<char, length> d{};
        std::size_t v = N;
        for (std::size_t i = length; i-- > 0; v /= 10) d[i] = static_cast<char>('0' + v % 10);
        return d;
    }();
};

template <char Prefix, std::size_t N, std::size_t... I>
auto spell_indexed(std::index_sequence<I...>) -> expr::variable<Prefix, decimal<N>::digits[I]...>;

// indexed_var<'p', 12> is the variable named "p12".
template <char Prefix, std::size_t N>
using indexed_var = decltype(spell_indexed<Prefix, N>(std::make_index_sequence<decimal<N>::length>{}));

template <std::size_t K> using parameter_var = indexed_var<'p', K>;
template <std::size_t I> using input_var = indexed_var<'x', I>;
template <std::size_t J> using target_var = indexed_var<'y', J>;

// The model's input as expressions: (x0, x1, ..., x{F-1}).
template <std::size_t F>
constexpr auto input_expressions() {
    return []<std::size_t... I>(std::index_sequence<I...>) { return std::tuple{input_var<I>{}...}; }(
        std::make_index_sequence<F>{});
}

}  // namespace ctgrad::nn::static_detail
