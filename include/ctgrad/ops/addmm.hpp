#pragma once
// ctgrad::addmm(self, mat1, mat2, beta = 1, alpha = 1) = beta * self + alpha * (mat1 @ mat2),
// self broadcast to the product's shape: the fused path of nn::Linear (x @ W^T + b in one BLAS
// call, grad_fn AddmmBackward0 as in PyTorch). It lives with nn until ops/linalg.hpp adopts it.
//
// The output is first filled with self, then the device's gemm computes alpha * A B + beta * C
// into it (on the CPU, BLAS or, for the narrow products of small Linear layers, plain loops:
// device/cpu/small_products.hpp). Backward: self's gradient is g summed over the broadcast
// rows, the matrices' gradients are products again (differentiable).
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
        // Differentiable products under create_graph; otherwise the products alone, reading the
        // transposes in place.
        const bool record = GradMode::is_enabled();
        if (should_compute_output(1)) {
            g1 = record ? mm(g, mat2.unpack().t()) : raw_product(g, false, mat2.unpack(), true, "addmm_backward");
            if (alpha != 1) g1 = g1 * alpha;
        }
        if (should_compute_output(2)) {
            g2 = record ? mm(mat1.unpack().t(), g) : raw_product(mat1.unpack(), true, g, false, "addmm_backward");
            if (alpha != 1) g2 = g2 * alpha;
        }
        return {gs, g1, g2};
    }

    // beta * g summed down to self's shape.
    Tensor self_gradient(const Tensor& g) const {
        Tensor s = beta != 1 ? g * beta : g;
        s = sum_to(s, self_sizes);
        return s.scalar_type() == self_dtype ? s : s.to(self_dtype);
    }
};

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
            for (auto v : {m, k, n, la.ld, lb.ld}) check_blas_size(v, op);
            kernels.gemm(out.scalar_type(), la.trans == CblasTrans, lb.trans == CblasTrans, m, n, k, a,
                         x.unsafeGetTensorImpl()->data(), la.ld, 0, y.unsafeGetTensorImpl()->data(), lb.ld, 0, b,
                         o.data(), n, m * n, 1);
        }
    }
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
