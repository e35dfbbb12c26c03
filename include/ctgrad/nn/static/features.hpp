#pragma once
// static_features<F>: a batch of samples with F features each, F a compile-time width and the
// batch size a run-time one. It is the fixed-shape input (and target) of a static model: a model
// that takes 3 features does not compile with a static_features<4>.
//
// The values are stored feature by feature (each feature's samples contiguous), which is how the
// static layer's fused loops read them: one SIMD load per feature for a batch of samples. A
// [batch, F] tensor is transposed into this form once, when the batch is built, not per step.
#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "../../tensor/functions.hpp"

namespace ctgrad::nn {

template <std::size_t F>
class static_features {
    static_assert(F > 0, "static_features<F>: a sample has at least one feature");

public:
    static constexpr std::size_t features = F;
    static std::string name() { return "static_features<" + std::to_string(F) + ">"; }

    static_features() = default;
    // A zero-filled batch of `batch` samples, to fill through column().
    explicit static_features(std::size_t batch) : batch_(batch), values_(batch * F) {}

    // From a [batch, F] tensor (or a [batch] tensor when F is 1), of any floating dtype and
    // strides; `who` names the caller in the error.
    explicit static_features(const Tensor& t, const std::string& who = "") {
        const bool one_d = F == 1 && t.defined() && t.dim() == 1;
        if (!t.defined() || !(one_d || (t.dim() == 2 && t.size(1) == static_cast<std::int64_t>(F))) ||
            !t.is_floating_point()) {
            throw Error((who.empty() ? name() : who) + ": expected a floating-point tensor of shape [batch, " +
                        std::to_string(F) + "]" + (F == 1 ? " or [batch]" : "") + " but got " +
                        (t.defined() ? shape_str(t.sizes()) + " of dtype " + dtype_name(t.scalar_type())
                                     : std::string("an undefined tensor")));
        }
        const Tensor c = t.to(TensorOptions().dtype(kFloat).device(kCPU)).contiguous();
        batch_ = static_cast<std::size_t>(c.size(0));
        values_.resize(batch_ * F);
        const float* p = c.data_ptr<float>();
        for (std::size_t n = 0; n < batch_; ++n)
            for (std::size_t f = 0; f < F; ++f) values_[f * batch_ + n] = p[n * F + f];
    }

    std::size_t batch_size() const { return batch_; }
    std::span<const float> column(std::size_t f) const { return {values_.data() + f * batch_, batch_}; }
    std::span<float> column(std::size_t f) { return {values_.data() + f * batch_, batch_}; }

    // Back to a [batch, F] tensor.
    Tensor to_tensor() const {
        Tensor t = ctgrad::empty({static_cast<std::int64_t>(batch_), static_cast<std::int64_t>(F)});
        float* p = t.data_ptr<float>();
        for (std::size_t n = 0; n < batch_; ++n)
            for (std::size_t f = 0; f < F; ++f) p[n * F + f] = values_[f * batch_ + n];
        return t;
    }

private:
    std::size_t batch_ = 0;
    std::vector<float> values_;
};

}  // namespace ctgrad::nn
