#pragma once
// The per-step constants of each optimizer's update pass, in the parameter's dtype (the Python
// floats of PyTorch's _single_tensor_<optimizer> converted first, as ATen converts a Scalar).
// Plain structs shared by the CPU kernels and the device kernels' interface.
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

}  // namespace ctgrad::optim::detail
