// The kernels behind the dynamic layer's ops (device/kernels.hpp), checked against plain loops:
//  - the Thrust kernels (device/thrust/tensor_kernels.hpp) on Thrust's OpenMP system over host
//    memory (test/support/emulated_cuda.hpp): the code kernels/cuda_device.cu compiles for CUDA,
//    tested where there is no GPU;
//  - with CTGRAD_TEST_KERNELS=cpu in the environment, the CPU's kernels
//    (device/cpu/tensor_kernels.hpp), which every CPU tensor op runs on.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include <ctgrad/device/cpu/optimizer_kernels.hpp>

#include "../support/emulated_cuda.hpp"
#include "../support/emulated_cuda_scope.hpp"

namespace {

using ctgrad::device_operand;
using ctgrad::device_operands;
using ctgrad::device_view;
using ctgrad::ScalarType;
using ctgrad::testing::emulated_cuda_kernels;
namespace dx = ctgrad::detail;
namespace ex = ctgrad::expr;

// The backend these tests check (see the top of the file).
ctgrad::DeviceKernels& kernels_under_test() {
    static emulated_cuda_kernels emulated;
    const char* which = std::getenv("CTGRAD_TEST_KERNELS");
    if (which && std::string(which) == "cpu") return ctgrad::cpu_device_kernels();
    return emulated;
}

// Whether a kernel's element `got` is the scalar evaluation's `want`: exactly on the Thrust
// kernels, which evaluate with the same scalar code; within 8 ulps on the CPU's, whose xsimd
// functions (sin, exp, pow, ...) round differently from the C library's.
template <class S>
bool agrees(S got, S want) {
    if (got == want || (std::isnan(got) && std::isnan(want))) return true;
    const char* which = std::getenv("CTGRAD_TEST_KERNELS");
    if (!(which && std::string(which) == "cpu")) return false;
    return std::abs(got - want) <= 8 * std::numeric_limits<S>::epsilon() * std::max(std::abs(got), std::abs(want));
}

// Host memory for test data. Not std::vector: std::vector<bool> packs bits and has no data(),
// and bool tensors hold one byte per element.
template <class T>
class buffer {
public:
    explicit buffer(std::size_t n = 0, T fill = T()) : size_(n), items_(new T[n]) { std::fill_n(items_.get(), n, fill); }
    buffer(const buffer& other) : buffer(other.size_) { std::copy_n(other.items_.get(), size_, items_.get()); }
    buffer& operator=(const buffer& other) {
        buffer copy(other);
        std::swap(size_, copy.size_);
        std::swap(items_, copy.items_);
        return *this;
    }
    std::size_t size() const { return size_; }
    T* data() { return items_.get(); }
    const T* data() const { return items_.get(); }
    T& operator[](std::size_t i) { return items_[i]; }
    const T& operator[](std::size_t i) const { return items_[i]; }
    T* begin() { return data(); }
    T* end() { return data() + size_; }
    const T* begin() const { return data(); }
    const T* end() const { return data() + size_; }

private:
    std::size_t size_;
    std::unique_ptr<T[]> items_;
};

template <class T>
device_view view_of(buffer<T>& data, std::vector<std::int64_t> sizes, std::vector<std::int64_t> strides,
                    std::int64_t offset = 0) {
    device_view v;
    v.data = data.data() + offset;
    v.dtype = ctgrad::dtype_of<T>();
    v.rank = static_cast<int>(sizes.size());
    for (int d = 0; d < v.rank; ++d) {
        v.sizes[d] = sizes[d];
        v.strides[d] = strides[d];
    }
    return v;
}

std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& sizes) {
    std::vector<std::int64_t> s(sizes.size());
    std::int64_t step = 1;
    for (int d = static_cast<int>(sizes.size()) - 1; d >= 0; --d) {
        s[d] = step;
        step *= sizes[d];
    }
    return s;
}

// Offsets of a view's elements in row-major index order: the reference every test walks.
std::vector<std::int64_t> offsets(const std::vector<std::int64_t>& sizes, const std::vector<std::int64_t>& strides) {
    std::int64_t n = 1;
    for (auto s : sizes) n *= s;
    std::vector<std::int64_t> out;
    for (std::int64_t i = 0; i < n; ++i) {
        std::int64_t rest = i, off = 0;
        for (int d = static_cast<int>(sizes.size()) - 1; d >= 0; --d) {
            off += rest % sizes[d] * strides[d];
            rest /= sizes[d];
        }
        out.push_back(off);
    }
    return out;
}

template <class T>
buffer<T> sample(std::size_t n, unsigned seed, double lo = -3, double hi = 3) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    buffer<T> v(n);
    for (auto& x : v) {
        const double r = u(rng);
        if constexpr (std::is_same_v<T, bool>) x = r > 0;
        else if constexpr (std::is_integral_v<T>) x = static_cast<T>(std::llround(r * 10));
        else x = static_cast<T>(r);
    }
    return v;
}

template <class To, class From>
To converted(From v) {
    if constexpr (std::is_same_v<To, bool>) return v != From(0);
    else return static_cast<To>(v);
}

template <class T>
double tolerance() {
    return std::is_same_v<T, float> ? 1e-5 : 1e-13;
}

#define CHECK_CLOSE(got, want, tol)                                                                   \
    do {                                                                                          \
        const double g_ = static_cast<double>(got), w_ = static_cast<double>(want);               \
        CHECK_MESSAGE(std::abs(g_ - w_) <= (tol) * (1.0 + std::abs(w_)), "got ", g_, ", want ", w_); \
    } while (0)

// ---- copy ----

template <class To, class From>
void check_copy(ctgrad::DeviceKernels& k, const std::vector<std::int64_t>& sizes,
                const std::vector<std::int64_t>& dst_strides, std::int64_t dst_len,
                const std::vector<std::int64_t>& src_strides, std::int64_t src_len) {
    auto src = sample<From>(static_cast<std::size_t>(src_len), 7);
    if constexpr (!std::is_same_v<From, bool>) src[0] = From(0);  // zero converts to false
    buffer<To> dst(static_cast<std::size_t>(dst_len), To(1));
    auto want = dst;
    const auto d_off = offsets(sizes, dst_strides), s_off = offsets(sizes, src_strides);
    for (std::size_t i = 0; i < d_off.size(); ++i) want[d_off[i]] = converted<To>(src[s_off[i]]);
    k.copy(view_of(dst, sizes, dst_strides), view_of(src, sizes, src_strides));
    for (std::size_t i = 0; i < dst.size(); ++i) CHECK(dst[i] == want[i]);
}

template <class To>
void copy_from_every_dtype(ctgrad::DeviceKernels& k) {
    const std::vector<std::int64_t> sizes{2, 3};
    check_copy<To, bool>(k, sizes, {3, 1}, 6, {3, 1}, 6);
    check_copy<To, std::int64_t>(k, sizes, {3, 1}, 6, {3, 1}, 6);
    check_copy<To, float>(k, sizes, {3, 1}, 6, {3, 1}, 6);
    check_copy<To, double>(k, sizes, {3, 1}, 6, {3, 1}, 6);
    // transposed source, broadcast source, strided destination
    check_copy<To, float>(k, sizes, {3, 1}, 6, {1, 2}, 6);
    check_copy<To, double>(k, sizes, {3, 1}, 6, {0, 1}, 3);
    check_copy<To, std::int64_t>(k, sizes, {6, 2}, 12, {3, 1}, 6);
}

TEST_CASE("copy: every pair of dtypes, contiguous and strided") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    SUBCASE("to bool") { copy_from_every_dtype<bool>(k); }
    SUBCASE("to int64") { copy_from_every_dtype<std::int64_t>(k); }
    SUBCASE("to float") { copy_from_every_dtype<float>(k); }
    SUBCASE("to double") { copy_from_every_dtype<double>(k); }
}

TEST_CASE("copy: rank 0, rank 3 permuted, broadcast over two dims, empty") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    check_copy<double, float>(k, {}, {}, 1, {}, 1);
    check_copy<float, float>(k, {2, 3, 4}, {12, 4, 1}, 24, {1, 8, 2}, 24);  // a permutation of a 3x4x2 block
    check_copy<double, double>(k, {3, 2, 4}, {8, 4, 1}, 24, {0, 1, 0}, 2);
    check_copy<std::int64_t, double>(k, {2, 0, 3}, {0, 3, 1}, 1, {0, 3, 1}, 1);
}

TEST_CASE("copy: rank above the limit is an error") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    buffer<float> a(1), b(1);
    device_view v = view_of(a, {}, {}), w = view_of(b, {}, {});
    v.rank = w.rank = ctgrad::max_device_rank + 1;
    CHECK_THROWS_AS(k.copy(v, w), ctgrad::Error);
}

// ---- accumulate ----

// dst (a view of `into`) += src (contiguous, dst's sizes), against a loop in index order.
template <class T>
void check_accumulate(ctgrad::DeviceKernels& k, std::size_t elements, const std::vector<std::int64_t>& sizes,
                      const std::vector<std::int64_t>& strides, std::int64_t offset) {
    std::int64_t n = 1;
    for (auto s : sizes) n *= s;
    buffer<T> into(elements), want(elements), src(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < elements; ++i) into[i] = want[i] = static_cast<T>(i % 3 == 0);
    for (std::int64_t i = 0; i < n; ++i) src[static_cast<std::size_t>(i)] = static_cast<T>(i % 2 == 1 ? i + 1 : 0);
    std::vector<std::int64_t> index(sizes.size(), 0);
    for (std::int64_t i = 0; i < n; ++i) {
        std::int64_t at = offset, rest = i;
        for (int d = static_cast<int>(sizes.size()) - 1; d >= 0; --d) {
            at += (rest % sizes[d]) * strides[d];
            rest /= sizes[d];
        }
        if constexpr (std::is_same_v<T, bool>) want[at] = want[at] || src[i];
        else want[at] += src[i];
    }
    k.accumulate(view_of(into, sizes, strides, offset), view_of(src, sizes, contiguous_strides(sizes)));
    for (std::size_t i = 0; i < elements; ++i) CHECK_MESSAGE(into[i] == want[i], "element ", i);
}

TEST_CASE("accumulate: adds into a view; an overlapping view adds every value that reaches an element") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    SUBCASE("a transposed window, each element reached once") {
        check_accumulate<float>(k, 40, {4, 3}, {1, 8}, 2);
        check_accumulate<double>(k, 40, {4, 3}, {1, 8}, 2);
    }
    SUBCASE("overlapping windows: as_strided({3, 3}, {1, 1}) over five elements") {
        check_accumulate<float>(k, 5, {3, 3}, {1, 1}, 0);
        check_accumulate<std::int64_t>(k, 5, {3, 3}, {1, 1}, 0);
        check_accumulate<bool>(k, 5, {3, 3}, {1, 1}, 0);
    }
    SUBCASE("a repeated dim (stride 0) and an empty view") {
        check_accumulate<double>(k, 6, {2, 5, 3}, {3, 0, 1}, 0);
        check_accumulate<float>(k, 6, {2, 0, 3}, {3, 1, 1}, 0);
    }
    // Operands of two dtypes: an Error, and the destination unchanged.
    buffer<float> a(4, 1.5f);
    buffer<double> b(4, 2.0);
    CHECK_THROWS_AS(k.accumulate(view_of(a, {4}, {1}), view_of(b, {4}, {1})), ctgrad::Error);
    for (float x : a) CHECK(x == 1.5f);
}

