#pragma once
// Everything, as <torch/torch.h> gives it for libtorch: the dynamic layer (ctgrad::Tensor,
// autograd, custom Functions), nn (modules, functional, init), optim, save/load and data
// (datasets, transforms, samplers, data loaders), plus the static layer (ctgrad::expr,
// compile-time derivatives fused into SIMD loops). A libtorch program ports with this include
// and `namespace torch = ctgrad;`.
#include "data.hpp"
#include "expr.hpp"
#include "nn.hpp"
#include "optim.hpp"
#include "serialize.hpp"
#include "tensor.hpp"
