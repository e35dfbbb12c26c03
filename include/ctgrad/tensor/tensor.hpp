#pragma once
// ctgrad::Tensor: a handle (shared, like libtorch's) to a strided array with autograd state.
// This header declares the whole method vocabulary; the methods that compute are defined with
// their op family in ctgrad/ops/ (include ctgrad/tensor.hpp, which brings all of them).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/config.hpp"
#include "indexing.hpp"
#include "int_array_ref.hpp"
#include "options.hpp"
#include "scalar.hpp"
#include "tensor_impl.hpp"

namespace ctgrad {

namespace autograd {
struct Node;
}

class Tensor;
using TensorList = std::vector<Tensor>;

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // Assigning to a named tensor rebinds the handle (`a = b;` makes a share b's data), as in
    // libtorch. Assigning to a temporary writes into the data it looks at, as libtorch's
    // `operator=(...) &&` does: `t[i][j] = 2.5;` is fill_ and `t[i] = row;` is copy_ of the view
    // t[i], recorded for autograd like those in-place ops.
    Tensor(const Tensor&) = default;
    Tensor(Tensor&&) noexcept = default;
    ~Tensor() = default;
    Tensor& operator=(const Tensor& other) & {
        impl_ = other.impl_;
        return *this;
    }
    Tensor& operator=(Tensor&& other) & noexcept {
        impl_ = std::move(other.impl_);
        return *this;
    }
    // A number assigned to a named tensor: libtorch rejects it too (fill_ says what it means).
    template <class Number, class = std::enable_if_t<std::is_arithmetic_v<Number>>>
    Tensor& operator=(Number) & {
        static_assert(!std::is_arithmetic_v<Number>,
                      "Assigning a number to a named Tensor is not allowed (it would rebind the handle): write "
                      "t.fill_(value) to fill it, or t[i] = value to write one element.");
        return *this;
    }
    Tensor& operator=(const Scalar& value) && { return fill_(value); }
    Tensor& operator=(const Tensor& src) && { return copy_(src); }
    Tensor& operator=(Tensor&& src) && { return copy_(src); }

    // --- identity and metadata -------------------------------------------------------------
    bool defined() const { return impl_ != nullptr; }
    TensorImpl* unsafeGetTensorImpl() const { return impl_.get(); }
    const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
    bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
    long use_count() const { return impl_.use_count(); }

