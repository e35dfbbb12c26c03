#pragma once
// The backward pass. From the roots' nodes, count how many edges lead into every node of the
// graph; then run each node once all gradients for it have arrived, later nodes first among the
// ready ones (PyTorch's order), summing the gradients that reach one input. Runs on the calling
// thread with no shared state, so independent graphs on different threads do not interact.
// Nothing outside the pass changes until every node has run: the gradients of leaves and of
// retained tensors are collected, and stored, and saved tensors freed, only at the end, so that
// a pass that fails (a freed graph, a saved tensor modified in place, a custom Function's
// backward that throws or returns a gradient of the wrong shape) leaves every .grad and the
// graph as they were. Storing is itself split in three: every .grad that will be written is
// checked (a .grad assigned by hand with another shape, dtype or device is an error), then every
// new .grad tensor is computed, and only then is anything written, by steps that cannot fail.
// Callbacks queued during the pass (queue_callback) run after that, so they see every .grad.
#include <algorithm>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../core/config.hpp"
#include "../tensor/functions.hpp"
#include "backward.hpp"
#include "graph.hpp"
#include "node.hpp"
#include "saved_variable.hpp"

namespace ctgrad::autograd {

namespace detail {

struct ready_order {
    bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

// A gradient arriving for forward output `meta`: summed down to its shape when the op
// broadcast, checked otherwise (a custom Function's backward can return anything), and cast to
// its dtype as PyTorch does: an op that promoted a float operand with a double one returns a
// double gradient for the float operand, and a leaf's .grad must have the leaf's dtype.
inline Tensor validate_gradient(const Tensor& g, const InputMetadata& meta, const Node& from, std::size_t index) {
    Tensor shaped = g;
    if (!(g.sizes() == meta.shape())) {
        // A gradient for an expanded operand reduces to the operand's shape.
        try {
            shaped = sum_to(g, meta.shape());
        } catch (const Error&) {
            throw Error("Function " + from.name() + " returned an invalid gradient at index " + std::to_string(index) +
                        " - got " + shape_str(g.sizes()) + " but expected shape compatible with " +
                        shape_str(meta.shape()));
        }
    }
    if (shaped.scalar_type() != meta.dtype) return shaped.to(meta.dtype);
    return shaped;
}

// Throws unless `owner`'s .grad, if any, can take a gradient of `owner`: the same shape, dtype
// and device (PyTorch checks these when .grad is assigned; a .grad assigned through
// mutable_grad() is checked here, before a pass stores anything), and, when the sum is written
// into it `in_place`, no two elements sharing memory. `what` is "leaf" or "tensor".
inline void check_stored_grad(const TensorImpl& owner, const char* what, bool in_place) {
    if (!owner.grad) return;
    const TensorImpl& grad = *owner.grad;
    const char* start = "backward: assigned grad has data ";  // a std::string here would cost an allocation per leaf and pass
    if (grad.sizes != owner.sizes)
        throw Error(std::string(start) + "of a different size: the " + what + " has shape " + shape_str(owner.sizes) +
                    " but its .grad has shape " + shape_str(grad.sizes));
    if (grad.dtype != owner.dtype)
        throw Error(std::string(start) + "of a different type: the " + what + " has dtype " + dtype_name(owner.dtype) +
                    " but its .grad has dtype " + dtype_name(grad.dtype) + " (shape " + shape_str(owner.sizes) + ")");
    if (!(grad.storage->device() == owner.storage->device()))
        throw Error(std::string(start) + "located on a different device: the " + what + " is on " +
                    owner.storage->device().str() + " but its .grad is on " + grad.storage->device().str() +
                    " (shape " + shape_str(owner.sizes) + ")");
    if (in_place)
        for (std::size_t d = 0; d < grad.sizes.size(); ++d)
            if (grad.strides[d] == 0 && grad.sizes[d] > 1)
                throw Error(std::string("backward: the .grad of a ") + what + " of shape " + shape_str(owner.sizes) +
                            " cannot be accumulated into in place: more than one of its elements refers to a "
                            "single memory location. Please clone() it first.");
}

// The callbacks queued by the pass running on this thread (queue_callback), or null outside a
// pass. A pass run from inside another (autograd::grad in a Function's backward) has its own
// list for its duration.
using callback_list = std::vector<std::function<void()>>;
inline callback_list*& current_callbacks() {
    thread_local callback_list* current = nullptr;
    return current;
}
struct callbacks_scope {
    explicit callbacks_scope(callback_list& own) : previous(current_callbacks()) { current_callbacks() = &own; }
    ~callbacks_scope() { current_callbacks() = previous; }
    callbacks_scope(const callbacks_scope&) = delete;
    callbacks_scope& operator=(const callbacks_scope&) = delete;
    callback_list* previous;
};

inline void accumulate(Tensor& slot, Tensor g) {
    if (!slot.defined()) slot = std::move(g);
    else slot = add(slot, g);
}

// The gradients a pass keeps for retain_grad tensors, stored when the pass has succeeded.
using retained_list = std::vector<std::pair<std::shared_ptr<TensorImpl>, Tensor>>;

// Runs a tensor's hooks on its gradient `g` in the order registered (autograd/hooks.hpp). A hook
// that returns a tensor replaces `g`, which must keep its shape, dtype and device, as PyTorch
// checks; the place of retain_grad records `g` as it is there. By index, as a hook may register
// another, which then runs too.
inline void run_tensor_hooks(TensorHooks& hooks, Tensor& g, retained_list& retained, bool create_graph) {
    for (std::size_t i = 0; i < hooks.entries.size(); ++i) {
        if (hooks.entries[i].retains_grad) {
            if (auto t = hooks.tensor.lock()) retained.emplace_back(std::move(t), create_graph ? g : g.detach());
            continue;
        }
        if (!hooks.entries[i].hook) continue;  // removed
        const auto hook = hooks.entries[i].hook;  // a copy: registering another may move the list
        Tensor result = hook(g);
        if (!result.defined()) continue;
        const std::string which = "backward: hook '" + std::to_string(i) + "' has changed the ";
        if (!(result.sizes() == g.sizes()))
            throw Error(which + "size of value (was " + shape_str(g.sizes()) + " got " + shape_str(result.sizes()) + ")");
        if (result.scalar_type() != g.scalar_type())
            throw Error(which + "type of value (was " + dtype_name(g.scalar_type()) + " got " +
                        dtype_name(result.scalar_type()) + ", shape " + shape_str(g.sizes()) + ")");
        if (!(result.device() == g.device()))
            throw Error(which + "device of value (was " + g.device().str() + " got " + result.device().str() +
                        ", shape " + shape_str(g.sizes()) + ")");
        g = std::move(result);
    }
}

// The hooks on a tensor's gradient, made on first use; a non-leaf's list is also given to the
// node that made it, which runs it (a leaf's runs where its gradient is accumulated).
inline TensorHooks& hooks_of(const std::shared_ptr<TensorImpl>& impl) {
    if (!impl->hooks) {
        auto hooks = std::make_shared<TensorHooks>();
        hooks->tensor = impl;
        impl->refresh_view();
        if (impl->grad_fn) impl->grad_fn->tensor_hooks_.emplace_back(impl->output_nr, hooks);
        impl->hooks = std::move(hooks);
    }
    return *impl->hooks;
}

}  // namespace detail

// Runs backward from `roots` (with `grad_roots`, one per root). With `captures` empty, leaf
// gradients accumulate into .grad. Otherwise only the nodes that lead to a captured edge run,
// and either the gradients flowing into the captured edges are returned, one per capture
// (autograd::grad), or, with `accumulate`, the captured edges are those of backward's `inputs`:
// only those leaves accumulate into .grad (non-leaf inputs retain theirs), nothing is returned.
// A node's tensor hooks run when the node runs, before it (a leaf's: before accumulating); a
// captured gradient is taken before them, as in PyTorch.
inline variable_list run_backward(const variable_list& roots, const variable_list& grad_roots, bool keep_graph,
                                  bool create_graph, const std::vector<Edge>& captures = {},
                                  bool allow_unused = true, bool accumulate = false) {
    detail::callback_list callbacks;
    detail::callbacks_scope callbacks_of_this_pass(callbacks);
    std::vector<Edge> root_edges;
    for (std::size_t i = 0; i < roots.size(); ++i) {
        Edge e = gradient_edge(roots[i]);
        if (!e.is_valid())
            throw Error("element " + std::to_string(i) + " of tensors does not require grad and does not have a grad_fn");
        root_edges.push_back(std::move(e));
    }

    // Dependencies: how many edges reach each node from the part of the graph the roots see.
    std::unordered_map<Node*, int> dependencies;
    std::unordered_set<Node*> seen;
    std::vector<Node*> stack;
    for (auto& e : root_edges)
        if (seen.insert(e.function.get()).second) stack.push_back(e.function.get());
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        for (const Edge& next : n->next_edges()) {
            if (!next.is_valid()) continue;
            ++dependencies[next.function.get()];
            if (seen.insert(next.function.get()).second) stack.push_back(next.function.get());
        }
    }

