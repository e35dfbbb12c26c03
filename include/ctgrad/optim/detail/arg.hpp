#pragma once
// CTGRAD_OPTIM_ARG(T, name): an option field with libtorch's TORCH_ARG accessors, so that
// `AdamOptions(0.1).eps(1e-6).amsgrad(true)` chains and `options.eps()` reads.
// The setter returns the options object by reference (decltype(*this)), as libtorch's does.

#define CTGRAD_OPTIM_ARG(T, name)                                  \
public:                                                            \
    auto name(const T& new_##name)->decltype(*this) {              \
        this->name##_ = new_##name;                                \
        return *this;                                              \
    }                                                              \
    const T& name() const noexcept { return this->name##_; }      \
    T& name() noexcept { return this->name##_; }                   \
                                                                   \
private:                                                           \
    T name##_
