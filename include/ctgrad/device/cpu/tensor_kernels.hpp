#pragma once
// The CPU's kernels behind the dynamic layer's kernel interface (device/kernels.hpp): the same
// primitives a GPU backend implements, so that every op is written once and dispatches once
// (device_kernels(device, op)). Element-wise expressions run in the static layer's xsimd loops
// (fused_loops.hpp), matrix products in BLAS, the optimizers' passes in their xsimd kernels,
// and the rest in strided loops over the views as they lie in memory.
//
// Memory is host memory: the CPU allocator's (core/storage.hpp), and "device" transfers are
// plain copies.
#include <cblas.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "../../core/parallel.hpp"
#include "../../core/storage.hpp"
#include "../elements.hpp"
#include "../expressions.hpp"
#include "../kernels.hpp"
#include "fused_loops.hpp"
#include "optimizer_kernels.hpp"
#include "small_products.hpp"
#include "strided_loop.hpp"

namespace ctgrad::cpu_kernels {
inline namespace CTGRAD_SIMD_ABI {

using index_t = std::int64_t;

// f(offsets) for every index of out, offsets[0] into out and offsets[k] into operands[k - 1]
// (all with out's sizes; the operands' strides already expanded for broadcasting).
template <std::size_t N, class F>
void for_each_offset(const device_view& out, const std::array<const device_view*, N - 1>& operands, F&& f) {
    std::array<const std::int64_t*, N> strides;
    strides[0] = out.strides;
    for (std::size_t k = 1; k < N; ++k) strides[k] = operands[k - 1]->strides;
    detail::strided_loop<N>(static_cast<std::size_t>(out.rank), out.sizes, strides, f);
}

// An operand of a fused loop: its array, one element of it seen everywhere, or a number the
// caller passed by value (kept in `value` for the loop to point at).
template <class S>
detail::source<S> source_of(const device_operand& op, S& value) {
    if (op.data) return {static_cast<const S*>(op.data), op.stride == 0};
    value = static_cast<S>(op.value);
    return {&value, true};
}

// The four operands of a fused loop; `values` holds those passed by value.
template <class S>
detail::sources<S> sources_of(const device_operands& ops, S (&values)[4]) {
    return {source_of<S>(ops.items[0], values[0]), source_of<S>(ops.items[1], values[1]),
            source_of<S>(ops.items[2], values[2]), source_of<S>(ops.items[3], values[3])};
}

// f(i, E at i) for i < n, for the integer expressions (a variable or one op), evaluated element
// by element, exactly.
template <class E, class F>
void for_each_integer(index_t n, const device_operands& ops, F&& f) {
    auto ctx = detail::bind_operands<std::int64_t, 0>(ops, n);
    for (index_t i = 0; i < n; ++i) {
        ctx.index = static_cast<std::size_t>(i);
        f(i, detail::evaluate_integer<std::int64_t, E>(ctx));
    }
}

template <class E, class S>
void map_kernel(void* out, index_t n, const device_operands& ops, double /*divisor*/) {
    S* o = static_cast<S*>(out);
    if constexpr (std::is_same_v<S, std::int64_t>) {
        for_each_integer<E>(n, ops, [&](index_t i, S v) { o[i] = v; });
    } else {
        S values[4];
        detail::fused_assign<E, S>(o, n, sources_of<S>(ops, values));
    }
}

template <class E, class S>
void map_sum_kernel(void* out, index_t n, const device_operands& ops, double divisor) {
    S total = S(0);
    if constexpr (std::is_same_v<S, std::int64_t>) {
        for_each_integer<E>(n, ops, [&](index_t, S v) { total += v; });
    } else if (n > 0) {
        S values[4];
        total = detail::fused_sum<E, S>(n, sources_of<S>(ops, values));
    }
    if (divisor != 1) total = total / static_cast<S>(divisor);
    *static_cast<S*>(out) = total;
}

// The loops of every device expression for element type S, in a table built at compile time
// from device_expressions (int64 only for the integer entries; null elsewhere).
template <class S>
struct expression_loops {
    using loop_fn = void (*)(void*, index_t, const device_operands&, double);
    static constexpr int count = static_cast<int>(detail::device_expressions::size);

    template <class E, bool Sum>
    static constexpr loop_fn loop_for() {
        if constexpr (std::is_same_v<S, std::int64_t> && !detail::integer_expression_v<E>) return nullptr;
        else if constexpr (Sum) return &map_sum_kernel<E, S>;
        else return &map_kernel<E, S>;
    }
    template <bool Sum, class... Es>
    static constexpr std::array<loop_fn, sizeof...(Es)> table(detail::type_list<Es...>) {
        return {loop_for<Es, Sum>()...};
    }
    static constexpr auto maps = table<false>(detail::device_expressions{});
    static constexpr auto sums = table<true>(detail::device_expressions{});
};

// BLAS takes int sizes.
inline bool fits_blas(std::initializer_list<std::int64_t> values) {
    for (auto v : values)
        if (v > INT_MAX) return false;
    return true;
}

// C = alpha * op(A) op(B) + beta * C for one matrix of a batch: the narrow products in plain
// loops (small_products.hpp), a column in gemv, the rest in gemm.
template <class T>
void gemm_one(bool ta, bool tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda, const T* b,
              index_t ldb, T beta, T* c, index_t ldc) {
    const index_t a_rs = ta ? 1 : lda, a_cs = ta ? lda : 1, b_rs = tb ? 1 : ldb, b_cs = tb ? ldb : 1;
    if (k <= small_product_dim && n <= small_product_dim && ldc == n) {
        if (beta == T(0)) std::fill(c, c + m * n, T(0));
        else if (beta != T(1))
            for (index_t i = 0; i < m * n; ++i) c[i] *= beta;
        small_product_accumulate<T>(c, a, a_rs, a_cs, b, b_rs, b_cs, m, k, n, alpha);
        return;
    }
    if (n == 1 && ta && m <= narrow_transpose_dim && lda == m && !tb && ldb == 1 && ldc == 1 && beta == T(0)) {
        transposed_column<T>(a, b, k, m, c);
        if (alpha != T(1))
            for (index_t i = 0; i < m; ++i) c[i] *= alpha;
        return;
    }
    const auto A = ta ? CblasTrans : CblasNoTrans, B = tb ? CblasTrans : CblasNoTrans;
    const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k);
    const int LDA = static_cast<int>(lda), LDB = static_cast<int>(ldb), LDC = static_cast<int>(ldc);
    if (n == 1 && !tb) {
        // A matrix times a column (a strided vector): gemv, which is what BLAS has for it. It
        // names the matrix's dims as stored.
        const int rows = ta ? K : M, cols = ta ? M : K;
        if constexpr (std::is_same_v<T, float>) cblas_sgemv(CblasRowMajor, A, rows, cols, alpha, a, LDA, b, LDB, beta, c, LDC);
        else cblas_dgemv(CblasRowMajor, A, rows, cols, alpha, a, LDA, b, LDB, beta, c, LDC);
    } else if constexpr (std::is_same_v<T, float>) {
        cblas_sgemm(CblasRowMajor, A, B, M, N, K, alpha, a, LDA, b, LDB, beta, c, LDC);
    } else {
        cblas_dgemm(CblasRowMajor, A, B, M, N, K, alpha, a, LDA, b, LDB, beta, c, LDC);
    }
}

// Products share threads in fixed pieces: one matrix of a batch, and within a large one panels
// of gemm_panel_rows rows of the result, each piece one single-threaded BLAS call. The pieces
// depend on the shapes alone, so the result does not depend on the thread count (OpenBLAS's own
// threads split a product by the thread count, and its results changed with it).
inline constexpr std::int64_t gemm_panel_rows = 64;
// Multiply-adds below which a matrix stays whole (about 30 microseconds on one core).
inline constexpr double gemm_split_work = 1 << 18;

// OpenBLAS runs each call on the calling thread: ctgrad's threads are the parallelism.
inline void blas_on_calling_thread() {
#if defined(OPENBLAS_CONFIG_H)
    static const bool once = (openblas_set_num_threads(1), true);
    (void)once;
#endif
}

template <class T>
void gemm_batch(bool ta, bool tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda, index_t sa,
                const T* b, index_t ldb, index_t sb, T beta, T* c, index_t ldc, index_t sc, index_t batch) {
    blas_on_calling_thread();
    const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(std::max<index_t>(k, 1));
    if (work * static_cast<double>(batch) < 2 * detail::parallel_grain) {
        // Too small for threads at any thread count (the seeds' products).
        for (index_t i = 0; i < batch; ++i)
            gemm_one<T>(ta, tb, m, n, k, alpha, a + i * sa, lda, b + i * sb, ldb, beta, c + i * sc, ldc);
        return;
    }
    const index_t panel = work >= gemm_split_work ? gemm_panel_rows : m;
    const index_t panels = (m + panel - 1) / panel;
    const double piece_work = work / static_cast<double>(panels);
    const auto grain = static_cast<std::int64_t>(std::max(1.0, std::ceil(detail::parallel_grain / piece_work)));
    // Row r of op(A) starts r elements into A when A is transposed, r rows otherwise.
    const index_t a_row_step = ta ? 1 : lda;
    auto run_pieces = [&](index_t first_matrix, index_t matrices) {
        detail::parallel_for(matrices * panels, grain, [&](std::int64_t first, std::int64_t last) {
            for (std::int64_t piece = first; piece < last; ++piece) {
                const index_t i = first_matrix + piece / panels, row = piece % panels * panel;
                gemm_one<T>(ta, tb, std::min(panel, m - row), n, k, alpha, a + i * sa + row * a_row_step, lda,
                            b + i * sb, ldb, beta, c + i * sc + row * ldc, ldc);
            }
        });
    };
    // Results of a batch that share elements (a stride shorter than a matrix) add up one matrix
    // after another.
    if (batch > 1 && (sc < 0 ? -sc : sc) < m * ldc)
        for (index_t i = 0; i < batch; ++i) run_pieces(i, 1);
    else run_pieces(0, batch);
}

// The kernels themselves (one instance per instruction set the library is built for).
class cpu_tensor_kernels final : public DeviceKernels {
public:
    void* allocate(std::size_t nbytes) override { return memory_.allocate(nbytes); }
    void deallocate(void* p, std::size_t nbytes) noexcept override { memory_.deallocate(p, nbytes); }

