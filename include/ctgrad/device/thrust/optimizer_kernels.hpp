#pragma once
// The optimizers' update passes on a Thrust system: one thrust::for_each over the element
// indices per parameter, each index running the CPU kernels' scalar formula
// (device/optimizer/formulas.hpp). With thrust::cuda::par under nvcc that is one CUDA kernel;
// with thrust::omp::par the same code runs on CPU threads, which is how it is tested without a
// GPU. Entry points take the policy first, then the CPU entry points' parameters
// (device/cpu/optimizer_kernels.hpp); buffers an option leaves unused may be null.
#include <cstdint>
#include <string>

#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/system_error.h>

#include "../../core/config.hpp"
#include "../../core/error.hpp"
#if !defined(__CUDACC__)
// A host-compiled translation unit may run the CPU kernels too; their batch forms must precede
// the formulas (fma_dispatch.hpp says why), whichever header it includes first.
#include "../optimizer/fma_dispatch.hpp"
#endif
#include "../optimizer/formulas.hpp"

namespace ctgrad::thrust_optim {

template <class Step, class T>
struct sgd_element {
    optim::detail::SGDScalars<T> s;
    T* param;
    const T* grad;
    T* buf;
    CTGRAD_HOST_DEVICE void operator()(std::int64_t i) const { Step::template at<T>(i, s, param, grad, buf); }
};

template <class Step, class T>
struct adam_element {
    optim::detail::AdamScalars<T> s;
    T* param;
    const T* grad;
    T* exp_avg;
    T* exp_avg_sq;
    T* max_exp_avg_sq;
    CTGRAD_HOST_DEVICE void operator()(std::int64_t i) const {
        Step::template at<T>(i, s, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq);
    }
};

template <class Step, class T>
struct rmsprop_element {
    optim::detail::RMSpropScalars<T> s;
    T* param;
    const T* grad;
    T* square_avg;
    T* grad_avg;
    T* momentum_buffer;
    CTGRAD_HOST_DEVICE void operator()(std::int64_t i) const {
        Step::template at<T>(i, s, param, grad, square_avg, grad_avg, momentum_buffer);
    }
};

// Runs f over [0, n). Thrust reports a failed launch or kernel as thrust::system_error (with
// the CUDA error's text); it leaves here as a ctgrad::Error naming the update.
template <class Policy, class F>
void for_each_index(const Policy& policy, std::int64_t n, const F& f, const char* op) {
    try {
        thrust::for_each(policy, thrust::counting_iterator<std::int64_t>(0), thrust::counting_iterator<std::int64_t>(n),
                         f);
    } catch (const thrust::system_error& e) {
        throw Error(std::string(op) + ": " + e.what());
    }
}

}  // namespace ctgrad::thrust_optim

namespace ctgrad {

template <class Policy, class T>
void thrust_sgd_update(const Policy& policy, const optim::detail::SGDScalars<T>& s, bool weight_decay, bool momentum,
                       bool first_step, bool nesterov, std::int64_t n, T* param, const T* grad, T* buf) {
    auto go = [&]<bool W, bool M, bool F, bool N>() {
        using Step = optim::detail::SGDStep<T, W, M, F, N>;
        thrust_optim::for_each_index(policy, n, thrust_optim::sgd_element<Step, T>{s, param, grad, buf},
                                     "SGD update");
    };
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

template <class Policy, class T>
void thrust_adam_update(const Policy& policy, const optim::detail::AdamScalars<T>& s, bool decoupled,
                        bool weight_decay, bool amsgrad, std::int64_t n, T* param, const T* grad, T* exp_avg,
                        T* exp_avg_sq, T* max_exp_avg_sq) {
    auto go = [&]<bool D, bool W, bool A>() {
        using Step = optim::detail::AdamStep<T, D, W, A>;
        thrust_optim::for_each_index(
            policy, n, thrust_optim::adam_element<Step, T>{s, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq},
            decoupled ? "AdamW update" : "Adam update");
    };
    auto with_amsgrad = [&]<bool D, bool W>() {
        amsgrad ? go.template operator()<D, W, true>() : go.template operator()<D, W, false>();
    };
    if (decoupled) with_amsgrad.template operator()<true, false>();
    else if (weight_decay) with_amsgrad.template operator()<false, true>();
    else with_amsgrad.template operator()<false, false>();
}

template <class Policy, class T>
void thrust_rmsprop_update(const Policy& policy, const optim::detail::RMSpropScalars<T>& s, bool weight_decay,
                           bool centered, bool momentum, std::int64_t n, T* param, const T* grad, T* square_avg,
                           T* grad_avg, T* momentum_buffer) {
    auto go = [&]<bool W, bool C, bool M>() {
        using Step = optim::detail::RMSpropStep<T, W, C, M>;
        thrust_optim::for_each_index(
            policy, n,
            thrust_optim::rmsprop_element<Step, T>{s, param, grad, square_avg, grad_avg, momentum_buffer},
            "RMSprop update");
    };
    auto with_momentum = [&]<bool W, bool C>() {
        momentum ? go.template operator()<W, C, true>() : go.template operator()<W, C, false>();
    };
    auto with_centered = [&]<bool W>() {
        centered ? with_momentum.template operator()<W, true>() : with_momentum.template operator()<W, false>();
    };
    weight_decay ? with_centered.template operator()<true>() : with_centered.template operator()<false>();
}

}  // namespace ctgrad
