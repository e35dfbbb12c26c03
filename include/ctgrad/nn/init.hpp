#pragma once
// nn::init: PyTorch 1.13's parameter initialisers (torch/nn/init.py), in libtorch's spelling.
// Every one writes in place under no-grad and draws through Tensor::uniform_ / normal_, which
// reproduce torch's CPU generator: after manual_seed(s) the values are PyTorch's, bit for bit.
#include <cstdint>
#include <string>
#include <tuple>
#include <variant>

#include "../autograd/grad_mode.hpp"
#include "../core/config.hpp"
#include "../tensor/functions.hpp"
#include "enum.hpp"

namespace ctgrad::nn::init {

using NonlinearityType =
    std::variant<enumtype::kLinear, enumtype::kConv1D, enumtype::kConv2D, enumtype::kConv3D,
                 enumtype::kConvTranspose1D, enumtype::kConvTranspose2D, enumtype::kConvTranspose3D,
                 enumtype::kSigmoid, enumtype::kTanh, enumtype::kReLU, enumtype::kLeakyReLU, enumtype::kSELU>;
using FanModeType = std::variant<enumtype::kFanIn, enumtype::kFanOut>;

// The recommended gain for a nonlinearity (`param`: leaky_relu's negative slope).
double calculate_gain(NonlinearityType nonlinearity, double param = 0.01);

// (fan_in, fan_out) of a weight of shape [out, in, *receptive field].
std::tuple<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);
inline std::tuple<std::int64_t, std::int64_t> _calculate_fan_in_and_fan_out(const Tensor& tensor) {
    return calculate_fan_in_and_fan_out(tensor);
}

namespace detail {
std::int64_t correct_fan(const Tensor& tensor, FanModeType mode);
void check_nonempty_fan(std::int64_t fan, const char* op);
}  // namespace detail

Tensor uniform_(Tensor tensor, double low = 0, double high = 1);
Tensor normal_(Tensor tensor, double mean = 0, double std = 1);
Tensor constant_(Tensor tensor, Scalar value);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);

Tensor kaiming_uniform_(Tensor tensor, double a = 0, FanModeType mode = ctgrad::kFanIn,
                        NonlinearityType nonlinearity = ctgrad::kLeakyReLU);
Tensor kaiming_normal_(Tensor tensor, double a = 0, FanModeType mode = ctgrad::kFanIn,
                       NonlinearityType nonlinearity = ctgrad::kLeakyReLU);
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0);
Tensor xavier_normal_(Tensor tensor, double gain = 1.0);

}  // namespace ctgrad::nn::init

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <cmath>

namespace ctgrad::nn::init {

CTGRAD_API double calculate_gain(NonlinearityType nonlinearity, double param) {
    if (std::holds_alternative<enumtype::kTanh>(nonlinearity)) return 5.0 / 3;
    if (std::holds_alternative<enumtype::kReLU>(nonlinearity)) return std::sqrt(2.0);
    if (std::holds_alternative<enumtype::kLeakyReLU>(nonlinearity)) return std::sqrt(2.0 / (1 + param * param));
    if (std::holds_alternative<enumtype::kSELU>(nonlinearity)) return 3.0 / 4;
    return 1;  // linear, the convolutions, sigmoid
}

CTGRAD_API std::tuple<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
    if (tensor.dim() < 2)
        throw Error("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got " +
                    shape_str(tensor.sizes()) + ")");
    std::int64_t receptive_field = 1;
    for (std::int64_t d = 2; d < tensor.dim(); ++d) receptive_field *= tensor.size(d);
    return {tensor.size(1) * receptive_field, tensor.size(0) * receptive_field};
}

namespace detail {
CTGRAD_API std::int64_t correct_fan(const Tensor& tensor, FanModeType mode) {
    const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
    return std::holds_alternative<enumtype::kFanIn>(mode) ? fan_in : fan_out;
}
CTGRAD_API void check_nonempty_fan(std::int64_t fan, const char* op) {
    // PyTorch divides by zero here (and then raises ZeroDivisionError); name the cause instead.
    if (fan == 0) throw Error(std::string(op) + ": cannot initialise a tensor with a zero-element fan");
}
}  // namespace detail

CTGRAD_API Tensor uniform_(Tensor tensor, double low, double high) {
    NoGradGuard no_grad;
    return tensor.uniform_(low, high);
}
CTGRAD_API Tensor normal_(Tensor tensor, double mean, double std) {
    NoGradGuard no_grad;
    return tensor.normal_(mean, std);
}
CTGRAD_API Tensor constant_(Tensor tensor, Scalar value) {
    NoGradGuard no_grad;
    return tensor.fill_(value);
}
CTGRAD_API Tensor zeros_(Tensor tensor) {
    NoGradGuard no_grad;
    return tensor.zero_();
}
CTGRAD_API Tensor ones_(Tensor tensor) {
    NoGradGuard no_grad;
    return tensor.fill_(1);
}

CTGRAD_API Tensor kaiming_uniform_(Tensor tensor, double a, FanModeType mode, NonlinearityType nonlinearity) {
    if (tensor.numel() == 0) return tensor;  // PyTorch: "Initializing zero-element tensors is a no-op"
    const std::int64_t fan = detail::correct_fan(tensor, mode);
    const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
    const double bound = std::sqrt(3.0) * std;
    return uniform_(tensor, -bound, bound);
}
CTGRAD_API Tensor kaiming_normal_(Tensor tensor, double a, FanModeType mode, NonlinearityType nonlinearity) {
    if (tensor.numel() == 0) return tensor;  // PyTorch: "Initializing zero-element tensors is a no-op"
    const std::int64_t fan = detail::correct_fan(tensor, mode);
    const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
    return normal_(tensor, 0, std);
}
CTGRAD_API Tensor xavier_uniform_(Tensor tensor, double gain) {
    const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
    detail::check_nonempty_fan(fan_in + fan_out, "xavier_uniform_");
    const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
    const double a = std::sqrt(3.0) * std;
    return uniform_(tensor, -a, a);
}
CTGRAD_API Tensor xavier_normal_(Tensor tensor, double gain) {
    const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
    detail::check_nonempty_fan(fan_in + fan_out, "xavier_normal_");
    const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
    return normal_(tensor, 0, std);
}

}  // namespace ctgrad::nn::init
#endif  // CTGRAD_RUNTIME_DEFINITIONS
