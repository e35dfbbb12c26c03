// ctgrad's CPU generator against PyTorch's: test/reference/random.txt (tools/reference_random.py)
// is replayed line by line on the default generator, and every number must be the one torch drew,
// float32 and float64 bit for bit.
#include <doctest/doctest.h>

#include <ctgrad/tensor/distributions.hpp>
#include <ctgrad/tensor/generator.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef CTGRAD_REFERENCE_DIR
#error "CTGRAD_REFERENCE_DIR must name test/reference (test/meson.build defines it)"
#endif

namespace {

// One line of random.txt. `a b` are the op's two parameters as written (exact either way).
struct random_record {
    std::string op;  // manual_seed, rand, randn, uniform, normal, normal_strided, randint
    std::string dtype;
    std::string a, b;
    std::vector<std::string> values;
    int line = 0;
};

std::vector<random_record> read_random_reference() {
    const std::string path = std::string(CTGRAD_REFERENCE_DIR) + "/random.txt";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open the golden file " + path);
    std::vector<random_record> records;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        random_record r;
        r.line = number;
        fields >> r.op;
        if (r.op == "manual_seed") {
            fields >> r.a;
        } else {
            std::size_t n = 0;
            fields >> r.dtype >> r.a >> r.b >> n;
            r.values.resize(n);
            for (auto& v : r.values) fields >> v;
        }
        std::string extra;
        if (!fields || (fields >> extra)) throw std::runtime_error("malformed golden record: " + line);
        records.push_back(std::move(r));
    }
    return records;
}

template <class T>
T parse(const std::string& s) {
    if constexpr (std::is_same_v<T, std::int64_t>) return std::stoll(s);
    else if constexpr (std::is_same_v<T, std::uint64_t>) return std::stoull(s);
    // float32 values are written as the exact double of the float, so the cast is exact.
    else return static_cast<T>(std::stod(s));
}

template <class T>
bool same_bits(T x, T y) {
    if constexpr (std::is_integral_v<T>) return x == y;
    else return std::memcmp(&x, &y, sizeof x) == 0;
}

// Draws what the record's torch call drew and counts the elements that differ from it.
template <class T>
std::size_t replay(const random_record& r, std::string& first_mismatch) {
    ctgrad::Generator& g = ctgrad::default_generator();
    const auto n = static_cast<std::int64_t>(r.values.size());
    std::vector<T> got(r.values.size());
    if (r.op == "randint") {
        ctgrad::detail::random_from_to_fill<T>(g, got.data(), n, parse<std::int64_t>(r.a), parse<std::int64_t>(r.b));
    } else if constexpr (std::is_floating_point_v<T>) {
        const double a = parse<double>(r.a), b = parse<double>(r.b);
        if (r.op == "rand" || r.op == "uniform") ctgrad::detail::uniform_fill<T>(g, got.data(), n, a, b);
        else if (r.op == "randn" || r.op == "normal") ctgrad::detail::normal_fill<T>(g, got.data(), n, a, b);
        else if (r.op == "normal_strided") ctgrad::detail::normal_fill_elementwise<T>(g, got.data(), n, a, b);
        else throw std::runtime_error("unknown op " + r.op);
    } else {
        throw std::runtime_error(r.op + " has no int64 form");
    }
    std::size_t bad = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const T want = parse<T>(r.values[i]);
        if (same_bits(got[i], want)) continue;
        if (bad++ == 0) {
            std::ostringstream msg;
            msg.precision(17);
            msg << "line " << r.line << " (" << r.op << ' ' << r.dtype << ' ' << r.a << ' ' << r.b << " n=" << n
                << ") element " << i << ": ctgrad " << got[i] << ", torch " << want;
            first_mismatch = msg.str();
        }
    }
    return bad;
}

}  // namespace

TEST_CASE("the engine is the standard MT19937 seeded from the low 32 bits") {
    for (std::uint64_t seed : {0ULL, 42ULL, (1ULL << 40) + 7}) {
        ctgrad::Generator g(seed);
        std::mt19937 reference(static_cast<std::uint32_t>(seed));
        for (int i = 0; i < 2000; ++i) REQUIRE(g.random() == reference());
        CHECK(g.current_seed() == seed);
    }
    // random64 joins two words, the first as the high half.
    ctgrad::Generator g(7);
    std::mt19937 reference(7);
    const std::uint64_t hi = reference(), lo = reference();
    CHECK(g.random64() == ((hi << 32) | lo));
}

