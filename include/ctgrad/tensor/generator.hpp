#pragma once
// The CPU random number generator, built to give the same stream as PyTorch's CPU generator
// (ATen's CPUGeneratorImpl): after `ctgrad::manual_seed(s)` and `torch.manual_seed(s)` the two
// produce the same 32-bit words, so ported programs draw the same numbers.
//
// What must agree with ATen, and why it looks the way it does:
// - The engine is the standard 32-bit Mersenne Twister (MT19937). ATen keeps a 64-bit seed but
//   initialises the state from its low 32 bits only, so seeds equal modulo 2^32 give equal
//   streams while `current_seed()` still reports the full 64-bit value.
// - `random64()` joins two consecutive words with the FIRST one as the high half.
// - Box-Muller yields two normals per pair of uniforms; ATen keeps the unused one in the
//   generator (one slot for the double sampler, one for float) and a reseed throws it away.
// - ATen locks a generator for a whole fill; `mutex()` is that lock for ctgrad's fills.
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

#include "../core/config.hpp"

namespace ctgrad {

class Generator {
public:
    // The value ATen uses for a generator created without a seed.
    static constexpr std::uint64_t default_seed = 67280421310721ULL;

    explicit Generator(std::uint64_t seed = default_seed) { set_current_seed(seed); }

    // A copy continues the same stream independently; it gets its own lock.
    Generator(const Generator& other) { copy_state_from(other); }
    Generator& operator=(const Generator& other) {
        if (this != &other) copy_state_from(other);
        return *this;
    }

    void set_current_seed(std::uint64_t seed);
    std::uint64_t current_seed() const { return seed_; }

    std::uint32_t random() {
        if (index_ >= state_size) twist();
        std::uint32_t y = state_[index_++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    std::uint64_t random64() {
        const std::uint64_t hi = random();
        const std::uint64_t lo = random();
        return (hi << 32) | lo;
    }

    std::optional<double> next_double_normal_sample() const { return next_double_normal_; }
    void set_next_double_normal_sample(std::optional<double> v) { next_double_normal_ = v; }
    std::optional<float> next_float_normal_sample() const { return next_float_normal_; }
    void set_next_float_normal_sample(std::optional<float> v) { next_float_normal_ = v; }

    std::mutex& mutex() const { return mutex_; }

private:
    static constexpr std::uint32_t state_size = 624;
    static constexpr std::uint32_t shift_size = 397;

    // Once every state_size words; random() itself stays inline, as the fills draw per element.
    void twist();

    void copy_state_from(const Generator& other);

    std::uint64_t seed_ = default_seed;
    std::array<std::uint32_t, state_size> state_{};
    std::uint32_t index_ = state_size;
    std::optional<double> next_double_normal_;
    std::optional<float> next_float_normal_;
    mutable std::mutex mutex_;
};

namespace detail {
// Like PyTorch, a program that never seeds gets a different stream each run.
std::uint64_t nondeterministic_seed();
}  // namespace detail

// The process-wide generator that ctgrad's factories draw from when given none.
Generator& default_generator();

void manual_seed(std::uint64_t seed);

}  // namespace ctgrad

// Seeding and the generator's state, compiled into the library (see config.hpp); <random> is
// needed only here.
#if CTGRAD_RUNTIME_DEFINITIONS
#include <random>

namespace ctgrad {

CTGRAD_API void Generator::set_current_seed(std::uint64_t seed) {
    seed_ = seed;
    next_double_normal_.reset();
    next_float_normal_.reset();
    state_[0] = static_cast<std::uint32_t>(seed);
    for (std::uint32_t j = 1; j < state_size; ++j) {
        const std::uint32_t prev = state_[j - 1];
        state_[j] = 1812433253u * (prev ^ (prev >> 30)) + j;
    }
    // Forces a full regeneration of the state before the first word, as the reference does.
    index_ = state_size;
}

CTGRAD_API void Generator::twist() {
    constexpr std::uint32_t upper = 0x80000000u, lower = 0x7fffffffu, matrix = 0x9908b0dfu;
    for (std::uint32_t i = 0; i < state_size; ++i) {
        const std::uint32_t y = (state_[i] & upper) | (state_[(i + 1) % state_size] & lower);
        state_[i] = state_[(i + shift_size) % state_size] ^ (y >> 1) ^ ((y & 1u) ? matrix : 0u);
    }
    index_ = 0;
}

CTGRAD_API void Generator::copy_state_from(const Generator& other) {
    std::lock_guard<std::mutex> lock(other.mutex_);
    seed_ = other.seed_;
    state_ = other.state_;
    index_ = other.index_;
    next_double_normal_ = other.next_double_normal_;
    next_float_normal_ = other.next_float_normal_;
}

namespace detail {
CTGRAD_API std::uint64_t nondeterministic_seed() {
    std::random_device device;
    const std::uint64_t a = device(), b = device();
    return ((a << 32) ^ b) & 0x1FFFFFFFFFFFFFULL;
}
}  // namespace detail

CTGRAD_API Generator& default_generator() {
    static Generator generator(detail::nondeterministic_seed());
    return generator;
}

CTGRAD_API void manual_seed(std::uint64_t seed) {
    Generator& g = default_generator();
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_current_seed(seed);
}

}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS
