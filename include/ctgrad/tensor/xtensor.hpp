#pragma once
// Tensors to and from xtensor arrays.
//
//   t.to_xarray<T>()       an xt::xarray<T> copy of t's elements (any layout; converted to T,
//                          as t.to(dtype) converts).
//   as_xarray<T>(t)        an xarray adaptor on t's own memory, as PyTorch's .numpy() shares it:
//                          a write through either is seen by the other. It keeps t's storage
//                          alive. Only for a contiguous CPU tensor whose dtype is T; anything
//                          else is an Error (call .contiguous() or to_xarray() first). Writes
//                          through the adaptor bypass autograd's version counter, as writes
//                          through data_ptr() do.
//   from_xarray(expr)      a new tensor holding the value of any xtensor expression.
//   from_xarray(std::move(array))
//                          a tensor that takes over the array's buffer: no copy; the tensor's
//                          storage keeps the moved array alive.
// Element types map to dtypes as T -> dtype_of<T>(): float, double, std::int64_t, bool.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>

#include "copy.hpp"
#include "strided_loop.hpp"
#include "tensor.hpp"

namespace ctgrad {

namespace detail {

template <class T>
inline constexpr bool xarray_element_ok_v = is_element_type_v<std::remove_cv_t<T>>;

template <class T>
constexpr void check_xarray_element() {
    static_assert(xarray_element_ok_v<T>,
                  "ctgrad tensors hold float, double, std::int64_t or bool elements: convert the xtensor "
                  "expression first, e.g. with xt::cast<double>(e)");
}

inline std::vector<std::size_t> xshape_of(const Tensor& t) {
    std::vector<std::size_t> shape;
    for (auto s : t.sizes()) shape.push_back(static_cast<std::size_t>(s));
    return shape;
}

}  // namespace detail

template <class T>
auto Tensor::to_xarray() const {
    static_assert(std::is_arithmetic_v<T>, "to_xarray<T>: T must be an arithmetic type");
    const TensorImpl& self = checked();
    if (!is_cpu()) throw Error("to_xarray: the tensor is on " + device().str() + "; move it to the CPU first");
    xt::xarray<T> out = xt::xarray<T>::from_shape(detail::xshape_of(*this));
    T* dst = out.data();
    dispatch_dtype(self.dtype, [&](auto tag) {
        using S = typename decltype(tag)::type;
        const S* src = reinterpret_cast<const S*>(self.data());
        if (std::is_same_v<S, T> && self.is_contiguous()) {
            std::copy(src, src + self.numel(), dst);
            return;
        }
        // Row-major destination: its k-th element is visited k-th.
        std::array<std::vector<std::int64_t>, 1> strides{self.strides};
        T* next = dst;
        detail::strided_loop<1>(self.sizes, strides, [&](const std::array<std::int64_t, 1>& o) {
            *next++ = static_cast<T>(src[o[0]]);
        });
    });
    return out;
}

// An xtensor view of t's own memory (see the top of this file); shares the storage's lifetime.
template <class T>
auto as_xarray(const Tensor& t) {
    detail::check_xarray_element<T>();
    if (t.scalar_type() != dtype_of<T>())
        throw Error(std::string("as_xarray: expected scalar type ") + dtype_name(dtype_of<T>()) + " but found " +
                    dtype_name(t.scalar_type()) + " (to_xarray<T>() converts)");
    if (!t.is_cpu()) throw Error("as_xarray: the tensor is on " + t.device().str() + "; move it to the CPU first");
    if (!t.is_contiguous())
        throw Error("as_xarray: the tensor of size " + shape_str(t.sizes()) + " with strides " +
                    shape_str(t.strides()) +
                    " is not contiguous, so no row-major array can share its memory; call .contiguous() or "
                    "to_xarray<T>()");
    return xt::adapt_smart_ptr<xt::layout_type::row_major>(t.data_ptr<T>(), detail::xshape_of(t),
                                                           t.unsafeGetTensorImpl()->storage);
}

// A new tensor holding the value of `e` (evaluated once, straight into the tensor's memory).
template <class E>
Tensor from_xarray(const xt::xexpression<E>& e) {
    using T = std::remove_cv_t<typename E::value_type>;
    detail::check_xarray_element<T>();
    const E& expr = e.derived_cast();
    std::vector<std::int64_t> sizes(expr.shape().begin(), expr.shape().end());
    Tensor out = make_empty(sizes, dtype_of<T>());
    const std::vector<std::size_t> shape(expr.shape().begin(), expr.shape().end());
    auto target = xt::adapt(out.data_ptr<T>(), static_cast<std::size_t>(out.numel()), xt::no_ownership(), shape);
    target = expr;
    return out;
}

// A tensor that owns the moved array's buffer (no element is copied). Any layout of the array
// is kept: a column-major array gives a tensor with column-major strides.
template <class EC, xt::layout_type L, class SC, class Tag>
Tensor from_xarray(xt::xarray_container<EC, L, SC, Tag>&& a) {
    using T = typename EC::value_type;
    detail::check_xarray_element<T>();
    auto owner = std::make_shared<xt::xarray_container<EC, L, SC, Tag>>(std::move(a));
    auto impl = std::make_shared<TensorImpl>();
    const std::size_t rank = owner->dimension();
    impl->sizes.assign(owner->shape().begin(), owner->shape().end());
    // xtensor gives dims of size 1 stride 0; ctgrad gives them the stride a row-major tensor
    // would have, which its view rules expect.
    impl->strides.resize(rank);
    for (std::size_t i = rank; i-- > 0;) {
        if (impl->sizes[i] != 1) impl->strides[i] = static_cast<std::int64_t>(owner->strides()[i]);
        else impl->strides[i] = i + 1 < rank ? impl->strides[i + 1] * std::max<std::int64_t>(impl->sizes[i + 1], 1) : 1;
    }
    impl->dtype = dtype_of<T>();
    T* data = owner->data();
    const std::size_t nbytes = owner->storage().size() * sizeof(T);
    impl->storage = Storage::wrap(data, nbytes, std::move(owner), Device(kCPU));
    return Tensor(std::move(impl));
}

}  // namespace ctgrad
