#pragma once
// Shapes of bound arrays: a run-time shape without heap storage, and a compile-time shape for
// containers whose extents are types (xt::xtensor_fixed).
#include <cstddef>
#include <string>

#include "../core/error.hpp"

namespace ctgrad::expr {

struct shape_t {
    static constexpr std::size_t max_rank = 8;
    std::size_t rank = 0;
    std::size_t dims[max_rank]{};

    template <class Range>
    static shape_t from(const Range& extents, const char* who) {
        shape_t s;
        for (auto d : extents) {
            if (s.rank == max_rank) throw Error(std::string(who) + ": arrays of rank above 8 are not supported");
            s.dims[s.rank++] = static_cast<std::size_t>(d);
        }
        return s;
    }
    std::size_t size() const {
        std::size_t n = 1;
        for (std::size_t i = 0; i < rank; ++i) n *= dims[i];
        return n;
    }
    friend bool operator==(const shape_t& a, const shape_t& b) {
        if (a.rank != b.rank) return false;
        for (std::size_t i = 0; i < a.rank; ++i)
            if (a.dims[i] != b.dims[i]) return false;
        return true;
    }
    // PyTorch's spelling: (2000), (3, 4), () for a scalar.
    std::string str() const {
        std::string s = "(";
        for (std::size_t i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
        return s + ")";
    }
};

// A shape known at compile time; compile errors about fixed shapes print these types.
template <std::size_t... Extents>
struct fixed_shape {};

}  // namespace ctgrad::expr
