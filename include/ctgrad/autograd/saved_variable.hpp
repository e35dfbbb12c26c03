#pragma once
// A tensor kept by a node for its backward. It remembers the storage version it saw, so that an
// in-place change made afterwards is reported instead of silently giving a wrong gradient.
// An output of the node itself is kept without its grad_fn (which is the node: keeping it would
// be a reference cycle) and gets it back when unpacked.
#include <memory>
#include <string>

#include "../core/config.hpp"
#include "node.hpp"

namespace ctgrad::autograd {

namespace detail {
// "torch.FloatTensor [3, 4]" as PyTorch names a tensor in autograd errors.
std::string tensor_type_str(const TensorImpl& t);

// A second handle on the same data: same storage, sizes and strides, no autograd state.
std::shared_ptr<TensorImpl> alias_of(const TensorImpl& t);
}  // namespace detail

class SavedVariable {
public:
    SavedVariable() = default;
    SavedVariable(const Tensor& t, bool is_output);

    // The saved tensor; `owner` is the node that saved it (it becomes the grad_fn of a saved output).
    Tensor unpack(const std::shared_ptr<Node>& owner = nullptr) const;

    void reset_data() { data_ = Tensor(); }
    bool defined() const { return defined_; }

private:
    Tensor data_;
    std::uint32_t version_ = 0;
    std::uint32_t output_nr_ = 0;
    bool defined_ = false;
    bool is_output_ = false;
    bool requires_grad_ = false;
    std::string producer_name_;
};

}  // namespace ctgrad::autograd

#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::autograd {

namespace detail {
CTGRAD_API std::string tensor_type_str(const TensorImpl& t) {
    std::string s = "torch.";
    s += dtype_name(t.dtype);
    s += "Tensor";
    s += " [";
    for (std::size_t i = 0; i < t.sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(t.sizes[i]);
    return s + "]";
}

CTGRAD_API std::shared_ptr<TensorImpl> alias_of(const TensorImpl& t) {
    auto a = std::make_shared<TensorImpl>();
    a->storage = t.storage;
    a->offset = t.offset;
    a->sizes = t.sizes;
    a->strides = t.strides;
    a->dtype = t.dtype;
    return a;
}
}  // namespace detail

CTGRAD_API SavedVariable::SavedVariable(const Tensor& t, bool is_output) {
    if (!t.defined()) return;
    defined_ = true;
    version_ = t._version();
    is_output_ = is_output;
    if (is_output) {
        data_ = Tensor(detail::alias_of(*t.unsafeGetTensorImpl()));
        requires_grad_ = t.requires_grad();
        output_nr_ = t.output_nr();
        producer_name_ = t.grad_fn() ? t.grad_fn()->name() : "";
    } else {
        data_ = t;
    }
}

CTGRAD_API Tensor SavedVariable::unpack(const std::shared_ptr<Node>& owner) const {
    if (!defined_) return Tensor();
    if (!data_.defined())
        throw Error(
            "Trying to backward through the graph a second time (or directly access saved tensors after they "
            "have already been freed). Saved intermediate values of the graph are freed when you call "
            ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph "
            "a second time or if you need to access saved tensors after calling backward.");
    const TensorImpl& impl = *data_.unsafeGetTensorImpl();
    if (impl.storage->version() != version_) {
        std::string which;
        if (is_output_) which = ", which is output " + std::to_string(output_nr_) + " of " + (owner ? owner->name() : producer_name_) + ",";
        else if (impl.grad_fn) which = ", which is output " + std::to_string(impl.output_nr) + " of " + impl.grad_fn->name() + ",";
        throw Error("one of the variables needed for gradient computation has been modified by an inplace "
                    "operation: [" + detail::tensor_type_str(impl) + "]" + which + " is at version " +
                    std::to_string(impl.storage->version()) + "; expected version " + std::to_string(version_) +
                    " instead.");
    }
    if (!is_output_) return data_;
    auto out = detail::alias_of(impl);
    out->requires_grad = requires_grad_;
    if (owner && requires_grad_) {
        out->grad_fn = owner;
        out->output_nr = output_nr_;
    }
    return Tensor(std::move(out));
}

}  // namespace ctgrad::autograd
#endif  // CTGRAD_RUNTIME_DEFINITIONS
