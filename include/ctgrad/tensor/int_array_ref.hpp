#pragma once
// A non-owning view of a list of sizes, dims or strides, as libtorch's IntArrayRef: binds to a
// braced list (`{3, 1}`), a std::vector or a single number (`t.sum(1)`), so signatures read as
// libtorch's do. Only valid for the duration of the call it is passed to.
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "../core/config.hpp"

namespace ctgrad {

class IntArrayRef {
public:
    constexpr IntArrayRef() = default;
    constexpr IntArrayRef(const std::int64_t& one) : data_(&one), size_(1) {}  // NOLINT: as libtorch
    // Refers to the list's array, which lives until the end of the call's full expression:
    // the same contract as libtorch's IntArrayRef (hence the silenced lifetime warning).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
    constexpr IntArrayRef(std::initializer_list<std::int64_t> list)  // NOLINT
        : data_(list.begin()), size_(list.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    IntArrayRef(const std::vector<std::int64_t>& v) : data_(v.data()), size_(v.size()) {}  // NOLINT
    constexpr IntArrayRef(const std::int64_t* data, std::size_t size) : data_(data), size_(size) {}

    constexpr const std::int64_t* begin() const { return data_; }
    constexpr const std::int64_t* end() const { return data_ + size_; }
    constexpr const std::int64_t* data() const { return data_; }
    constexpr std::size_t size() const { return size_; }
    constexpr bool empty() const { return size_ == 0; }
    constexpr std::int64_t operator[](std::size_t i) const { return data_[i]; }
    constexpr std::int64_t back() const { return data_[size_ - 1]; }
    std::vector<std::int64_t> vec() const { return {begin(), end()}; }

    friend bool operator==(IntArrayRef a, IntArrayRef b) {
        if (a.size_ != b.size_) return false;
        for (std::size_t i = 0; i < a.size_; ++i)
            if (a.data_[i] != b.data_[i]) return false;
        return true;
    }
    friend std::ostream& operator<<(std::ostream& os, IntArrayRef a) {
        os << '[';
        for (std::size_t i = 0; i < a.size_; ++i) os << (i ? ", " : "") << a.data_[i];
        return os << ']';
    }

private:
    const std::int64_t* data_ = nullptr;
    std::size_t size_ = 0;
};

using IntList = std::vector<std::int64_t>;

// "[3, 4]": how shapes appear in error messages (ATen's spelling).
std::string shape_str(IntArrayRef s);

}  // namespace ctgrad

#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad {

CTGRAD_API std::string shape_str(IntArrayRef s) {
    std::string out = "[";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS
