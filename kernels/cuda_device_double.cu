// The double-precision kernels of the dynamic layer's element-wise expressions on CUDA, compiled
// apart from cuda_device.cu (which declares them extern) so that nvcc builds the two halves in
// parallel.
#include <type_traits>

#include <thrust/system/cuda/execution_policy.h>

#include <ctgrad/device/thrust/tensor_kernels.hpp>

#include "cuda_policy.hpp"

template struct ctgrad::thrust_kernels::expression_kernels<ctgrad::kernels::cuda_policy, double>;
