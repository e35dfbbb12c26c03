#pragma once
// The dynamic layer's device kernels (DeviceKernels), written once against Thrust and an
// execution policy: thrust::cuda::par under nvcc (kernels/cuda_device.cu), thrust::omp::par on
// CPU threads, which is how CI runs these code paths without a GPU
// (test/support/emulated_cuda.hpp). Memory, byte transfers and synchronisation belong to the
// device and stay abstract here.
//
// Element-wise expressions go through the static layer's Thrust executor, so a device kernel
// computes exactly what the CPU's fused loops compute for the same expression.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include <thrust/copy.h>
#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/system_error.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include "../elements.hpp"
#include "../expressions.hpp"
#include "../kernels.hpp"
#include "../../expr/kernel.hpp"
#include "../../backend/thrust/executor.hpp"
#include "optimizer_kernels.hpp"

namespace ctgrad {

namespace thrust_kernels {

using index_t = std::int64_t;
using index_array = ctgrad::detail::array<index_t, static_cast<std::size_t>(max_device_rank)>;

using ctgrad::detail::beats;
using ctgrad::detail::holds;
using ctgrad::detail::is_nan;

template <class To, class From>
CTGRAD_INLINE CTGRAD_HOST_DEVICE To convert(From v) {
    return ctgrad::detail::convert_element<To>(v);
}

// Element offsets of a view visited in row-major index order (the order of a contiguous tensor
// of the same sizes).
struct strided_index {
    int rank;
    index_array sizes;
    index_array strides;

    CTGRAD_INLINE CTGRAD_HOST_DEVICE index_t offset(index_t i) const {
        index_t off = 0;
        for (int d = rank - 1; d >= 0; --d) {
            const index_t k = i % sizes[d];
            i /= sizes[d];
            off += k * strides[d];
        }
        return off;
    }
};

inline strided_index index_of(const device_view& v) {
    strided_index s{};
    s.rank = v.rank;
    for (int d = 0; d < v.rank; ++d) {
        s.sizes[d] = v.sizes[d];
        s.strides[d] = v.strides[d];
    }
    return s;
}

// The offsets of element i (in row-major index order of out's sizes) in out and in N operands
// seen with out's sizes (their strides expanded for broadcasting): one unravelling serves all.
template <int N>
struct operand_index {
    strided_index out;
    index_array strides[N];

    CTGRAD_INLINE CTGRAD_HOST_DEVICE ctgrad::detail::array<index_t, N + 1> offsets(index_t i) const {
        ctgrad::detail::array<index_t, N + 1> o{};
        for (int d = out.rank - 1; d >= 0; --d) {
            const index_t k = i % out.sizes[d];
            i /= out.sizes[d];
            o[0] += k * out.strides[d];
            for (int j = 0; j < N; ++j) o[j + 1] += k * strides[j][d];
        }
        return o;
    }
};

template <int N>
operand_index<N> operand_index_of(const device_view& out, std::initializer_list<const device_view*> operands) {
    operand_index<N> ix{index_of(out), {}};
    int j = 0;
    for (const device_view* v : operands) {
        for (int d = 0; d < out.rank; ++d) ix.strides[j][d] = v->strides[d];
        ++j;
    }
    return ix;
}

template <class To, class From>
struct copy_element {
    To* dst;
    const From* src;
    operand_index<1> index;
    CTGRAD_HOST_DEVICE void operator()(index_t i) const {
        const auto o = index.offsets(i);
        dst[o[0]] = convert<To>(src[o[1]]);
    }
};

template <class To, class From>
struct convert_element {
    CTGRAD_HOST_DEVICE To operator()(From v) const { return convert<To>(v); }
};

// dst += src at one index (accumulate): in parallel where the view reaches each element once.
template <class T>
struct accumulate_element {
    T* dst;
    const T* src;
    operand_index<1> index;
    CTGRAD_HOST_DEVICE void operator()(index_t i) const {
        const auto o = index.offsets(i);
        dst[o[0]] = ctgrad::detail::accumulated(dst[o[0]], src[o[1]]);
    }
};
// Every index in order, by one work item: an overlapping view's additions must not race.
template <class T>
struct accumulate_in_order {
    accumulate_element<T> element;
    index_t n;
    CTGRAD_HOST_DEVICE void operator()(index_t) const {
        for (index_t i = 0; i < n; ++i) element(i);
    }
};

template <class T>
struct fill_element {
    T* data;
    strided_index index;
    T value;
    CTGRAD_HOST_DEVICE void operator()(index_t i) const { data[index.offset(i)] = value; }
};

// One element of `in`, read through its strides and widened to the accumulator type.
template <class Acc, class In>
struct load_element {
    const In* data;
    strided_index index;
    CTGRAD_HOST_DEVICE Acc operator()(index_t i) const { return static_cast<Acc>(data[index.offset(i)]); }
};

// One output element of a sum over dims: walks its reduced elements as an odometer, adding one
// stride per step instead of unravelling every index.
template <class Acc, class In, class Out>
struct sum_element {
    Out* out;
    const In* in;
    strided_index kept;     // out's sizes over the kept dims, with in's strides
    index_array out_strides;
    int reduced_rank;
    index_array reduced_sizes;
    index_array reduced_strides;
    index_t reduced_count;

    CTGRAD_HOST_DEVICE void operator()(index_t o) const {
        index_t base = 0, out_offset = 0, rest = o;
        for (int d = kept.rank - 1; d >= 0; --d) {
            const index_t k = rest % kept.sizes[d];
            rest /= kept.sizes[d];
            base += k * kept.strides[d];
            out_offset += k * out_strides[d];
        }
        index_array counter{};
        Acc acc = Acc(0);
        index_t off = base;
        for (index_t r = 0; r < reduced_count; ++r) {
            acc += static_cast<Acc>(in[off]);
            for (int d = reduced_rank - 1; d >= 0; --d) {
                off += reduced_strides[d];
                if (++counter[d] < reduced_sizes[d]) break;
                off -= reduced_strides[d] * reduced_sizes[d];
                counter[d] = 0;
            }
        }
        out[out_offset] = convert<Out>(acc);
    }
};

// One element of C per work item, accumulating in T as BLAS does. beta == 0 never reads C, so
// that NaN or garbage in fresh memory does not leak into the product.
template <class T>
struct gemm_element {
    bool transpose_a, transpose_b;
    index_t m, n, k;
    T alpha, beta;
    const T* a;
    index_t lda, stride_a;
    const T* b;
    index_t ldb, stride_b;
    T* c;
    index_t ldc, stride_c;

    CTGRAD_HOST_DEVICE void operator()(index_t idx) const {
        const index_t j = idx % n;
        const index_t rest = idx / n;
        const index_t i = rest % m;
        const index_t batch = rest / m;
        const T* ab = a + batch * stride_a;
        const T* bb = b + batch * stride_b;
        T acc = T(0);
        for (index_t p = 0; p < k; ++p) {
            const T x = transpose_a ? ab[p * lda + i] : ab[i * lda + p];
            const T y = transpose_b ? bb[j * ldb + p] : bb[p * ldb + j];
            acc += x * y;
        }
        T* cij = c + batch * stride_c + i * ldc + j;
        *cij = beta == T(0) ? alpha * acc : alpha * acc + beta * *cij;
    }
};

// ---- comparisons, selections and the largest/smallest elements ----

template <class T>
struct compare_element {
    bool* out;
    const T* a;
    const T* b;
    operand_index<2> index;  // a, b
    device_relation relation;
    CTGRAD_HOST_DEVICE void operator()(index_t i) const {
        const auto o = index.offsets(i);
        out[o[0]] = holds(relation, a[o[1]], b[o[2]]);
    }
};

template <class T>
struct where_element {
    T* out;
    const bool* mask;
    const T* a;
    const T* b;
    operand_index<3> index;  // mask, a, b
    CTGRAD_HOST_DEVICE void operator()(index_t i) const {
        const auto o = index.offsets(i);
        out[o[0]] = mask[o[1]] ? a[o[2]] : b[o[3]];
    }
};

// An element and its index along the reduced dim. `better` is a strict total order (NaN first,
// then by value, then the lower index), so combining candidates in any grouping finds the same
// one: what a parallel reduction needs to agree with the CPU's first-wins scan.
template <class T>
struct candidate {
    T value;
    index_t index;
};

template <class T, bool Largest>
struct better_candidate {
    CTGRAD_HOST_DEVICE static bool beats(T a, T b) { return ctgrad::detail::beats<T, Largest>(a, b); }
    CTGRAD_HOST_DEVICE candidate<T> operator()(const candidate<T>& x, const candidate<T>& y) const {
        if (beats(y.value, x.value)) return y;
        if (beats(x.value, y.value)) return x;
        return y.index < x.index ? y : x;
    }
};

// The start of a reduction, which every element of the slice beats or ties with; a tie goes to
// the element, whose index is lower. (The slice itself is in device memory, out of the host's reach.)
template <class T, bool Largest>
candidate<T> worst_candidate(index_t n) {
    using limits = std::numeric_limits<T>;
    if constexpr (std::is_floating_point_v<T>) return {Largest ? -limits::infinity() : limits::infinity(), n};
    else return {Largest ? limits::lowest() : limits::max(), n};
}

// Element k of one slice [base + k * inner], as a candidate.
template <class T>
struct slice_candidate {
    const T* data;
    index_t base, inner;
    CTGRAD_HOST_DEVICE candidate<T> operator()(index_t k) const { return {data[base + k * inner], k}; }
};

// One output of select_along per work item, scanning its slice in order (many slices, or short ones).
template <class T, bool Largest>
struct select_element {
    const T* in;
    index_t n, inner;
    T* values;
    index_t* indices;
    CTGRAD_HOST_DEVICE void operator()(index_t o) const {
        const index_t outer = o / inner, i = o % inner;
        const T* slice = in + outer * n * inner + i;
        T best = slice[0];
        index_t at = 0;
        for (index_t k = 1; k < n; ++k)
            if (better_candidate<T, Largest>::beats(slice[k * inner], best)) best = slice[k * inner], at = k;
        values[o] = best;
        indices[o] = at;
    }
};

// gather_along: one output element per work item.
template <class T>
struct gather_element {
    const T* in;
    const std::int64_t* index;
    index_t n, m, inner;
    T* out;
    CTGRAD_HOST_DEVICE void operator()(index_t e) const {
        const index_t i = e % inner, o = e / (m * inner);
        out[e] = index[e] < 0 ? T(0) : in[(o * n + index[e]) * inner + i];
    }
};

// scatter_add_along: one slice (o, i) per work item, its m entries added in order, so that no
// two work items write the same element.
template <class T>
struct scatter_add_slice {
    const T* src;
    const std::int64_t* index;
    index_t n, m, inner;
    T* out;
    CTGRAD_HOST_DEVICE void operator()(index_t s) const {
        const index_t o = s / inner, i = s % inner;
        T* slab = out + o * n * inner + i;
        const index_t first = o * m * inner + i;
        for (index_t j = 0; j < m; ++j) {
            const std::int64_t k = index[first + j * inner];
            if (k < 0) continue;
            T& target = slab[k * inner];
            if constexpr (std::is_same_v<T, bool>) target = target || src[first + j * inner];
            else target += src[first + j * inner];
        }
    }
};

// ---- fused element-wise expressions ----

template <class E, class Ctx>
struct integer_element {
    Ctx ctx;
    CTGRAD_HOST_DEVICE std::int64_t operator()(index_t i) const {
        Ctx local = ctx;
        local.index = static_cast<std::size_t>(i);
        return ctgrad::detail::evaluate_integer<std::int64_t, E>(local);
    }
};

template <class E, class Ctx>
struct integer_assign_element {
    Ctx ctx;
    std::int64_t* out;
    CTGRAD_HOST_DEVICE void operator()(index_t i) const { out[i] = integer_element<E, Ctx>{ctx}(i); }
};

template <class Policy, class E, class S>
void map_kernel(const Policy& policy, void* out, index_t n, const device_operands& ops, double /*divisor*/) {
    auto ctx = ctgrad::detail::bind_operands<S, 0>(ops, n);
    if constexpr (std::is_same_v<S, std::int64_t>)
        thrust::for_each(policy, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(n),
                         integer_assign_element<E, decltype(ctx)>{ctx, static_cast<S*>(out)});
    else
        expr::executor<Policy>::assign(policy, E{}, ctx, static_cast<std::size_t>(n), static_cast<S*>(out));
}

template <class Policy, class E, class S>
void map_sum_kernel(const Policy& policy, void* out, index_t n, const device_operands& ops, double divisor) {
    S total;
    if constexpr (std::is_same_v<S, std::int64_t>) {
        auto ctx = ctgrad::detail::bind_operands<S, 0>(ops, n);
        total = thrust::transform_reduce(policy, thrust::counting_iterator<index_t>(0),
                                         thrust::counting_iterator<index_t>(n),
                                         integer_element<E, decltype(ctx)>{ctx}, S(0), thrust::plus<S>());
    } else {
        using R = expr::reduction<expr::sum_op, E>;  // as device/cpu/fused_loops.hpp's fused_sum
        const auto ctx = ctgrad::detail::bind_operands<S, 1>(ops, n);
        const auto totals = expr::executor<Policy>::template reduce<false, ctgrad::detail::type_list<>>(
            policy, R{}, ctx, static_cast<std::size_t>(n));
        total = totals.value[0];
    }
    if (divisor != 1) total = total / static_cast<S>(divisor);
    // `out` is device memory: written by a one-element kernel, never by a host store.
    thrust::fill_n(policy, static_cast<S*>(out), 1, total);
}

// The kernels of every device expression for element type S, in a table built at compile time
// from device_expressions: float and double for every entry, int64 for the integer ones only
// (null elsewhere). The lookups are defined outside the class so that a CUDA build can compile
// each dtype's kernels in a translation unit of its own (extern template), halving the longest
// nvcc run.
template <class Policy, class S>
struct expression_kernels {
    using kernel_fn = void (*)(const Policy&, void*, index_t, const device_operands&, double);
    static constexpr int count = static_cast<int>(ctgrad::detail::device_expressions::size);

    static kernel_fn map(int expression);
    static kernel_fn map_sum(int expression);

    template <class E, bool Sum>
    static constexpr kernel_fn kernel_for() {
        if constexpr (std::is_same_v<S, std::int64_t> && !ctgrad::detail::integer_expression_v<E>) return nullptr;
        else if constexpr (Sum) return &map_sum_kernel<Policy, E, S>;
        else return &map_kernel<Policy, E, S>;
    }
    template <bool Sum, class... Es>
    static constexpr std::array<kernel_fn, sizeof...(Es)> table(ctgrad::detail::type_list<Es...>) {
        return {kernel_for<Es, Sum>()...};
    }
};

template <class Policy, class S>
typename expression_kernels<Policy, S>::kernel_fn expression_kernels<Policy, S>::map(int expression) {
    static constexpr auto kernels = table<false>(ctgrad::detail::device_expressions{});
    return expression >= 0 && expression < count ? kernels[static_cast<std::size_t>(expression)] : nullptr;
}

template <class Policy, class S>
typename expression_kernels<Policy, S>::kernel_fn expression_kernels<Policy, S>::map_sum(int expression) {
    static constexpr auto kernels = table<true>(ctgrad::detail::device_expressions{});
    return expression >= 0 && expression < count ? kernels[static_cast<std::size_t>(expression)] : nullptr;
}

// The element type of a device dtype, for the four-way switches of copy and sum.
template <class F>
void with_element_type(ScalarType s, F&& f) {
    switch (s) {
        case kBool: f(type_tag<bool>{}); return;
        case kLong: f(type_tag<std::int64_t>{}); return;
        case kFloat: f(type_tag<float>{}); return;
        case kDouble: f(type_tag<double>{}); return;
        default: break;
    }
    // make_empty keeps the narrower integer dtypes off devices (docs/dynamic-layer.md).
    throw Error(std::string("internal: dtype ") + dtype_name(s) + " on a device");
}
// f(tag of a, tag of b): the 4 x 4 pairs of copy and sum.
template <class F>
void with_element_types(ScalarType a, ScalarType b, F&& f) {
    with_element_type(a, [&](auto ta) { with_element_type(b, [&](auto tb) { f(ta, tb); }); });
}

}  // namespace thrust_kernels

template <class Policy>
class thrust_tensor_kernels : public DeviceKernels {
public:
    explicit thrust_tensor_kernels(Policy policy) : policy_(policy) {}

    void copy(const device_view& dst, const device_view& src) override {
        using namespace thrust_kernels;
        check_rank("copy", dst);
        if (src.rank != dst.rank)
            throw Error(backend_name() + " copy: source has rank " + std::to_string(src.rank) +
                        ", destination rank " + std::to_string(dst.rank));
        const index_t n = dst.numel();
        if (n == 0) return;
        guarded("copy", [&] {
            with_element_types(dst.dtype, src.dtype, [&](auto to_tag, auto from_tag) {
                using To = typename decltype(to_tag)::type;
                using From = typename decltype(from_tag)::type;
                To* out = static_cast<To*>(dst.data);
                const From* in = static_cast<const From*>(src.data);
                if (is_contiguous(dst) && is_contiguous(src)) {
                    if constexpr (std::is_same_v<To, From>) thrust::copy_n(policy_, in, n, out);
                    else thrust::transform(policy_, in, in + n, out, convert_element<To, From>{});
                } else {
                    thrust::for_each(policy_, thrust::counting_iterator<index_t>(0),
                                     thrust::counting_iterator<index_t>(n),
                                     copy_element<To, From>{out, in, operand_index_of<1>(dst, {&src})});
                }
            });
        });
    }

    void fill(const device_view& dst, fill_value value) override {
        using namespace thrust_kernels;
        check_rank("fill", dst);
        const index_t n = dst.numel();
        if (n == 0) return;
        guarded("fill", [&] {
            with_element_type(dst.dtype, [&](auto tag) {
                using T = typename decltype(tag)::type;
                T* data = static_cast<T*>(dst.data);
                const T v = ctgrad::detail::fill_as<T>(value);
                if (is_contiguous(dst)) thrust::fill_n(policy_, data, n, v);
                else
                    thrust::for_each(policy_, thrust::counting_iterator<index_t>(0),
                                     thrust::counting_iterator<index_t>(n), fill_element<T>{data, index_of(dst), v});
            });
        });
    }

    void accumulate(const device_view& dst, const device_view& src) override {
        using namespace thrust_kernels;
        check_rank("accumulate", dst);
        check_operands("accumulate", dst, {&src});
        if (src.dtype != dst.dtype)
            throw Error(backend_name() + " accumulate: the destination is " + dtype_name(dst.dtype) + ", the source " +
                        dtype_name(src.dtype));
        const index_t n = dst.numel();
        if (n == 0) return;
        const bool parallel = reaches_each_element_once(dst);
        guarded("accumulate", [&] {
            with_element_type(dst.dtype, [&](auto tag) {
                using T = typename decltype(tag)::type;
                const accumulate_element<T> element{static_cast<T*>(dst.data), static_cast<const T*>(src.data),
                                                    operand_index_of<1>(dst, {&src})};
                if (parallel)
                    thrust::for_each(policy_, thrust::counting_iterator<index_t>(0),
                                     thrust::counting_iterator<index_t>(n), element);
                else
                    thrust::for_each(policy_, thrust::counting_iterator<index_t>(0),
                                     thrust::counting_iterator<index_t>(1), accumulate_in_order<T>{element, n});
            });
        });
    }

    void compare(device_relation relation, const device_view& out, const device_view& a,
                 const device_view& b) override {
        using namespace thrust_kernels;
        check_rank("compare", out);
        check_operands("compare", out, {&a, &b});
        if (out.dtype != kBool) throw Error(backend_name() + " compare: the output is " + dtype_name(out.dtype) + ", not Bool");
        if (a.dtype != b.dtype)
            throw Error(backend_name() + " compare: operands of dtypes " + dtype_name(a.dtype) + " and " +
                        dtype_name(b.dtype) + " (convert them to one first)");
        const index_t n = out.numel();
        if (n == 0) return;
        guarded("compare", [&] {
            with_element_type(a.dtype, [&](auto tag) {
                using T = typename decltype(tag)::type;
                thrust::for_each(policy_, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(n),
                                 compare_element<T>{static_cast<bool*>(out.data), static_cast<const T*>(a.data),
                                                    static_cast<const T*>(b.data), operand_index_of<2>(out, {&a, &b}),
                                                    relation});
            });
        });
    }

    void where(const device_view& out, const device_view& mask, const device_view& a, const device_view& b) override {
        using namespace thrust_kernels;
        check_rank("where", out);
        check_operands("where", out, {&mask, &a, &b});
        if (mask.dtype != kBool) throw Error(backend_name() + " where: the mask is " + dtype_name(mask.dtype) + ", not Bool");
        if (a.dtype != out.dtype || b.dtype != out.dtype)
            throw Error(backend_name() + " where: the output is " + dtype_name(out.dtype) + ", the operands " +
                        dtype_name(a.dtype) + " and " + dtype_name(b.dtype));
        const index_t n = out.numel();
        if (n == 0) return;
        guarded("where", [&] {
            with_element_type(out.dtype, [&](auto tag) {
                using T = typename decltype(tag)::type;
                thrust::for_each(policy_, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(n),
                                 where_element<T>{static_cast<T*>(out.data), static_cast<const bool*>(mask.data),
                                                  static_cast<const T*>(a.data), static_cast<const T*>(b.data),
                                                  operand_index_of<3>(out, {&mask, &a, &b})});
            });
        });
    }

    void select_along(bool largest, ScalarType dtype, const void* in, std::int64_t outer, std::int64_t n,
                      std::int64_t inner, void* values, std::int64_t* indices) override {
        using namespace thrust_kernels;
        if (outer < 0 || n < 1 || inner < 0)
            throw Error(backend_name() + " select_along: needs outer, inner >= 0 and a non-empty slice, got outer " +
                        std::to_string(outer) + ", n " + std::to_string(n) + ", inner " + std::to_string(inner));
        const index_t slices = outer * inner;
        if (slices == 0) return;
        guarded("select_along", [&] {
            with_element_type(dtype, [&](auto tag) {
                using T = typename decltype(tag)::type;
                if (largest) select_as<T, true>(static_cast<const T*>(in), outer, n, inner, static_cast<T*>(values), indices);
                else select_as<T, false>(static_cast<const T*>(in), outer, n, inner, static_cast<T*>(values), indices);
            });
        });
    }

