#pragma once
// What a Tensor handle points to: a strided window on a Storage, plus the autograd state of a
// variable (PyTorch's TensorImpl and AutogradMeta in one struct: the runtime stays small).
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "../core/config.hpp"
#include "../core/dtype.hpp"
#include "../core/storage.hpp"

namespace ctgrad {

namespace autograd {
struct Node;
struct TensorHooks;
}

struct TensorImpl {
    std::shared_ptr<Storage> storage;
    std::int64_t offset = 0;  // in elements
    std::vector<std::int64_t> sizes;
    std::vector<std::int64_t> strides;  // in elements
    ScalarType dtype = kFloat;

    // Autograd. A leaf that requires grad has no grad_fn and accumulates into `grad`; a
    // non-leaf has grad_fn (the node that made it) and output_nr (which of its outputs it is).
    bool requires_grad = false;
    bool retains_grad = false;
    std::uint32_t output_nr = 0;
    std::shared_ptr<TensorImpl> grad;
    std::shared_ptr<autograd::Node> grad_fn;
    std::weak_ptr<autograd::Node> grad_accumulator;
    // The hooks on this tensor's gradient (autograd/hooks.hpp), made by the first register_hook
    // or retain_grad.
    std::shared_ptr<autograd::TensorHooks> hooks;

    // A view (a tensor sharing another's storage) remembers the tensor it looks into, the root
    // of its chain of views, so that an in-place write through the view rewrites the base's
    // history too (PyTorch's CopySlices, ops/inplace.hpp). After any in-place write to the
    // storage (the version moved past view_version), a view's own history is stale: the first
    // look at it rebuilds it from the base's (refresh_view_history, set by ops/views.hpp).
    std::shared_ptr<TensorImpl> view_base;
    std::uint32_t view_version = 0;
    void (*refresh_view_history)(TensorImpl& view) = nullptr;

    void refresh_view() {
        if (refresh_view_history && view_version != storage->version()) refresh_view_history(*this);
    }

    std::int64_t numel() const {
        std::int64_t n = 1;
        for (auto s : sizes) n *= s;
        return n;
    }
    bool is_contiguous() const {
        // No element, nothing out of order (ATen's rule: [2, 0] is contiguous whatever its strides).
        for (auto s : sizes)
            if (s == 0) return true;
        std::int64_t expected = 1;
        for (std::size_t i = sizes.size(); i-- > 0;) {
            if (sizes[i] == 1) continue;
            if (strides[i] != expected) return false;
            expected *= sizes[i];
        }
        return true;
    }
    char* data() const {
        return static_cast<char*>(storage->data()) + offset * static_cast<std::int64_t>(element_size(dtype));
    }
};

// Row-major strides of a contiguous tensor of these sizes.
std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& sizes);

}  // namespace ctgrad

#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad {

CTGRAD_API std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& sizes) {
    std::vector<std::int64_t> strides(sizes.size());
    std::int64_t s = 1;
    for (std::size_t i = sizes.size(); i-- > 0;) {
        strides[i] = s;
        s *= sizes[i] > 1 ? sizes[i] : 1;
    }
    return strides;
}

}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS
