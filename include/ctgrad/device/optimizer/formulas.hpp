#pragma once
// The optimizers' update formulas for the elements [i, i + lanes of V) of one parameter: each
// statement is one tensor op of PyTorch 1.13's _single_tensor_<optimizer>, rounding as that op
// does in the parameter's dtype (fma_dispatch.hpp says which of them fuse). V is T, or an xsimd
// batch of T on the CPU; the same `at<T>` is the body of the device kernels
// (device/thrust/optimizer_kernels.hpp), so this header must stay free of xsimd.
//
// The calls below are resolved where the templates are defined: batch forms of the operations
// (fma_dispatch.hpp) are seen only when that header was included first, as device/cpu/optimizer_kernels.hpp does.
#include <cstdint>

#include "../../core/config.hpp"
#include "scalar_math.hpp"
#include "scalars.hpp"

#define CTGRAD_OPTIM_STEP_FORMULAS_INCLUDED 1

// Host and device callable; forced inline on the host, where the element loop is only fast
// with the whole formula in registers.
#define CTGRAD_OPTIM_STEP_INLINE CTGRAD_HOST_DEVICE CTGRAD_OPTIM_ALWAYS_INLINE

namespace ctgrad::optim::detail {
inline namespace CTGRAD_SIMD_ABI {

// FirstStep: the momentum buffer is born as a copy of d_p (torch.clone(d_p)).
template <class T, bool WeightDecay, bool Momentum, bool FirstStep, bool Nesterov>
struct SGDStep {
    template <class V>
    CTGRAD_OPTIM_STEP_INLINE static void at(std::int64_t i, const SGDScalars<T>& s, T* param, const T* grad, T* buf) {
        const V p = load_at<V>(param + i);
        V d_p = load_at<V>(grad + i);
        if constexpr (WeightDecay) d_p = fmadd(V(s.weight_decay), p, d_p);
        if constexpr (Momentum) {
            V b = d_p;
            if constexpr (!FirstStep) {
                const V decayed = load_at<V>(buf + i) * V(s.momentum);
                b = fmadd(V(s.one_minus_dampening), d_p, decayed);
            }
            store_at(buf + i, b);
            if constexpr (Nesterov) d_p = fmadd(V(s.momentum), b, d_p);
            else d_p = b;
        }
        store_at(param + i, fmadd(V(s.neg_lr), d_p, p));
    }
};

template <class T, bool Decoupled, bool WeightDecay, bool AmsGrad>
struct AdamStep {
    template <class V>
    CTGRAD_OPTIM_STEP_INLINE static void at(std::int64_t i, const AdamScalars<T>& s, T* param, const T* grad,
                                            T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq) {
        V p = load_at<V>(param + i);
        V g = load_at<V>(grad + i);
        if constexpr (Decoupled) p = rounded(p * V(s.decay));
        else if constexpr (WeightDecay) g = fmadd(V(s.weight_decay), p, g);
        const V m_decayed = load_at<V>(exp_avg + i) * V(s.beta1);
        const V m = fmadd(V(s.one_minus_beta1), g, m_decayed);
        const V v_decayed = load_at<V>(exp_avg_sq + i) * V(s.beta2);
        const V scaled_g = V(s.one_minus_beta2) * g;
        const V v = fmadd(scaled_g, g, v_decayed);
        store_at(exp_avg + i, m);
        store_at(exp_avg_sq + i, v);
        V v_used = v;
        if constexpr (AmsGrad) {
            v_used = nan_max(load_at<V>(max_exp_avg_sq + i), v);
            store_at(max_exp_avg_sq + i, v_used);
        }
        const V corrected = root(v_used) / V(s.bias_correction2_sqrt);
        const V denom = corrected + V(s.eps);
        const V numerator = V(s.neg_step_size) * m;
        store_at(param + i, p + numerator / denom);
    }
};

template <class T, bool WeightDecay, bool Centered, bool Momentum>
struct RMSpropStep {
    template <class V>
    CTGRAD_OPTIM_STEP_INLINE static void at(std::int64_t i, const RMSpropScalars<T>& s, T* param, const T* grad,
                                            T* square_avg, T* grad_avg, T* momentum_buffer) {
        const V p = load_at<V>(param + i);
        V g = load_at<V>(grad + i);
        if constexpr (WeightDecay) g = fmadd(V(s.weight_decay), p, g);
        const V sq_decayed = load_at<V>(square_avg + i) * V(s.alpha);
        const V scaled_g = V(s.one_minus_alpha) * g;
        const V sq = fmadd(scaled_g, g, sq_decayed);
        store_at(square_avg + i, sq);
        V avg;
        if constexpr (Centered) {
            const V ga_decayed = load_at<V>(grad_avg + i) * V(s.alpha);
            const V ga = fmadd(V(s.one_minus_alpha), g, ga_decayed);
            store_at(grad_avg + i, ga);
            avg = root(fmadd(-ga, ga, sq));  // square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        } else {
            avg = root(sq);
        }
        avg = avg + V(s.eps);
        if constexpr (Momentum) {
            const V buf_decayed = rounded(load_at<V>(momentum_buffer + i) * V(s.momentum));
            const V buf = buf_decayed + g / avg;
            store_at(momentum_buffer + i, buf);
            store_at(param + i, fmadd(V(s.neg_lr), buf, p));
        } else {
            const V numerator = V(s.neg_lr) * g;
            store_at(param + i, p + numerator / avg);
        }
    }
};

}  // namespace CTGRAD_SIMD_ABI
}  // namespace ctgrad::optim::detail