    // Indices are not checked on the device (a GPU cannot throw): the ops check them first.
    void gather_along(ScalarType dtype, const void* in, std::int64_t outer, std::int64_t n, std::int64_t inner,
                      const std::int64_t* index, std::int64_t m, void* out) override {
        using namespace thrust_kernels;
        check_along_sizes("gather_along", outer, n, inner, m);
        const index_t count = outer * m * inner;
        if (count == 0) return;
        guarded("gather_along", [&] {
            with_element_type(dtype, [&](auto tag) {
                using T = typename decltype(tag)::type;
                thrust::for_each(policy_, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(count),
                                 gather_element<T>{static_cast<const T*>(in), index, n, m, inner, static_cast<T*>(out)});
            });
        });
    }

    void scatter_add_along(ScalarType dtype, const void* src, std::int64_t outer, std::int64_t m, std::int64_t inner,
                           const std::int64_t* index, std::int64_t n, void* out) override {
        using namespace thrust_kernels;
        check_along_sizes("scatter_add_along", outer, n, inner, m);
        const index_t slices = outer * inner;
        if (slices == 0 || m == 0) return;
        guarded("scatter_add_along", [&] {
            with_element_type(dtype, [&](auto tag) {
                using T = typename decltype(tag)::type;
                thrust::for_each(policy_, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(slices),
                                 scatter_add_slice<T>{static_cast<const T*>(src), index, n, m, inner, static_cast<T*>(out)});
            });
        });
    }

    void map(int expression, ScalarType dtype, void* out, std::int64_t n, const device_operands& operands) override {
        const auto kernel = table_entry("map", expression, dtype, false);
        guarded("map", [&] { kernel(policy_, out, n, operands, 1); });
    }

    void map_sum(int expression, ScalarType dtype, void* out, std::int64_t n, const device_operands& operands,
                 double divisor) override {
        const auto kernel = table_entry("map_sum", expression, dtype, true);
        guarded("map_sum", [&] { kernel(policy_, out, n, operands, divisor); });
    }

    void sum(const device_view& out, const device_view& in) override {
        using namespace thrust_kernels;
        check_rank("sum", in);
        if (out.rank != in.rank)
            throw Error(backend_name() + " sum: output has rank " + std::to_string(out.rank) + ", input rank " +
                        std::to_string(in.rank) + " (reduced dims are kept with size 1)");
        for (int d = 0; d < in.rank; ++d)
            if (out.sizes[d] != 1 && out.sizes[d] != in.sizes[d])
                throw Error(backend_name() + " sum: output size " + std::to_string(out.sizes[d]) + " at dim " +
                            std::to_string(d) + " is neither 1 nor the input's " + std::to_string(in.sizes[d]));
        const index_t out_n = out.numel();
        if (out_n == 0) return;
        guarded("sum", [&] {
            with_element_types(in.dtype, out.dtype, [&](auto in_tag, auto out_tag) {
                using In = typename decltype(in_tag)::type;
                using Out = typename decltype(out_tag)::type;
                using Acc = std::conditional_t<std::is_floating_point_v<In>, double, std::int64_t>;
                sum_as<Acc>(static_cast<Out*>(out.data), out, static_cast<const In*>(in.data), in);
            });
        });
    }

    void gemm(ScalarType dtype, bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
              double alpha, const void* a, std::int64_t lda, std::int64_t stride_a, const void* b, std::int64_t ldb,
              std::int64_t stride_b, double beta, void* c, std::int64_t ldc, std::int64_t stride_c,
              std::int64_t batch) override {
        using namespace thrust_kernels;
        if (m < 0 || n < 0 || k < 0 || batch < 0)
            throw Error(backend_name() + " gemm: negative size (m " + std::to_string(m) + ", n " + std::to_string(n) +
                        ", k " + std::to_string(k) + ", batch " + std::to_string(batch) + ")");
        const index_t count = batch * m * n;
        if (count == 0) return;
        auto run = [&](auto tag) {
            using T = typename decltype(tag)::type;
            gemm_element<T> f{transpose_a,  transpose_b, m, n, k, static_cast<T>(alpha), static_cast<T>(beta),
                              static_cast<const T*>(a), lda, stride_a, static_cast<const T*>(b), ldb, stride_b,
                              static_cast<T*>(c), ldc, stride_c};
            thrust::for_each(policy_, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(count),
                             f);
        };
        guarded("gemm", [&] {
            if (dtype == kFloat) run(type_tag<float>{});
            else if (dtype == kDouble) run(type_tag<double>{});
            else throw Error(backend_name() + " gemm: expected Float or Double, got " + dtype_name(dtype));
        });
    }

