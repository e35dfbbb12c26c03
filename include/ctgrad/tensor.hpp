#pragma once
// The dynamic layer: ctgrad::Tensor with autograd, in the image of libtorch's C++ frontend.
// Include this header (or ctgrad/ctgrad.hpp for both layers).
#include "autograd/engine.hpp"
#include "autograd/grad_mode.hpp"
#include "ops/conversion.hpp"
#include "ops/elementwise.hpp"
#include "ops/inplace.hpp"
#include "ops/reduction.hpp"
#include "ops/views.hpp"
#include "tensor/factories.hpp"
#include "tensor/print.hpp"
#include "tensor/tensor.hpp"
