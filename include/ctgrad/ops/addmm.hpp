#pragma once
// ctgrad::addmm(self, mat1, mat2, beta = 1, alpha = 1) = beta * self + alpha * (mat1 @ mat2),
// self broadcast to the product's shape: the fused path of nn::Linear (x @ W^T + b in one BLAS
// call, grad_fn AddmmBackward0 as in PyTorch). It lives with nn until ops/linalg.hpp adopts it.
//
// The output is first filled with beta * self (a row copy per row for a bias vector), then gemm
// accumulates into it. Backward: self's gradient is g summed over the broadcast rows (one pass
// when no graph is recorded), the matrices' gradients are products again (differentiable).
#include <algorithm>
#include <cstring>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/saved_variable.hpp"
#include "elementwise.hpp"
#include "linalg.hpp"
#include "reduction.hpp"

namespace ctgrad {

namespace detail {

struct AddmmBackward final : autograd::Node {
    autograd::SavedVariable mat1, mat2;
    std::vector<std::int64_t> self_sizes;
    ScalarType self_dtype = kFloat;
    double beta = 1, alpha = 1;
    std::string name() const override { return "AddmmBackward0"; }
    void release_variables() override {
        mat1.reset_data();
        mat2.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor& g = grads[0];
        Tensor gs, g1, g2;
        if (should_compute_output(0)) gs = self_gradient(g);
        if (should_compute_output(1)) {
            g1 = mm(g, mat2.unpack().t());
            if (alpha != 1) g1 = g1 * alpha;
        }
        if (should_compute_output(2)) {
            g2 = GradMode::is_enabled() || !g.is_cpu() ? Tensor() : column_gradient(mat1.unpack(), g);
            if (g2.defined()) return {gs, g1, alpha != 1 ? g2 * alpha : g2};
            g2 = mm(mat1.unpack().t(), g);
            if (alpha != 1) g2 = g2 * alpha;
        }
        return {gs, g1, g2};
    }

    // mat1^T g for one output column and a narrow contiguous mat1 (the weight gradient of
    // Linear(k, 1)): a blocked loop whose partial sums the compiler keeps in vector registers,
    // instead of a BLAS call that costs more in dispatch than in arithmetic. Undefined when
    // the operands are not of that form.
    static Tensor column_gradient(const Tensor& a, const Tensor& g) {
        const std::int64_t k = a.size(1);
        if (g.size(1) != 1 || k > 4 || !a.is_contiguous() || !g.is_contiguous() || a.scalar_type() != g.scalar_type())
            return Tensor();
        Tensor out = make_empty({k, 1}, a.scalar_type());
        dispatch_floating(a.scalar_type(), "addmm_backward", [&](auto tag) {
            using T = typename decltype(tag)::type;
            switch (k) {
                case 1: return transposed_column<T, 1>(a.data_ptr<T>(), g.data_ptr<T>(), a.size(0), out.data_ptr<T>());
                case 2: return transposed_column<T, 2>(a.data_ptr<T>(), g.data_ptr<T>(), a.size(0), out.data_ptr<T>());
                case 3: return transposed_column<T, 3>(a.data_ptr<T>(), g.data_ptr<T>(), a.size(0), out.data_ptr<T>());
                default: return transposed_column<T, 4>(a.data_ptr<T>(), g.data_ptr<T>(), a.size(0), out.data_ptr<T>());
            }
        });
        return out;
    }
    template <class T, int K>
    static void transposed_column(const T* __restrict a, const T* __restrict g, std::int64_t m, T* out) {
        constexpr int lanes = 8;
        for (int p = 0; p < K; ++p) {
            T acc[lanes] = {};
            std::int64_t i = 0;
            for (; i + lanes <= m; i += lanes)
                for (int l = 0; l < lanes; ++l) acc[l] += a[(i + l) * K + p] * g[i + l];
            T total = 0;
            for (int l = 0; l < lanes; ++l) total += acc[l];
            for (; i < m; ++i) total += a[i * K + p] * g[i];
            out[p] = total;
        }
    }