    void sgd_update(const optim::detail::SGDScalars<float>& s, bool weight_decay, bool momentum, bool first_step,
                    bool nesterov, std::int64_t n, float* param, const float* grad, float* buf) override {
        guarded("sgd_update", [&] {
            thrust_sgd_update<Policy, float>(policy_, s, weight_decay, momentum, first_step, nesterov, n, param, grad,
                                             buf);
        });
    }
    void sgd_update(const optim::detail::SGDScalars<double>& s, bool weight_decay, bool momentum, bool first_step,
                    bool nesterov, std::int64_t n, double* param, const double* grad, double* buf) override {
        guarded("sgd_update", [&] {
            thrust_sgd_update<Policy, double>(policy_, s, weight_decay, momentum, first_step, nesterov, n, param,
                                              grad, buf);
        });
    }
    void adam_update(const optim::detail::AdamScalars<float>& s, bool decoupled, bool weight_decay, bool amsgrad,
                     std::int64_t n, float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                     float* max_exp_avg_sq) override {
        guarded("adam_update", [&] {
            thrust_adam_update<Policy, float>(policy_, s, decoupled, weight_decay, amsgrad, n, param, grad, exp_avg,
                                              exp_avg_sq, max_exp_avg_sq);
        });
    }
    void adam_update(const optim::detail::AdamScalars<double>& s, bool decoupled, bool weight_decay, bool amsgrad,
                     std::int64_t n, double* param, const double* grad, double* exp_avg, double* exp_avg_sq,
                     double* max_exp_avg_sq) override {
        guarded("adam_update", [&] {
            thrust_adam_update<Policy, double>(policy_, s, decoupled, weight_decay, amsgrad, n, param, grad, exp_avg,
                                               exp_avg_sq, max_exp_avg_sq);
        });
    }
    void rmsprop_update(const optim::detail::RMSpropScalars<float>& s, bool weight_decay, bool centered,
                        bool momentum, std::int64_t n, float* param, const float* grad, float* square_avg,
                        float* grad_avg, float* momentum_buffer) override {
        guarded("rmsprop_update", [&] {
            thrust_rmsprop_update<Policy, float>(policy_, s, weight_decay, centered, momentum, n, param, grad,
                                                 square_avg, grad_avg, momentum_buffer);
        });
    }
    void rmsprop_update(const optim::detail::RMSpropScalars<double>& s, bool weight_decay, bool centered,
                        bool momentum, std::int64_t n, double* param, const double* grad, double* square_avg,
                        double* grad_avg, double* momentum_buffer) override {
        guarded("rmsprop_update", [&] {
            thrust_rmsprop_update<Policy, double>(policy_, s, weight_decay, centered, momentum, n, param, grad,
                                                  square_avg, grad_avg, momentum_buffer);
        });
    }

protected:
    const Policy& policy() const { return policy_; }

    // Runs f, turning Thrust's failures (a kernel that did not launch or faulted, device memory
    // that ran out for its temporaries) into ctgrad::Error naming the kernel.
    template <class F>
    void guarded(const char* kernel, F&& f) {
        try {
            f();
        } catch (const thrust::system_error& e) {
            throw Error(backend_name() + " " + kernel + ": " + e.what());
        } catch (const std::bad_alloc& e) {
            throw Error(backend_name() + " " + kernel + ": out of device memory for the kernel's temporaries (" +
                        e.what() + ")");
        }
    }

private:
    Policy policy_;

    void check_along_sizes(const char* kernel, std::int64_t outer, std::int64_t n, std::int64_t inner,
                           std::int64_t m) const {
        if (outer < 0 || n < 0 || inner < 0 || m < 0)
            throw Error(backend_name() + " " + kernel + ": needs non-negative sizes, got outer " + std::to_string(outer) +
                        ", n " + std::to_string(n) + ", inner " + std::to_string(inner) + ", m " + std::to_string(m));
    }