    std::string backend_name() const override { return "cpu"; }
    int device_count() const override { return 1; }
    void synchronize() override {}

    void copy_bytes_to_device(void* dst, const void* src, std::size_t nbytes) override {
        if (nbytes) std::memmove(dst, src, nbytes);
    }
    void copy_bytes_to_host(void* dst, const void* src, std::size_t nbytes) override {
        if (nbytes) std::memmove(dst, src, nbytes);
    }

    void copy(const device_view& dst, const device_view& src) override {
        check_rank("copy", dst);
        if (src.rank != dst.rank)
            throw Error("cpu copy: source has rank " + std::to_string(src.rank) + ", destination rank " +
                        std::to_string(dst.rank));
        if (dst.numel() == 0) return;
        dispatch_dtype(dst.dtype, [&](auto to_tag) {
            using To = typename decltype(to_tag)::type;
            dispatch_dtype(src.dtype, [&](auto from_tag) {
                using From = typename decltype(from_tag)::type;
                To* out = static_cast<To*>(dst.data);
                const From* in = static_cast<const From*>(src.data);
                // Row by row: a broadcast value fills its row, and contiguous rows of one dtype
                // are copied whole (two contiguous tensors of one shape are one row).
                std::array<const std::int64_t*, 2> strides{dst.strides, src.strides};
                detail::strided_rows<2>(static_cast<std::size_t>(dst.rank), dst.sizes, strides,
                                        [&](const std::array<index_t, 2>& o, index_t count,
                                            const std::array<index_t, 2>& step) {
                    To* to = out + o[0];
                    const From* from = in + o[1];
                    if (step[0] == 1 && step[1] == 0) {
                        std::fill_n(to, count, detail::convert_element<To>(*from));
                    } else if (std::is_same_v<To, From> && step[0] == 1 && step[1] == 1) {
                        std::memmove(to, from, static_cast<std::size_t>(count) * sizeof(To));
                    } else {
                        for (index_t i = 0; i < count; ++i)
                            to[i * step[0]] = detail::convert_element<To>(from[i * step[1]]);
                    }
                });
            });
        });
    }

