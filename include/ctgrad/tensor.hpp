#pragma once
// The dynamic layer: ctgrad::Tensor with autograd, in the image of libtorch's C++ frontend.
// Include this header (or ctgrad/ctgrad.hpp for everything) and link the library ctgrad: a
// program compiles the declarations below, and the runtime they name is compiled once, into
// the library (see config.hpp). Opt-in headers with templates of their own:
// ctgrad/tensor/xtensor.hpp (xtensor interop) and ctgrad/ops/fuse.hpp (the static layer
// fused into one autograd node).
#include "autograd/backward.hpp"
#include "autograd/function.hpp"
#include "autograd/grad_mode.hpp"
#include "core/config.hpp"
#include "core/check.hpp"
#include "core/parallel.hpp"
#include "cuda.hpp"
#include "tensor/functions.hpp"
#include "tensor/generator.hpp"
#include "tensor/tensor.hpp"
#include "tensor/tensor_data.hpp"

// The runtime itself: compiled into the library, or into a CTGRAD_HEADER_ONLY program.
#if CTGRAD_RUNTIME_DEFINITIONS
#include "autograd/engine.hpp"
#include "device/cpu/dispatch.hpp"
#include "ops/compare.hpp"
#include "ops/conversion.hpp"
#include "ops/elementwise.hpp"
#include "ops/inplace.hpp"
#include "ops/join.hpp"
#include "ops/linalg.hpp"
#include "ops/minmax.hpp"
#include "ops/norm.hpp"
#include "ops/reduction.hpp"
#include "ops/views.hpp"
#include "tensor/factories.hpp"
#include "ops/print.hpp"
#include "tensor/npy.hpp"
#include "ops/addmm.hpp"
#include "ops/loss.hpp"
#include "ops/softmax.hpp"
#include "ops/classification.hpp"
#include "ops/dropout.hpp"
#include "ops/pad.hpp"
#include "ops/conv.hpp"
#include "ops/conv_transpose.hpp"
#include "ops/pooling.hpp"
#include "ops/gather.hpp"
#include "ops/where.hpp"
#include "ops/activation.hpp"
#include "ops/batch_norm.hpp"
#include "ops/embedding.hpp"
#include "ops/binary_cross_entropy.hpp"
#endif
