#pragma once
// `t.index({Slice(1, None), 0, Ellipsis})`, spelled as libtorch's torch::indexing.
#include <cstdint>
#include <optional>

namespace ctgrad::indexing {

struct NoneType {};
struct EllipsisType {};
inline constexpr NoneType None{};
inline constexpr EllipsisType Ellipsis{};

// start:stop:step; a missing bound (None) means the whole extent on that side.
struct Slice {
    std::optional<std::int64_t> start, stop;
    std::int64_t step = 1;
    Slice() = default;
    Slice(std::optional<std::int64_t> start_, std::optional<std::int64_t> stop_ = std::nullopt, std::int64_t step_ = 1)
        : start(start_), stop(stop_), step(step_) {}
    Slice(NoneType, std::optional<std::int64_t> stop_ = std::nullopt, std::int64_t step_ = 1) : stop(stop_), step(step_) {}
    Slice(std::optional<std::int64_t> start_, NoneType, std::int64_t step_ = 1) : start(start_), step(step_) {}
    Slice(NoneType, NoneType, std::int64_t step_ = 1) : step(step_) {}
};

// One entry of an index list: an integer (selects, drops the dim), a Slice, None (inserts a dim
// of size 1) or Ellipsis (as many full slices as needed).
class TensorIndex {
public:
    enum class kind { integer, slice, none, ellipsis };
    TensorIndex(std::int64_t i) : kind_(kind::integer), integer_(i) {}  // NOLINT
    TensorIndex(int i) : kind_(kind::integer), integer_(i) {}           // NOLINT
    TensorIndex(Slice s) : kind_(kind::slice), slice_(s) {}             // NOLINT
    TensorIndex(NoneType) : kind_(kind::none) {}                        // NOLINT
    TensorIndex(EllipsisType) : kind_(kind::ellipsis) {}                // NOLINT
    kind what() const { return kind_; }
    std::int64_t integer() const { return integer_; }
    const Slice& slice() const { return slice_; }

private:
    kind kind_;
    std::int64_t integer_ = 0;
    Slice slice_;
};

}  // namespace ctgrad::indexing
