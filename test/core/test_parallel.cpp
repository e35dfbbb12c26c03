// Threads (include/ctgrad/core/parallel.hpp): the setting, the split of a loop, and the promise
// that results do not depend on the thread count — bit for bit, for the static layer's fused
// passes, every reduction of the dynamic layer, element-wise ops, matrix products and a whole
// training run. The machines that run this have 2 cores; 3, 5 and 8 threads still run (they
// take turns) and split the work differently, which is what the comparisons need.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numbers>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <ctgrad/expr.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

namespace {

using namespace ctgrad;

// Runs f with the thread count set to n, and restores the previous setting.
template <class F>
auto with_threads(int n, F&& f) {
    struct restore {
        int previous;
        ~restore() { set_num_threads(previous); }
    } guard{get_num_threads()};
    set_num_threads(n);
    return f();
}

const int thread_counts[] = {2, 3, 5, 8};

// The bytes of a CPU tensor (made contiguous), for comparisons bit for bit.
std::vector<unsigned char> bytes_of(const Tensor& t) {
    Tensor c = t.contiguous();
    std::vector<unsigned char> out(c.nbytes());
    if (!out.empty()) std::memcpy(out.data(), c.data_ptr(), out.size());
    return out;
}

template <class T>
bool same_bits(const T& a, const T& b) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

}  // namespace

TEST_CASE("set_num_threads and get_num_threads") {
    const int before = get_num_threads();
    CHECK(before >= 1);
    with_threads(3, [] { CHECK(get_num_threads() == 3); });
    CHECK(get_num_threads() == before);
    for (int bad : {0, -2}) {
        std::string message;
        try {
            set_num_threads(bad);
        } catch (const Error& e) {
            message = e.what();
        }
        CHECK(message == "set_num_threads: expected a positive number of threads, got " + std::to_string(bad));
        CHECK(get_num_threads() == before);  // unchanged
    }
}

TEST_CASE("parallel_for: every item once, small loops on the calling thread, exceptions rethrown") {
    for (int threads : {1, 2, 3, 7}) {
        with_threads(threads, [&] {
            std::vector<std::atomic<int>> visits(100000);
            std::atomic<int> parts{0};
            detail::parallel_for(static_cast<std::int64_t>(visits.size()), 1000, [&](std::int64_t b, std::int64_t e) {
                ++parts;
                for (std::int64_t i = b; i < e; ++i) ++visits[static_cast<std::size_t>(i)];
            });
            for (const auto& v : visits) REQUIRE(v.load() == 1);
#if defined(_OPENMP)
            CHECK(parts.load() == threads);
#endif
        });
    }
    with_threads(4, [] {
        // Below twice the grain: one part, on the calling thread.
        const auto caller = std::this_thread::get_id();
        int calls = 0;
        detail::parallel_for(1999, 1000, [&](std::int64_t b, std::int64_t e) {
            ++calls;
            CHECK(std::this_thread::get_id() == caller);
            CHECK(b == 0);
            CHECK(e == 1999);
        });
        CHECK(calls == 1);
        // Whole blocks: every part but the last starts and ends on a block boundary.
        std::atomic<std::int64_t> covered{0};
        detail::parallel_for_blocks(1000003, 4096, [&](std::int64_t b, std::int64_t e) {
            CHECK(b % 4096 == 0);
            CHECK((e % 4096 == 0 || e == 1000003));
            covered += e - b;
        });
        CHECK(covered.load() == 1000003);
        // An exception on any thread reaches the caller, after all threads finished.
        CHECK_THROWS_AS(detail::parallel_for(1000000, 1000,
                                             [](std::int64_t b, std::int64_t) {
                                                 if (b > 0) throw std::runtime_error("part failed");
                                             }),
                        std::runtime_error);
    });
}

