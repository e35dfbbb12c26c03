#pragma once
// constant_pad_nd(input, pad, value = 0), PyTorch 1.13's op (nn::functional::pad's constant
// mode): pad = {left, right} of the last dim, then {top, bottom} of the one before, and so on;
// a negative amount crops. The result is a fill of `value` with the input copied into its
// window (the device's fill and copy kernels, so every device runs it). Backward,
// ConstantPadNdBackward0: the same op with the amounts negated, so the gradient is the window
// of g, itself differentiable.
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/device_data.hpp"
#include "../tensor/functions.hpp"
#include "views.hpp"

namespace ctgrad {

namespace detail {

struct ConstantPadNdBackward final : autograd::Node {
    std::vector<std::int64_t> pad;  // negated
    std::string name() const override { return "ConstantPadNdBackward0"; }
    variable_list apply(variable_list&& grads) override { return {constant_pad_nd(grads[0], pad, 0)}; }
};

}  // namespace detail

CTGRAD_API Tensor constant_pad_nd(const Tensor& self, IntArrayRef pad, const Scalar& value) {
    constexpr const char* op = "constant_pad_nd";
    detail::check_defined(self, op);
    const std::int64_t rank = self.dim();
    const auto pairs = static_cast<std::int64_t>(pad.size() / 2);
    if (pad.size() % 2 != 0)
        throw Error(std::string(op) + ": Length of pad must be even but instead it equals " + std::to_string(pad.size()));
    if (pairs > rank)
        throw Error(std::string(op) + ": Length of pad should be no more than twice the number of dimensions of the "
                    "input. Pad length is " + std::to_string(pad.size()) + "while the input has " +
                    std::to_string(rank) + "dimensions.");
    std::vector<std::int64_t> sizes = self.sizes().vec();
    for (std::int64_t i = 0; i < pairs; ++i) {
        const std::int64_t d = rank - 1 - i, lo = pad[2 * i], hi = pad[2 * i + 1];
        const std::int64_t size = sizes[d] + lo + hi;
        if (size < 0)
            throw Error(std::string(op) + ": The input size " + std::to_string(sizes[d]) + ", plus negative padding " +
                        std::to_string(lo) + " and " + std::to_string(hi) +
                        " resulted in a negative output size, which is invalid. Check dimension " + std::to_string(d) +
                        " of your input.");
        sizes[d] = size;
    }
    Tensor out = make_empty(sizes, self.scalar_type(), self.device(), op);
    {
        NoGradGuard no_grad;
        // The input's part that survives the crops, and where it lands in the output.
        Tensor src = self, dst = out;
        bool empty = false;
        for (std::int64_t i = 0; i < pairs; ++i) {
            const std::int64_t d = rank - 1 - i, lo = pad[2 * i], hi = pad[2 * i + 1];
            const std::int64_t kept = self.size(d) + std::min<std::int64_t>(lo, 0) + std::min<std::int64_t>(hi, 0);
            if (kept <= 0) {
                empty = true;
                break;
            }
            src = src.narrow(d, std::max<std::int64_t>(-lo, 0), kept);
            dst = dst.narrow(d, std::max<std::int64_t>(lo, 0), kept);
        }
        const bool covered = !empty && dst.numel() == out.numel();
        if (out.numel() != 0 && !covered)
            detail::kernels_of(out, op).fill(detail::view_of(*out.unsafeGetTensorImpl()), detail::fill_value_of(value));
        if (!empty) detail::copy_elements(*dst.unsafeGetTensorImpl(), *src.unsafeGetTensorImpl());
    }
    if (self.is_floating_point() && autograd::compute_requires_grad({&self})) {
        auto node = autograd::record<detail::ConstantPadNdBackward>(out, {&self});
        for (std::int64_t i = 0; i < 2 * pairs; ++i) node->pad.push_back(-pad[i]);
    }
    return out;
}

}  // namespace ctgrad
