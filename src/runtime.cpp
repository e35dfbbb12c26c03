// The dynamic layer's runtime, compiled once: every public function of the tensor ops, the
// autograd engine, nn, the optimizers, serialization, printing and the MNIST reader is defined
// here (non-inline, see config.hpp), so that programs compile declarations only and link this
// library.
#define CTGRAD_BUILDING_RUNTIME 1
#include <ctgrad/data.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/serialize.hpp>
#include <ctgrad/tensor.hpp>
