#pragma once
// Everything, as <torch/torch.h> gives it for libtorch: the dynamic layer (ctgrad::Tensor,
// autograd, custom Functions), nn (modules, functional, init), optim and save/load, plus the
// static layer (ctgrad::expr, compile-time derivatives fused into SIMD loops). A libtorch
// program ports with this include and `namespace torch = ctgrad;`.
#include "expr.hpp"
#include "nn.hpp"
#include "optim.hpp"
#include "serialize.hpp"
#include "tensor.hpp"
