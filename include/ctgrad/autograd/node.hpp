#pragma once
// A node of the backward graph: it receives the gradients of the outputs of one forward
// operation and returns the gradients of its inputs, which flow along `next_edges` to the nodes
// that made those inputs (or to a leaf's AccumulateGrad).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "../core/config.hpp"
#include "../tensor/tensor.hpp"
#include "hooks.hpp"

namespace ctgrad::autograd {

struct Node;

// Where a gradient goes: input `input_nr` of `function` (an empty edge: nowhere).
struct Edge {
    std::shared_ptr<Node> function;
    std::uint32_t input_nr = 0;
    bool is_valid() const { return function != nullptr; }
};

// Recording an op must cost little next to the op itself on small tensors, and each heap
// allocation (a malloc and later a free) costs about what a 0-d addition does. Nearly every node
// has one or two inputs, one output and a rank of at most four, so the lists a node keeps hold
// that many in place and reach for the heap only beyond it (libtorch's SmallVector does the same).
using edge_list = boost::container::small_vector<Edge, 2>;
using shape_list = boost::container::small_vector<std::int64_t, 4>;

// What a forward output looked like, so that the engine can check (and reduce a broadcast)
// the gradient arriving for it, and make zeros for an output nobody used.
struct InputMetadata {
    InputMetadata(IntArrayRef shape, ScalarType type, Device on);
    IntArrayRef shape() const { return {sizes.data(), sizes.size()}; }

    shape_list sizes;
    ScalarType dtype = kFloat;
    Device device;
};

struct Node : std::enable_shared_from_this<Node> {
    Node();
    // Out of line: the library holds Node's vtable and the one copy of its members' teardown.
    virtual ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // Gradients of the outputs in, gradients of the inputs out (one per next edge).
    virtual variable_list apply(variable_list&& grads) = 0;
    // PyTorch's class name of the node, e.g. "MulBackward0".
    virtual std::string name() const = 0;
    // Frees what was saved for backward (after a backward pass without retain_graph).
    virtual void release_variables() {}

    const edge_list& next_edges() const { return next_edges_; }
    const Edge& next_edge(std::size_t i) const { return next_edges_[i]; }
    std::size_t num_outputs() const { return next_edges_.size(); }
    std::size_t num_inputs() const { return input_metadata_.size(); }
    std::uint64_t sequence_nr() const { return sequence_nr_; }
    // Whether the gradient of forward input i is wanted (libtorch's needs_input_grad).
    bool should_compute_output(std::size_t i) const { return i < next_edges_.size() && next_edges_[i].is_valid(); }

    edge_list next_edges_;
    boost::container::small_vector<InputMetadata, 1> input_metadata_;
    // The hooks of non-leaf outputs (register_hook, retain_grad): output number and the list,
    // shared with the tensor, so that hooks it registers later run too, and kept by the node, so
    // that they run even after the tensor is gone (as in PyTorch).
    std::vector<std::pair<std::uint32_t, std::shared_ptr<TensorHooks>>> tensor_hooks_;

private:
    // Later nodes run first among those ready, as in PyTorch (deterministic order).
    static std::uint64_t next_sequence_nr();
    std::uint64_t sequence_nr_;
};

// Accumulates the gradient reaching a leaf into its .grad. The engine runs the three steps of
// apply() apart, each over every leaf of a pass before the next (autograd/engine.hpp), so that a
// .grad that cannot take its gradient is found before any leaf's .grad changes.
struct AccumulateGrad final : Node {
    explicit AccumulateGrad(std::shared_ptr<TensorImpl> v);
    variable_list apply(variable_list&& grads) override;  // autograd/engine.hpp
    std::string name() const override { return "torch::autograd::AccumulateGrad"; }

    // Throws unless the variable's .grad, if any, can take a gradient: assigned by hand, it may
    // have another shape, dtype or device than the variable, or memory it cannot be added into.
    void check_grad() const;
    // The variable's next .grad when it is a new tensor (the first gradient, or a sum recorded
    // for a higher derivative); nullptr when `g` is to be added into the current .grad in place.
    std::shared_ptr<TensorImpl> next_grad(const Tensor& g) const;
    // Stores what next_grad prepared; after check_grad passed, nothing here can fail on a
    // gradient of the variable's shape.
    void store_grad(std::shared_ptr<TensorImpl> next, const Tensor& g);

    std::shared_ptr<TensorImpl> variable;
};

// The edge along which a gradient for `t` must flow: its grad_fn, or its leaf accumulator
// (made on first use and shared by every graph that uses the leaf), or nothing.
Edge gradient_edge(const Tensor& t);

}  // namespace ctgrad::autograd

#if CTGRAD_RUNTIME_DEFINITIONS
#include <atomic>

namespace ctgrad::autograd {

CTGRAD_API InputMetadata::InputMetadata(IntArrayRef shape, ScalarType type, Device on)
    : sizes(shape.begin(), shape.end()), dtype(type), device(on) {}

CTGRAD_API Node::Node() : sequence_nr_(next_sequence_nr()) {}
CTGRAD_API Node::~Node() = default;

CTGRAD_API std::uint64_t Node::next_sequence_nr() {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed);
}

CTGRAD_API AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> v) : variable(std::move(v)) {
    input_metadata_.push_back({variable->sizes, variable->dtype, variable->storage->device()});
}

CTGRAD_API Edge gradient_edge(const Tensor& t) {
    if (!t.defined()) return {};
    TensorImpl& impl = *t.unsafeGetTensorImpl();
    impl.refresh_view();
    if (impl.grad_fn) return {impl.grad_fn, impl.output_nr};
    if (!impl.requires_grad) return {};
    auto acc = impl.grad_accumulator.lock();
    if (!acc) {
        acc = std::make_shared<AccumulateGrad>(t.impl());
        impl.grad_accumulator = acc;
    }
    return {std::move(acc), 0};
}

}  // namespace ctgrad::autograd
#endif  // CTGRAD_RUNTIME_DEFINITIONS
