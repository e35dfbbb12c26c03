#pragma once
// The optimizers' CPU element kernels: one pass over contiguous arrays that updates the
// parameter and its state buffers together with step_formulas.hpp's updates, in xsimd batches
// where they are exact (fma_dispatch.hpp). The bookkeeping (state, options, no-grad) lives in
// the optimizer headers; a device backend runs the same formulas behind entry points with these
// signatures (device/kernels.hpp).
#include <cstdint>

#include "../../core/parallel.hpp"

// fma_dispatch.hpp first: the formulas see its batch forms only if declared before them.
#include "../optimizer/fma_dispatch.hpp"
#include "../optimizer/formulas.hpp"

namespace ctgrad::optim::detail {
inline namespace CTGRAD_SIMD_ABI {

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

// Kernel over [0, n) in whole blocks shared among threads (core/parallel.hpp), each thread's part
// through its own offset pointers. Every element is updated by the same formula whichever thread
// takes it, so results do not depend on the thread count. Unused buffers stay null.
template <auto Kernel, class Scalars, class T, class... Buffers>
void run_in_parallel(const Scalars& s, std::int64_t n, T* param, const T* grad, Buffers*... buffers) {
    constexpr std::int64_t block = 4096;  // a multiple of every SIMD width: parts keep their alignment
    ctgrad::detail::parallel_for_blocks(n, block, [&](std::int64_t first, std::int64_t last) {
        run_kernel<Kernel>(s, last - first, param + first, grad + first, (buffers ? buffers + first : nullptr)...);
    });
}

// Entry points: pick the instantiation for the run-time flags, then the build (fma_dispatch.hpp).
// Buffers an option leaves unused may be null.
template <class T>
void sgd_update(const SGDScalars<T>& s, bool weight_decay, bool momentum, bool first_step, bool nesterov,
                std::int64_t n, T* param, const T* grad, T* buf) {
    auto go = [&]<bool W, bool M, bool F, bool N>() { run_in_parallel<sgd_loop<T, W, M, F, N>>(s, n, param, grad, buf); };
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
        run_in_parallel<adam_loop<T, D, W, A>>(s, n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq);
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
        run_in_parallel<rmsprop_loop<T, W, C, M>>(s, n, param, grad, square_avg, grad_avg, momentum_buffer);
    };
    auto with_momentum = [&]<bool W, bool C>() {
        momentum ? go.template operator()<W, C, true>() : go.template operator()<W, C, false>();
    };
    auto with_centered = [&]<bool W>() {
        centered ? with_momentum.template operator()<W, true>() : with_momentum.template operator()<W, false>();
    };
    weight_decay ? with_centered.template operator()<true>() : with_centered.template operator()<false>();
}

}  // namespace CTGRAD_SIMD_ABI
}  // namespace ctgrad::optim::detail
