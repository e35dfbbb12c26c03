#pragma once
// Compile-time shape checks of a static model. A static_assert message cannot print a number or
// a type in C++20, so each sentence points at a type that the compiler's note spells out, e.g.
//
//   static_sequential: a layer takes a different number of features than the layer before it
//   gives ... 'ctgrad::nn::layer_width_mismatch<ctgrad::nn::layer<1, ctgrad::nn::static_linear<2, 4> >,
//   ctgrad::nn::takes<2>, ctgrad::nn::layer<0, ctgrad::nn::static_linear<3, 1> >, ctgrad::nn::gives<1> >::value'
//   evaluates to false
//
// which reads: layer 1 (static_linear<2, 4>) takes 2 features but layer 0 (static_linear<3, 1>) gives 1.
#include <cstddef>
#include <type_traits>

namespace ctgrad::nn {

// The words of the notes. (A plain `value` member, not std::false_type, so that the note
// spells the whole type.)
template <std::size_t Index, class Layer> struct layer {};
template <std::size_t N> struct takes {};
template <std::size_t N> struct gives {};
template <class Later, class Takes, class Earlier, class Gives>
struct layer_width_mismatch { static constexpr bool value = false; };
template <class Input, class Gives, class First, class Takes>
struct input_width_mismatch { static constexpr bool value = false; };
template <class Target, class Model, class Gives>
struct target_width_mismatch { static constexpr bool value = false; };
template <class Later, class Flatten>
struct layer_after_flatten { static constexpr bool value = false; };
template <class Model>
struct model_without_a_width { static constexpr bool value = false; };

namespace static_detail {

// The index of the first layer that takes a set number of features (the number of layers: none).
template <class... Layers>
constexpr std::size_t first_width_fixing_layer() {
    constexpr bool fixes[] = {Layers::fixes_width...};
    std::size_t i = 0;
    while (i < sizeof...(Layers) && !fixes[i]) ++i;
    return i;
}

// The first layer that takes a set number of features fixes the model's input width (0: none).
template <class... Layers>
constexpr std::size_t input_width() {
    std::size_t width = 0;
    bool found = false;
    ((found || !Layers::fixes_width ? void() : (width = Layers::in_features, found = true, void())), ...);
    return width;
}

// Walks the layers, carrying the width the previous one gives: Prev is layer<i, L> for the
// previous layer, or void before the first. Each check names the pair it compares.
template <std::size_t I, std::size_t Width, class Prev, class FlattenedBy, class... Layers>
struct chain {
    static constexpr std::size_t out_width = Width;
    static constexpr bool flat = !std::is_void_v<FlattenedBy>;
    static constexpr bool valid = true;
    static constexpr bool check() { return true; }
};

template <std::size_t I, std::size_t Width, class Prev, class FlattenedBy, class L, class... Rest>
struct chain<I, Width, Prev, FlattenedBy, L, Rest...> {
    static constexpr bool widths_agree = !L::fixes_width || std::is_void_v<Prev> || L::in_features == Width;
    static constexpr bool follows_no_flatten = !L::fixes_width || std::is_void_v<FlattenedBy>;
    using next = chain<I + 1, L::output_width(Width), layer<I, L>,
                       std::conditional_t<L::flattens && std::is_void_v<FlattenedBy>, layer<I, L>, FlattenedBy>, Rest...>;
    static constexpr std::size_t out_width = next::out_width;
    static constexpr bool flat = next::flat;
    static constexpr bool valid = widths_agree && follows_no_flatten && next::valid;

    static constexpr bool check() {
        if constexpr (!std::is_void_v<Prev>) {
            static_assert(widths_agree || layer_width_mismatch<layer<I, L>, takes<L::in_features>, Prev, gives<Width>>::value,
                          "static_sequential: a layer takes a different number of features than the layer before it "
                          "gives (the note names both: layer_width_mismatch<layer<i, later layer>, takes<n>, "
                          "layer<j, earlier layer>, gives<m>>)");
        }
        if constexpr (!std::is_void_v<FlattenedBy>) {
            static_assert(follows_no_flatten || layer_after_flatten<layer<I, L>, FlattenedBy>::value,
                          "static_sequential: a layer that takes features comes after static_flatten<0, ...>, which "
                          "merged the batch and the features into one dimension (the note names both: "
                          "layer_after_flatten<layer<i, layer>, layer<j, flatten>>)");
        }
        return next::check();
    }
};

}  // namespace static_detail
}  // namespace ctgrad::nn
