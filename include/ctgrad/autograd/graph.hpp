#pragma once
// Recording an operation in the graph: when grad mode is on and an input requires grad, the
// op's outputs get a node whose next edges lead to the inputs' nodes.
#include <initializer_list>
#include <memory>
#include <utility>

#include "../core/config.hpp"
#include "grad_mode.hpp"
#include "node.hpp"

namespace ctgrad::autograd {

// Whether an op with these inputs records a node.
bool compute_requires_grad(std::initializer_list<const Tensor*> inputs);
bool compute_requires_grad(const variable_list& inputs);

void set_next_edges(Node& node, std::initializer_list<const Tensor*> inputs);
void set_next_edges(Node& node, const variable_list& inputs);

// Makes `node` the grad_fn of `outputs` (in order: output_nr 0, 1, ...).
void set_history(const std::shared_ptr<Node>& node, std::initializer_list<const Tensor*> outputs);

// The common case: one output; inputs given as pointers. Returns the node for saving tensors.
template <class NodeT, class... Args>
std::shared_ptr<NodeT> record(const Tensor& output, std::initializer_list<const Tensor*> inputs, Args&&... args) {
    auto node = std::make_shared<NodeT>(std::forward<Args>(args)...);
    set_next_edges(*node, inputs);
    set_history(node, {&output});
    return node;
}

}  // namespace ctgrad::autograd

// Compiled into the library (see config.hpp), where every op records with them in sight.
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::autograd {

CTGRAD_API bool compute_requires_grad(std::initializer_list<const Tensor*> inputs) {
    if (!GradMode::is_enabled()) return false;
    for (const Tensor* t : inputs)
        if (t->defined() && t->requires_grad()) return true;
    return false;
}
CTGRAD_API bool compute_requires_grad(const variable_list& inputs) {
    if (!GradMode::is_enabled()) return false;
    for (const Tensor& t : inputs)
        if (t.defined() && t.requires_grad()) return true;
    return false;
}

CTGRAD_API void set_next_edges(Node& node, std::initializer_list<const Tensor*> inputs) {
    node.next_edges_.clear();
    node.next_edges_.reserve(inputs.size());
    for (const Tensor* t : inputs) node.next_edges_.push_back(gradient_edge(*t));
}
CTGRAD_API void set_next_edges(Node& node, const variable_list& inputs) {
    node.next_edges_.clear();
    node.next_edges_.reserve(inputs.size());
    for (const Tensor& t : inputs) node.next_edges_.push_back(gradient_edge(t));
}

CTGRAD_API void set_history(const std::shared_ptr<Node>& node, std::initializer_list<const Tensor*> outputs) {
    std::uint32_t nr = 0;
    for (const Tensor* t : outputs) {
        TensorImpl& impl = *t->unsafeGetTensorImpl();
        impl.requires_grad = true;
        impl.grad_fn = node;
        impl.output_nr = nr++;
        node->input_metadata_.push_back({impl.sizes, impl.dtype, impl.storage->device()});
    }
}

}  // namespace ctgrad::autograd
#endif  // CTGRAD_RUNTIME_DEFINITIONS
