#pragma once
// The seam between the dynamic layer and a device other than the CPU. The dynamic layer keeps
// its bookkeeping (shapes, dtypes, autograd) on the host and asks a device's kernels for the
// few primitives every op is built from: element copies, fills, fused element-wise expressions,
// sums over dims, matrix products and the optimizers' update passes.
//
// The interface speaks only in raw pointers, dtypes and plain descriptors, so that the CUDA
// translation units in kernels/ implement it without compiling the dynamic layer, and so that
// the same Thrust implementation (device/thrust/tensor_kernels.hpp) serves CUDA under nvcc and
// Thrust's OpenMP system in CI. A backend registers itself for a device type at start-up
// (register_device_kernels); a build without one raises ctgrad::Error on first use.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "optimizer/scalars.hpp"
#include "../core/device.hpp"
#include "../core/dtype.hpp"
#include "../core/storage.hpp"

namespace ctgrad {

// The most dims a tensor may have in a kernel (descriptors are passed by value to GPU kernels;
// 25 is also ATen's limit for its CUDA kernels).
inline constexpr int max_device_rank = 25;

// A tensor's elements as a device kernel sees them: data in device memory, element strides
// (0 where broadcast).
struct device_view {
    void* data = nullptr;
    ScalarType dtype = kFloat;
    int rank = 0;
    // Entries from `rank` on are never read (and left uninitialised: a view is built per op).
    std::int64_t sizes[max_device_rank];
    std::int64_t strides[max_device_rank];

    std::int64_t numel() const {
        std::int64_t n = 1;
        for (int d = 0; d < rank; ++d) n *= sizes[d];
        return n;
    }
};

// One operand of a fused element-wise expression over n elements: element i is
// data[i * stride] (stride 1: contiguous; 0: one element in device memory seen at every index),
// or, with data null, the number `value` (a CPU scalar next to device tensors, or unbound).
struct device_operand {
    const void* data = nullptr;
    std::int64_t stride = 0;
    double value = 0;
};

// The operands g, a, b, o of a fused expression (device/expressions.hpp), in that order.
struct device_operands {
    device_operand items[4];
};

// A number a fill writes: integers travel as int64, so that those beyond 2^53 stay exact.
struct fill_value {
    double real = 0;
    std::int64_t integer = 0;
    bool integral = false;
    fill_value(double v) : real(v) {}  // NOLINT(google-explicit-constructor): numbers convert
    fill_value(int v) : real(v), integer(v), integral(true) {}  // NOLINT
    fill_value(std::int64_t v) : real(static_cast<double>(v)), integer(v), integral(true) {}  // NOLINT
};

// The relations compare() tests: PyTorch's six comparisons, and `same` (equal, or both NaN),
// with which max/min's backward finds the elements that attain a result that may be NaN.
enum class device_relation : int { eq, ne, lt, le, gt, ge, same };

// The kernels of one device type. The CPU's (device/cpu/tensor_kernels.hpp) are registered
// from the start; a GPU backend registers its own.
class DeviceKernels : public Allocator {
public:
    // "cpu", "cuda", "thrust-omp (standing in for cuda)", ...: for messages.
    virtual std::string backend_name() const = 0;
    // How many devices of this type the machine has (0: none; allocation will then fail).
    virtual int device_count() const = 0;
    // Waits until every kernel launched so far has finished (and reports its errors).
    virtual void synchronize() = 0;

    // Raw bytes between host and device memory, and within the device.
    virtual void copy_bytes_to_device(void* device_dst, const void* host_src, std::size_t nbytes) = 0;
    virtual void copy_bytes_to_host(void* host_dst, const void* device_src, std::size_t nbytes) = 0;

    // dst[idx] = convert(src[idx]) for every index of dst; both views have dst's sizes, src's
    // strides already expanded for broadcasting. Any pair of dtypes.
    virtual void copy(const device_view& dst, const device_view& src) = 0;
    // Every element of dst (any layout) set to value, converted to dst's dtype.
    virtual void fill(const device_view& dst, fill_value value) = 0;
    // dst[idx] += src[idx] for every index of dst (bool: or); src has dst's sizes and dtype, its
    // strides expanded for broadcasting. dst's strides may reach one element from several
    // indices (an overlapping view): all of their values add up there. The backward of views.
    virtual void accumulate(const device_view& dst, const device_view& src) = 0;