    // With captures, run only the nodes from which a captured node can be reached.
    std::unordered_map<Node*, bool> needed;
    const bool capturing = !captures.empty();
    if (capturing) {
        std::unordered_set<Node*> targets;
        for (const Edge& c : captures)
            if (c.is_valid()) targets.insert(c.function.get());
        // Post-order over the seen subgraph.
        std::vector<std::pair<Node*, std::size_t>> walk;
        for (auto& e : root_edges) {
            if (needed.count(e.function.get())) continue;
            walk.push_back({e.function.get(), 0});
            needed[e.function.get()] = false;
            while (!walk.empty()) {
                auto& [n, i] = walk.back();
                if (i < n->next_edges().size()) {
                    const Edge& next = n->next_edges()[i++];
                    if (next.is_valid() && !needed.count(next.function.get())) {
                        needed[next.function.get()] = false;
                        walk.push_back({next.function.get(), 0});
                    }
                    continue;
                }
                bool need = targets.count(n) > 0;
                for (const Edge& next : n->next_edges())
                    if (next.is_valid() && needed[next.function.get()]) need = true;
                needed[n] = need;
                walk.pop_back();
            }
        }
    }

    std::vector<Tensor> captured(captures.size());
    std::unordered_map<Node*, variable_list> buffers;
    std::priority_queue<Node*, std::vector<Node*>, detail::ready_order> ready;
    std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;