// ---- fill ----

template <class T>
void check_fill(ctgrad::DeviceKernels& k, double value) {
    buffer<T> contiguous(10, T(0));
    k.fill(view_of(contiguous, {2, 5}, {5, 1}), value);
    for (const T& x : contiguous) CHECK(x == converted<T>(value));

    buffer<T> strided(12, T(0));  // column 1 of a 4x3 matrix
    k.fill(view_of(strided, {4}, {3}, 1), value);
    for (std::size_t i = 0; i < strided.size(); ++i) CHECK(strided[i] == (i % 3 == 1 ? converted<T>(value) : T(0)));
}

TEST_CASE("fill: every dtype, any layout") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    check_fill<bool>(k, 0.5);
    check_fill<bool>(k, 0.0);
    check_fill<std::int64_t>(k, -7);
    check_fill<float>(k, 2.5);
    check_fill<double>(k, -0.125);
    // An integer fill beyond 2^53, where a double cannot hold it, stays exact.
    const std::int64_t big = (std::int64_t(1) << 53) + 1;
    buffer<std::int64_t> longs(3, 0);
    k.fill(view_of(longs, {3}, {1}), ctgrad::fill_value(big));
    for (std::int64_t x : longs) CHECK(x == big);
}

// ---- map and map_sum ----

template <class E>
constexpr int entry = dx::device_expression_index<E>;

template <class S>
device_operands operands(const S* g, const S* a, const S* b, const S* o, std::int64_t stride_b = 1) {
    device_operands ops{};
    ops.items[0] = {g, 1, 0};
    ops.items[1] = {a, 1, 0};
    ops.items[2] = {b, stride_b, 0};
    ops.items[3] = {o, 1, 0};
    return ops;
}

template <class S>
void check_forward(ctgrad::DeviceKernels& k) {
    const std::size_t n = 1001;
    const auto a = sample<S>(n, 1), b = sample<S>(n, 2, 0.1, 2);
    std::vector<S> out(n);

    k.map(entry<ex::unary<ex::sin_op, dx::A>>, ctgrad::dtype_of<S>(), out.data(), n, operands<S>(nullptr, a.data(), nullptr, nullptr));
    for (std::size_t i = 0; i < n; ++i) CHECK(agrees(out[i], std::sin(a[i])));

    k.map(entry<ex::binary<ex::mul_op, dx::A, dx::B>>, ctgrad::dtype_of<S>(), out.data(), n, operands<S>(nullptr, a.data(), b.data(), nullptr));
    for (std::size_t i = 0; i < n; ++i) CHECK(out[i] == a[i] * b[i]);

    // pow(b, a) with b one element seen everywhere (stride 0)
    k.map(entry<ex::binary<ex::pow_op, dx::A, dx::B>>, ctgrad::dtype_of<S>(), out.data(), n,
          operands<S>(nullptr, b.data(), a.data(), nullptr, 0));
    for (std::size_t i = 0; i < n; ++i) CHECK(agrees(out[i], std::pow(b[i], a[0])));

    // a value operand: a * 2.5
    device_operands ops = operands<S>(nullptr, a.data(), nullptr, nullptr);
    ops.items[2] = {nullptr, 0, 2.5};
    k.map(entry<ex::binary<ex::mul_op, dx::A, dx::B>>, ctgrad::dtype_of<S>(), out.data(), n, ops);
    for (std::size_t i = 0; i < n; ++i) CHECK(out[i] == a[i] * S(2.5));
}

TEST_CASE("map: forward bodies (sin, mul, pow) with array, stride-0 and value operands") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    check_forward<float>(k);
    check_forward<double>(k);
}

TEST_CASE("map: a gradient formula, d(a/b)/da * g, with a broadcast gradient") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    const std::size_t n = 513;
    const auto a = sample<double>(n, 3), b = sample<double>(n, 4, 0.5, 3), g = sample<double>(1, 5);
    std::vector<double> out(n);
    device_operands ops = operands<double>(g.data(), a.data(), b.data(), nullptr);
    ops.items[0].stride = 0;
    k.map(entry<dx::lhs_gradient_t<ex::div_op>>, ctgrad::kDouble, out.data(), n, ops);
    for (std::size_t i = 0; i < n; ++i) CHECK_CLOSE(out[i], g[0] / b[i], 1e-15);

    k.map(entry<dx::rhs_gradient_t<ex::div_op>>, ctgrad::kDouble, out.data(), n,
          operands<double>(a.data(), a.data(), b.data(), b.data()));  // g = a, o = b
    for (std::size_t i = 0; i < n; ++i) CHECK_CLOSE(out[i], -a[i] * (b[i] / b[i]), 1e-15);
}

