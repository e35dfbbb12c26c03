#pragma once
// The free-function vocabulary of the dynamic layer (libtorch's torch:: functions), declared in
// one place so that every op family and the autograd engine can call any other; the
// definitions live with their op family under ctgrad/ops/ and ctgrad/tensor/.
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <tuple>

#include "../core/reduction.hpp"
#include "tensor.hpp"

namespace ctgrad {

// factories (tensor/factories.hpp)
Tensor empty(IntArrayRef sizes, const TensorOptions& options = {});
Tensor zeros(IntArrayRef sizes, const TensorOptions& options = {});
Tensor ones(IntArrayRef sizes, const TensorOptions& options = {});
Tensor full(IntArrayRef sizes, const Scalar& value, const TensorOptions& options = {});
Tensor empty_like(const Tensor& t, const TensorOptions& options = {});
Tensor zeros_like(const Tensor& t, const TensorOptions& options = {});
Tensor ones_like(const Tensor& t, const TensorOptions& options = {});
Tensor full_like(const Tensor& t, const Scalar& value, const TensorOptions& options = {});
Tensor rand_like(const Tensor& t, const TensorOptions& options = {});
Tensor randn_like(const Tensor& t, const TensorOptions& options = {});
Tensor scalar_tensor(const Scalar& value, const TensorOptions& options = {});
Tensor linspace(const Scalar& start, const Scalar& end, std::int64_t steps, const TensorOptions& options = {});
Tensor arange(const Scalar& end, const TensorOptions& options = {});
Tensor arange(const Scalar& start, const Scalar& end, const TensorOptions& options = {});
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& options = {});
Tensor rand(IntArrayRef sizes, const TensorOptions& options = {});
Tensor randn(IntArrayRef sizes, const TensorOptions& options = {});
Tensor randint(std::int64_t high, IntArrayRef sizes, const TensorOptions& options = {});
Tensor randint(std::int64_t low, std::int64_t high, IntArrayRef sizes, const TensorOptions& options = {});
// A random permutation of 0 .. n-1, int64 unless the options say otherwise (PyTorch's CPU algorithm).
Tensor randperm(std::int64_t n, const TensorOptions& options = {});
// A tensor viewing the caller's memory, without copying: the caller keeps it alive (or passes a
// deleter, called when the last tensor on it goes). Contiguous unless strides are given.
Tensor from_blob(void* data, IntArrayRef sizes, const TensorOptions& options = {});
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const TensorOptions& options = {});
Tensor from_blob(void* data, IntArrayRef sizes, const std::function<void(void*)>& deleter,
                 const TensorOptions& options = {});
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const std::function<void(void*)>& deleter,
                 const TensorOptions& options = {});

// elementwise (ops/elementwise.hpp)
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& exponent);
Tensor pow(const Tensor& a, const Scalar& exponent);
Tensor pow(const Scalar& base, const Tensor& exponent);
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);
Tensor tan(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor square(const Tensor& a);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, const Scalar& s);
Tensor operator+(const Scalar& s, const Tensor& a);
Tensor operator-(const Tensor& a, const Scalar& s);
Tensor operator-(const Scalar& s, const Tensor& a);
Tensor operator*(const Tensor& a, const Scalar& s);
Tensor operator*(const Scalar& s, const Tensor& a);
Tensor operator/(const Tensor& a, const Scalar& s);
Tensor operator/(const Scalar& s, const Tensor& a);

// reductions (ops/reduction.hpp)
Tensor sum(const Tensor& a, std::optional<ScalarType> dtype = std::nullopt);
Tensor sum(const Tensor& a, IntArrayRef dims, bool keepdim = false, std::optional<ScalarType> dtype = std::nullopt);
Tensor mean(const Tensor& a, std::optional<ScalarType> dtype = std::nullopt);
Tensor mean(const Tensor& a, IntArrayRef dims, bool keepdim = false, std::optional<ScalarType> dtype = std::nullopt);
Tensor max(const Tensor& a);
std::tuple<Tensor, Tensor> max(const Tensor& a, std::int64_t dim, bool keepdim = false);
Tensor min(const Tensor& a);
std::tuple<Tensor, Tensor> min(const Tensor& a, std::int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& a, std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& a, std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false);
Tensor norm(const Tensor& a, const Scalar& p = 2);
Tensor norm(const Tensor& a, const Scalar& p, IntArrayRef dims, bool keepdim = false);
Tensor all(const Tensor& a);
Tensor any(const Tensor& a);
// Sums `a` down to `sizes` over the dims a broadcast added or stretched (the gradient of expand).
Tensor sum_to(const Tensor& a, IntArrayRef sizes);

// linear algebra (ops/linalg.hpp)
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);
Tensor mv(const Tensor& a, const Tensor& v);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor dot(const Tensor& a, const Tensor& b);
// beta * self + alpha * (mat1 @ mat2) (ops/addmm.hpp: Linear's fused forward and backward)
Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta = 1,
             const Scalar& alpha = 1);