    // out[idx] = a[idx] R b[idx] for every index of out (bool, any layout); a and b have one dtype
    // (any) and out's sizes, their strides expanded for broadcasting.
    virtual void compare(device_relation relation, const device_view& out, const device_view& a,
                         const device_view& b) = 0;
    // out[idx] = mask[idx] ? a[idx] : b[idx]: mask bool; out, a and b of one dtype; all with out's
    // sizes (strides expanded). Nothing is computed from the element not chosen.
    virtual void where(const device_view& out, const device_view& mask, const device_view& a,
                       const device_view& b) = 0;
    // The largest (or smallest) element of every slice in[o, :, i] of a contiguous
    // [outer, n, inner] array, n >= 1: values[o, i] and its index k in indices[o, i] (int64),
    // both contiguous [outer, inner]. NaN beats every number; among equal values the first index
    // wins, so the result is the CPU's whatever the order of the device's reduction.
    virtual void select_along(bool largest, ScalarType dtype, const void* in, std::int64_t outer, std::int64_t n,
                              std::int64_t inner, void* values, std::int64_t* indices) = 0;

    // Gather and scatter-add along the middle dim of contiguous arrays, PyTorch's gather and
    // scatter_add along one dim: `index` is a contiguous int64 [outer, m, inner] array whose
    // entries lie in [0, n), or are -1 for "none" (gather writes 0, scatter_add skips it; the
    // caller checks them), the indexed array is [outer, n, inner]:
    //   gather_along:      out[o, j, i] = in[o, index[o, j, i], i]          (out [outer, m, inner])
    //   scatter_add_along: out[o, index[o, j, i], i] += src[o, j, i]       (src [outer, m, inner])
    // scatter_add adds the entries of one slice (o, i) in the order of j, one slice per work
    // item, so that its sums are the same on every device and need no atomics. Any dtype.
    virtual void gather_along(ScalarType dtype, const void* in, std::int64_t outer, std::int64_t n,
                              std::int64_t inner, const std::int64_t* index, std::int64_t m, void* out) = 0;
    virtual void scatter_add_along(ScalarType dtype, const void* src, std::int64_t outer, std::int64_t m,
                                   std::int64_t inner, const std::int64_t* index, std::int64_t n, void* out) = 0;

    // out[i] = E(g[i], a[i], b[i], o[i]) for i < n, E being entry `expression` of
    // ctgrad::detail::device_expressions, out contiguous of dtype `dtype` (float, double, or
    // int64 for the integer forward expressions).
    virtual void map(int expression, ScalarType dtype, void* out, std::int64_t n, const device_operands& operands) = 0;
    // *out = (sum over i < n of E(...)) / divisor, out one element of dtype `dtype` in device
    // memory: divisor 1 is the sum, n the mean (divided in the element type, as a sum's mean is).
    virtual void map_sum(int expression, ScalarType dtype, void* out, std::int64_t n,
                         const device_operands& operands, double divisor = 1) = 0;

    // out = the sum of `in` over the dims where out's size is 1 and in's is not (out has in's
    // rank, reduced dims kept as 1, contiguous). Floating point accumulates in double,
    // integers in int64; out may have another dtype than in.
    virtual void sum(const device_view& out, const device_view& in) = 0;

    // Row-major C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b] for b < batch, op(X) = X or X^T;
    // A is m x k after op, B is k x n after op, C is m x n with leading dimension ldc.
    // float or double.
    virtual void gemm(ScalarType dtype, bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n,
                      std::int64_t k, double alpha, const void* a, std::int64_t lda, std::int64_t stride_a,
                      const void* b, std::int64_t ldb, std::int64_t stride_b, double beta, void* c,
                      std::int64_t ldc, std::int64_t stride_c, std::int64_t batch) = 0;

