#pragma once
// numpy's legacy global generator (np.random.seed / np.random.normal, numpy 1.24's RandomState),
// enough of it for the seed texts' `np.random.normal([3, 5])` and `np.random.randn()`. It runs on the same
// Mersenne Twister as PyTorch's CPU generator (a 32-bit seed initialises it the same way), so
// the words come from a ctgrad::Generator of its own; numpy then turns them into normals its own
// way: 53-bit doubles from two words, and the polar (Marsaglia) method, which yields normals in
// pairs and keeps the second for the next call.
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include <ctgrad/tensor/generator.hpp>

namespace np::random {

class RandomState {
public:
    void seed(std::uint32_t s) {
        words_ = ctgrad::Generator(s);
        spare_.reset();
    }

    // np.random.randn(): one standard normal.
    double randn() { return gauss(); }

    // np.random.normal(loc) with scale 1: one draw per element of loc, in order.
    std::vector<double> normal(const std::vector<double>& loc, double scale = 1.0) {
        std::vector<double> out;
        for (double m : loc) out.push_back(m + scale * gauss());
        return out;
    }

private:
    // random_sample(): the top 27 bits of one word and the top 26 of the next.
    double uniform() {
        const double a = words_.random() >> 5, b = words_.random() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    double gauss() {
        if (spare_) {
            const double g = *spare_;
            spare_.reset();
            return g;
        }
        double x1, x2, r2;
        do {
            x1 = 2.0 * uniform() - 1.0;
            x2 = 2.0 * uniform() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        const double f = std::sqrt(-2.0 * std::log(r2) / r2);
        spare_ = f * x1;
        return f * x2;
    }

    ctgrad::Generator words_{0};
    std::optional<double> spare_;
};

// The module-level functions use one global state, as numpy's do.
inline RandomState& global_state() {
    static RandomState state;
    return state;
}
inline void seed(std::uint32_t s) { global_state().seed(s); }
inline double randn() { return global_state().randn(); }
inline std::vector<double> normal(const std::vector<double>& loc, double scale = 1.0) {
    return global_state().normal(loc, scale);
}

}  // namespace np::random
