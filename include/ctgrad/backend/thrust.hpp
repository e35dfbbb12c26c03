#pragma once
// The static layer's Thrust backend and the Thrust vector adapter:
//   value_and_grad(thrust::omp::par, loss, wrt(a, b), x = xs, ...)
//   value_and_grad(thrust::device, loss, wrt(a, b), x = d_xs, ...)   // under nvcc: one kernel
#include "../adapt/thrust.hpp"
#include "thrust/executor.hpp"