TEST_CASE("map: int64 forward bodies, and no int64 kernel for the others") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    const std::size_t n = 100;
    const auto a = sample<std::int64_t>(n, 6), b = sample<std::int64_t>(n, 7);
    std::vector<std::int64_t> out(n);
    k.map(entry<ex::binary<ex::add_op, dx::A, dx::B>>, ctgrad::kLong, out.data(), n,
          operands<std::int64_t>(nullptr, a.data(), b.data(), nullptr));
    for (std::size_t i = 0; i < n; ++i) CHECK(out[i] == a[i] + b[i]);
    device_operands ops = operands<std::int64_t>(nullptr, a.data(), nullptr, nullptr);
    ops.items[2] = {nullptr, 0, 3.0};
    k.map(entry<ex::binary<ex::sub_op, dx::A, dx::B>>, ctgrad::kLong, out.data(), n, ops);
    for (std::size_t i = 0; i < n; ++i) CHECK(out[i] == a[i] - 3);
    k.map(entry<ex::unary<ex::neg_op, dx::A>>, ctgrad::kLong, out.data(), n, ops);
    for (std::size_t i = 0; i < n; ++i) CHECK(out[i] == -a[i]);

    std::int64_t total = 0;
    k.map_sum(entry<ex::binary<ex::mul_op, dx::A, dx::B>>, ctgrad::kLong, &total, n,
              operands<std::int64_t>(nullptr, a.data(), b.data(), nullptr));
    std::int64_t want = 0;
    for (std::size_t i = 0; i < n; ++i) want += a[i] * b[i];
    CHECK(total == want);

    CHECK_THROWS_AS(k.map(entry<ex::unary<ex::sin_op, dx::A>>, ctgrad::kLong, out.data(), n, ops), ctgrad::Error);
    CHECK_THROWS_AS(k.map(0, ctgrad::kBool, out.data(), n, ops), ctgrad::Error);
    CHECK_THROWS_AS(k.map(-1, ctgrad::kFloat, out.data(), n, ops), ctgrad::Error);
    CHECK_THROWS_AS(k.map_sum(static_cast<int>(dx::device_expressions::size), ctgrad::kFloat, out.data(), n, ops),
                    ctgrad::Error);
}

TEST_CASE("map_sum: the sum of a fused expression, written to device memory") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    const std::size_t n = 4097;
    const auto a = sample<double>(n, 8), b = sample<double>(n, 9);
    double total = -1, want = 0, scale = 0;
    k.map_sum(entry<ex::binary<ex::mul_op, dx::A, dx::B>>, ctgrad::kDouble, &total, n,
              operands<double>(nullptr, a.data(), b.data(), nullptr));
    for (std::size_t i = 0; i < n; ++i) {
        want += a[i] * b[i];
        scale += std::abs(a[i] * b[i]);
    }
    CHECK(std::abs(total - want) <= 1e-14 * scale);

    const auto af = sample<float>(n, 10);
    float totalf = -1;
    double wantf = 0;
    k.map_sum(entry<dx::A>, ctgrad::kFloat, &totalf, n, operands<float>(nullptr, af.data(), nullptr, nullptr));
    for (float x : af) wantf += x;
    CHECK(std::abs(totalf - wantf) <= 1e-5 * n);

    k.map_sum(entry<dx::A>, ctgrad::kFloat, &totalf, 0, operands<float>(nullptr, af.data(), nullptr, nullptr));
    CHECK(totalf == 0.0f);

    // A divisor gives the mean, divided in the element type.
    double mean = -1;
    k.map_sum(entry<ex::binary<ex::mul_op, dx::A, dx::B>>, ctgrad::kDouble, &mean, n,
              operands<double>(nullptr, a.data(), b.data(), nullptr), static_cast<double>(n));
    CHECK(mean == total / static_cast<double>(n));
}

// Every entry of the table runs the expression at its own index: the kernels agree, element by
// element, with the per-element evaluator of that entry's expression.
template <class S, class E>
void check_entry(ctgrad::DeviceKernels& k, const buffer<S>& g, const buffer<S>& a, const buffer<S>& b,
                 const buffer<S>& o) {
    const std::size_t n = a.size();
    const device_operands ops = operands<S>(g.data(), a.data(), b.data(), o.data());
    std::vector<S> out(n);
    k.map(entry<E>, ctgrad::dtype_of<S>(), out.data(), n, ops);
    using source = ex::kernel::device_source<S>;
    using ctx_t = ex::kernel::context<dx::operand_vars, dx::tuple<source, source, source, source>, S, 0>;
    ctx_t ctx{{source{g.data(), 1, 0}, source{a.data(), 1, 0}, source{b.data(), 1, 0}, source{o.data(), 1, 0}},
              {}, 0, n};
    double sum = 0, scale = 0;
    for (std::size_t i = 0; i < n; ++i) {
        ctx.index = i;
        const S want = ex::kernel::evaluate<S, 0>(E{}, ctx);
        sum += want;
        scale += std::abs(want);
        CHECK_MESSAGE(agrees(out[i], want), "entry ", entry<E>, " at ", i);
    }
    S total = 0;
    k.map_sum(entry<E>, ctgrad::dtype_of<S>(), &total, n, ops);
    if (std::isfinite(sum)) CHECK_MESSAGE(std::abs(total - sum) <= tolerance<S>() * (1 + scale), "entry ", entry<E>);
}

template <class S, class... Es>
void check_every_entry(ctgrad::DeviceKernels& k, dx::type_list<Es...>) {
    const std::size_t n = 37;
    const auto g = sample<S>(n, 11), a = sample<S>(n, 12, 0.1, 1.5), b = sample<S>(n, 13, 0.5, 2);
    const auto o = sample<S>(n, 14, 0.1, 0.9);
    (check_entry<S, Es>(k, g, a, b, o), ...);
}

TEST_CASE("map, map_sum: every device expression, float and double") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    check_every_entry<float>(k, dx::device_expressions{});
    check_every_entry<double>(k, dx::device_expressions{});
}

// ---- sum over dims ----