    for (std::size_t i = 0; i < root_edges.size(); ++i) {
        Node* n = root_edges[i].function.get();
        auto& buffer = buffers[n];
        buffer.resize(n->num_inputs());
        // A root's gradient, like every other, arrives in its tensor's dtype (validate_gradient).
        const ScalarType root_dtype = n->input_metadata_[root_edges[i].input_nr].dtype;
        detail::accumulate(buffer[root_edges[i].input_nr], grad_roots[i].scalar_type() == root_dtype
                                                                 ? grad_roots[i]
                                                                 : grad_roots[i].to(root_dtype));
        keep_alive[n] = root_edges[i].function;
    }
    for (auto& [n, _] : buffers)
        if (dependencies[n] == 0) ready.push(n);

    // With captures, a node runs only when one of its inputs' nodes leads to a captured one
    // (a captured non-leaf's own node does not run: its saved tensors stay for later calls).
    auto feeds_a_capture = [&](Node* n) {
        for (const Edge& e : n->next_edges())
            if (e.is_valid() && needed[e.function.get()]) return true;
        return false;
    };
    AutoGradMode mode(create_graph);
    std::vector<std::pair<std::shared_ptr<Node>, variable_list>> leaf_gradients;
    detail::retained_list retained_gradients;
    std::vector<std::shared_ptr<Node>> ran;
    while (!ready.empty()) {
        Node* n = ready.top();
        ready.pop();
        std::shared_ptr<Node> hold = keep_alive[n];
        keep_alive.erase(n);
        variable_list outputs;
        auto found = buffers.find(n);
        // A node that no gradient reached still passes on its edges' dependencies.
        const bool reached = found != buffers.end();
        if (reached) {
            variable_list inputs = std::move(found->second);
            buffers.erase(found);
            inputs.resize(n->num_inputs());
            // Outputs nobody used get zeros, so every backward formula sees defined gradients.
            for (std::size_t i = 0; i < inputs.size(); ++i)
                if (!inputs[i].defined()) {
                    const auto& m = n->input_metadata_[i];
                    inputs[i] = zeros(m.shape(), TensorOptions().dtype(m.dtype).device(m.device));
                }
            if (!accumulate)
                for (std::size_t c = 0; c < captures.size(); ++c)
                    if (captures[c].function.get() == n) detail::accumulate(captured[c], inputs[captures[c].input_nr]);
            auto* leaf_node = dynamic_cast<AccumulateGrad*>(n);
            // Whether this node's work is wanted: every node's without captures; with backward's
            // inputs, a node's on the way to one (an input's own included); with autograd::grad's,
            // a non-leaf's that feeds one. Only then do its tensor hooks run.
            const bool runs = !capturing ? true : accumulate ? needed[n] : !leaf_node && feeds_a_capture(n);
            if (runs) {
                if (leaf_node) {
                    if (leaf_node->variable->hooks)
                        detail::run_tensor_hooks(*leaf_node->variable->hooks, inputs[0], retained_gradients,
                                                 create_graph);
                } else {
                    for (auto& [nr, hooks] : n->tensor_hooks_)
                        detail::run_tensor_hooks(*hooks, inputs[nr], retained_gradients, create_graph);
                }
            }
            if (runs && leaf_node) {
                leaf_gradients.emplace_back(hold, std::move(inputs));
            } else if (runs && (!accumulate || feeds_a_capture(n))) {
                outputs = n->apply(std::move(inputs));
                ran.push_back(hold);
                if (outputs.size() != n->num_outputs())
                    throw Error("Function " + n->name() + " returned an incorrect number of gradients (expected " +
                                std::to_string(n->num_outputs()) + ", got " + std::to_string(outputs.size()) + ")");
            }
        }
        for (std::size_t i = 0; i < n->num_outputs(); ++i) {
            const Edge& next = n->next_edges()[i];
            if (!next.is_valid()) continue;
            Node* m = next.function.get();
            if (i < outputs.size() && outputs[i].defined()) {
                Tensor g = detail::validate_gradient(outputs[i], m->input_metadata_[next.input_nr], *n, i);
                auto& buffer = buffers[m];
                buffer.resize(m->num_inputs());
                detail::accumulate(buffer[next.input_nr], std::move(g));
            }
            keep_alive.emplace(m, next.function);
            if (--dependencies[m] == 0) ready.push(m);
        }
    }