    // beta * g summed down to self's shape; a bias vector's column sums in one pass when no
    // graph is recorded.
    Tensor self_gradient(const Tensor& g) const {
        const bool vector_like = self_sizes.size() == 1 || (self_sizes.size() == 2 && self_sizes[0] == 1);
        if (!GradMode::is_enabled() && vector_like && self_sizes.back() == g.size(1) && g.is_contiguous() &&
            g.scalar_type() == self_dtype && g.is_cpu()) {
            Tensor out = make_empty(self_sizes, g.scalar_type());
            dispatch_floating(g.scalar_type(), "addmm_backward", [&](auto tag) {
                using S = typename decltype(tag)::type;
                const std::int64_t rows = g.size(0), cols = g.size(1);
                const S* pg = g.data_ptr<S>();
                S* po = out.data_ptr<S>();
                if (cols == 1) {
                    constexpr int lanes = 8;  // independent partial sums, vectorised
                    S acc[lanes] = {};
                    std::int64_t i = 0;
                    for (; i + lanes <= rows; i += lanes)
                        for (int l = 0; l < lanes; ++l) acc[l] += pg[i + l];
                    S total = 0;
                    for (int l = 0; l < lanes; ++l) total += acc[l];
                    for (; i < rows; ++i) total += pg[i];
                    po[0] = total;
                } else {
                    std::fill(po, po + cols, S(0));
                    for (std::int64_t i = 0; i < rows; ++i)
                        for (std::int64_t j = 0; j < cols; ++j) po[j] += pg[i * cols + j];
                }
                if (beta != 1)
                    for (std::int64_t j = 0; j < cols; ++j) po[j] *= static_cast<S>(beta);
            });
            return out;
        }
        Tensor s = beta != 1 ? g * beta : g;
        s = sum_to(s, self_sizes);
        return s.scalar_type() == self_dtype ? s : s.to(self_dtype);
    }
};

// out (m x n, contiguous) = beta * self broadcast.
template <class T>
void fill_with_self(T* out, std::int64_t m, std::int64_t n, const Tensor& self, T beta) {
    const std::int64_t sn = self.numel();
    if (self.is_contiguous() && (sn == n || sn == 1) && self.scalar_type() == dtype_of<T>()) {
        const T* ps = self.data_ptr<T>();
        if (sn == 1) {
            std::fill(out, out + m * n, beta * ps[0]);
        } else {
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t j = 0; j < n; ++j) out[i * n + j] = beta * ps[j];
        }
        return;
    }
    Tensor view = make_empty({m, n}, dtype_of<T>());
    copy_elements(*view.unsafeGetTensorImpl(), *self.unsafeGetTensorImpl());
    const T* pv = view.data_ptr<T>();
    for (std::int64_t i = 0; i < m * n; ++i) out[i] = beta * pv[i];
}

// A product with few columns and a short inner dim (Linear(3, 1) on a batch) costs OpenBLAS
// more in dispatch than in arithmetic (measured: ~16 us for 2000x3 @ 3x1 with beta = 1, against
// ~1 us for this loop), so such products are plain loops over the rows.
inline constexpr std::int64_t small_product_dim = 16;

template <class T, int K>
void column_product(T* __restrict c, const T* __restrict a, const T* __restrict coefficients, std::int64_t m) {
    T w[K];
    for (int p = 0; p < K; ++p) w[p] = coefficients[p];
    for (std::int64_t i = 0; i < m; ++i) {
        T acc = 0;
        for (int p = 0; p < K; ++p) acc += a[i * K + p] * w[p];
        c[i] += acc;
    }
}

// c (m x n, contiguous) += alpha * a (m x k) b (k x n), any strides. Each output element is
// summed in a register (accumulating through memory chains store-to-load latencies).
template <class T>
void small_product_accumulate(T* __restrict c, const T* __restrict a, std::int64_t a_rs, std::int64_t a_cs,
                              const T* __restrict b, std::int64_t b_rs, std::int64_t b_cs, std::int64_t m,
                              std::int64_t k, std::int64_t n, T alpha) {
    T coefficients[small_product_dim * small_product_dim];  // alpha * b^T: column j of b is row j
    for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t p = 0; p < k; ++p) coefficients[j * k + p] = alpha * b[p * b_rs + j * b_cs];
    // One output column over contiguous rows of a known width: the compiler vectorises across
    // rows (the seeds' Linear(3, 1) is this case).
    if (n == 1 && a_cs == 1 && a_rs == k) {
        switch (k) {
            case 1: return column_product<T, 1>(c, a, coefficients, m);
            case 2: return column_product<T, 2>(c, a, coefficients, m);
            case 3: return column_product<T, 3>(c, a, coefficients, m);
            case 4: return column_product<T, 4>(c, a, coefficients, m);
            default: break;
        }
    }
    for (std::int64_t i = 0; i < m; ++i) {
        const T* row = a + i * a_rs;
        for (std::int64_t j = 0; j < n; ++j) {
            const T* col = coefficients + j * k;
            T acc = 0;
            for (std::int64_t p = 0; p < k; ++p) acc += row[p * a_cs] * col[p];
            c[i * n + j] += acc;
        }
    }
}

}  // namespace detail

CTGRAD_API Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
                         const Scalar& alpha) {
    using namespace detail;
    constexpr const char* op = "addmm";
    if (mat1.dim() != 2)
        throw Error(op_prefix(op) + "mat1 must be a matrix, got " + std::to_string(mat1.dim()) + "-D tensor");
    if (mat2.dim() != 2)
        throw Error(op_prefix(op) + "mat2 must be a matrix, got " + std::to_string(mat2.dim()) + "-D tensor");
    if (mat1.size(1) != mat2.size(0))
        throw Error(op_prefix(op) + "mat1 and mat2 shapes cannot be multiplied (" + matrix_str(mat1) + " and " +
                    matrix_str(mat2) + ")");
    check_product_operands(mat1, mat2, op);
    common_device(op, {&self, &mat1, &mat2});
    const std::int64_t m = mat1.size(0), k = mat1.size(1), n = mat2.size(1);
    const std::vector<std::int64_t> out_sizes{m, n};
    if (broadcast_shapes(self.sizes(), out_sizes, op) != out_sizes)
        throw Error(op_prefix(op) + "the bias of shape " + shape_str(self.sizes()) +
                    " does not broadcast to the product's shape " + shape_str(out_sizes));
    if (self.scalar_type() != mat1.scalar_type())
        throw Error(op_prefix(op) + "expected scalar type " + dtype_name(mat1.scalar_type()) + " but found " +
                    dtype_name(self.scalar_type()));
    const Tensor x = blas_readable(mat1), y = blas_readable(mat2);
    Tensor out = make_empty(out_sizes, mat1.scalar_type(), mat1.device());
    const double b = beta.to_double(), a = alpha.to_double();
    if (!mat1.is_cpu()) {
        // out = self broadcast, then gemm's C = alpha A B + beta C (beta 0 ignores C, as BLAS does).
        if (m != 0 && n != 0) {
            DeviceKernels& kernels = kernels_of(out, op);
            TensorImpl& o = *out.unsafeGetTensorImpl();
            if (b != 0) copy_elements(o, *self.unsafeGetTensorImpl());
            if (k == 0 || a == 0) {
                if (b == 0) kernels.fill(view_of(o), 0);
                else if (b != 1) out.mul_(b);
            } else {
                const blas_operand la = *blas_layout(m, k, x.stride(0), x.stride(1));
                const blas_operand lb = *blas_layout(k, n, y.stride(0), y.stride(1));
                kernels.gemm(out.scalar_type(), la.trans == CblasTrans, lb.trans == CblasTrans, m, n, k, a,
                             x.unsafeGetTensorImpl()->data(), la.ld, 0, y.unsafeGetTensorImpl()->data(), lb.ld, 0, b,
                             o.data(), n, m * n, 1);
            }
        }
    } else dispatch_floating(mat1.scalar_type(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* po = out.data_ptr<T>();
        if (m == 0 || n == 0) return;
        fill_with_self<T>(po, m, n, self, static_cast<T>(b));
        if (k == 0 || a == 0) return;
        if (k <= small_product_dim && n <= small_product_dim) {
            small_product_accumulate<T>(po, elements<T>(x), x.stride(0), x.stride(1), elements<T>(y), y.stride(0),
                                        y.stride(1), m, k, n, static_cast<T>(a));
            return;
        }
        const blas_operand la = *blas_layout(m, k, x.stride(0), x.stride(1)), lb = *blas_layout(k, n, y.stride(0), y.stride(1));
        for (auto v : {m, k, n, la.ld, lb.ld}) check_blas_size(v, op);
        const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k);
        const int lda = static_cast<int>(la.ld), ldb = static_cast<int>(lb.ld);
        if constexpr (std::is_same_v<T, float>)
            cblas_sgemm(CblasRowMajor, la.trans, lb.trans, M, N, K, static_cast<float>(a), elements<T>(x), lda,
                        elements<T>(y), ldb, 1.f, po, N);
        else
            cblas_dgemm(CblasRowMajor, la.trans, lb.trans, M, N, K, a, elements<T>(x), lda, elements<T>(y), ldb, 1.0,
                        po, N);
    });
    if (autograd::compute_requires_grad({&self, &mat1, &mat2})) {
        auto node = autograd::record<AddmmBackward>(out, {&self, &mat1, &mat2});
        node->self_sizes = self.sizes().vec();
        node->self_dtype = self.scalar_type();
        node->beta = b;
        node->alpha = a;
        if (mat2.requires_grad()) node->mat1 = autograd::SavedVariable(mat1, false);
        if (mat1.requires_grad()) node->mat2 = autograd::SavedVariable(mat2, false);
    }
    return out;
}

}  // namespace ctgrad