template <class Out, class In>
void check_sum(ctgrad::DeviceKernels& k, const std::vector<std::int64_t>& in_sizes,
               const std::vector<std::int64_t>& in_strides, std::size_t in_len,
               const std::vector<std::int64_t>& out_sizes) {
    using Acc = std::conditional_t<std::is_floating_point_v<In>, double, std::int64_t>;
    auto in = sample<In>(in_len, 21);
    const auto out_strides = contiguous_strides(out_sizes);
    std::int64_t out_n = 1;
    for (auto s : out_sizes) out_n *= s;
    std::vector<Acc> acc(static_cast<std::size_t>(out_n), Acc(0));
    const auto in_off = offsets(in_sizes, in_strides);
    for (std::size_t i = 0; i < in_off.size(); ++i) {
        std::int64_t rest = static_cast<std::int64_t>(i), o = 0;
        for (int d = static_cast<int>(in_sizes.size()) - 1; d >= 0; --d) {
            const std::int64_t idx = rest % in_sizes[d];
            rest /= in_sizes[d];
            if (out_sizes[d] != 1) o += idx * out_strides[d];
        }
        acc[o] += static_cast<Acc>(in[in_off[i]]);
    }
    buffer<Out> out(static_cast<std::size_t>(out_n), Out(7));
    k.sum(view_of(out, out_sizes, out_strides), view_of(in, in_sizes, in_strides));
    for (std::size_t i = 0; i < out.size(); ++i) {
        if constexpr (std::is_floating_point_v<Out>) CHECK_CLOSE(out[i], converted<Out>(acc[i]), tolerance<Out>());
        else CHECK(out[i] == converted<Out>(acc[i]));
    }
}

TEST_CASE("sum: over dims, keeping them as size 1") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    const std::vector<std::int64_t> sizes{2, 3, 4}, strides{12, 4, 1};
    check_sum<double, double>(k, sizes, strides, 24, {2, 1, 4});
    check_sum<double, double>(k, sizes, strides, 24, {1, 3, 1});
    check_sum<float, float>(k, sizes, strides, 24, {2, 3, 1});
    check_sum<float, float>(k, sizes, strides, 24, {2, 3, 4});  // nothing reduced: a copy
    check_sum<double, double>(k, sizes, strides, 24, {1, 1, 1});  // all dims: one transform_reduce
    check_sum<double, double>(k, {5, 3}, {1, 5}, 15, {5, 1});     // transposed input
    check_sum<float, double>(k, {4, 6}, {0, 1}, 6, {4, 1});       // broadcast input, narrowed output
    check_sum<double, float>(k, {4, 6}, {6, 1}, 24, {1, 6});      // float accumulates in double
}

TEST_CASE("sum: integers and bools accumulate in int64") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    check_sum<std::int64_t, std::int64_t>(k, {3, 5}, {5, 1}, 15, {3, 1});
    check_sum<std::int64_t, std::int64_t>(k, {3, 5}, {5, 1}, 15, {1, 1});
    check_sum<std::int64_t, bool>(k, {3, 5}, {5, 1}, 15, {1, 5});
    check_sum<double, std::int64_t>(k, {2, 2, 2}, {4, 2, 1}, 8, {1, 1, 1});
}

TEST_CASE("sum: rank 0, empty input") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    check_sum<double, double>(k, {}, {}, 1, {});
    buffer<double> in(1), out(1, 5.0);
    k.sum(view_of(out, {1, 1}, {1, 1}), view_of(in, {0, 3}, {3, 1}));
    CHECK(out[0] == 0.0);
    buffer<float> out2(3, 5.0f);
    k.sum(view_of(out2, {1, 3}, {3, 1}), view_of(in, {0, 3}, {3, 1}));
    for (float x : out2) CHECK(x == 0.0f);
}

// ---- compare, where, select_along ----

template <class T>
bool reference_holds(ctgrad::device_relation r, T a, T b) {
    using R = ctgrad::device_relation;
    switch (r) {
        case R::eq: return a == b;
        case R::ne: return a != b;
        case R::lt: return a < b;
        case R::le: return a <= b;
        case R::gt: return a > b;
        case R::ge: return a >= b;
        case R::same: return a == b || (a != a && b != b);
    }
    return false;
}

// a (transposed) R b (broadcast along rows), into a strided bool output.
template <class T>
void check_compare(ctgrad::DeviceKernels& k, ctgrad::device_relation r) {
    auto a = sample<T>(12, 41), b = sample<T>(4, 42);
    a[1] = b[1];  // equal values
    a[4] = b[0];
    if constexpr (std::is_floating_point_v<T>) {
        a[5] = b[1] = std::numeric_limits<T>::quiet_NaN();  // NaN against NaN, and against numbers
        a[9] = std::numeric_limits<T>::infinity();
    }
    const std::vector<std::int64_t> sizes{3, 4}, out_strides{8, 2}, a_strides{1, 3}, b_strides{0, 1};
    buffer<bool> out(24, true);
    auto want = out;
    const auto o = offsets(sizes, out_strides), x = offsets(sizes, a_strides), y = offsets(sizes, b_strides);
    for (std::size_t i = 0; i < o.size(); ++i) want[o[i]] = reference_holds(r, a[x[i]], b[y[i]]);
    k.compare(r, view_of(out, sizes, out_strides), view_of(a, sizes, a_strides), view_of(b, sizes, b_strides));
    for (std::size_t i = 0; i < out.size(); ++i) CHECK_MESSAGE(out[i] == want[i], "element ", i);
}

template <class T>
void compare_every_relation(ctgrad::DeviceKernels& k) {
    using R = ctgrad::device_relation;
    for (R r : {R::eq, R::ne, R::lt, R::le, R::gt, R::ge, R::same}) {
        CAPTURE(static_cast<int>(r));
        check_compare<T>(k, r);
    }
}

TEST_CASE("compare: every relation and dtype, strided and broadcast, NaN") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    compare_every_relation<bool>(k);
    compare_every_relation<std::int64_t>(k);
    compare_every_relation<float>(k);
    compare_every_relation<double>(k);
}

