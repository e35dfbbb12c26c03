#pragma once
// static_sequential<Layers...>: a model whose widths are types. The layers' widths are checked
// against each other when the type is used, an input or target of the wrong width does not
// compile, and a training step is one fused pass of the static layer: value_and_grad walks the
// batch once, computing the loss and the partial derivative for every parameter together, and
// adds those into the parameters' .grad(), where ctgrad::optim's optimizers find them.
//
//   ctgrad::manual_seed(0);
//   nn::static_sequential<nn::static_linear<3, 1>, nn::static_flatten<0, 1>> model;  // torch's numbers
//   const nn::static_features<3> xx(input);    // [2000, 3] tensor, rearranged once
//   const nn::static_features<1> y(target);    // [2000]
//   float loss = model.value_and_grad(nn::static_mse_sum, xx, y);   // .grad() of each parameter
//   optimizer.step();
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../../expr.hpp"
#include "../../tensor/functions.hpp"
#include "checks.hpp"
#include "features.hpp"
#include "layers.hpp"
#include "loss.hpp"
#include "names.hpp"

namespace ctgrad::nn {

template <class... Layers>
class static_sequential {
    static_assert(sizeof...(Layers) > 0, "static_sequential needs at least one layer");
    using layer_types = std::tuple<Layers...>;
    template <std::size_t I> using layer_type = std::tuple_element_t<I, layer_types>;
    static constexpr std::size_t first_fixing = static_detail::first_width_fixing_layer<Layers...>();

public:
    static constexpr std::size_t size = sizeof...(Layers);
    // The width of one input sample, fixed by the first layer that takes a set number of features.
    static constexpr std::size_t in_features = static_detail::input_width<Layers...>();

private:
    using chain = static_detail::chain<0, in_features, void, void, Layers...>;
    static_assert(in_features > 0 || model_without_a_width<static_sequential>::value,
                  "static_sequential: no layer sets the width of the input (add a static_linear<In, Out>; the "
                  "model is named in model_without_a_width<...>)");
    static_assert(chain::check());

public:
    static constexpr std::size_t out_features = chain::out_width;
    // Whether the output is [batch * out_features] (after static_flatten<0, 1>), else [batch, out_features].
    static constexpr bool flat_output = chain::flat;
    static constexpr std::size_t parameter_count = (Layers::parameter_count + ... + 0);
    static constexpr bool valid = chain::valid && in_features > 0;

    // The layers are constructed, then initialised first to last, so that the draws from the
    // generator come in torch.nn.Sequential's order.
    static_sequential() { reset_parameters(); }

    void reset_parameters() {
        std::apply([](auto&... l) { (l.reset_parameters(), ...); }, layers_);
    }

    template <std::size_t I> layer_type<I>& get() { return std::get<I>(layers_); }
    template <std::size_t I> const layer_type<I>& get() const { return std::get<I>(layers_); }

    // The parameters in torch.nn.Sequential's order (layer by layer, weight before bias).
    std::vector<Tensor> parameters() const {
        std::vector<Tensor> list;
        std::apply([&](const auto&... l) { (l.append_parameters(list), ...); }, layers_);
        return list;
    }
    // Named as torch.nn.Sequential names them: "0.weight", "0.bias", "2.weight", ...
    std::vector<std::pair<std::string, Tensor>> named_parameters() const {
        std::vector<std::pair<std::string, Tensor>> list;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (std::get<I>(layers_).append_named_parameters(list, std::to_string(I) + "."), ...);
        }(std::make_index_sequence<size>{});
        return list;
    }
    // PyTorch 1.13's Module.zero_grad(): gradients are zeroed in place, or dropped with set_to_none.
    void zero_grad(bool set_to_none = false) {
        NoGradGuard no_grad;
        const auto clear = [set_to_none](const Tensor& p) {
            if (!p.mutable_grad().defined()) return;
            if (set_to_none) p.mutable_grad() = Tensor();
            else p.grad().zero_();
        };
        std::apply([&](const auto&... l) { (l.for_each_parameter(clear), ...); }, layers_);
    }

    static std::string name() {
        std::string s = "static_sequential<";
        bool first = true;
        ((s += (first ? "" : ", ") + Layers::name(), first = false), ...);
        return s + ">";
    }

    // One sample's outputs as static-layer expressions of x0, x1, ... and the parameters.
    static constexpr auto output_expressions() {
        return apply_from<0, 0>(static_detail::input_expressions<in_features>());
    }

    // The model's output for a batch: [batch, out_features], or [batch * out_features] after
    // static_flatten<0, 1>. A tensor with no autograd history (train with value_and_grad).
    template <std::size_t F>
    Tensor forward(const static_features<F>& input) const {
        check_input<F>();
        if constexpr (valid && F == in_features) {
            const std::size_t n = input.batch_size();
            const auto values = read_parameters();
            Tensor out = flat_output ? ctgrad::empty({static_cast<std::int64_t>(n * out_features)})
                                     : ctgrad::empty({static_cast<std::int64_t>(n), static_cast<std::int64_t>(out_features)});
            float* data = out.data_ptr<float>();
            constexpr auto outputs = output_expressions();
            std::vector<float> column(out_features == 1 ? 0 : n);
            [&]<std::size_t... J>(std::index_sequence<J...>) {
                (
                    [&] {
                        std::span<float> target = out_features == 1 ? std::span<float>(data, n) : std::span<float>(column);
                        bind_all(values, input, [&](const auto&... bindings) {
                            expr::assign(target, std::get<J>(outputs), bindings...);
                        });
                        if constexpr (out_features > 1)
                            for (std::size_t i = 0; i < n; ++i) data[i * out_features + J] = column[i];
                    }(),
                    ...);
            }(std::make_index_sequence<out_features>{});
            return out;
        } else {
            return Tensor();
        }
    }
    Tensor forward(const Tensor& input) const { return forward(static_features<in_features>(input, name() + "::forward")); }

    // One fused pass over the batch: returns the loss and adds d loss / d parameter into each
    // parameter's .grad() (creating it when undefined), as loss.backward() would.
    template <class Loss, std::size_t F, std::size_t G>
    float value_and_grad(const Loss&, const static_features<F>& input, const static_features<G>& target) {
        check_input<F>();
        check_target<G>();
        if constexpr (valid && F == in_features && G == out_features) {
            check_batches("value_and_grad", input, target);
            const auto values = read_parameters();
            constexpr auto loss = Loss::expression(output_expressions());
            std::array<float, parameter_count> grads{};
            float value = 0;
            [&]<std::size_t... P>(std::index_sequence<P...>) {
                bind_all(values, input, target, [&](const auto&... bindings) {
                    auto [v, g] = expr::value_and_grad(loss, expr::wrt(static_detail::parameter_var<P>{}...), bindings...);
                    value = v;
                    ((grads[P] = std::get<P>(g)), ...);
                });
            }(std::make_index_sequence<parameter_count>{});
            accumulate_gradients(grads.data());
            return value;
        } else {
            return 0;
        }
    }
    // The same from tensors: input [batch, in_features]; target of the output's shape. Both are
    // rearranged on each call: build static_features once to train on the same data.
    template <class Loss>
    float value_and_grad(const Loss& loss, const Tensor& input, const Tensor& target) {
        return value_and_grad(loss, static_features<in_features>(input, name() + "::value_and_grad"),
                              target_features(target, "value_and_grad"));
    }

    // The loss alone, one pass, nothing written.
    template <class Loss, std::size_t F, std::size_t G>
    float loss(const Loss&, const static_features<F>& input, const static_features<G>& target) const {
        check_input<F>();
        check_target<G>();
        if constexpr (valid && F == in_features && G == out_features) {
            check_batches("loss", input, target);
            const auto values = read_parameters();
            constexpr auto e = Loss::expression(output_expressions());
            float value = 0;
            bind_all(values, input, target, [&](const auto&... bindings) { value = expr::eval(e, bindings...); });
            return value;
        } else {
            return 0;
        }
    }

private:
    template <std::size_t I, std::size_t Offset, class Values>
    static constexpr auto apply_from(const Values& values) {
        if constexpr (I == size || !valid) return values;
        else return apply_from<I + 1, Offset + layer_type<I>::parameter_count>(layer_type<I>::template apply<Offset>(values));
    }

    template <std::size_t F>
    static constexpr void check_input() {
        if constexpr (in_features > 0 && first_fixing < size)
            static_assert(F == in_features || input_width_mismatch<static_features<F>, gives<F>,
                                                                   layer<first_fixing, layer_type<first_fixing>>,
                                                                   takes<in_features>>::value,
                          "static_sequential: the input has a different number of features than the model's first "
                          "layer takes (the note names both: input_width_mismatch<input, gives<n>, "
                          "layer<i, layer>, takes<m>>)");
    }
    template <std::size_t G>
    static constexpr void check_target() {
        static_assert(G == out_features || target_width_mismatch<static_features<G>, static_sequential, gives<out_features>>::value,
                      "static_sequential: the target has a different number of features than the model gives (the "
                      "note names both: target_width_mismatch<target, model, gives<n>>)");
    }

    template <std::size_t F, std::size_t G>
    void check_batches(const char* op, const static_features<F>& input, const static_features<G>& target) const {
        if (input.batch_size() != target.batch_size())
            throw Error(name() + "::" + op + ": the input has " + std::to_string(input.batch_size()) +
                        " samples but the target has " + std::to_string(target.batch_size()));
    }

    // A target tensor has the output's shape: [batch * out] when flattened, else [batch, out].
    static_features<out_features> target_features(const Tensor& t, const char* op) const {
        const std::string who = name() + "::" + op;
        if constexpr (flat_output) {
            if (!t.defined() || t.dim() != 1 || t.size(0) % static_cast<std::int64_t>(out_features) != 0)
                throw Error(who + ": expected a target of shape [batch * " + std::to_string(out_features) +
                            "] (the output of static_flatten<0, 1>) but got " +
                            (t.defined() ? shape_str(t.sizes()) : std::string("an undefined tensor")));
            return static_features<out_features>(t.reshape({-1, static_cast<std::int64_t>(out_features)}), who);
        } else {
            if (!t.defined() || t.dim() != 2)
                throw Error(who + ": expected a target of shape [batch, " + std::to_string(out_features) + "] but got " +
                            (t.defined() ? shape_str(t.sizes()) : std::string("an undefined tensor")));
            return static_features<out_features>(t, who);
        }
    }

    std::array<float, parameter_count> read_parameters() const {
        std::array<float, parameter_count> values{};
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (std::get<I>(layers_).read_parameters(values.data() + offset<I>()), ...);
        }(std::make_index_sequence<size>{});
        return values;
    }
    void accumulate_gradients(const float* grads) const {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (std::get<I>(layers_).accumulate_gradients(grads + offset<I>()), ...);
        }(std::make_index_sequence<size>{});
    }
    template <std::size_t I>
    static constexpr std::size_t offset() {
        return [&]<std::size_t... K>(std::index_sequence<K...>) { return (layer_type<K>::parameter_count + ... + 0); }(
            std::make_index_sequence<I>{});
    }

    // Calls f with the bindings p{k} = parameter k, x{i} = input feature i (and y{j} = target
    // feature j): the static layer reads the features in place.
    template <std::size_t F, class Fn>
    static void bind_all(const std::array<float, parameter_count>& values, const static_features<F>& input, Fn&& f) {
        [&]<std::size_t... P, std::size_t... I>(std::index_sequence<P...>, std::index_sequence<I...>) {
            f((static_detail::parameter_var<P>{} = values[P])..., (static_detail::input_var<I>{} = input.column(I))...);
        }(std::make_index_sequence<parameter_count>{}, std::make_index_sequence<F>{});
    }
    template <std::size_t F, std::size_t G, class Fn>
    static void bind_all(const std::array<float, parameter_count>& values, const static_features<F>& input,
                         const static_features<G>& target, Fn&& f) {
        [&]<std::size_t... P, std::size_t... I, std::size_t... J>(std::index_sequence<P...>, std::index_sequence<I...>,
                                                                   std::index_sequence<J...>) {
            f((static_detail::parameter_var<P>{} = values[P])..., (static_detail::input_var<I>{} = input.column(I))...,
              (static_detail::target_var<J>{} = target.column(J))...);
        }(std::make_index_sequence<parameter_count>{}, std::make_index_sequence<F>{}, std::make_index_sequence<G>{});
    }

    layer_types layers_;
};

}  // namespace ctgrad::nn
