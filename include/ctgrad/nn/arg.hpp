#pragma once
// CTGRAD_ARG(T, name): an option of an options struct, spelled as libtorch's TORCH_ARG:
// `LinearOptions(3, 1).bias(false)` sets it (and returns the options, so calls chain) and
// `options.bias()` reads it. Guarded: other option families (optim) may spell the same macro.
#include <utility>

#ifndef CTGRAD_ARG
#define CTGRAD_ARG(T, name)                                                   \
public:                                                                       \
    inline auto name(const T& new_##name)->decltype(*this) {                  \
        this->name##_ = new_##name;                                           \
        return *this;                                                         \
    }                                                                         \
    inline auto name(T&& new_##name)->decltype(*this) {                       \
        this->name##_ = std::move(new_##name);                                \
        return *this;                                                         \
    }                                                                         \
    inline const T& name() const noexcept { return this->name##_; }          \
    inline T& name() noexcept { return this->name##_; }                      \
                                                                              \
private:                                                                      \
    T name##_
#endif