TEST_CASE("static layer: value_and_grad, array gradients and assign are the same for any thread count") {
    using namespace ctgrad::expr;
    constexpr var<"x"> x;
    constexpr var<"y"> y;
    constexpr var<"a"> a;
    constexpr var<"b"> b;
    constexpr var<"c"> c;
    constexpr var<"d"> d;
    // The seeds' cubic fit at a size where threads take over (and not a multiple of a block).
    const std::size_t n = (1 << 20) + 37;
    std::vector<float> xs(n), ys(n);
    for (std::size_t i = 0; i < n; ++i) {
        xs[i] = -std::numbers::pi_v<float> + 2 * std::numbers::pi_v<float> * static_cast<float>(i) / static_cast<float>(n);
        ys[i] = std::sin(xs[i]);
    }
    constexpr auto loss = sum(pow<2>(a + b * x + c * pow<2>(x) + d * pow<3>(x) - y));
    auto fit = [&] {
        return value_and_grad(loss, wrt(a, b, c, d), x = xs, y = ys, a = 0.1f, b = 0.9f, c = -0.05f, d = -0.1f);
    };
    const auto [v1, g1] = with_threads(1, fit);
    // Against a double-precision sum: the blocked float sum is accurate, not just repeatable.
    double reference = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double xi = xs[i], r = 0.1f + 0.9f * xi + -0.05f * xi * xi + -0.1f * xi * xi * xi - ys[i];
        reference += r * r;
    }
    CHECK(std::abs(v1 - reference) <= 1e-5 * reference);

    // Per-element gradients (the scatter pass) and an element-wise assign.
    auto centred = [&] { return value_and_grad(sum(pow<2>(x - y)) / 2.0f, wrt(x), x = xs, y = ys); };
    const auto [cv1, cg1] = with_threads(1, centred);
    std::vector<float> out1(n);
    with_threads(1, [&] { assign(out1, sin(x) * y + x, x = xs, y = ys); });

    for (int threads : thread_counts) {
        CAPTURE(threads);
        const auto [v, g] = with_threads(threads, fit);
        CHECK(same_bits(v, v1));
        CHECK(same_bits(std::get<0>(g), std::get<0>(g1)));
        CHECK(same_bits(std::get<1>(g), std::get<1>(g1)));
        CHECK(same_bits(std::get<2>(g), std::get<2>(g1)));
        CHECK(same_bits(std::get<3>(g), std::get<3>(g1)));
        const auto [cv, cg] = with_threads(threads, centred);
        CHECK(same_bits(cv, cv1));
        CHECK(std::get<0>(cg) == std::get<0>(cg1));
        std::vector<float> out(n);
        with_threads(threads, [&] { assign(out, sin(x) * y + x, x = xs, y = ys); });
        CHECK(out == out1);
    }
}

TEST_CASE("dynamic layer: every reduction and element-wise op is the same for any thread count") {
    for (ScalarType dtype : {kFloat, kDouble}) {
        CAPTURE(dtype_name(dtype));
        manual_seed(7);
        const Tensor v = randn({(1 << 19) + 11}, dtype);
        const Tensor w = randn({(1 << 19) + 11}, dtype);
        const Tensor m = randn({515, 1031}, dtype);
        const std::vector<std::pair<std::string, std::function<Tensor()>>> ops = {
            {"sum", [&] { return v.sum(); }},
            {"mean", [&] { return v.mean(); }},
            {"sum(dim 0)", [&] { return m.sum({0}); }},
            {"sum(dim 1)", [&] { return m.sum({1}, true); }},
            {"mean(dim 1)", [&] { return m.mean({1}); }},
            {"sum of a transposed view", [&] { return m.t().sum(); }},
            {"norm", [&] { return v.norm(); }},
            {"norm(1, dim 0)", [&] { return m.norm(1, {0}); }},
            {"max", [&] { return v.max(); }},
            {"min(dim 1)", [&] { return std::get<0>(m.min(1)); }},
            {"dot", [&] { return dot(v, w); }},
            {"mse_loss", [&] { return nn::functional::mse_loss(v, w); }},
            {"sum of a product", [&] { return (v * w).sum(); }},
            {"element-wise", [&] { return (v * w + v.sin()) / 3; }},
            {"matmul", [&] { return m.matmul(m.t()); }},
        };
        for (const auto& [name, op] : ops) {
            CAPTURE(name);
            const auto one = bytes_of(with_threads(1, op));
            for (int threads : thread_counts) {
                CAPTURE(threads);
                CHECK(bytes_of(with_threads(threads, op)) == one);
            }
        }
    }
}

TEST_CASE("a training run is the same for any thread count") {
    // Layers wide enough that the optimizer's passes, the element-wise ops and the products
    // all split among threads (a 512 x 256 weight is 131072 elements, over twice the grain).
    auto train = [] {
        manual_seed(3);
        nn::Sequential model(nn::Linear(512, 256), nn::ReLU(), nn::Linear(256, 1));
        optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3));
        const Tensor input = randn({128, 512});
        const Tensor target = randn({128, 1});
        std::vector<float> losses;
        for (int step = 0; step < 5; ++step) {
            opt.zero_grad();
            Tensor loss = nn::functional::mse_loss(model->forward(input), target);
            loss.backward();
            opt.step();
            losses.push_back(loss.item<float>());
        }
        std::vector<std::vector<unsigned char>> params;
        for (const Tensor& p : model->parameters()) params.push_back(bytes_of(p));
        return std::make_pair(losses, params);
    };
    const auto one = with_threads(1, train);
    CHECK(one.first.back() < one.first.front());
    for (int threads : {2, 3}) {
        CAPTURE(threads);
        const auto many = with_threads(threads, train);
        CHECK(many.first == one.first);
        CHECK(many.second == one.second);
    }
}
