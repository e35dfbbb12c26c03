#pragma once
// The layers of a static model. A layer's widths are template arguments, and the layer says at
// compile time what it does to one sample: `apply<Offset>(inputs)` maps a tuple of static-layer
// expressions (one per input feature) to a tuple of expressions (one per output feature), its
// parameters being the variables p{Offset}, p{Offset+1}, ... Layers with parameters also own
// them as ctgrad::Tensor leaves, so that optimizers written for the dynamic layer step them.
//
// A layer provides:
//   fixes_width, in_features, out_features   whether it takes a set number of features
//   output_width(w)                          the features it gives for w it receives
//   flattens                                 whether it merges the batch into one dimension
//   parameter_count, apply<Offset>(inputs)
//   reset_parameters(), for_each_parameter(f), append_parameters(list), append_named_parameters(list, prefix),
//   read_parameters(float*), accumulate_gradients(const float*)
#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../../autograd/grad_mode.hpp"
#include "../../tensor/functions.hpp"
#include "../../tensor/device_data.hpp"
#include "names.hpp"

namespace ctgrad::nn {

namespace static_detail {

// The layers without parameters: nothing to initialise, read or write.
struct parameterless {
    static constexpr std::size_t in_features = 0;  // any width (they do not fix it)
    static constexpr std::size_t parameter_count = 0;
    void reset_parameters() {}
    template <class F> void for_each_parameter(F&&) const {}
    void append_parameters(std::vector<Tensor>&) const {}
    void append_named_parameters(std::vector<std::pair<std::string, Tensor>>&, const std::string&) const {}
    void read_parameters(float*) const {}
    void accumulate_gradients(const float*) const {}
};

// Adds n gradient values into t's .grad(), creating it when undefined (AccumulateGrad's rule:
// the first backward sets it, later ones add to it).
inline void accumulate_grad(const Tensor& t, const float* g, std::size_t n) {
    ctgrad::detail::require_cpu("static model (parameters on the GPU are not supported yet)", {&t});
    Tensor grad = t.grad();
    if (!grad.defined()) {
        Tensor fresh = ctgrad::empty(t.sizes(), TensorOptions().dtype(kFloat));
        std::copy(g, g + n, fresh.data_ptr<float>());
        t.mutable_grad() = fresh;
        return;
    }
    if (grad.scalar_type() == kFloat && grad.is_contiguous() && static_cast<std::size_t>(grad.numel()) == n) {
        float* out = grad.data_ptr<float>();
        for (std::size_t i = 0; i < n; ++i) out[i] += g[i];
        return;
    }
    // A gradient someone replaced with a strided or differently typed tensor: add through ops.
    Tensor update = ctgrad::empty(t.sizes(), TensorOptions().dtype(kFloat));
    std::copy(g, g + n, update.data_ptr<float>());
    NoGradGuard no_grad;
    grad.add_(update);
}

inline void read_float_parameter(const Tensor& t, float* out) {
    const Tensor c = t.scalar_type() == kFloat && t.is_contiguous() && t.is_cpu()
                         ? t
                         : t.to(TensorOptions().dtype(kFloat).device(kCPU)).contiguous();
    const float* p = c.data_ptr<float>();
    std::copy(p, p + c.numel(), out);
}

}  // namespace static_detail

// y = x W^T + b with W of shape [Out, In]: torch.nn.Linear(In, Out), initialised as PyTorch 1.13
// does (weight then bias, each uniform in +-1/sqrt(In) from the global generator), so that after
// ctgrad::manual_seed(s) the numbers are torch's after torch.manual_seed(s).
template <std::size_t In, std::size_t Out>
class static_linear {
    static_assert(In > 0 && Out > 0, "static_linear<In, Out>: both widths must be positive");

public:
    static constexpr bool fixes_width = true;
    static constexpr bool flattens = false;
    static constexpr std::size_t in_features = In;
    static constexpr std::size_t out_features = Out;
    static constexpr std::size_t output_width(std::size_t) { return Out; }
    static constexpr std::size_t parameter_count = In * Out + Out;
    static std::string name() { return "static_linear<" + std::to_string(In) + ", " + std::to_string(Out) + ">"; }

    static_linear()
        : weight(ctgrad::empty({static_cast<std::int64_t>(Out), static_cast<std::int64_t>(In)})),
          bias(ctgrad::empty({static_cast<std::int64_t>(Out)})) {
        weight.requires_grad_(true);
        bias.requires_grad_(true);
    }

    // Output feature J of one sample: W[J,0] x0 + ... + W[J,In-1] x{In-1} + b[J], in that order
    // (the products summed first and the bias last, as addmm does). Parameters: W row-major,
    // then b.
    template <std::size_t Offset, class Inputs>
    static constexpr auto apply(const Inputs& in) {
        return [&]<std::size_t... J>(std::index_sequence<J...>) { return std::tuple{row<Offset, J>(in)...}; }(
            std::make_index_sequence<Out>{});
    }

    void reset_parameters() {
        NoGradGuard no_grad;
        // torch.nn.init.kaiming_uniform_(weight, a=sqrt(5)), spelled as PyTorch computes the bound
        // (in double), so the float it rounds to is the same.
        const double a = std::sqrt(5.0);
        const double gain = std::sqrt(2.0 / (1 + a * a));
        const double bound = std::sqrt(3.0) * (gain / std::sqrt(static_cast<double>(In)));
        weight.uniform_(-bound, bound);
        const double bias_bound = 1 / std::sqrt(static_cast<double>(In));
        bias.uniform_(-bias_bound, bias_bound);
    }
    template <class F> void for_each_parameter(F&& f) const {
        f(weight);
        f(bias);
    }
    void append_parameters(std::vector<Tensor>& list) const {
        list.push_back(weight);
        list.push_back(bias);
    }
    void append_named_parameters(std::vector<std::pair<std::string, Tensor>>& list, const std::string& prefix) const {
        list.emplace_back(prefix + "weight", weight);
        list.emplace_back(prefix + "bias", bias);
    }
    void read_parameters(float* out) const {
        static_detail::read_float_parameter(weight, out);
        static_detail::read_float_parameter(bias, out + In * Out);
    }
    void accumulate_gradients(const float* g) const {
        static_detail::accumulate_grad(weight, g, In * Out);
        static_detail::accumulate_grad(bias, g + In * Out, Out);
    }

    Tensor weight;
    Tensor bias;

private:
    template <std::size_t Offset, std::size_t J, class Inputs>
    static constexpr auto row(const Inputs& in) {
        using static_detail::parameter_var;
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return (... + (parameter_var<Offset + J * In + I>{} * std::get<I>(in))) +
                   parameter_var<Offset + In * Out + J>{};
        }(std::make_index_sequence<In>{});
    }
};

namespace static_detail {
// An element-wise function of each feature: any width, the same width out.
template <class Derived>
struct elementwise : parameterless {
    static constexpr bool fixes_width = false;
    static constexpr bool flattens = false;
    static constexpr std::size_t output_width(std::size_t w) { return w; }
    template <std::size_t, class Inputs>
    static constexpr auto apply(const Inputs& in) {
        return std::apply([](const auto&... e) { return std::tuple{Derived::function(e)...}; }, in);
    }
};
}  // namespace static_detail

// torch.nn.Tanh, torch.nn.ReLU, torch.nn.Sigmoid: element-wise, shape-preserving.
struct static_tanh : static_detail::elementwise<static_tanh> {
    static std::string name() { return "static_tanh"; }
    template <class E> static constexpr auto function(const E& e) { return expr::tanh(e); }
};
struct static_relu : static_detail::elementwise<static_relu> {
    static std::string name() { return "static_relu"; }
    template <class E> static constexpr auto function(const E& e) { return expr::relu(e); }
};
struct static_sigmoid : static_detail::elementwise<static_sigmoid> {
    static std::string name() { return "static_sigmoid"; }
    template <class E> static constexpr auto function(const E& e) { return expr::sigmoid(e); }
};

// torch.nn.Flatten(Start, End) on the model's [batch, features] values. Flatten(0, 1) merges
// batch and features into one dimension of batch * features (the seed's model: [N, 1] -> [N]);
// Flatten(1, -1), PyTorch's default, leaves [batch, features] as it is.
template <int Start, int End>
struct static_flatten : static_detail::parameterless {
    static_assert((Start == 0 && (End == 1 || End == -1)) || (Start == 1 && (End == 1 || End == -1)) ||
                      (Start == -1 && End == -1),
                  "static_flatten<Start, End>: a static model's values are [batch, features]; the dimensions "
                  "are 0 (or -2) and 1 (or -1)");
    static constexpr bool fixes_width = false;
    static constexpr bool flattens = Start == 0;
    static constexpr std::size_t output_width(std::size_t w) { return w; }
    static std::string name() { return "static_flatten<" + std::to_string(Start) + ", " + std::to_string(End) + ">"; }
    template <std::size_t, class Inputs>
    static constexpr auto apply(const Inputs& in) { return in; }
};

}  // namespace ctgrad::nn