    void check_rank(const char* kernel, const device_view& v) const {
        if (v.rank < 0 || v.rank > max_device_rank)
            throw Error(backend_name() + " " + kernel + ": rank " + std::to_string(v.rank) +
                        " is outside what device kernels support (0 to " + std::to_string(max_device_rank) + ")");
    }

    // Every operand has out's rank (its strides expanded to out's sizes).
    void check_operands(const char* kernel, const device_view& out, std::initializer_list<const device_view*> operands) const {
        for (const device_view* v : operands)
            if (v->rank != out.rank)
                throw Error(backend_name() + " " + kernel + ": an operand has rank " + std::to_string(v->rank) +
                            ", the output rank " + std::to_string(out.rank));
    }

    // A few long slices: a parallel reduction per slice. Otherwise one work item per slice.
    template <class T, bool Largest>
    void select_as(const T* in, thrust_kernels::index_t outer, thrust_kernels::index_t n, thrust_kernels::index_t inner,
                   T* values, std::int64_t* indices) {
        using namespace thrust_kernels;
        const index_t slices = outer * inner;
        if (slices <= 32 && n >= 4096) {
            for (index_t o = 0; o < slices; ++o) {
                const slice_candidate<T> load{in, (o / inner) * n * inner + o % inner, inner};
                const candidate<T> best = thrust::transform_reduce(
                    policy_, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(n), load,
                    worst_candidate<T, Largest>(n), better_candidate<T, Largest>{});
                // Device memory: written by one-element kernels, never by host stores.
                thrust::fill_n(policy_, values + o, 1, best.value);
                thrust::fill_n(policy_, indices + o, 1, static_cast<std::int64_t>(best.index));
            }
            return;
        }
        thrust::for_each(policy_, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(slices),
                         select_element<T, Largest>{in, n, inner, values, indices});
    }

    using kernel_fn = void (*)(const Policy&, void*, thrust_kernels::index_t, const device_operands&, double);

    kernel_fn table_entry(const char* kernel, int expression, ScalarType dtype, bool sum) const {
        using namespace thrust_kernels;
        constexpr int count = expression_kernels<Policy, float>::count;
        if (expression < 0 || expression >= count)
            throw Error(backend_name() + " " + kernel + ": expression " + std::to_string(expression) +
                        " is not one of the " + std::to_string(count) + " device expressions");
        kernel_fn fn = nullptr;
        if (dtype == kFloat) fn = sum ? expression_kernels<Policy, float>::map_sum(expression)
                                      : expression_kernels<Policy, float>::map(expression);
        else if (dtype == kDouble) fn = sum ? expression_kernels<Policy, double>::map_sum(expression)
                                            : expression_kernels<Policy, double>::map(expression);
        else if (dtype == kLong) fn = sum ? expression_kernels<Policy, std::int64_t>::map_sum(expression)
                                          : expression_kernels<Policy, std::int64_t>::map(expression);
        if (!fn)
            throw Error(backend_name() + " " + kernel + ": expression " + std::to_string(expression) +
                        " has no kernel for dtype " + dtype_name(dtype) +
                        " (Long only for the integer ops' forward bodies, Bool never)");
        return fn;
    }

    template <class Acc, class Out, class In>
    void sum_as(Out* out_data, const device_view& out, const In* in_data, const device_view& in) {
        using namespace thrust_kernels;
        if (out.numel() == 1) {
            const Acc total = thrust::transform_reduce(
                policy_, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(in.numel()),
                load_element<Acc, In>{in_data, index_of(in)}, Acc(0), thrust::plus<Acc>());
            thrust::fill_n(policy_, out_data, 1, convert<Out>(total));
            return;
        }
        sum_element<Acc, In, Out> f{};
        f.out = out_data;
        f.in = in_data;
        f.reduced_count = 1;
        for (int d = 0; d < in.rank; ++d) {
            if (out.sizes[d] == 1 && in.sizes[d] != 1) {
                f.reduced_sizes[f.reduced_rank] = in.sizes[d];
                f.reduced_strides[f.reduced_rank] = in.strides[d];
                ++f.reduced_rank;
                f.reduced_count *= in.sizes[d];
            } else {
                f.kept.sizes[f.kept.rank] = out.sizes[d];
                f.kept.strides[f.kept.rank] = in.strides[d];
                f.out_strides[f.kept.rank] = out.strides[d];
                ++f.kept.rank;
            }
        }
        thrust::for_each(policy_, thrust::counting_iterator<index_t>(0), thrust::counting_iterator<index_t>(out.numel()),
                         f);
    }
};

}  // namespace ctgrad
