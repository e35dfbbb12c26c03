#pragma once
#include <cstddef>
#include <string_view>

#include "../core/config.hpp"

namespace ctgrad::expr {

// A string usable as a template argument: `var<"x">` names a variable by its spelling.
template <std::size_t N>
struct fixed_string {
    char chars[N]{};

    constexpr fixed_string(const char (&text)[N]) {
        for (std::size_t i = 0; i < N; ++i) chars[i] = text[i];
    }
    constexpr std::string_view view() const { return {chars, N - 1}; }
    constexpr const char* c_str() const { return chars; }
};

}  // namespace ctgrad::expr