TEST_CASE("manual_seed restarts the stream and drops the cached normal") {
    ctgrad::manual_seed(5);
    double first[3];
    ctgrad::detail::normal_fill<double>(ctgrad::default_generator(), first, 3, 0, 1);
    CHECK(ctgrad::default_generator().next_double_normal_sample().has_value());
    ctgrad::manual_seed(5);
    CHECK_FALSE(ctgrad::default_generator().next_double_normal_sample().has_value());
    double again[3];
    ctgrad::detail::normal_fill<double>(ctgrad::default_generator(), again, 3, 0, 1);
    for (int i = 0; i < 3; ++i) CHECK(same_bits(first[i], again[i]));

    // A copy carries the state on independently.
    ctgrad::Generator copy = ctgrad::default_generator();
    CHECK(copy.random() == ctgrad::default_generator().random());
}

TEST_CASE("every draw in random.txt is the number torch drew") {
    const auto records = read_random_reference();
    REQUIRE(records.size() > 100);
    std::size_t checked_records = 0, checked_values = 0;
    for (const auto& r : records) {
        if (r.op == "manual_seed") {
            ctgrad::manual_seed(parse<std::uint64_t>(r.a));
            continue;
        }
        std::string first;
        std::size_t bad = 0;
        if (r.dtype == "float32") bad = replay<float>(r, first);
        else if (r.dtype == "float64") bad = replay<double>(r, first);
        else if (r.dtype == "int64") bad = replay<std::int64_t>(r, first);
        else FAIL("unknown dtype " << r.dtype);
        INFO(first);
        CHECK_MESSAGE(bad == 0, bad << " of " << r.values.size() << " elements differ");
        ++checked_records;
        checked_values += r.values.size();
    }
    MESSAGE("compared " << checked_records << " records, " << checked_values << " values");
}

TEST_CASE("statistics of 1e5 draws") {
    ctgrad::Generator g(123);
    constexpr std::int64_t n = 100000;
    auto moments = [](const auto& v) {
        double mean = 0, var = 0;
        for (double x : v) mean += x;
        mean /= static_cast<double>(v.size());
        for (double x : v) var += (x - mean) * (x - mean);
        return std::pair{mean, var / static_cast<double>(v.size() - 1)};
    };
    // Tolerances are about 5 standard errors of the estimates.
    SUBCASE("normal") {
        std::vector<float> f(n);
        std::vector<double> d(n);
        ctgrad::detail::normal_fill<float>(g, f.data(), n, 1.5, 2.0);
        ctgrad::detail::normal_fill<double>(g, d.data(), n, 1.5, 2.0);
        for (auto [mean, var] : {moments(f), moments(d)}) {
            CHECK(std::abs(mean - 1.5) < 5 * 2.0 / std::sqrt(double(n)));
            CHECK(std::abs(var - 4.0) < 5 * 4.0 * std::sqrt(2.0 / double(n)));
        }
        std::vector<double> small(n);
        for (std::int64_t i = 0; i < n; i += 10) ctgrad::detail::normal_fill<double>(g, small.data() + i, 10, 0, 1);
        auto [mean, var] = moments(small);
        CHECK(std::abs(mean) < 5 / std::sqrt(double(n)));
        CHECK(std::abs(var - 1.0) < 5 * std::sqrt(2.0 / double(n)));
    }
    SUBCASE("uniform") {
        std::vector<float> f(n);
        std::vector<double> d(n);
        ctgrad::detail::uniform_fill<float>(g, f.data(), n, -3.0, 7.0);
        ctgrad::detail::uniform_fill<double>(g, d.data(), n, -3.0, 7.0);
        for (auto [mean, var] : {moments(f), moments(d)}) {
            CHECK(std::abs(mean - 2.0) < 5 * 10.0 / std::sqrt(12.0 * double(n)));
            CHECK(std::abs(var - 100.0 / 12.0) < 5 * 100.0 / std::sqrt(180.0 * double(n)));
        }
        for (float x : f) REQUIRE((x >= -3.0f && x < 7.0f));
    }
    SUBCASE("randint") {
        std::vector<std::int64_t> v(n);
        ctgrad::detail::random_from_to_fill<std::int64_t>(g, v.data(), n, -10, 10);
        std::vector<int> counts(20);
        for (auto x : v) {
            REQUIRE((x >= -10 && x < 10));
            ++counts[static_cast<std::size_t>(x + 10)];
        }
        for (int c : counts) CHECK(std::abs(c - n / 20) < 5 * std::sqrt(n / 20.0));
    }
}
