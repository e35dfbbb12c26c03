#pragma once
// The backward pass's entry points, as torch::autograd spells them; the engine that runs them is
// autograd/engine.hpp.
#include <functional>
#include <optional>

#include "../tensor/tensor.hpp"

namespace ctgrad::autograd {

// Gradients of `outputs` with respect to `inputs` (returned, not accumulated into .grad; an
// empty `inputs` is an error, as in libtorch). `create_graph` records the backward pass itself,
// for higher-order derivatives. The captured gradients are taken before the hooks of the
// captured tensors run (those hooks do not run; hooks on the way there do), as in PyTorch 1.13.
variable_list grad(const variable_list& outputs, const variable_list& inputs, const variable_list& grad_outputs = {},
                   std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                   bool allow_unused = false);

// Accumulates gradients of `tensors` into the leaves' .grad (torch.autograd.backward). With
// `inputs`, only into theirs: the other leaves' .grad stay as they are, a non-leaf input is made
// to retain its gradient (retain_grad(), for good, as in libtorch), and only the part of the
// graph leading to the inputs runs.
void backward(const variable_list& tensors, const variable_list& grad_tensors = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
              const variable_list& inputs = {});

// Runs `callback` on this thread when the backward pass now running on it ends, after that pass
// has stored every .grad (PyTorch's Variable._execution_engine.queue_callback): a Function's
// backward, which sees one gradient, can so act on all of them, as DistributedDataParallel does
// to average them across processes. Callbacks run in the order queued (one may queue another);
// a pass that fails runs none. Called outside a backward pass, it throws ctgrad::Error.
void queue_callback(std::function<void()> callback);

}  // namespace ctgrad::autograd