    std::int64_t dim() const { return static_cast<std::int64_t>(checked().sizes.size()); }
    std::int64_t ndimension() const { return dim(); }
    IntArrayRef sizes() const { return checked().sizes; }
    IntArrayRef strides() const { return checked().strides; }
    std::int64_t size(std::int64_t d) const { return checked().sizes[wrap_dim(d, "size")]; }
    std::int64_t stride(std::int64_t d) const { return checked().strides[wrap_dim(d, "stride")]; }
    std::int64_t numel() const { return checked().numel(); }
    std::int64_t storage_offset() const { return checked().offset; }
    ScalarType scalar_type() const { return checked().dtype; }
    ScalarType dtype() const { return scalar_type(); }
    Device device() const { return checked().storage->device(); }
    bool is_cpu() const { return device().is_cpu(); }
    bool is_cuda() const { return device().is_cuda(); }
    bool is_floating_point() const { return ctgrad::is_floating_point(scalar_type()); }
    std::size_t element_size() const { return ctgrad::element_size(scalar_type()); }
    std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * element_size(); }
    bool is_contiguous() const { return checked().is_contiguous(); }
    TensorOptions options() const { return TensorOptions().dtype(scalar_type()).device(device()); }
    // The current version of the storage's data (bumped by every in-place write).
    std::uint32_t _version() const { return checked().storage->version(); }

    // Pointer to the first element, checked against the dtype (`data_ptr<float>()`).
    template <class T> T* data_ptr() const;
    void* data_ptr() const { return checked().data(); }
    // The value of a one-element tensor.
    template <class T> T item() const;
    Scalar item() const;

    // Wraps a dim index that may count from the end (-1 is the last), with PyTorch's error.
    std::int64_t wrap_dim(std::int64_t d, const char* op) const;

    // --- autograd --------------------------------------------------------------------------
    bool requires_grad() const { return refreshed().requires_grad; }
    const Tensor& requires_grad_(bool r = true) const;
    const Tensor& set_requires_grad(bool r) const { return requires_grad_(r); }
    bool is_leaf() const { return refreshed().grad_fn == nullptr; }
    const std::shared_ptr<autograd::Node>& grad_fn() const { return refreshed().grad_fn; }
    std::uint32_t output_nr() const { return checked().output_nr; }
    // The accumulated gradient (undefined until a backward pass reaches this tensor).
    Tensor grad() const;
    // Assignable handle to the gradient: `x.mutable_grad() = Tensor();` is PyTorch's `x.grad = None`.
    class GradRef;
    GradRef mutable_grad() const;
    // Accumulates this tensor's gradients into the leaves' .grad, or, with `inputs`, into those
    // tensors' .grad alone (an empty list is an error, as in libtorch).
    void backward(const Tensor& gradient = Tensor(), std::optional<bool> retain_graph = std::nullopt,
                  bool create_graph = false, std::optional<TensorList> inputs = std::nullopt) const;
    // Keeps a non-leaf's gradient in its .grad (a leaf keeps its own anyway).
    void retain_grad() const;
    // Registers `hook`, called with this tensor's gradient in every backward pass that computes
    // it (a leaf's: before it is accumulated into .grad), and returns its handle for remove_hook.
    // A hook returning a Tensor replaces the gradient with it (an undefined one keeps it); one
    // returning void only looks. Hooks run in the order registered (autograd/hooks.hpp).
    template <class Hook> unsigned register_hook(Hook&& hook) const;
    unsigned _register_hook(std::function<Tensor(const Tensor&)> hook) const;
    void remove_hook(unsigned pos) const;
    bool retains_grad() const { return checked().retains_grad; }
    // A tensor sharing this one's data (and version counter) with no autograd history.
    Tensor detach() const;
    Tensor& detach_() const;

    // --- views (share storage) -------------------------------------------------------------
    Tensor view(IntArrayRef sizes) const;
    Tensor view_as(const Tensor& other) const { return view(other.sizes()); }
    Tensor reshape(IntArrayRef sizes) const;
    Tensor reshape_as(const Tensor& other) const { return reshape(other.sizes()); }
    Tensor unsqueeze(std::int64_t d) const;
    Tensor squeeze() const;
    Tensor squeeze(std::int64_t d) const;
    Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
    Tensor t() const;
    Tensor transpose(std::int64_t d0, std::int64_t d1) const;
    Tensor permute(IntArrayRef dims) const;
    Tensor select(std::int64_t d, std::int64_t index) const;
    Tensor narrow(std::int64_t d, std::int64_t start, std::int64_t length) const;
    Tensor slice(std::int64_t d, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                 std::int64_t step = 1) const;
    Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
    Tensor index(const std::vector<indexing::TensorIndex>& indices) const;
    Tensor expand(IntArrayRef sizes) const;
    Tensor expand_as(const Tensor& other) const { return expand(other.sizes()); }
    Tensor contiguous() const;

    // --- conversions -----------------------------------------------------------------------
    Tensor to(ScalarType dtype, bool copy = false) const;
    Tensor to(Device device, bool copy = false) const;
    Tensor to(DeviceType type, bool copy = false) const { return to(Device(type), copy); }
    Tensor to(const TensorOptions& options, bool copy = false) const;
    Tensor cpu() const { return to(Device(kCPU)); }
    Tensor cuda() const { return to(Device(kCUDA)); }
    Tensor clone() const;

    // --- math (ops/elementwise.hpp, ops/reduction.hpp, ops/linalg.hpp) ---------------------
    Tensor add(const Tensor& other, const Scalar& alpha = 1) const;
    Tensor add(const Scalar& other, const Scalar& alpha = 1) const;
    Tensor sub(const Tensor& other, const Scalar& alpha = 1) const;
    Tensor sub(const Scalar& other, const Scalar& alpha = 1) const;
    Tensor mul(const Tensor& other) const;
    Tensor mul(const Scalar& other) const;
    Tensor div(const Tensor& other) const;
    Tensor div(const Scalar& other) const;
    Tensor pow(const Tensor& exponent) const;
    Tensor pow(const Scalar& exponent) const;
    Tensor neg() const;
    Tensor exp() const;
    Tensor log() const;
    Tensor sin() const;
    Tensor cos() const;
    Tensor tan() const;
    Tensor tanh() const;
    Tensor sigmoid() const;
    Tensor relu() const;
    Tensor sqrt() const;
    Tensor abs() const;
    Tensor square() const;
    Tensor maximum(const Tensor& other) const;
    Tensor minimum(const Tensor& other) const;

    Tensor sum(std::optional<ScalarType> dtype = std::nullopt) const;
    Tensor sum(IntArrayRef dims, bool keepdim = false, std::optional<ScalarType> dtype = std::nullopt) const;
    Tensor mean(std::optional<ScalarType> dtype = std::nullopt) const;
    Tensor mean(IntArrayRef dims, bool keepdim = false, std::optional<ScalarType> dtype = std::nullopt) const;
    Tensor max() const;
    std::tuple<Tensor, Tensor> max(std::int64_t dim, bool keepdim = false) const;
    Tensor min() const;
    std::tuple<Tensor, Tensor> min(std::int64_t dim, bool keepdim = false) const;
    Tensor argmax(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
    Tensor argmin(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
    Tensor norm(const Scalar& p = 2) const;
    Tensor norm(const Scalar& p, IntArrayRef dims, bool keepdim = false) const;
    Tensor all() const;
    Tensor any() const;
    Tensor sum_to_size(IntArrayRef sizes) const;
    Tensor softmax(std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt) const;
    Tensor log_softmax(std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt) const;

    Tensor matmul(const Tensor& other) const;
    Tensor mm(const Tensor& other) const;
    Tensor mv(const Tensor& vec) const;
    Tensor bmm(const Tensor& other) const;

    Tensor eq(const Tensor& other) const;
    Tensor eq(const Scalar& other) const;
    Tensor ne(const Tensor& other) const;
    Tensor ne(const Scalar& other) const;
    Tensor lt(const Tensor& other) const;
    Tensor lt(const Scalar& other) const;
    Tensor le(const Tensor& other) const;
    Tensor le(const Scalar& other) const;
    Tensor gt(const Tensor& other) const;
    Tensor gt(const Scalar& other) const;
    Tensor ge(const Tensor& other) const;
    Tensor ge(const Scalar& other) const;
    Tensor masked_fill(const Tensor& mask, const Scalar& value) const;
    Tensor where(const Tensor& condition, const Tensor& other) const;  // where(condition, *this, other)
    Tensor clamp(const std::optional<Scalar>& min, const std::optional<Scalar>& max = std::nullopt) const;
    Tensor clamp_min(const Scalar& min) const;
    Tensor clamp_max(const Scalar& max) const;
    Tensor gather(std::int64_t dim, const Tensor& index, bool sparse_grad = false) const;
    Tensor scatter_add(std::int64_t dim, const Tensor& index, const Tensor& src) const;
    Tensor index_select(std::int64_t dim, const Tensor& index) const;
    bool equal(const Tensor& other) const;
    bool allclose(const Tensor& other, double rtol = 1e-5, double atol = 1e-8) const;

    // --- in place (bump the version counter) -----------------------------------------------
    // Const, as in libtorch: they change the data, not the handle, so a `const Tensor&` allows them.
    Tensor& add_(const Tensor& other, const Scalar& alpha = 1) const;
    Tensor& add_(const Scalar& other, const Scalar& alpha = 1) const;
    Tensor& sub_(const Tensor& other, const Scalar& alpha = 1) const;
    Tensor& sub_(const Scalar& other, const Scalar& alpha = 1) const;
    Tensor& mul_(const Tensor& other) const;
    Tensor& mul_(const Scalar& other) const;
    Tensor& div_(const Tensor& other) const;
    Tensor& div_(const Scalar& other) const;
    Tensor& zero_() const;
    Tensor& fill_(const Scalar& value) const;
    Tensor& copy_(const Tensor& src) const;
    Tensor& normal_(double mean = 0, double std = 1) const;
    Tensor& uniform_(double from = 0, double to = 1) const;
    Tensor& random_(std::int64_t from, std::int64_t to) const;
    // t.index(indices) = value / = src (libtorch's index_put_ with basic indices).
    Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Scalar& value) const;
    Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& src) const;
    Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Scalar& value) const;
    Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& src) const;

    Tensor& operator+=(const Tensor& other) { return add_(other); }
    Tensor& operator+=(const Scalar& other) { return add_(other); }
    Tensor& operator-=(const Tensor& other) { return sub_(other); }
    Tensor& operator-=(const Scalar& other) { return sub_(other); }
    Tensor& operator*=(const Tensor& other) { return mul_(other); }
    Tensor& operator*=(const Scalar& other) { return mul_(other); }
    Tensor& operator/=(const Tensor& other) { return div_(other); }
    Tensor& operator/=(const Scalar& other) { return div_(other); }

    // `t[i]` is t.select(0, i), as in libtorch.
    Tensor operator[](std::int64_t i) const { return select(0, i); }

    // --- xtensor interop (tensor/xtensor.hpp) ------------------------------------------------
    template <class T> auto to_xarray() const;

    // What using an undefined tensor says, after the op's name where there is one.
    static constexpr const char* undefined_message =
        "an undefined tensor (default-constructed, or the gradient of a leaf that no backward pass has reached)";

