#pragma once
// ctgrad::optim: SGD, Adam, AdamW, RMSprop, Adagrad and LBFGS, and the StepLR schedule, in
// libtorch's spelling, updating parameters as PyTorch 1.13 does (docs/optim.md).
#include "tensor.hpp"  // the runtime, whose definitions a CTGRAD_HEADER_ONLY program compiles in
#include "optim/adagrad.hpp"
#include "optim/adam.hpp"
#include "optim/adamw.hpp"
#include "optim/lbfgs.hpp"
#include "optim/optimizer.hpp"
#include "optim/rmsprop.hpp"
#include "optim/schedulers/lr_scheduler.hpp"
#include "optim/schedulers/reduce_on_plateau_scheduler.hpp"
#include "optim/schedulers/step_lr.hpp"
#include "optim/sgd.hpp"