TEST_CASE("compare and where: mismatched dtypes and ranks are errors") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    buffer<float> a(4);
    buffer<double> b(4);
    buffer<bool> out(4);
    CHECK_THROWS_AS(k.compare(ctgrad::device_relation::eq, view_of(out, {4}, {1}), view_of(a, {4}, {1}),
                              view_of(b, {4}, {1})), ctgrad::Error);
    CHECK_THROWS_AS(k.compare(ctgrad::device_relation::eq, view_of(out, {4}, {1}), view_of(a, {2, 2}, {2, 1}),
                              view_of(a, {4}, {1})), ctgrad::Error);
    CHECK_THROWS_AS(k.where(view_of(a, {4}, {1}), view_of(a, {4}, {1}), view_of(a, {4}, {1}), view_of(a, {4}, {1})),
                    ctgrad::Error);
    CHECK_THROWS_AS(k.where(view_of(a, {4}, {1}), view_of(out, {4}, {1}), view_of(b, {4}, {1}), view_of(a, {4}, {1})),
                    ctgrad::Error);
}

template <class T>
void check_where() {
    ctgrad::DeviceKernels& k = kernels_under_test();
    auto mask = sample<bool>(6, 51);
    auto a = sample<T>(6, 52);
    buffer<T> b(1, T(7));  // one value seen everywhere
    buffer<T> out(12, T(0));
    const std::vector<std::int64_t> sizes{2, 3};
    k.where(view_of(out, sizes, {1, 4}), view_of(mask, sizes, {3, 1}), view_of(a, sizes, {1, 2}),
            view_of(b, sizes, {0, 0}));
    const auto o = offsets(sizes, {1, 4}), m = offsets(sizes, {3, 1}), x = offsets(sizes, {1, 2});
    for (std::size_t i = 0; i < o.size(); ++i) CHECK(out[o[i]] == (mask[m[i]] ? a[x[i]] : T(7)));
}

TEST_CASE("where: every dtype, strided output, a broadcast operand") {
    check_where<bool>();
    check_where<std::int64_t>();
    check_where<float>();
    check_where<double>();
}

// The reference: the CPU's first-wins scan of each slice.
template <class T>
void check_select(ctgrad::DeviceKernels& k, bool largest, std::int64_t outer, std::int64_t n, std::int64_t inner,
                  buffer<T> in) {
    const auto beats = [&](T x, T y) {
        const bool nx = x != x, ny = y != y;
        return (largest ? x > y : x < y) || (nx && !ny);
    };
    buffer<T> values(static_cast<std::size_t>(outer * inner));
    buffer<std::int64_t> indices(static_cast<std::size_t>(outer * inner), -1);
    k.select_along(largest, ctgrad::dtype_of<T>(), in.data(), outer, n, inner, values.data(), indices.data());
    for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t i = 0; i < inner; ++i) {
            std::int64_t at = 0;
            for (std::int64_t j = 1; j < n; ++j)
                if (beats(in[(o * n + j) * inner + i], in[(o * n + at) * inner + i])) at = j;
            const std::size_t slot = static_cast<std::size_t>(o * inner + i);
            CAPTURE(slot);
            CHECK(indices[slot] == at);
            const T want = in[(o * n + at) * inner + i];
            if (want != want) CHECK(values[slot] != values[slot]);
            else CHECK(values[slot] == want);
        }
}

template <class T>
void select_both_ways(ctgrad::DeviceKernels& k, std::int64_t outer, std::int64_t n, std::int64_t inner, bool with_nan) {
    auto in = sample<T>(static_cast<std::size_t>(outer * n * inner), 61);
    if constexpr (std::is_floating_point_v<T>)
        if (with_nan) in[in.size() / 2] = in[in.size() / 3] = std::numeric_limits<T>::quiet_NaN();
    check_select<T>(k, true, outer, n, inner, in);
    check_select<T>(k, false, outer, n, inner, in);
}

TEST_CASE("select_along: many short slices, few long ones (a parallel reduction), ties and NaN") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    // int64 samples are multiples of 1 in [-30, 30]: long slices hold many ties.
    select_both_ways<std::int64_t>(k, 3, 5, 4, false);
    select_both_ways<std::int64_t>(k, 1, 20000, 1, false);
    select_both_ways<std::int64_t>(k, 2, 5000, 3, false);
    select_both_ways<bool>(k, 4, 6, 2, false);
    select_both_ways<bool>(k, 1, 9000, 1, false);
    select_both_ways<float>(k, 3, 7, 5, true);
    select_both_ways<float>(k, 1, 10000, 1, false);
    select_both_ways<double>(k, 1, 10000, 2, true);
    select_both_ways<double>(k, 5, 1, 3, true);
    buffer<float> in(4), values(1);
    buffer<std::int64_t> indices(1);
    CHECK_THROWS_AS(k.select_along(true, ctgrad::kFloat, in.data(), 1, 0, 1, values.data(), indices.data()),
                    ctgrad::Error);
}

// ---- gather_along, scatter_add_along ----

// An index [outer, m, inner] into slices of n, with some -1 ("none") when `with_none`.
inline buffer<std::int64_t> sample_index(std::int64_t count, std::int64_t n, unsigned seed, bool with_none) {
    buffer<std::int64_t> index(static_cast<std::size_t>(count));
    std::uint64_t state = seed;
    for (auto& v : index) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        v = static_cast<std::int64_t>((state >> 33) % static_cast<std::uint64_t>(n + (with_none ? 1 : 0))) -
            (with_none ? 1 : 0);
    }
    return index;
}

