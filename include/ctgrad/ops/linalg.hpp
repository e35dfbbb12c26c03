#pragma once
// Matrix products: dot, mv, mm, bmm and matmul, which picks one of them from the operands'
// dims as PyTorch 1.13's matmul does (so the same grad_fn names come out).
//
// The arithmetic is OpenBLAS's cblas, called directly on each tensor's strided data: a matrix
// whose rows or columns are contiguous is handed over as it lies (a transposed view becomes a
// transposed operand with its leading dimension), and only layouts BLAS cannot describe (both
// strides > 1, broadcast zeros) are copied first. xtensor-blas would copy every operand into an
// xtensor container, which is why it is not used here.
//
// Deviations from PyTorch: only float and double (PyTorch also multiplies integer tensors);
// 1-d @ 2-d records SqueezeBackward3 as PyTorch does, but the intermediate nodes of the folded
// and batched paths are ctgrad's own views (ViewBackward0 where PyTorch has
// ReshapeAliasBackward0); the result's grad_fn is PyTorch's in every case.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/functions.hpp"
#include "elementwise.hpp"
#include "views.hpp"

namespace ctgrad {

// The dot product of two 1-d tensors (torch::dot); matmul of two vectors.
Tensor dot(const Tensor& a, const Tensor& b);

namespace detail {


inline std::string op_prefix(const char* op) { return std::string(op) + ": "; }

// The checks every product makes after its shape checks: one device, one floating dtype.
inline void check_product_operands(const Tensor& a, const Tensor& b, const char* op) {
    common_device(op, {&a, &b});
    if (a.scalar_type() != b.scalar_type())
        throw Error(op_prefix(op) + "expected scalar type " + dtype_name(a.scalar_type()) + " but found " +
                    dtype_name(b.scalar_type()));
    if (!a.is_floating_point())
        throw Error(op_prefix(op) + "\"" + op + "\" not implemented for '" + dtype_name(a.scalar_type()) +
                    "' (ctgrad multiplies float and double tensors)");
}

inline void check_blas_size(std::int64_t v, const char* op) {
    if (v > INT_MAX) throw Error(op_prefix(op) + "a size or stride of " + std::to_string(v) + " exceeds BLAS's int indices");
}

// A strided rows x cols matrix as BLAS reads it in place (row-major): as it lies with leading
// dimension ld (rows contiguous), or as the transpose of a stored cols x rows matrix (columns
// contiguous). Dims of size 1 put no constraint on their stride.
struct blas_operand {
    CBLAS_TRANSPOSE trans = CblasNoTrans;
    std::int64_t ld = 1;
};
inline std::optional<blas_operand> blas_layout(std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                                               std::int64_t col_stride) {
    if ((col_stride == 1 || cols == 1) && (rows == 1 || row_stride >= std::max<std::int64_t>(1, cols)))
        return blas_operand{CblasNoTrans, rows == 1 ? std::max<std::int64_t>(1, cols) : row_stride};
    if ((row_stride == 1 || rows == 1) && (cols == 1 || col_stride >= std::max<std::int64_t>(1, rows)))
        return blas_operand{CblasTrans, cols == 1 ? std::max<std::int64_t>(1, rows) : col_stride};
    return std::nullopt;
}

// t itself when BLAS can read each of its matrices (its last two dims) in place, else a
// contiguous copy. A vector (1-d) needs a positive stride (BLAS forbids increment 0).
inline Tensor blas_readable(const Tensor& t) {
    const std::int64_t d = t.dim();
    bool ok;
    if (d == 1) ok = t.size(0) <= 1 || t.stride(0) > 0;
    else ok = blas_layout(t.size(d - 2), t.size(d - 1), t.stride(d - 2), t.stride(d - 1)).has_value();
    return ok ? t : contiguous_copy(t, t.scalar_type());
}

inline std::int64_t vector_increment(const Tensor& v) { return v.size(0) <= 1 ? 1 : v.stride(0); }

template <class T>
const T* elements(const Tensor& t) {
    return reinterpret_cast<const T*>(t.unsafeGetTensorImpl()->data());
}

// c[i] (m x n, contiguous) = a[i] (m x k) b[i] (k x n) for i < batch by the kernels of c's device
// (BLAS on the CPU), the matrices read in place as BLAS reads them (blas_layout), batch i at
// element offset i * a_bs (b_bs).
inline void device_gemm(const Tensor& out, const Tensor& a, std::int64_t a_rs, std::int64_t a_cs, std::int64_t a_bs,
                        const Tensor& b, std::int64_t b_rs, std::int64_t b_cs, std::int64_t b_bs, std::int64_t m,
                        std::int64_t k, std::int64_t n, std::int64_t batch, const char* op) {
    if (m == 0 || n == 0 || batch == 0) return;
    DeviceKernels& kernels = kernels_of(out, op);
    if (k == 0) {
        kernels.fill(view_of(*out.unsafeGetTensorImpl()), 0);
        return;
    }
    const blas_operand la = *blas_layout(m, k, a_rs, a_cs), lb = *blas_layout(k, n, b_rs, b_cs);
    for (auto v : {m, k, n, la.ld, lb.ld}) check_blas_size(v, op);
    kernels.gemm(out.scalar_type(), la.trans == CblasTrans, lb.trans == CblasTrans, m, n, k, 1.0,
                 a.unsafeGetTensorImpl()->data(), la.ld, a_bs, b.unsafeGetTensorImpl()->data(), lb.ld, b_bs, 0.0,
                 out.data_ptr(), n, m * n, batch);
}

// op(a) @ op(b), op a transpose where asked, for a backward pass that records nothing: a
// transposed operand is read through swapped strides, so no view is made. The operands are
// matrices of one device and floating dtype whose inner sizes agree (the forward op checked).
inline Tensor raw_product(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, const char* op) {
    const Tensor x = blas_readable(a), y = blas_readable(b);
    const int ar = transpose_a ? 1 : 0, br = transpose_b ? 1 : 0;  // which dim is op(.)'s rows
    const std::int64_t m = x.size(ar), k = x.size(1 - ar), n = y.size(1 - br);
    Tensor out = make_empty({m, n}, a.scalar_type(), a.device());
    device_gemm(out, x, x.stride(ar), x.stride(1 - ar), 0, y, y.stride(br), y.stride(1 - br), 0, m, k, n, 1, op);
    return out;
}

// "3x5", as ATen writes a matrix's sizes in its messages.
inline std::string matrix_str(const Tensor& t) { return std::to_string(t.size(0)) + "x" + std::to_string(t.size(1)); }

// --- backward nodes: the gradients are products again, so create_graph differentiates them ---

struct DotBackward final : autograd::Node {
    autograd::SavedVariable self, other;
    std::string name() const override { return "DotBackward0"; }
    void release_variables() override {
        self.reset_data();
        other.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor& g = grads[0];
        Tensor ga, gb;
        if (should_compute_output(0)) ga = g * other.unpack();
        if (should_compute_output(1)) gb = g * self.unpack();
        return {ga, gb};
    }
};

struct MvBackward final : autograd::Node {
    autograd::SavedVariable self, vec;
    std::string name() const override { return "MvBackward0"; }
    void release_variables() override {
        self.reset_data();
        vec.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor& g = grads[0];
        Tensor ga, gb;
        // d(A x)/dA is the outer product g x^T: a k = 1 matrix product.
        if (should_compute_output(0)) ga = mm(g.unsqueeze(1), vec.unpack().unsqueeze(0));
        if (should_compute_output(1)) gb = mv(self.unpack().t(), g);
        return {ga, gb};
    }
};

struct MmBackward final : autograd::Node {
    autograd::SavedVariable self, mat2;
    std::string name() const override { return "MmBackward0"; }
    void release_variables() override {
        self.reset_data();
        mat2.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor& g = grads[0];
        Tensor ga, gb;
        if (should_compute_output(0)) ga = mm(g, mat2.unpack().t());
        if (should_compute_output(1)) gb = mm(self.unpack().t(), g);
        return {ga, gb};
    }
};

struct BmmBackward final : autograd::Node {
    autograd::SavedVariable self, mat2;
    std::string name() const override { return "BmmBackward0"; }
    void release_variables() override {
        self.reset_data();
        mat2.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor& g = grads[0];
        Tensor ga, gb;
        if (should_compute_output(0)) ga = bmm(g, mat2.unpack().transpose(1, 2));
        if (should_compute_output(1)) gb = bmm(self.unpack().transpose(1, 2), g);
        return {ga, gb};
    }
};

// Saves each operand of a product only when the other one's gradient (which needs it) is wanted.
template <class NodeT>
void save_operands(NodeT& node, const Tensor& a, const Tensor& b, autograd::SavedVariable NodeT::*sa,
                   autograd::SavedVariable NodeT::*sb) {
    if (b.requires_grad()) node.*sa = autograd::SavedVariable(a, false);
    if (a.requires_grad()) node.*sb = autograd::SavedVariable(b, false);
}

// --- the products, with `op` naming the user's call in errors -----------------------------

inline Tensor dot_impl(const Tensor& a, const Tensor& b, const char* op) {
    if (a.dim() != 1 || b.dim() != 1)
        throw Error(op_prefix(op) + "1D tensors expected, but got " + std::to_string(a.dim()) + "D and " +
                    std::to_string(b.dim()) + "D tensors");
    if (a.scalar_type() != b.scalar_type())
        throw Error(op_prefix(op) + "dot : expected both vectors to have same dtype, but found " +
                    dtype_name(a.scalar_type()) + " and " + dtype_name(b.scalar_type()));
    if (a.size(0) != b.size(0))
        throw Error(op_prefix(op) + "inconsistent tensor size, expected tensor [" + std::to_string(a.size(0)) +
                    "] and src [" + std::to_string(b.size(0)) +
                    "] to have the same number of elements, but got " + std::to_string(a.size(0)) + " and " +
                    std::to_string(b.size(0)) + " elements respectively");
    check_product_operands(a, b, op);
    const Tensor x = blas_readable(a), y = blas_readable(b);
    Tensor out = make_empty({}, a.scalar_type(), a.device());
    // A 1 x k row times a k x 1 column.
    device_gemm(out, x, x.size(0), vector_increment(x), 0, y, vector_increment(y), 1, 0, 1, x.size(0), 1, 1, op);
    if (autograd::compute_requires_grad({&a, &b})) {
        auto node = autograd::record<DotBackward>(out, {&a, &b});
        save_operands(*node, a, b, &DotBackward::self, &DotBackward::other);
    }
    return out;
}

inline Tensor mv_impl(const Tensor& a, const Tensor& v, const char* op) {
    if (a.dim() != 2 || v.dim() != 1)
        throw Error(op_prefix(op) + "vector + matrix @ vector expected, got 1, " + std::to_string(a.dim()) + ", " +
                    std::to_string(v.dim()));
    if (a.size(1) != v.size(0))
        throw Error(op_prefix(op) + "size mismatch, got " + std::to_string(a.size(0)) + ", " + matrix_str(a) + "," +
                    std::to_string(v.size(0)));
    check_product_operands(a, v, op);
    const Tensor m = blas_readable(a), x = blas_readable(v);
    Tensor out = make_empty({a.size(0)}, a.scalar_type(), a.device());
    // The vector as a k x 1 matrix.
    device_gemm(out, m, m.stride(0), m.stride(1), 0, x, vector_increment(x), 1, 0, m.size(0), m.size(1), 1, 1, op);
    if (autograd::compute_requires_grad({&a, &v})) {
        auto node = autograd::record<MvBackward>(out, {&a, &v});
        save_operands(*node, a, v, &MvBackward::self, &MvBackward::vec);
    }
    return out;
}

inline Tensor mm_impl(const Tensor& a, const Tensor& b, const char* op) {
    if (a.dim() != 2) throw Error(op_prefix(op) + "self must be a matrix");
    if (b.dim() != 2) throw Error(op_prefix(op) + "mat2 must be a matrix");
    if (a.size(1) != b.size(0))
        throw Error(op_prefix(op) + "mat1 and mat2 shapes cannot be multiplied (" + matrix_str(a) + " and " +
                    matrix_str(b) + ")");
    check_product_operands(a, b, op);
    const Tensor x = blas_readable(a), y = blas_readable(b);
    Tensor out = make_empty({a.size(0), b.size(1)}, a.scalar_type(), a.device());
    device_gemm(out, x, x.stride(0), x.stride(1), 0, y, y.stride(0), y.stride(1), 0, a.size(0), a.size(1),
                b.size(1), 1, op);
    if (autograd::compute_requires_grad({&a, &b})) {
        auto node = autograd::record<MmBackward>(out, {&a, &b});
        save_operands(*node, a, b, &MmBackward::self, &MmBackward::mat2);
    }
    return out;
}

inline Tensor bmm_impl(const Tensor& a, const Tensor& b, const char* op) {
    if (a.dim() != 3) throw Error(op_prefix(op) + "batch1 must be a 3D tensor");
    if (b.dim() != 3) throw Error(op_prefix(op) + "batch2 must be a 3D tensor");
    if (b.size(0) != a.size(0) || b.size(1) != a.size(2))
        throw Error(op_prefix(op) + "Expected size for first two dimensions of batch2 tensor to be: [" +
                    std::to_string(a.size(0)) + ", " + std::to_string(a.size(2)) + "] but got: [" +
                    std::to_string(b.size(0)) + ", " + std::to_string(b.size(1)) + "].");
    check_product_operands(a, b, op);
    // The batch stride may be anything (0 for a broadcast batch): each matrix is its own call.
    const Tensor x = blas_readable(a), y = blas_readable(b);
    const std::int64_t batches = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
    Tensor out = make_empty({batches, m, n}, a.scalar_type(), a.device());
    device_gemm(out, x, x.stride(1), x.stride(2), x.stride(0), y, y.stride(1), y.stride(2), y.stride(0), m, k, n,
                batches, op);
    if (autograd::compute_requires_grad({&a, &b})) {
        auto node = autograd::record<BmmBackward>(out, {&a, &b});
        save_operands(*node, a, b, &BmmBackward::self, &BmmBackward::mat2);
    }
    return out;
}

// A contiguous tensor seen with other sizes, recorded as PyTorch's _unsafe_view (the result of
// a product folded into fewer dims and unfolded again).
inline Tensor unsafe_view(const Tensor& t, const std::vector<std::int64_t>& sizes) {
    return make_view(
        t, [&](const layout& l) { return layout{sizes, contiguous_strides(sizes), l.offset}; }, "UnsafeViewBackward0");
}

// Whether matmul folds the batch dims of `t` into the rows of one mm (or mv) with an operand of
// `other_dim` dims; PyTorch 1.13's rule, including its exception for a 3-d tensor whose last two
// dims are transposed over a contiguous batch (bmm reads that without a copy; folding would copy).
inline bool should_fold(const Tensor& t, std::int64_t other_dim) {
    if (t.dim() < 3 || (other_dim != 1 && other_dim != 2)) return false;
    if (t.dim() == 3 && other_dim == 2 && t.stride(2) != 1 && t.stride(0) == t.size(1) * t.size(2)) return false;
    return true;
}

inline Tensor matmul_impl(const Tensor& a, const Tensor& b) {
    constexpr const char* op = "matmul";
    const std::int64_t da = a.dim(), db = b.dim();
    if (da == 0 || db == 0)
        throw Error(op_prefix(op) + "both arguments to matmul need to be at least 1D, but they are " +
                    std::to_string(da) + "D and " + std::to_string(db) + "D");
    if (da == 1 && db == 1) return dot_impl(a, b, op);
    if (da == 2 && db == 1) return mv_impl(a, b, op);
    if (da == 1 && db == 2) {
        const Tensor r = mm_impl(a.unsqueeze(0), b, op);
        return make_view(
            r, [](layout l) {
                l.sizes.erase(l.sizes.begin());
                l.strides.erase(l.strides.begin());
                return l;
            },
            "SqueezeBackward3");
    }
    if (da == 2 && db == 2) return mm_impl(a, b, op);

    if (should_fold(a, db) || should_fold(b, da)) {
        // One operand has >= 3 dims, the other 1 or 2: fold the big one's batch into rows. When
        // the big one is on the right, multiply the transposes: (A B)^T = B^T A^T.
        const bool transpose = db > da;
        const Tensor big = transpose ? b.transpose(-1, -2) : a;
        const Tensor small = !transpose ? b : (da == 2 ? a.t() : a);
        std::vector<std::int64_t> out_sizes(big.sizes().begin(), big.sizes().end() - 1);
        std::int64_t rows = 1;
        for (auto s : out_sizes) rows *= s;
        const Tensor folded = big.reshape({rows, big.size(-1)});
        if (small.dim() == 1) return unsafe_view(mv_impl(folded, small, op), out_sizes);
        out_sizes.push_back(small.size(1));
        const Tensor out = unsafe_view(mm_impl(folded, small, op), out_sizes);
        return transpose ? out.transpose(-1, -2).contiguous() : out;
    }

    // Both have >= 2 dims here (a vector always folds): broadcast the batch dims, flatten them
    // into one and run bmm.
    const std::int64_t n = a.size(-2), m1 = a.size(-1), m2 = b.size(-2), p = b.size(-1);
    const std::vector<std::int64_t> batch_a(a.sizes().begin(), a.sizes().end() - 2);
    const std::vector<std::int64_t> batch_b(b.sizes().begin(), b.sizes().end() - 2);
    std::vector<std::int64_t> out_sizes = broadcast_shapes(batch_a, batch_b, op);
    std::int64_t batches = 1;
    for (auto s : out_sizes) batches *= s;
    std::vector<std::int64_t> a_sizes = out_sizes, b_sizes = out_sizes;
    a_sizes.insert(a_sizes.end(), {n, m1});
    b_sizes.insert(b_sizes.end(), {m2, p});
    const Tensor a3 = a.expand(a_sizes).reshape({batches, n, m1});
    const Tensor b3 = b.expand(b_sizes).reshape({batches, m2, p});
    out_sizes.insert(out_sizes.end(), {n, p});
    return unsafe_view(bmm_impl(a3, b3, op), out_sizes);
}

}  // namespace detail

CTGRAD_API Tensor dot(const Tensor& a, const Tensor& b) { return detail::dot_impl(a, b, "dot"); }
CTGRAD_API Tensor mv(const Tensor& a, const Tensor& v) { return detail::mv_impl(a, v, "mv"); }
CTGRAD_API Tensor mm(const Tensor& a, const Tensor& b) { return detail::mm_impl(a, b, "mm"); }
CTGRAD_API Tensor bmm(const Tensor& a, const Tensor& b) { return detail::bmm_impl(a, b, "bmm"); }
CTGRAD_API Tensor matmul(const Tensor& a, const Tensor& b) { return detail::matmul_impl(a, b); }

CTGRAD_API Tensor Tensor::matmul(const Tensor& other) const { return ctgrad::matmul(*this, other); }
CTGRAD_API Tensor Tensor::mm(const Tensor& other) const { return ctgrad::mm(*this, other); }
CTGRAD_API Tensor Tensor::mv(const Tensor& vec) const { return ctgrad::mv(*this, vec); }
CTGRAD_API Tensor Tensor::bmm(const Tensor& other) const { return ctgrad::bmm(*this, other); }

}  // namespace ctgrad