    void fill(const device_view& dst, fill_value value) override {
        check_rank("fill", dst);
        if (dst.numel() == 0) return;
        dispatch_dtype(dst.dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            T* data = static_cast<T*>(dst.data);
            const T v = detail::fill_as<T>(value);
            if (is_contiguous(dst)) std::fill_n(data, dst.numel(), v);
            else for_each_offset<1>(dst, {}, [&](const std::array<index_t, 1>& o) { data[o[0]] = v; });
        });
    }

    void accumulate(const device_view& dst, const device_view& src) override {
        check_operands("accumulate", dst, {&src});
        if (src.dtype != dst.dtype)
            throw Error("cpu accumulate: the destination is " + std::string(dtype_name(dst.dtype)) + ", the source " +
                        dtype_name(src.dtype));
        // In index order, one element at a time: overlapping views add up in any case.
        dispatch_dtype(dst.dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            T* to = static_cast<T*>(dst.data);
            const T* from = static_cast<const T*>(src.data);
            for_each_offset<2>(dst, {&src}, [&](const std::array<index_t, 2>& o) {
                to[o[0]] = detail::accumulated(to[o[0]], from[o[1]]);
            });
        });
    }

    void compare(device_relation relation, const device_view& out, const device_view& a,
                 const device_view& b) override {
        check_operands("compare", out, {&a, &b});
        if (out.dtype != kBool) throw Error("cpu compare: the output is " + std::string(dtype_name(out.dtype)) + ", not Bool");
        if (a.dtype != b.dtype)
            throw Error("cpu compare: operands of dtypes " + std::string(dtype_name(a.dtype)) + " and " +
                        dtype_name(b.dtype) + " (convert them to one first)");
        dispatch_dtype(a.dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            bool* po = static_cast<bool*>(out.data);
            const T* pa = static_cast<const T*>(a.data);
            const T* pb = static_cast<const T*>(b.data);
            // One loop per relation: the switch stays out of the element loop.
            auto run = [&](auto relation_tag) {
                constexpr device_relation r = decltype(relation_tag)::value;
                for_each_offset<3>(out, {&a, &b}, [&](const std::array<index_t, 3>& o) {
                    po[o[0]] = detail::holds(r, pa[o[1]], pb[o[2]]);
                });
            };
            switch (relation) {
                case device_relation::eq: return run(std::integral_constant<device_relation, device_relation::eq>{});
                case device_relation::ne: return run(std::integral_constant<device_relation, device_relation::ne>{});
                case device_relation::lt: return run(std::integral_constant<device_relation, device_relation::lt>{});
                case device_relation::le: return run(std::integral_constant<device_relation, device_relation::le>{});
                case device_relation::gt: return run(std::integral_constant<device_relation, device_relation::gt>{});
                case device_relation::ge: return run(std::integral_constant<device_relation, device_relation::ge>{});
                case device_relation::same: return run(std::integral_constant<device_relation, device_relation::same>{});
            }
        });
    }

    void where(const device_view& out, const device_view& mask, const device_view& a, const device_view& b) override {
        check_operands("where", out, {&mask, &a, &b});
        if (mask.dtype != kBool) throw Error("cpu where: the mask is " + std::string(dtype_name(mask.dtype)) + ", not Bool");
        if (a.dtype != out.dtype || b.dtype != out.dtype)
            throw Error("cpu where: the output is " + std::string(dtype_name(out.dtype)) + ", the operands " +
                        dtype_name(a.dtype) + " and " + dtype_name(b.dtype));
        dispatch_dtype(out.dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            T* po = static_cast<T*>(out.data);
            const bool* pm = static_cast<const bool*>(mask.data);
            const T* pa = static_cast<const T*>(a.data);
            const T* pb = static_cast<const T*>(b.data);
            for_each_offset<4>(out, {&mask, &a, &b}, [&](const std::array<index_t, 4>& o) {
                po[o[0]] = pm[o[1]] ? pa[o[2]] : pb[o[3]];
            });
        });
    }

    void select_along(bool largest, ScalarType dtype, const void* in, std::int64_t outer, std::int64_t n,
                      std::int64_t inner, void* values, std::int64_t* indices) override {
        if (outer < 0 || n < 1 || inner < 0)
            throw Error("cpu select_along: needs outer, inner >= 0 and a non-empty slice, got outer " +
                        std::to_string(outer) + ", n " + std::to_string(n) + ", inner " + std::to_string(inner));
        dispatch_dtype(dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            if (largest) select_as<T, true>(static_cast<const T*>(in), outer, n, inner, static_cast<T*>(values), indices);
            else select_as<T, false>(static_cast<const T*>(in), outer, n, inner, static_cast<T*>(values), indices);
        });
    }

    void gather_along(ScalarType dtype, const void* in, std::int64_t outer, std::int64_t n, std::int64_t inner,
                      const std::int64_t* index, std::int64_t m, void* out) override {
        check_along("gather_along", outer, n, inner, index, m);
        dispatch_dtype(dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* from = static_cast<const T*>(in);
            T* to = static_cast<T*>(out);
            for (std::int64_t o = 0; o < outer; ++o) {
                const T* slab = from + o * n * inner;
                const std::int64_t* at = index + o * m * inner;
                T* row = to + o * m * inner;
                if (inner == 1)
                    for (std::int64_t j = 0; j < m; ++j) row[j] = at[j] < 0 ? T(0) : slab[at[j]];
                else
                    for (std::int64_t j = 0; j < m; ++j)
                        for (std::int64_t i = 0; i < inner; ++i) {
                            const std::int64_t k = at[j * inner + i];
                            row[j * inner + i] = k < 0 ? T(0) : slab[k * inner + i];
                        }
            }
        });
    }

    void scatter_add_along(ScalarType dtype, const void* src, std::int64_t outer, std::int64_t m, std::int64_t inner,
                           const std::int64_t* index, std::int64_t n, void* out) override {
        check_along("scatter_add_along", outer, n, inner, index, m);
        dispatch_dtype(dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* from = static_cast<const T*>(src);
            T* to = static_cast<T*>(out);
            for (std::int64_t o = 0; o < outer; ++o) {
                T* slab = to + o * n * inner;
                const std::int64_t* at = index + o * m * inner;
                const T* row = from + o * m * inner;
                for (std::int64_t j = 0; j < m; ++j)
                    for (std::int64_t i = 0; i < inner; ++i) {
                        const std::int64_t k = at[j * inner + i];
                        if (k < 0) continue;
                        T& target = slab[k * inner + i];
                        if constexpr (std::is_same_v<T, bool>) target = target || row[j * inner + i];
                        else target += row[j * inner + i];
                    }
            }
        });
    }

    void map(int expression, ScalarType dtype, void* out, std::int64_t n, const device_operands& operands) override {
        if (n > 0) loop_for("map", expression, dtype, false)(out, n, operands, 1);
    }
    void map_sum(int expression, ScalarType dtype, void* out, std::int64_t n, const device_operands& operands,
                 double divisor) override {
        loop_for("map_sum", expression, dtype, true)(out, n, operands, divisor);
    }

    void sum(const device_view& out, const device_view& in) override {
        check_rank("sum", in);
        if (out.rank != in.rank)
            throw Error("cpu sum: the output has rank " + std::to_string(out.rank) + ", the input rank " +
                        std::to_string(in.rank) + " (reduced dims are kept as size 1)");
        const bool floating = ctgrad::is_floating_point(out.dtype);
        const std::size_t count = static_cast<std::size_t>(out.numel());
        // Accumulators, contiguous in out's shape; each input element adds into the one its
        // index maps to (stride 0 along the reduced dims). A few live on the stack.
        constexpr std::size_t on_stack = 16;
        double stack_d[on_stack] = {};
        std::int64_t stack_i[on_stack] = {};
        std::vector<double> heap_d(floating && count > on_stack ? count : 0, 0.0);
        std::vector<std::int64_t> heap_i(!floating && count > on_stack ? count : 0, 0);
        double* acc_d = count > on_stack ? heap_d.data() : stack_d;
        std::int64_t* acc_i = count > on_stack ? heap_i.data() : stack_i;
        device_view acc = in;
        index_t step = 1;
        for (int d = in.rank - 1; d >= 0; --d) {
            const bool reduced = out.sizes[d] == 1 && in.sizes[d] != 1;
            acc.strides[d] = reduced ? 0 : step;
            step *= reduced ? 1 : out.sizes[d];
        }
        dispatch_dtype(in.dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            if (floating) accumulate_rows<T, double>(in, acc, acc_d);
            else accumulate_rows<T, std::int64_t>(in, acc, acc_i);
        });
        device_view packed = out;
        step = 1;
        for (int d = out.rank - 1; d >= 0; --d) {
            packed.strides[d] = step;
            step *= out.sizes[d];
        }
        packed.data = floating ? static_cast<void*>(acc_d) : static_cast<void*>(acc_i);
        packed.dtype = floating ? kDouble : kLong;
        copy(out, packed);
    }

    void gemm(ScalarType dtype, bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
              double alpha, const void* a, std::int64_t lda, std::int64_t stride_a, const void* b, std::int64_t ldb,
              std::int64_t stride_b, double beta, void* c, std::int64_t ldc, std::int64_t stride_c,
              std::int64_t batch) override {
        if (m < 0 || n < 0 || k < 0 || batch < 0)
            throw Error("cpu gemm: negative size (m " + std::to_string(m) + ", n " + std::to_string(n) + ", k " +
                        std::to_string(k) + ", batch " + std::to_string(batch) + ")");
        if (!fits_blas({m, n, k, lda, ldb, ldc}))
            throw Error("cpu gemm: sizes beyond BLAS's int (m " + std::to_string(m) + ", n " + std::to_string(n) +
                        ", k " + std::to_string(k) + ")");
        if (m == 0 || n == 0 || batch == 0) return;
        // BLAS wants leading dimensions of at least 1 (and at least the row length), even
        // where a dimension of 1 makes the value irrelevant.
        const index_t row_a = transpose_a ? m : k, row_b = transpose_b ? k : n;
        lda = std::max<index_t>(lda, std::max<index_t>(row_a, 1));
        ldb = std::max<index_t>(ldb, std::max<index_t>(row_b, 1));
        ldc = std::max<index_t>(ldc, std::max<index_t>(n, 1));
        if (dtype == kFloat)
            gemm_batch<float>(transpose_a, transpose_b, m, n, k, static_cast<float>(alpha), static_cast<const float*>(a),
                              lda, stride_a, static_cast<const float*>(b), ldb, stride_b, static_cast<float>(beta),
                              static_cast<float*>(c), ldc, stride_c, batch);
        else if (dtype == kDouble)
            gemm_batch<double>(transpose_a, transpose_b, m, n, k, alpha, static_cast<const double*>(a), lda, stride_a,
                               static_cast<const double*>(b), ldb, stride_b, beta, static_cast<double*>(c), ldc,
                               stride_c, batch);
        else throw Error("cpu gemm: expected Float or Double, got " + std::string(dtype_name(dtype)));
    }

    void sgd_update(const optim::detail::SGDScalars<float>& s, bool weight_decay, bool momentum, bool first_step,
                    bool nesterov, std::int64_t n, float* param, const float* grad, float* buf) override {
        optim::detail::sgd_update<float>(s, weight_decay, momentum, first_step, nesterov, n, param, grad, buf);
    }
    void sgd_update(const optim::detail::SGDScalars<double>& s, bool weight_decay, bool momentum, bool first_step,
                    bool nesterov, std::int64_t n, double* param, const double* grad, double* buf) override {
        optim::detail::sgd_update<double>(s, weight_decay, momentum, first_step, nesterov, n, param, grad, buf);
    }
    void adam_update(const optim::detail::AdamScalars<float>& s, bool decoupled, bool weight_decay, bool amsgrad,
                     std::int64_t n, float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                     float* max_exp_avg_sq) override {
        optim::detail::adam_update<float>(s, decoupled, weight_decay, amsgrad, n, param, grad, exp_avg, exp_avg_sq,
                                          max_exp_avg_sq);
    }
    void adam_update(const optim::detail::AdamScalars<double>& s, bool decoupled, bool weight_decay, bool amsgrad,
                     std::int64_t n, double* param, const double* grad, double* exp_avg, double* exp_avg_sq,
                     double* max_exp_avg_sq) override {
        optim::detail::adam_update<double>(s, decoupled, weight_decay, amsgrad, n, param, grad, exp_avg, exp_avg_sq,
                                           max_exp_avg_sq);
    }
    void rmsprop_update(const optim::detail::RMSpropScalars<float>& s, bool weight_decay, bool centered,
                        bool momentum, std::int64_t n, float* param, const float* grad, float* square_avg,
                        float* grad_avg, float* momentum_buffer) override {
        optim::detail::rmsprop_update<float>(s, weight_decay, centered, momentum, n, param, grad, square_avg,
                                             grad_avg, momentum_buffer);
    }
    void rmsprop_update(const optim::detail::RMSpropScalars<double>& s, bool weight_decay, bool centered,
                        bool momentum, std::int64_t n, double* param, const double* grad, double* square_avg,
                        double* grad_avg, double* momentum_buffer) override {
        optim::detail::rmsprop_update<double>(s, weight_decay, centered, momentum, n, param, grad, square_avg,
                                              grad_avg, momentum_buffer);
    }