template <class T>
void check_gather_scatter(ctgrad::DeviceKernels& k, std::int64_t outer, std::int64_t n, std::int64_t inner,
                          std::int64_t m) {
    CAPTURE(outer);
    CAPTURE(n);
    CAPTURE(inner);
    CAPTURE(m);
    const auto in = sample<T>(static_cast<std::size_t>(outer * n * inner), 71);
    const auto index = sample_index(outer * m * inner, n, 72, true);
    buffer<T> gathered(static_cast<std::size_t>(outer * m * inner), T(1));
    k.gather_along(ctgrad::dtype_of<T>(), in.data(), outer, n, inner, index.data(), m, gathered.data());
    const auto src = sample<T>(static_cast<std::size_t>(outer * m * inner), 73);
    auto scattered = sample<T>(static_cast<std::size_t>(outer * n * inner), 74);  // adds onto what is there
    auto want_scattered = scattered;
    k.scatter_add_along(ctgrad::dtype_of<T>(), src.data(), outer, m, inner, index.data(), n, scattered.data());
    for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t j = 0; j < m; ++j)
            for (std::int64_t i = 0; i < inner; ++i) {
                const std::size_t e = static_cast<std::size_t>((o * m + j) * inner + i);
                const std::int64_t at = index[e];
                CHECK(gathered[e] == (at < 0 ? T(0) : in[static_cast<std::size_t>((o * n + at) * inner + i)]));
                if (at < 0) continue;
                T& target = want_scattered[static_cast<std::size_t>((o * n + at) * inner + i)];
                if constexpr (std::is_same_v<T, bool>) target = target || src[e];
                else target += src[e];  // in j order, as the kernel adds
            }
    for (std::size_t e = 0; e < scattered.size(); ++e) {
        CAPTURE(e);
        CHECK(scattered[e] == want_scattered[e]);
    }
}

TEST_CASE("gather_along and scatter_add_along: along the last, middle and first dims, repeated and -1 indices") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    check_gather_scatter<float>(k, 7, 5, 1, 3);     // the last dim (nll_loss, take_along)
    check_gather_scatter<float>(k, 3, 6, 4, 9);     // a middle dim, more picks than n: repeats add up
    check_gather_scatter<double>(k, 1, 12, 5, 2);   // the first dim
    check_gather_scatter<std::int64_t>(k, 4, 3, 2, 3);
    check_gather_scatter<bool>(k, 2, 4, 3, 5);
    check_gather_scatter<float>(k, 0, 4, 3, 2);     // nothing to do
    check_gather_scatter<float>(k, 3, 4, 2, 0);
    check_gather_scatter<double>(k, 40, 144, 1, 36);  // max_pool2d's backward: planes of 12 x 12, 6 x 6 windows
}

// ---- gemm ----

template <class T>
void check_gemm(ctgrad::DeviceKernels& k, bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t kk,
                std::int64_t batch, double alpha, double beta) {
    // Leading dimensions larger than the rows, batches further apart than a matrix.
    const std::int64_t lda = (ta ? m : kk) + 1, ldb = (tb ? kk : n) + 2, ldc = n + 1;
    const std::int64_t sa = (ta ? kk : m) * lda + 3, sb = (tb ? n : kk) * ldb + 1, sc = m * ldc + 2;
    const auto a = sample<T>(static_cast<std::size_t>(sa * batch), 31), b = sample<T>(static_cast<std::size_t>(sb * batch), 32);
    auto c = sample<T>(static_cast<std::size_t>(sc * batch), 33);
    if (beta == 0)
        for (auto& x : c) x = std::numeric_limits<T>::quiet_NaN();  // BLAS: beta 0 never reads C
    std::vector<double> want(c.begin(), c.end());
    for (std::int64_t p = 0; p < batch; ++p)
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = 0; j < n; ++j) {
                double acc = 0;
                for (std::int64_t q = 0; q < kk; ++q) {
                    const double x = ta ? a[p * sa + q * lda + i] : a[p * sa + i * lda + q];
                    const double y = tb ? b[p * sb + j * ldb + q] : b[p * sb + q * ldb + j];
                    acc += x * y;
                }
                double& w = want[p * sc + i * ldc + j];
                w = beta == 0 ? alpha * acc : alpha * acc + beta * w;
            }
    k.gemm(ctgrad::dtype_of<T>(), ta, tb, m, n, kk, alpha, a.data(), lda, sa, b.data(), ldb, sb, beta, c.data(), ldc,
           sc, batch);
    for (std::size_t i = 0; i < c.size(); ++i) {
        if (std::isnan(want[i])) CHECK(std::isnan(c[i]));  // padding between rows stays untouched
        else CHECK_CLOSE(c[i], want[i], tolerance<T>() * 10);
    }
}

TEST_CASE("gemm: transposes, batches, alpha and beta") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            CAPTURE(ta);
            CAPTURE(tb);
            check_gemm<double>(k, ta, tb, 3, 4, 5, 1, 1.0, 0.0);
            check_gemm<double>(k, ta, tb, 3, 4, 5, 2, 0.5, 1.0);
            check_gemm<float>(k, ta, tb, 7, 2, 9, 3, 1.0, 0.0);
            check_gemm<float>(k, ta, tb, 1, 5, 3, 2, -2.0, 0.25);
        }
    check_gemm<double>(k, false, false, 2, 3, 0, 2, 1.0, 0.0);  // empty inner dimension: C = 0
    check_gemm<double>(k, false, false, 2, 3, 0, 1, 1.0, 1.0);  // ... or C unchanged
    std::vector<std::int64_t> x(4);
    CHECK_THROWS_AS(k.gemm(ctgrad::kLong, false, false, 2, 2, 1, 1, x.data(), 1, 0, x.data(), 2, 0, 0, x.data(), 2, 0, 1),
                    ctgrad::Error);
}

// ---- optimizers: bit-exact with the CPU kernels ----

template <class T>
struct optimizer_buffers {
    buffer<T> param, grad, b1, b2, b3;
    explicit optimizer_buffers(std::size_t n)
        : param(sample<T>(n, 41)), grad(sample<T>(n, 42)), b1(sample<T>(n, 43, 0, 1)), b2(sample<T>(n, 44, 0, 1)),
          b3(sample<T>(n, 45, 0, 1)) {}
};

template <class T>
void check_same(const optimizer_buffers<T>& got, const optimizer_buffers<T>& want) {
    // Bitwise: the same value, or the same NaN.
    auto same = [](const buffer<T>& x, const buffer<T>& y) {
        return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
    };
    CHECK(same(got.param, want.param));
    CHECK(same(got.b1, want.b1));
    CHECK(same(got.b2, want.b2));
    CHECK(same(got.b3, want.b3));
}

template <class T>
void check_optimizers(ctgrad::DeviceKernels& k) {
    namespace od = ctgrad::optim::detail;
    const std::size_t n = 1003;
    const od::SGDScalars<T> sgd{T(0.01), T(0.9), T(0.75), T(-0.1)};
    for (int flags = 0; flags < 16; ++flags) {
        const bool w = flags & 1, m = flags & 2, f = flags & 4, nest = flags & 8;
        CAPTURE(flags);
        optimizer_buffers<T> dev(n), cpu(n);
        k.sgd_update(sgd, w, m, f, nest, n, dev.param.data(), dev.grad.data(), dev.b1.data());
        od::sgd_update(sgd, w, m, f, nest, n, cpu.param.data(), cpu.grad.data(), cpu.b1.data());
        check_same(dev, cpu);
    }
    const T lr = T(0.001), wd = T(0.01);
    const od::AdamScalars<T> adam{wd,      T(1) - lr * wd, T(0.9), T(0.1),          T(0.999),
                                  T(0.001), T(0.05),       T(1e-8), T(-lr / T(0.3))};
    for (int flags = 0; flags < 8; ++flags) {
        const bool d = flags & 1, w = flags & 2, ams = flags & 4;
        CAPTURE(flags);
        optimizer_buffers<T> dev(n), cpu(n);
        k.adam_update(adam, d, w, ams, n, dev.param.data(), dev.grad.data(), dev.b1.data(), dev.b2.data(), dev.b3.data());
        od::adam_update(adam, d, w, ams, n, cpu.param.data(), cpu.grad.data(), cpu.b1.data(), cpu.b2.data(), cpu.b3.data());
        check_same(dev, cpu);
    }
    const od::RMSpropScalars<T> rms{wd, T(0.99), T(0.01), T(1e-8), T(0.9), T(-0.01)};
    for (int flags = 0; flags < 8; ++flags) {
        const bool w = flags & 1, c = flags & 2, m = flags & 4;
        CAPTURE(flags);
        optimizer_buffers<T> dev(n), cpu(n);
        for (auto& x : dev.b1) x += T(1);  // square_avg above grad_avg^2: a centred sqrt of a positive number
        cpu.b1 = dev.b1;
        k.rmsprop_update(rms, w, c, m, n, dev.param.data(), dev.grad.data(), dev.b1.data(), dev.b2.data(), dev.b3.data());
        od::rmsprop_update(rms, w, c, m, n, cpu.param.data(), cpu.grad.data(), cpu.b1.data(), cpu.b2.data(),
                           cpu.b3.data());
        check_same(dev, cpu);
    }
}

TEST_CASE("optimizer updates: bit-exact with the CPU kernels") {
    ctgrad::DeviceKernels& k = kernels_under_test();
    SUBCASE("float") { check_optimizers<float>(k); }
    SUBCASE("double") { check_optimizers<double>(k); }
}

// ---- registration ----

TEST_CASE("the CPU device runs the CPU kernels of the widest instruction set it has, or the one asked for") {
    CHECK(&ctgrad::device_kernels(ctgrad::Device(ctgrad::kCPU), "test") == &ctgrad::cpu_device_kernels());
    CHECK(ctgrad::cpu_device_kernels().backend_name() == "cpu");
    const std::string capability = ctgrad::cpu_capability();
#if defined(CTGRAD_TEST_CPU_DISPATCH)
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const char* requested = std::getenv("CTGRAD_CPU_CAPABILITY");
    const std::string cap = requested ? requested : "";
    std::string expected = "default";
    if ((cap.empty() || cap == "avx512") && avx512) expected = "avx512";
    else if ((cap.empty() || cap == "avx512" || cap == "avx2") && avx2) expected = "avx2";
    CHECK(capability == expected);
#else
    CHECK(capability.rfind("simd_", 0) == 0);  // a single build: the program's own instruction set
#endif
}

TEST_CASE("emulated_cuda_scope registers the kernels for kCUDA and restores what was there") {
    ctgrad::DeviceKernels* before = ctgrad::detail::device_kernels_slot(ctgrad::kCUDA);
    {
        ctgrad::testing::emulated_cuda_scope scope;
        CHECK(ctgrad::has_device_kernels(ctgrad::kCUDA));
        CHECK(&ctgrad::device_kernels(ctgrad::Device(ctgrad::kCUDA), "test") == &scope.kernels());
        auto storage = ctgrad::Storage::allocate(100, ctgrad::Device(ctgrad::kCUDA));
        CHECK(reinterpret_cast<std::uintptr_t>(storage->data()) % emulated_cuda_kernels::alignment == 0);
        const double x = 3.5;
        double y = 0;
        scope.kernels().copy_bytes_to_device(storage->data(), &x, sizeof x);
        scope.kernels().copy_bytes_to_host(&y, storage->data(), sizeof y);
        CHECK(y == 3.5);
    }
    CHECK(ctgrad::detail::device_kernels_slot(ctgrad::kCUDA) == before);
}

}  // namespace
