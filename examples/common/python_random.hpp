#pragma once
// Python's `random` module, as much as the seed texts use: random.seed(n) and random.randint(a, b).
// DynamicNet (the third text's Step 8) draws its loop count from it, so the twin must draw the
// same numbers to follow the same graphs. CPython seeds its Mersenne Twister from the integer's
// 32-bit words with the reference init_by_array (not the single-word init that torch and
// numpy use), and randint draws k = bit_length(b - a) bits per try, rejecting values past b - a.
#include <array>
#include <bit>
#include <cstdint>

namespace python::random {

class Random {
public:
    explicit Random(std::uint32_t seed_value = 0) { seed(seed_value); }

    void seed(std::uint32_t seed_value) {
        init_single(19650218u);
        // init_by_array with the key {seed_value}: CPython's key for 0 is one word, 0.
        const std::uint32_t key = seed_value;
        std::size_t i = 1;
        for (std::size_t k = n; k > 0; --k) {
            state_[i] = (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1664525u)) + key;
            if (++i >= n) {
                state_[0] = state_[n - 1];
                i = 1;
            }
        }
        for (std::size_t k = n - 1; k > 0; --k) {
            state_[i] = (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1566083941u)) - static_cast<std::uint32_t>(i);
            if (++i >= n) {
                state_[0] = state_[n - 1];
                i = 1;
            }
        }
        state_[0] = 0x80000000u;
        next_ = n;
    }

    // random.randint(a, b): uniform on [a, b], both ends included.
    long randint(long a, long b) {
        const auto width = static_cast<std::uint32_t>(b - a + 1);
        const int k = std::bit_width(width);  // _randbelow(width) draws k bits per try
        std::uint32_t r;
        do r = word() >> (32 - k);
        while (r >= width);
        return a + static_cast<long>(r);
    }

private:
    static constexpr std::size_t n = 624, m = 397;

    void init_single(std::uint32_t s) {
        state_[0] = s;
        for (std::size_t i = 1; i < n; ++i)
            state_[i] = 1812433253u * (state_[i - 1] ^ (state_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
    }

    std::uint32_t word() {
        if (next_ >= n) regenerate();
        std::uint32_t y = state_[next_++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        return y ^ (y >> 18);
    }

    void regenerate() {
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t y = (state_[i] & 0x80000000u) | (state_[(i + 1) % n] & 0x7fffffffu);
            state_[i] = state_[(i + m) % n] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        next_ = 0;
    }

    std::array<std::uint32_t, n> state_{};
    std::size_t next_ = n;
};

// The module-level functions share one generator, as Python's do.
inline Random& global_random() {
    static Random instance;
    return instance;
}
inline void seed(std::uint32_t s) { global_random().seed(s); }
inline long randint(long a, long b) { return global_random().randint(a, b); }

}  // namespace python::random