private:
    detail::cpu_allocator memory_;

    static void check_rank(const char* kernel, const device_view& v) {
        if (v.rank < 0 || v.rank > max_device_rank)
            throw Error(std::string("cpu ") + kernel + ": rank " + std::to_string(v.rank) +
                        " is outside what kernels support (0 to " + std::to_string(max_device_rank) + ")");
    }

    static void check_operands(const char* kernel, const device_view& out,
                               std::initializer_list<const device_view*> operands) {
        check_rank(kernel, out);
        for (const device_view* v : operands)
            if (v->rank != out.rank)
                throw Error(std::string("cpu ") + kernel + ": an operand has rank " + std::to_string(v->rank) +
                            ", the output rank " + std::to_string(out.rank) + " (expand operands to the output's sizes)");
    }

    // acc[k] += in's elements, each into the accumulator at its offset in `acc` (stride 0 along
    // the reduced dims). A row that sums into one accumulator is added in eight independent
    // lanes first: one chain of dependent additions would wait on each one's latency, while
    // lanes vectorise (the order of additions is fixed for a given shape, so results repeat).
    template <class T, class Acc>
    static void accumulate_rows(const device_view& in, const device_view& acc, Acc* totals) {
        const T* p = static_cast<const T*>(in.data);
        std::array<const std::int64_t*, 2> strides{in.strides, acc.strides};
        detail::strided_rows<2>(static_cast<std::size_t>(in.rank), in.sizes, strides,
                                [&](const std::array<index_t, 2>& o, index_t count, const std::array<index_t, 2>& step) {
            const T* row = p + o[0];
            if (step[1] != 0) {
                for (index_t i = 0; i < count; ++i) totals[o[1] + i * step[1]] += static_cast<Acc>(row[i * step[0]]);
                return;
            }
            constexpr int lanes = 8;
            Acc lane[lanes] = {};
            index_t i = 0;
            if (step[0] == 1)
                for (; i + lanes <= count; i += lanes)
                    for (int l = 0; l < lanes; ++l) lane[l] += static_cast<Acc>(row[i + l]);
            Acc total = 0;
            for (int l = 0; l < lanes; ++l) total += lane[l];
            for (; i < count; ++i) total += static_cast<Acc>(row[i * step[0]]);
            totals[o[1]] += total;
        });
    }

    // The sizes of gather_along/scatter_add_along, and every index inside [-1, n): checked before
    // anything is written (the CPU can afford the pass; callers check too).
    static void check_along(const char* what, std::int64_t outer, std::int64_t n, std::int64_t inner,
                            const std::int64_t* index, std::int64_t m) {
        if (outer < 0 || n < 0 || inner < 0 || m < 0)
            throw Error(std::string("cpu ") + what + ": needs non-negative sizes, got outer " + std::to_string(outer) +
                        ", n " + std::to_string(n) + ", inner " + std::to_string(inner) + ", m " + std::to_string(m));
        const std::int64_t count = outer * m * inner;
        for (std::int64_t e = 0; e < count; ++e)
            if (index[e] < -1 || index[e] >= n)
                throw Error(std::string("cpu ") + what + ": index " + std::to_string(index[e]) +
                            " is out of bounds for a dim of size " + std::to_string(n));
    }

    // Walking n in the outer loop reads memory in order; the running best lives in the output.
    template <class T, bool Largest>
    static void select_as(const T* in, std::int64_t outer, std::int64_t n, std::int64_t inner, T* best,
                          std::int64_t* at) {
        if (inner == 1) {  // many short contiguous slices (max_pool2d's windows): the best in registers
            for (std::int64_t o = 0; o < outer; ++o) {
                const T* slice = in + o * n;
                T b = slice[0];
                std::int64_t a = 0;
                for (std::int64_t k = 1; k < n; ++k)
                    if (detail::beats<T, Largest>(slice[k], b)) b = slice[k], a = k;
                best[o] = b;
                at[o] = a;
            }
            return;
        }
        for (std::int64_t o = 0; o < outer; ++o) {
            const T* slab = in + o * n * inner;
            T* b = best + o * inner;
            std::int64_t* a = at + o * inner;
            for (std::int64_t i = 0; i < inner; ++i) b[i] = slab[i], a[i] = 0;
            for (std::int64_t k = 1; k < n; ++k)
                for (std::int64_t i = 0; i < inner; ++i)
                    if (detail::beats<T, Largest>(slab[k * inner + i], b[i])) b[i] = slab[k * inner + i], a[i] = k;
        }
    }

    using loop_fn = expression_loops<float>::loop_fn;
    static loop_fn loop_for(const char* kernel, int expression, ScalarType dtype, bool sum) {
        constexpr int count = expression_loops<float>::count;
        if (expression < 0 || expression >= count)
            throw Error(std::string("cpu ") + kernel + ": expression " + std::to_string(expression) +
                        " is not one of the " + std::to_string(count) + " device expressions");
        const auto at = static_cast<std::size_t>(expression);
        loop_fn fn = nullptr;
        if (dtype == kFloat) fn = sum ? expression_loops<float>::sums[at] : expression_loops<float>::maps[at];
        else if (dtype == kDouble) fn = sum ? expression_loops<double>::sums[at] : expression_loops<double>::maps[at];
        else if (dtype == kLong)
            fn = sum ? expression_loops<std::int64_t>::sums[at] : expression_loops<std::int64_t>::maps[at];
        if (!fn)
            throw Error(std::string("cpu ") + kernel + ": expression " + std::to_string(expression) +
                        " has no kernel for dtype " + dtype_name(dtype) +
                        " (Long only for the integer ops' forward bodies, Bool never)");
        return fn;
    }
};

// This instruction set's kernels: one instance, made on first use.
inline DeviceKernels& kernels_for_this_instruction_set() {
    static cpu_tensor_kernels kernels;
    return kernels;
}

}  // namespace CTGRAD_SIMD_ABI
}  // namespace ctgrad::cpu_kernels
