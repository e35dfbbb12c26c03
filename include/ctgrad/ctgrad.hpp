#pragma once
// Both layers: the static layer (ctgrad::expr, compile-time derivatives fused into SIMD loops)
// and the dynamic layer (ctgrad::Tensor, autograd, in the image of libtorch).
#include "expr.hpp"
#include "tensor.hpp"