    // The optimizers' fused update passes (device/optimizer/formulas.hpp says what each computes);
    // buffers an option leaves unused may be null.
    virtual void sgd_update(const optim::detail::SGDScalars<float>& s, bool weight_decay, bool momentum,
                            bool first_step, bool nesterov, std::int64_t n, float* param, const float* grad,
                            float* buf) = 0;
    virtual void sgd_update(const optim::detail::SGDScalars<double>& s, bool weight_decay, bool momentum,
                            bool first_step, bool nesterov, std::int64_t n, double* param, const double* grad,
                            double* buf) = 0;
    virtual void adam_update(const optim::detail::AdamScalars<float>& s, bool decoupled, bool weight_decay,
                             bool amsgrad, std::int64_t n, float* param, const float* grad, float* exp_avg,
                             float* exp_avg_sq, float* max_exp_avg_sq) = 0;
    virtual void adam_update(const optim::detail::AdamScalars<double>& s, bool decoupled, bool weight_decay,
                             bool amsgrad, std::int64_t n, double* param, const double* grad, double* exp_avg,
                             double* exp_avg_sq, double* max_exp_avg_sq) = 0;
    virtual void rmsprop_update(const optim::detail::RMSpropScalars<float>& s, bool weight_decay, bool centered,
                                bool momentum, std::int64_t n, float* param, const float* grad, float* square_avg,
                                float* grad_avg, float* momentum_buffer) = 0;
    virtual void rmsprop_update(const optim::detail::RMSpropScalars<double>& s, bool weight_decay, bool centered,
                                bool momentum, std::int64_t n, double* param, const double* grad,
                                double* square_avg, double* grad_avg, double* momentum_buffer) = 0;
};

// Whether the view's elements lie in row-major order without gaps (dims of size 1 aside).
inline bool is_contiguous(const device_view& v) {
    std::int64_t expected = 1;
    for (int d = v.rank - 1; d >= 0; --d) {
        if (v.sizes[d] != 1 && v.strides[d] != expected) return false;
        expected *= v.sizes[d];
    }
    return true;
}

// Whether the view's strides reach each element from one index only (no two indices share an
// offset): then its elements can be written in parallel.
inline bool reaches_each_element_once(const device_view& v) {
    int order[max_device_rank];
    int count = 0;
    for (int d = 0; d < v.rank; ++d)
        if (v.sizes[d] > 1) order[count++] = d;
    for (int i = 1; i < count; ++i)  // by stride, ascending (a few dims: insertion sort)
        for (int j = i; j > 0 && v.strides[order[j]] < v.strides[order[j - 1]]; --j) {
            const int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    std::int64_t reach = 0;  // the largest offset the dims taken so far reach
    for (int i = 0; i < count; ++i) {
        const int d = order[i];
        if (v.strides[d] <= reach) return false;
        reach += (v.sizes[d] - 1) * v.strides[d];
    }
    return true;
}

// The CPU's kernels: the build for the widest instruction set this processor has, among those
// the runtime library holds (device/cpu/dispatch.hpp).
DeviceKernels& cpu_device_kernels();
// Which build that is: "avx512", "avx2" or "default" (PyTorch's
// torch.backends.cpu.get_cpu_capability()); in a header-only program, the program's own.
std::string cpu_capability();

namespace detail {
// The registry: constant-initialised, so that a lookup is a plain load. The CPU's slot stays
// empty unless a program registers other CPU kernels; device_kernels then answers with
// cpu_device_kernels().
inline DeviceKernels*& device_kernels_slot(DeviceType type) {
    static DeviceKernels* slots[2] = {nullptr, nullptr};
    return slots[static_cast<int>(type)];
}
}  // namespace detail

// Makes `kernels` the backend of device type `type` (its allocator too). Null unregisters.
inline void register_device_kernels(DeviceType type, DeviceKernels* kernels) {
    detail::device_kernels_slot(type) = kernels;
    register_allocator(type, kernels);
}

// Whether this program has kernels for devices of type `type` (linked and registered).
inline bool has_device_kernels(DeviceType type) { return type == kCPU || detail::device_kernels_slot(type) != nullptr; }

// The kernels of `device`, for op `op`; an Error naming the op and the device when this build
// has none.
DeviceKernels& device_kernels(Device device, std::string_view op);

}  // namespace ctgrad

// The lookup, compiled into the library (see config.hpp), where every op calls it with the
// definition in sight; the registry above stays inline, as the CUDA backend's objects, compiled
// apart from the library, register through it.
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad {

CTGRAD_API DeviceKernels& device_kernels(Device device, std::string_view op) {
    DeviceKernels* k = detail::device_kernels_slot(device.type);
    if (k) [[likely]]
        return *k;
    if (device.is_cpu()) return cpu_device_kernels();  // chosen once, thread-safely, on first use
    throw Error(std::string(op) + ": tensors on " + device.str() + " need ctgrad's CUDA kernels, which this program does "
                "not link (build with -Dcuda=enabled and link the ctgrad_cuda library)");
}

}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS
