#pragma once
// See this folder's tensor.hpp: every ctgrad header is libtorch's torch/torch.h here.
#include <ctgrad/tensor.hpp>
