#pragma once
// ctgrad::optim: SGD, Adam, AdamW and RMSprop in libtorch's spelling, updating parameters as
// PyTorch 1.13 does, rounding for rounding (docs/optim.md).
#include "tensor.hpp"  // the runtime, whose definitions a CTGRAD_HEADER_ONLY program compiles in
#include "optim/adam.hpp"
#include "optim/adamw.hpp"
#include "optim/optimizer.hpp"
#include "optim/rmsprop.hpp"
#include "optim/sgd.hpp"
