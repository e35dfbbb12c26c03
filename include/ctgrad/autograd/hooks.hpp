#pragma once
// Tensor hooks (Tensor::register_hook): functions a backward pass calls on the gradient of one
// tensor, in the order registered, each seeing what the one before returned. A leaf's hooks run
// before its gradient is accumulated into .grad; a non-leaf's when the gradient of the node that
// made it is complete, before that node runs. retain_grad() takes a place in the same list, so a
// hook registered before it changes what .grad keeps and one registered after does not
// (PyTorch 1.13's order).
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "../tensor/tensor.hpp"

namespace ctgrad::autograd {

struct TensorHooks {
    struct Entry {
        // Returns the gradient to use instead, or an undefined tensor to keep it. Empty once removed.
        std::function<Tensor(const Tensor&)> hook;
        // The place of retain_grad(): the gradient reaching it is what .grad keeps.
        bool retains_grad = false;
    };
    std::vector<Entry> entries;
    // The tensor whose gradient the hooks see (weak: the graph must not keep it alive).
    std::weak_ptr<TensorImpl> tensor;
};

}  // namespace ctgrad::autograd