    if (capturing && !accumulate && !allow_unused)
        for (std::size_t c = 0; c < captured.size(); ++c)
            if (!captured[c].defined())
                throw Error("One of the differentiated Tensors appears to not have been used in the graph. Set "
                            "allow_unused=True if this is the desired behavior.");
    // The pass succeeded: check every .grad it writes, then compute every new one (the steps
    // that can fail: a check, an allocation), then store them all, in the order PyTorch does.
    // Saved tensors are freed only after a successful pass; PyTorch frees them as it goes, so
    // there a failed pass cannot be retried, here it can (with the same gradients).
    for (auto& [t, g] : retained_gradients) detail::check_stored_grad(*t, "tensor", /*in_place=*/false);
    for (auto& [node, grads] : leaf_gradients) static_cast<AccumulateGrad&>(*node).check_grad();
    std::vector<std::shared_ptr<TensorImpl>> next_grads;
    next_grads.reserve(retained_gradients.size() + leaf_gradients.size());
    for (auto& [t, g] : retained_gradients)
        next_grads.push_back(t->grad ? add(Tensor(t->grad), g).impl() : g.clone().impl());
    for (auto& [node, grads] : leaf_gradients)
        next_grads.push_back(static_cast<AccumulateGrad&>(*node).next_grad(grads[0]));
    std::size_t next = 0;
    for (auto& [t, g] : retained_gradients) t->grad = std::move(next_grads[next++]);
    for (auto& [node, grads] : leaf_gradients)
        static_cast<AccumulateGrad&>(*node).store_grad(std::move(next_grads[next++]), grads[0]);
    if (!keep_graph)
        for (auto& node : ran) node->release_variables();
    // By index: a callback may queue another, which runs after it. Each is moved out before it
    // runs, as queueing may move the list.
    for (std::size_t i = 0; i < callbacks.size(); ++i) {
        std::function<void()> callback = std::move(callbacks[i]);
        callback();
    }
    return captured;
}

CTGRAD_API void queue_callback(std::function<void()> callback) {
    detail::callback_list* callbacks = detail::current_callbacks();
    if (!callbacks)
        throw Error("queue_callback: no backward pass is running on this thread (a callback can only be queued "
                    "from inside one, e.g. from a custom Function's backward)");
    if (!callback) throw Error("queue_callback: the callback is empty");
    callbacks->push_back(std::move(callback));
}

// Without grad mode (no create_graph) a sum is written into the existing .grad in place.
CTGRAD_API void AccumulateGrad::check_grad() const {
    detail::check_stored_grad(*variable, "leaf", /*in_place=*/!GradMode::is_enabled());
}

CTGRAD_API std::shared_ptr<TensorImpl> AccumulateGrad::next_grad(const Tensor& g) const {
    // The stored .grad must not alias a tensor the graph (or the caller) still holds.
    if (!variable->grad) return (GradMode::is_enabled() ? g.clone() : g.detach().clone()).impl();
    if (GradMode::is_enabled()) return add(Tensor(variable->grad), g).impl();
    return nullptr;
}

CTGRAD_API void AccumulateGrad::store_grad(std::shared_ptr<TensorImpl> next, const Tensor& g) {
    if (next) variable->grad = std::move(next);
    else Tensor(variable->grad).add_(g.detach());
}

CTGRAD_API variable_list AccumulateGrad::apply(variable_list&& grads) {
    check_grad();
    store_grad(next_grad(grads[0]), grads[0]);
    return {};
}

namespace detail {
inline Tensor implicit_root_gradient(const Tensor& root) {
    if (root.numel() != 1) throw Error("grad can be implicitly created only for scalar outputs");
    return ones_like(root);
}
}  // namespace detail

// Gradients of `outputs` with respect to `inputs` (returned, not accumulated into .grad).
// `create_graph` records the backward pass itself, for higher-order derivatives.
CTGRAD_API variable_list grad(const variable_list& outputs, const variable_list& inputs,
                              const variable_list& grad_outputs, std::optional<bool> retain_graph, bool create_graph,
                              bool allow_unused) {
    if (inputs.empty()) throw Error("grad requires non-empty inputs.");
    variable_list roots_grads;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        if (i < grad_outputs.size() && grad_outputs[i].defined()) roots_grads.push_back(grad_outputs[i]);
        else roots_grads.push_back(detail::implicit_root_gradient(outputs[i]));
    }
    std::vector<Edge> captures;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].requires_grad())
            throw Error("One of the differentiated Tensors does not require grad");
        captures.push_back(gradient_edge(inputs[i]));
    }
    return run_backward(outputs, roots_grads, retain_graph.value_or(create_graph), create_graph, captures, allow_unused);
}

// Accumulates gradients of `tensors` into the leaves' .grad (torch.autograd.backward), or only
// into the .grad of `inputs` when given (a non-leaf input is made to retain its gradient).
CTGRAD_API void backward(const variable_list& tensors, const variable_list& grad_tensors,
                         std::optional<bool> retain_graph, bool create_graph, const variable_list& inputs) {
    variable_list roots_grads;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        if (i < grad_tensors.size() && grad_tensors[i].defined()) {
            if (!(grad_tensors[i].sizes() == tensors[i].sizes()))
                throw Error("Mismatch in shape: grad_output[" + std::to_string(i) + "] has a shape of " +
                            shape_str(grad_tensors[i].sizes()) + " and output[" + std::to_string(i) +
                            "] has a shape of " + shape_str(tensors[i].sizes()) + ".");
            roots_grads.push_back(grad_tensors[i]);
        } else {
            roots_grads.push_back(detail::implicit_root_gradient(tensors[i]));
        }
    }
    std::vector<Edge> targets;
    // Checked, all of them, before any is made to retain its gradient. PyTorch calls
    // retain_grad() on each input first, so that is the error of one that does not require grad.
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        ctgrad::detail::check_defined(inputs[i], "backward", "an element of inputs");
        if (!inputs[i].requires_grad())
            throw Error("backward: inputs[" + std::to_string(i) + "] (shape " + shape_str(inputs[i].sizes()) +
                        "): can't retain_grad on Tensor that has requires_grad=False");
    }
    for (const Tensor& input : inputs) {
        input.retain_grad();
        targets.push_back(gradient_edge(input));
    }
    run_backward(tensors, roots_grads, retain_graph.value_or(create_graph), create_graph, targets,
                 /*allow_unused=*/true, /*accumulate=*/!targets.empty());
}

}  // namespace ctgrad::autograd

