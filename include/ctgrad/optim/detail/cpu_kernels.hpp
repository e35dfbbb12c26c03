#pragma once
// The optimizers' CPU element kernels: one pass over contiguous arrays that updates the
// parameter and its state buffers together. Each statement is one tensor op of PyTorch 1.13's
// _single_tensor_<optimizer> and rounds as that op does in the parameter's dtype (the Python
// floats are converted to that dtype first, as ATen converts a Scalar); fma_dispatch.hpp says
// which of them fuse. The bookkeeping (state, options, no-grad) lives in the optimizer
// headers; another device would provide kernels with these entry points' signatures.
#include <cstdint>

#include "fma_dispatch.hpp"

namespace ctgrad::optim::detail {

// The per-step constants of SGD, in the parameter's dtype.
template <class T>
struct SGDScalars {
    T weight_decay;          // d_p = d_p.add(param, alpha=weight_decay)
    T momentum;              // buf.mul_(momentum)
    T one_minus_dampening;   // .add_(d_p, alpha=1 - dampening)
    T neg_lr;                // param.add_(d_p, alpha=-lr)
};

// Adam, and AdamW (decoupled: param.mul_(1 - lr * weight_decay) instead of the gradient's L2 term).
template <class T>
struct AdamScalars {
    T weight_decay;              // Adam: grad = grad.add(param, alpha=weight_decay)
    T decay;                     // AdamW: param.mul_(1 - lr * weight_decay)
    T beta1, one_minus_beta1;    // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    T beta2, one_minus_beta2;    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    T bias_correction2_sqrt;     // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    T eps;
    T neg_step_size;             // param.addcdiv_(exp_avg, denom, value=-step_size)
};

template <class T>
struct RMSpropScalars {
    T weight_decay;              // grad = grad.add(param, alpha=weight_decay)
    T alpha, one_minus_alpha;    // square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
    T eps;                       // avg = avg.add_(eps)
    T momentum;                  // buf.mul_(momentum).addcdiv_(grad, avg)
    T neg_lr;                    // param.add_(buf, alpha=-lr) or param.addcdiv_(grad, avg, value=-lr)
};

// FirstStep: the momentum buffer is born as a copy of d_p (torch.clone(d_p)).
template <class T, bool WeightDecay, bool Momentum, bool FirstStep, bool Nesterov>
struct SGDStep {
    template <class V>
    CTGRAD_OPTIM_ALWAYS_INLINE static void at(std::int64_t i, const SGDScalars<T>& s, T* param, const T* grad, T* buf) {
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
    CTGRAD_OPTIM_ALWAYS_INLINE static void at(std::int64_t i, const AdamScalars<T>& s, T* param, const T* grad,
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
    CTGRAD_OPTIM_ALWAYS_INLINE static void at(std::int64_t i, const RMSpropScalars<T>& s, T* param, const T* grad,
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

template <class T, bool W, bool M, bool F, bool N>
CTGRAD_OPTIM_ALWAYS_INLINE void sgd_loop(SGDScalars<T> s, std::int64_t n, T* param, const T* grad, T* buf) {
    element_loop<SGDStep<T, W, M, F, N>, T>(n, s, param, grad, buf);
}

template <class T, bool D, bool W, bool A>
CTGRAD_OPTIM_ALWAYS_INLINE void adam_loop(AdamScalars<T> s, std::int64_t n, T* param, const T* grad, T* exp_avg,
                                          T* exp_avg_sq, T* max_exp_avg_sq) {
    element_loop<AdamStep<T, D, W, A>, T>(n, s, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq);
}

template <class T, bool W, bool C, bool M>
CTGRAD_OPTIM_ALWAYS_INLINE void rmsprop_loop(RMSpropScalars<T> s, std::int64_t n, T* param, const T* grad,
                                             T* square_avg, T* grad_avg, T* momentum_buffer) {
    element_loop<RMSpropStep<T, W, C, M>, T>(n, s, param, grad, square_avg, grad_avg, momentum_buffer);
}

// Entry points: pick the instantiation for the run-time flags, then the build (fma_dispatch.hpp).
// Buffers an option leaves unused may be null.
template <class T>
void sgd_update(const SGDScalars<T>& s, bool weight_decay, bool momentum, bool first_step, bool nesterov,
                std::int64_t n, T* param, const T* grad, T* buf) {
    auto go = [&]<bool W, bool M, bool F, bool N>() { run_kernel<sgd_loop<T, W, M, F, N>>(s, n, param, grad, buf); };
    auto with_nesterov = [&]<bool W, bool F>() {
        nesterov ? go.template operator()<W, true, F, true>() : go.template operator()<W, true, F, false>();
    };
    auto with_momentum = [&]<bool W>() {
        if (!momentum) go.template operator()<W, false, false, false>();
        else if (first_step) with_nesterov.template operator()<W, true>();
        else with_nesterov.template operator()<W, false>();
    };
    weight_decay ? with_momentum.template operator()<true>() : with_momentum.template operator()<false>();
}

template <class T>
void adam_update(const AdamScalars<T>& s, bool decoupled, bool weight_decay, bool amsgrad, std::int64_t n, T* param,
                 const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq) {
    auto go = [&]<bool D, bool W, bool A>() {
        run_kernel<adam_loop<T, D, W, A>>(s, n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq);
    };
    auto with_amsgrad = [&]<bool D, bool W>() {
        amsgrad ? go.template operator()<D, W, true>() : go.template operator()<D, W, false>();
    };
    if (decoupled) with_amsgrad.template operator()<true, false>();
    else if (weight_decay) with_amsgrad.template operator()<false, true>();
    else with_amsgrad.template operator()<false, false>();
}

template <class T>
void rmsprop_update(const RMSpropScalars<T>& s, bool weight_decay, bool centered, bool momentum, std::int64_t n,
                    T* param, const T* grad, T* square_avg, T* grad_avg, T* momentum_buffer) {
    auto go = [&]<bool W, bool C, bool M>() {
        run_kernel<rmsprop_loop<T, W, C, M>>(s, n, param, grad, square_avg, grad_avg, momentum_buffer);
    };
    auto with_momentum = [&]<bool W, bool C>() {
        momentum ? go.template operator()<W, C, true>() : go.template operator()<W, C, false>();
    };
    auto with_centered = [&]<bool W>() {
        centered ? with_momentum.template operator()<W, true>() : with_momentum.template operator()<W, false>();
    };
    weight_decay ? with_centered.template operator()<true>() : with_centered.template operator()<false>();
}

}  // namespace ctgrad::optim::detail