private:
    const TensorImpl& checked() const {
        if (!impl_) throw_undefined();
        return *impl_;
    }
    // checked()'s error, out of line: the accessors that check stay a test and a load.
    [[noreturn]] static void throw_undefined();
    // The autograd state, with a view's history brought up to date (see TensorImpl::view_base).
    const TensorImpl& refreshed() const {
        checked();
        impl_->refresh_view();
        return *impl_;
    }
    std::shared_ptr<TensorImpl> impl_;
};

using tensor_list = std::vector<Tensor>;
using variable_list = std::vector<Tensor>;

// `x.mutable_grad() = Tensor();` and `x.mutable_grad() = g;`, as libtorch's `x.mutable_grad()`.
class Tensor::GradRef {
public:
    explicit GradRef(std::shared_ptr<TensorImpl> owner) : owner_(std::move(owner)) {}
    GradRef& operator=(const Tensor& g) {
        owner_->grad = g.impl();
        return *this;
    }
    operator Tensor() const { return Tensor(owner_->grad); }  // NOLINT
    bool defined() const { return owner_->grad != nullptr; }

private:
    std::shared_ptr<TensorImpl> owner_;
};

namespace detail {
// check_defined's error, out of line, so that the check itself stays inline and small.
[[noreturn]] void throw_undefined_argument(const char* op, const char* argument);
// An op about to reach into its operands' data or autograd state checks first that they exist:
// an undefined tensor is an Error naming the op and the argument, never a null dereference.
inline void check_defined(const Tensor& t, const char* op, const char* argument = "self") {
    if (!t.defined()) throw_undefined_argument(op, argument);
}
// data_ptr<T>()'s error, out of line: one copy for every T.
[[noreturn]] void throw_data_ptr_mismatch(ScalarType expected, ScalarType found);
}  // namespace detail

