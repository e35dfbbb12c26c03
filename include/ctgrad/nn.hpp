#pragma once
// ctgrad::nn: modules, layers, losses and initialisers in the image of libtorch's C++ frontend
// (torch::nn), with PyTorch 1.13's semantics. docs/nn.md describes it.
#include "tensor.hpp"  // the runtime, whose definitions a CTGRAD_HEADER_ONLY program compiles in
#include "nn/activation.hpp"
#include "nn/any_module.hpp"
#include "nn/conv.hpp"
#include "nn/dropout.hpp"
#include "nn/enum.hpp"
#include "nn/expanding_array.hpp"
#include "nn/flatten.hpp"
#include "nn/functional.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/module.hpp"
#include "nn/options.hpp"
#include "nn/ordered_dict.hpp"
#include "nn/pimpl.hpp"
#include "nn/pooling.hpp"
#include "nn/sequential.hpp"
#include "serialize.hpp"