// comparisons (ops/compare.hpp): bool tensors, no gradient
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Scalar& b);
Tensor ne(const Tensor& a, const Scalar& b);
Tensor lt(const Tensor& a, const Scalar& b);
Tensor le(const Tensor& a, const Scalar& b);
Tensor gt(const Tensor& a, const Scalar& b);
Tensor ge(const Tensor& a, const Scalar& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Scalar& b);
Tensor operator!=(const Tensor& a, const Scalar& b);
Tensor operator<(const Tensor& a, const Scalar& b);
Tensor operator<=(const Tensor& a, const Scalar& b);
Tensor operator>(const Tensor& a, const Scalar& b);
Tensor operator>=(const Tensor& a, const Scalar& b);
Tensor operator==(const Scalar& a, const Tensor& b);
Tensor operator!=(const Scalar& a, const Tensor& b);
Tensor operator<(const Scalar& a, const Tensor& b);
Tensor operator<=(const Scalar& a, const Tensor& b);
Tensor operator>(const Scalar& a, const Tensor& b);
Tensor operator>=(const Scalar& a, const Tensor& b);
// self with `value` wherever `mask` (bool, broadcast to self's shape) holds; differentiable in self.
Tensor masked_fill(const Tensor& self, const Tensor& mask, const Scalar& value);
// Whether both have the same shape and elements / agree within |a - b| <= atol + rtol * |b|.
bool equal(const Tensor& a, const Tensor& b);
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);

// the regression losses, reduction as an int (ops/loss.hpp; nn::functional and the loss modules call these)
Tensor mse_loss(const Tensor& input, const Tensor& target, std::int64_t reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, std::int64_t reduction = Reduction::Mean);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, std::int64_t reduction = Reduction::Mean,
                      double beta = 1.0);
Tensor huber_loss(const Tensor& input, const Tensor& target, std::int64_t reduction = Reduction::Mean,
                  double delta = 1.0);

// softmax and log_softmax along a dim, computed in `dtype` when given (ops/softmax.hpp)
Tensor softmax(const Tensor& input, std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& input, std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt);

// the classification losses over int64 class indices (ops/classification.hpp)
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                std::int64_t reduction = Reduction::Mean, std::int64_t ignore_index = -100);
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                     std::int64_t reduction = Reduction::Mean, std::int64_t ignore_index = -100,
                     double label_smoothing = 0.0);

// leaky_relu: self where self > 0, else self * negative_slope (ops/activation.hpp)
Tensor leaky_relu(const Tensor& self, const Scalar& negative_slope = 0.01);

// batch normalisation of [N, C, ...] per channel, updating the running statistics in training
// (ops/batch_norm.hpp)
Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps, bool cudnn_enabled = false);

// the rows of weight [V, D] named by int64 indices (ops/embedding.hpp)
Tensor embedding(const Tensor& weight, const Tensor& indices, std::int64_t padding_idx = -1,
                 bool scale_grad_by_freq = false, bool sparse = false);

// binary cross-entropy of probabilities, and of logits (ops/binary_cross_entropy.hpp)
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            std::int64_t reduction = Reduction::Mean);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                                        const Tensor& pos_weight = {}, std::int64_t reduction = Reduction::Mean);

// dropout of elements, or of whole channels (dims 0 and 1 kept), in training (ops/dropout.hpp)
Tensor dropout(const Tensor& input, double p, bool train);
Tensor feature_dropout(const Tensor& input, double p, bool train);
Tensor& dropout_(Tensor& input, double p, bool train);
Tensor& feature_dropout_(Tensor& input, double p, bool train);

// padding with a constant: pad = {left, right} of the last dim, then of the one before, ...;
// negative amounts crop (ops/pad.hpp)
Tensor constant_pad_nd(const Tensor& self, IntArrayRef pad, const Scalar& value = 0);

// convolution of [N, C, H, W] (or [C, H, W]) with weight [O, C / groups, kH, kW]; stride, padding
// and dilation one number or {h, w} (ops/conv.hpp)
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, IntArrayRef stride = 1,
              IntArrayRef padding = 0, IntArrayRef dilation = 1, std::int64_t groups = 1);

// the transposed convolution (conv2d's adjoint) of [N, C_in, H, W] (or [C_in, H, W]) with weight
// [C_in, C_out / groups, kH, kW] (ops/conv_transpose.hpp)
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, IntArrayRef stride = 1,
                        IntArrayRef padding = 0, IntArrayRef output_padding = 0, std::int64_t groups = 1,
                        IntArrayRef dilation = 1);

// pooling over windows of [N, C, H, W] (or [C, H, W]); stride {} means kernel_size (ops/pooling.hpp)
Tensor max_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {}, IntArrayRef padding = 0,
                  IntArrayRef dilation = 1, bool ceil_mode = false);
// the maxima and the flat index h * W + w of each in its input plane (int64)
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                   IntArrayRef stride = {}, IntArrayRef padding = 0,
                                                   IntArrayRef dilation = 1, bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {}, IntArrayRef padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<std::int64_t> divisor_override = std::nullopt);

// gather along a dim by int64 indices, and its adjoint scatter_add (ops/gather.hpp)
Tensor gather(const Tensor& self, std::int64_t dim, const Tensor& index, bool sparse_grad = false);
Tensor scatter_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& self, std::int64_t dim, const Tensor& index);

// selection by a bool condition, and clamping into [min, max] (ops/where.hpp)
Tensor where(const Tensor& condition, const Tensor& self, const Tensor& other);
Tensor where(const Tensor& condition, const Scalar& self, const Tensor& other);
Tensor where(const Tensor& condition, const Tensor& self, const Scalar& other);
Tensor clamp(const Tensor& self, const std::optional<Scalar>& min, const std::optional<Scalar>& max = std::nullopt);
Tensor clamp_min(const Tensor& self, const Scalar& min);
Tensor clamp_max(const Tensor& self, const Scalar& max);

// joining (ops/join.hpp)
Tensor cat(const TensorList& tensors, std::int64_t dim = 0);
Tensor stack(const TensorList& tensors, std::int64_t dim = 0);

// printing (ops/print.hpp): libtorch's operator<< and print (its column layout, "[ CPUFloatType{2,3} ]"),
// PyTorch's print(t) (str) and NumPy's print of the values (numpy_str)
std::string str(const Tensor& t);
std::string numpy_str(const Tensor& t);
std::ostream& print(std::ostream& os, const Tensor& t, std::int64_t linesize);
void print(const Tensor& t, std::int64_t linesize = 80);
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// NumPy .npy files (tensor/npy.hpp)
void save_npy(const Tensor& t, const std::string& path);
Tensor load_npy(const std::string& path);

// The function forms of methods, as libtorch offers them in namespace torch (`torch::reshape(x,
// {2, 3})` is `x.reshape({2, 3})`): each forwards to the method, the one implementation.
inline Tensor reshape(const Tensor& self, IntArrayRef sizes) { return self.reshape(sizes); }
inline Tensor unsqueeze(const Tensor& self, std::int64_t dim) { return self.unsqueeze(dim); }
inline Tensor squeeze(const Tensor& self) { return self.squeeze(); }
inline Tensor squeeze(const Tensor& self, std::int64_t dim) { return self.squeeze(dim); }
inline Tensor flatten(const Tensor& self, std::int64_t start_dim = 0, std::int64_t end_dim = -1) {
    return self.flatten(start_dim, end_dim);
}
inline Tensor t(const Tensor& self) { return self.t(); }
inline Tensor transpose(const Tensor& self, std::int64_t dim0, std::int64_t dim1) { return self.transpose(dim0, dim1); }
inline Tensor permute(const Tensor& self, IntArrayRef dims) { return self.permute(dims); }
inline Tensor select(const Tensor& self, std::int64_t dim, std::int64_t index) { return self.select(dim, index); }
inline Tensor narrow(const Tensor& self, std::int64_t dim, std::int64_t start, std::int64_t length) {
    return self.narrow(dim, start, length);
}
inline Tensor slice(const Tensor& self, std::int64_t dim = 0, std::optional<std::int64_t> start = std::nullopt,
                    std::optional<std::int64_t> end = std::nullopt, std::int64_t step = 1) {
    return self.slice(dim, start, end, step);
}
inline Tensor clone(const Tensor& self) { return self.clone(); }
inline Tensor detach(const Tensor& self) { return self.detach(); }
inline Tensor& detach_(Tensor& self) { return self.detach_(); }
inline Tensor& zero_(Tensor& self) { return self.zero_(); }
inline Tensor& fill_(Tensor& self, const Scalar& value) { return self.fill_(value); }
inline std::int64_t numel(const Tensor& self) { return self.numel(); }
inline bool is_floating_point(const Tensor& self) { return self.is_floating_point(); }
// With a number for `other` (the Tensor forms above are the ops themselves).
inline Tensor add(const Tensor& self, const Scalar& other, const Scalar& alpha = 1) { return self.add(other, alpha); }
inline Tensor sub(const Tensor& self, const Scalar& other, const Scalar& alpha = 1) { return self.sub(other, alpha); }
inline Tensor mul(const Tensor& self, const Scalar& other) { return self.mul(other); }
inline Tensor div(const Tensor& self, const Scalar& other) { return self.div(other); }

// broadcasting (ops/broadcast.hpp)
std::vector<std::int64_t> broadcast_shapes(IntArrayRef a, IntArrayRef b, const char* op);

}  // namespace ctgrad