inline Tensor Tensor::grad() const { return Tensor(checked().grad); }

template <class Hook>
unsigned Tensor::register_hook(Hook&& hook) const {
    if constexpr (!std::is_invocable_v<Hook&, Tensor>) {
        static_assert(std::is_invocable_v<Hook&, Tensor>, "A tensor hook must be callable with the gradient, a Tensor.");
        return 0;
    } else if constexpr (std::is_void_v<std::invoke_result_t<Hook&, Tensor>>) {
        return _register_hook([look = std::forward<Hook>(hook)](const Tensor& g) mutable {
            look(g);
            return Tensor();
        });
    } else {
        static_assert(std::is_convertible_v<std::invoke_result_t<Hook&, Tensor>, Tensor>,
                      "A tensor hook must return a Tensor (the gradient to use instead) or nothing.");
        return _register_hook([replace = std::forward<Hook>(hook)](const Tensor& g) mutable -> Tensor { return replace(g); });
    }
}

inline Tensor::GradRef Tensor::mutable_grad() const {
    checked();
    return GradRef(impl_);
}

template <class T>
T* Tensor::data_ptr() const {
    if (dtype_of<std::remove_const_t<T>>() != scalar_type())
        detail::throw_data_ptr_mismatch(dtype_of<std::remove_const_t<T>>(), scalar_type());
    return reinterpret_cast<T*>(checked().data());
}

// item<T>() is compiled into the library for these types (ops/inplace.hpp).
#if !defined(CTGRAD_HEADER_ONLY) && !defined(CTGRAD_BUILDING_RUNTIME)
extern template bool Tensor::item<bool>() const;
extern template unsigned char Tensor::item<unsigned char>() const;
extern template signed char Tensor::item<signed char>() const;
extern template short Tensor::item<short>() const;
extern template float Tensor::item<float>() const;
extern template double Tensor::item<double>() const;
extern template int Tensor::item<int>() const;
extern template long Tensor::item<long>() const;
extern template long long Tensor::item<long long>() const;
#endif

namespace detail {
// The bytes a contiguous tensor of these sizes takes, checked as ATen checks them before it
// allocates: no negative dimension, and no count that overflows 64 bits: not the elements, not
// the bytes and not a stride (the product of the dims after it, which a zero dim elsewhere
// does not keep small: [0, 2^62, 2^62] has no elements but a stride of 2^124).
// Whether `scale` times the product of the non-zero dims of `sizes` (none negative)
// overflows int64.
bool size_product_overflows(IntArrayRef sizes, std::int64_t scale = 1);

std::size_t checked_nbytes(IntArrayRef sizes, ScalarType dtype, const char* op);
}  // namespace detail