namespace ctgrad {

CTGRAD_API void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph,
                                 std::optional<TensorList> inputs) const {
    detail::check_defined(*this, "backward");
    if (inputs && inputs->empty()) throw Error("'inputs' argument to backward() cannot be empty.");
    if (!requires_grad())
        throw Error("element 0 of tensors does not require grad and does not have a grad_fn");
    autograd::backward({*this}, {gradient}, retain_graph, create_graph, inputs.value_or(TensorList{}));
}

CTGRAD_API unsigned Tensor::_register_hook(std::function<Tensor(const Tensor&)> hook) const {
    detail::check_defined(*this, "register_hook");
    if (!requires_grad())
        throw Error("cannot register a hook on a tensor that doesn't require gradient (register_hook on a tensor of "
                    "shape " + shape_str(sizes()) + ", dtype " + dtype_name(scalar_type()) + ")");
    if (!hook) throw Error("register_hook: the hook is empty");
    auto& hooks = autograd::detail::hooks_of(impl_);
    hooks.entries.push_back({std::move(hook), false});
    return static_cast<unsigned>(hooks.entries.size() - 1);
}

CTGRAD_API void Tensor::remove_hook(unsigned pos) const {
    detail::check_defined(*this, "remove_hook");
    const auto& hooks = impl_->hooks;
    const std::size_t count = hooks ? hooks->entries.size() : 0;
    if (pos >= count)
        throw Error("remove_hook: Invalid index, no hook at position " + std::to_string(pos) + " (the tensor has " +
                    std::to_string(count) + " hook" + (count == 1 ? "" : "s") + ")");
    hooks->entries[pos] = {};
}

CTGRAD_API const Tensor& Tensor::requires_grad_(bool r) const {
    detail::check_defined(*this, "requires_grad_");
    TensorImpl& impl = *impl_;
    if (!is_leaf() && !r)
        throw Error("you can only change requires_grad flags of leaf variables. If you want to use a computed "
                    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
    if (r && !is_floating_point())
        throw Error(std::string("only Tensors of floating point dtype can require gradients (got ") +
                    dtype_name(scalar_type()) + ")");
    impl.requires_grad = r;
    return *this;
}

CTGRAD_API void Tensor::retain_grad() const {
    detail::check_defined(*this, "retain_grad");
    TensorImpl& impl = *impl_;
    if (!requires_grad()) throw Error("can't retain_grad on Tensor that has requires_grad=False");
    if (is_leaf() || impl.retains_grad) return;  // a leaf keeps its gradient anyway
    // A place in the tensor's hooks, after those registered so far (PyTorch 1.13's order).
    autograd::detail::hooks_of(impl_).entries.push_back({nullptr, true});
    impl.retains_grad = true;
}

CTGRAD_API Tensor Tensor::detach() const {
    detail::check_defined(*this, "detach");
    return Tensor(autograd::detail::alias_of(*impl_));
}

CTGRAD_API Tensor& Tensor::detach_() const {
    detail::check_defined(*this, "detach_");
    impl_->grad_fn.reset();
    impl_->requires_grad = false;
    impl_->output_nr = 0;
    return const_cast<Tensor&>(*this);
}

}  // namespace ctgrad
