#pragma once
// Losses of a static model, written as static-layer expressions of the model's per-sample
// outputs and the target variables y0, y1, ...: the model hands `expression(outputs)` to
// value_and_grad, and the loss and every parameter's gradient come out of one fused pass.
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "names.hpp"

namespace ctgrad::nn {

enum class static_reduction { sum, mean };

// torch.nn.MSELoss(reduction='sum' or 'mean') over all batch * features elements.
template <static_reduction Reduction>
struct static_mse_loss {
    static std::string name() {
        return Reduction == static_reduction::sum ? "static_mse_loss<sum>" : "static_mse_loss<mean>";
    }

    template <class... Outputs>
    static constexpr auto expression(const std::tuple<Outputs...>& outputs) {
        constexpr std::size_t width = sizeof...(Outputs);
        const auto squares = [&]<std::size_t... J>(std::index_sequence<J...>) {
            return (... + expr::pow<2>(std::get<J>(outputs) - static_detail::target_var<J>{}));
        }(std::make_index_sequence<width>{});
        if constexpr (Reduction == static_reduction::sum) return expr::sum(squares);
        // mean() divides by the batch size; the features share the rest of the divisor.
        else if constexpr (width == 1) return expr::mean(squares);
        else return expr::rational<1, static_cast<std::intmax_t>(width)>{} * expr::mean(squares);
    }
};

inline constexpr static_mse_loss<static_reduction::sum> static_mse_sum{};
inline constexpr static_mse_loss<static_reduction::mean> static_mse_mean{};

}  // namespace ctgrad::nn