// A new, uninitialised tensor of these sizes (contiguous), the primitive every op allocates with.
// `op` names the operation in the errors of impossible sizes and of memory that is not there.
Tensor make_empty(IntArrayRef sizes, ScalarType dtype, Device device = Device(kCPU), const char* op = "empty");

}  // namespace ctgrad

// The bodies that build messages or allocate, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad {

CTGRAD_API void Tensor::throw_undefined() {
    throw Error(std::string("expected a defined tensor, got ") + undefined_message);
}

namespace detail {
CTGRAD_API void throw_undefined_argument(const char* op, const char* argument) {
    throw Error(std::string(op) + ": " + argument + " is " + Tensor::undefined_message);
}

CTGRAD_API void throw_data_ptr_mismatch(ScalarType expected, ScalarType found) {
    throw Error(std::string("data_ptr: expected scalar type ") + dtype_name(expected) + " but found " +
                dtype_name(found));
}
}  // namespace detail

// The view the indices select, written in place: its autograd history is that of the in-place op
// on a view (the base's gradient stops at the elements written).
CTGRAD_API Tensor& Tensor::index_put_(const std::vector<indexing::TensorIndex>& indices, const Scalar& value) const {
    index(indices).fill_(value);
    return const_cast<Tensor&>(*this);
}
CTGRAD_API Tensor& Tensor::index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& src) const {
    index(indices).copy_(src);
    return const_cast<Tensor&>(*this);
}
CTGRAD_API Tensor& Tensor::index_put_(std::initializer_list<indexing::TensorIndex> indices, const Scalar& value) const {
    return index_put_(std::vector<indexing::TensorIndex>(indices), value);
}
CTGRAD_API Tensor& Tensor::index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& src) const {
    return index_put_(std::vector<indexing::TensorIndex>(indices), src);
}

CTGRAD_API std::int64_t Tensor::wrap_dim(std::int64_t d, const char* op) const {
    const std::int64_t n = dim();
    const std::int64_t lo = n == 0 ? -1 : -n, hi = n == 0 ? 0 : n - 1;
    if (d < lo || d > hi)
        throw Error(std::string(op) + ": Dimension out of range (expected to be in range of [" + std::to_string(lo) +
                    ", " + std::to_string(hi) + "], but got " + std::to_string(d) + ")");
    return d < 0 ? d + (n == 0 ? 1 : n) : d;
}

namespace detail {
CTGRAD_API bool size_product_overflows(IntArrayRef sizes, std::int64_t scale) {
    bool overflow = false;
    for (auto s : sizes)
        if (s != 0) overflow |= __builtin_mul_overflow(scale, s, &scale);
    return overflow;
}

CTGRAD_API std::size_t checked_nbytes(IntArrayRef sizes, ScalarType dtype, const char* op) {
    std::int64_t product = static_cast<std::int64_t>(element_size(dtype));  // of the non-zero dims
    bool overflow = false, empty = false;
    for (auto s : sizes) {
        if (s < 0) throw Error(std::string(op) + ": negative dimension " + std::to_string(s) + " in size " + shape_str(sizes));
        if (s == 0) empty = true;
        else overflow |= __builtin_mul_overflow(product, s, &product);
    }
    if (overflow)
        throw Error(std::string(op) + ": the size calculation overflowed for sizes " + shape_str(sizes) + " of " +
                    dtype_name(dtype) + " (more elements or bytes than a 64-bit count holds)");
    return empty ? 0 : static_cast<std::size_t>(product);
}
}  // namespace detail

CTGRAD_API Tensor make_empty(IntArrayRef sizes, ScalarType dtype, Device device, const char* op) {
    // The device kernels (CUDA, Thrust) are compiled for bool, int64, float and double only.
    if (!device.is_cpu() && (dtype == kByte || dtype == kChar || dtype == kShort || dtype == kInt))
        throw Error(std::string(op) + ": tensors of dtype " + dtype_name(dtype) + " are supported on the CPU only, not on " +
                    device.str() + " (convert to kLong, kFloat or kDouble first)");
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = Storage::allocate(detail::checked_nbytes(sizes, dtype, op), device, op);
    impl->sizes = sizes.vec();
    impl->strides = contiguous_strides(impl->sizes);
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS
