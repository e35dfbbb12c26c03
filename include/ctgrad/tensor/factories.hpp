#pragma once
// Factories with TensorOptions, as libtorch spells them: zeros({2, 3}, dtype(kDouble)),
// randn({3, 1}, requires_grad()), tensor({{1, 2}, {3, 4}}), linspace, arange, the *_like forms.
#include <cmath>
#include <initializer_list>
#include <vector>

#include "copy.hpp"
#include "distributions.hpp"
#include "functions.hpp"
#include "generator.hpp"

namespace ctgrad {

namespace detail {
inline Tensor finish(Tensor t, const TensorOptions& options) {
    if (options.requires_grad()) t.requires_grad_(true);
    return t;
}
inline Tensor allocate(IntArrayRef sizes, const TensorOptions& options) {
    return make_empty(sizes, options.dtype(), options.device());
}
template <class F>
void fill_with(const Tensor& t, F&& value_at) {
    dispatch_dtype(t.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = t.data_ptr<T>();
        const std::int64_t n = t.numel();
        for (std::int64_t i = 0; i < n; ++i) p[i] = value_at(tag, i);
    });
}
}  // namespace detail

inline Tensor empty(IntArrayRef sizes, const TensorOptions& options) {
    return detail::finish(detail::allocate(sizes, options), options);
}

inline Tensor full(IntArrayRef sizes, const Scalar& value, const TensorOptions& options) {
    // libtorch's full infers the dtype from the value when none is given.
    TensorOptions o = options;
    if (!o.has_dtype()) o = o.dtype(value.is_floating_point() ? kFloat : value.is_boolean() ? kBool : kLong);
    Tensor t = detail::allocate(sizes, o);
    detail::fill_with(t, [&](auto tag, std::int64_t) { return value.template to<typename decltype(tag)::type>(); });
    return detail::finish(t, o);
}
inline Tensor zeros(IntArrayRef sizes, const TensorOptions& options) {
    Tensor t = detail::allocate(sizes, options);
    std::memset(t.data_ptr(), 0, t.nbytes());
    return detail::finish(t, options);
}
inline Tensor ones(IntArrayRef sizes, const TensorOptions& options) {
    return full(sizes, 1, options.has_dtype() ? options : options.dtype(kFloat));
}
inline Tensor scalar_tensor(const Scalar& value, const TensorOptions& options) {
    return full({}, value, options.has_dtype() ? options : options.dtype(kFloat));
}

inline Tensor empty_like(const Tensor& t, const TensorOptions& o) { return empty(t.sizes(), o.merged_with(t.options())); }
inline Tensor zeros_like(const Tensor& t, const TensorOptions& o) { return zeros(t.sizes(), o.merged_with(t.options())); }
inline Tensor ones_like(const Tensor& t, const TensorOptions& o) { return ones(t.sizes(), o.merged_with(t.options())); }
inline Tensor full_like(const Tensor& t, const Scalar& v, const TensorOptions& o) {
    return full(t.sizes(), v, o.merged_with(t.options()));
}
inline Tensor rand_like(const Tensor& t, const TensorOptions& o) { return rand(t.sizes(), o.merged_with(t.options())); }
inline Tensor randn_like(const Tensor& t, const TensorOptions& o) { return randn(t.sizes(), o.merged_with(t.options())); }

// steps values from start to end inclusive; computed as ATen does (from both ends towards the
// middle), so the values equal torch.linspace's.
inline Tensor linspace(const Scalar& start, const Scalar& end, std::int64_t steps, const TensorOptions& options) {
    if (steps < 0) throw Error("linspace: number of steps must be non-negative");
    Tensor t = detail::allocate({steps}, options);
    const double a = start.to_double(), b = end.to_double();
    dispatch_dtype(t.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = t.data_ptr<T>();
        if (steps == 1) {
            p[0] = detail::convert_element<T>(a);
            return;
        }
        if constexpr (std::is_floating_point_v<T>) {
            const T step = (static_cast<T>(b) - static_cast<T>(a)) / static_cast<T>(steps - 1);
            const std::int64_t half = steps / 2;
            for (std::int64_t i = 0; i < steps; ++i)
                p[i] = i < half ? static_cast<T>(a) + step * static_cast<T>(i)
                                : static_cast<T>(b) - step * static_cast<T>(steps - i - 1);
        } else {
            const double step = (b - a) / static_cast<double>(steps - 1);
            for (std::int64_t i = 0; i < steps; ++i) p[i] = detail::convert_element<T>(a + step * static_cast<double>(i));
        }
    });
    return detail::finish(t, options);
}

inline Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& options) {
    const double s = step.to_double();
    if (s == 0) throw Error("arange: step must be nonzero");
    const double span = (end.to_double() - start.to_double()) / s;
    const std::int64_t n = span > 0 ? static_cast<std::int64_t>(std::ceil(span)) : 0;
    const bool integral = !start.is_floating_point() && !end.is_floating_point() && !step.is_floating_point();
    TensorOptions o = options.has_dtype() ? options : options.dtype(integral ? kLong : kFloat);
    Tensor t = detail::allocate({n}, o);
    detail::fill_with(t, [&](auto tag, std::int64_t i) {
        using T = typename decltype(tag)::type;
        return detail::convert_element<T>(start.to_double() + s * static_cast<double>(i));
    });
    return detail::finish(t, o);
}
inline Tensor arange(const Scalar& end, const TensorOptions& o) { return arange(0, end, 1, o); }
inline Tensor arange(const Scalar& start, const Scalar& end, const TensorOptions& o) { return arange(start, end, 1, o); }

// Random factories draw from the default CPU generator with PyTorch's algorithms, so after
// manual_seed(s) they give torch's numbers.
inline Tensor rand(IntArrayRef sizes, const TensorOptions& options) {
    Tensor t = detail::allocate(sizes, options);
    t.uniform_(0, 1);
    return detail::finish(t, options);
}
inline Tensor randn(IntArrayRef sizes, const TensorOptions& options) {
    Tensor t = detail::allocate(sizes, options);
    t.normal_(0, 1);
    return detail::finish(t, options);
}
inline Tensor randint(std::int64_t low, std::int64_t high, IntArrayRef sizes, const TensorOptions& options) {
    if (low >= high)
        throw Error("random_ expects 'from' to be less than 'to', but got from=" + std::to_string(low) +
                    " >= to=" + std::to_string(high));
    TensorOptions o = options.has_dtype() ? options : options.dtype(kLong);
    Tensor t = detail::allocate(sizes, o);
    t.random_(low, high);
    return detail::finish(t, o);
}
inline Tensor randint(std::int64_t high, IntArrayRef sizes, const TensorOptions& options) {
    return randint(0, high, sizes, options);
}

// The values of a nested braced list, as torch::tensor takes them: tensor(3), tensor({1, 2}),
// tensor({{1., 2.}, {3., 4.}}). Integers give kLong, floating point kFloat, bools kBool.
class TensorData {
public:
    template <class T>
        requires std::is_arithmetic_v<T>
    TensorData(T v) {  // NOLINT
        kind_ = std::is_same_v<T, bool> ? kBool : std::is_integral_v<T> ? kLong : kFloat;
        push(v);
    }
    TensorData(std::initializer_list<TensorData> rows) {  // NOLINT
        init_rows(rows.begin(), rows.end());
    }
    template <class T>
        requires std::is_arithmetic_v<T>
    TensorData(const std::vector<T>& v) {  // NOLINT
        kind_ = std::is_same_v<T, bool> ? kBool : std::is_integral_v<T> ? kLong : kFloat;
        sizes_ = {static_cast<std::int64_t>(v.size())};
        for (const T& x : v) push(x);
    }

    Tensor make(const TensorOptions& options) const {
        Tensor t = make_empty(sizes_, options.has_dtype() ? options.dtype() : kind_, options.device());
        dispatch_dtype(t.scalar_type(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            T* p = t.data_ptr<T>();
            for (std::size_t i = 0; i < doubles_.size(); ++i)
                p[i] = kind_ == kFloat ? detail::convert_element<T>(doubles_[i]) : detail::convert_element<T>(longs_[i]);
        });
        if (options.requires_grad()) t.requires_grad_(true);
        return t;
    }

private:
    template <class T> void push(T v) {
        doubles_.push_back(static_cast<double>(v));
        longs_.push_back(static_cast<std::int64_t>(v));
    }
    void init_rows(const TensorData* b, const TensorData* e) {
        sizes_ = {static_cast<std::int64_t>(e - b)};
        kind_ = kBool;
        for (const TensorData* r = b; r != e; ++r) {
            if (r != b && r->sizes_ != b->sizes_)
                throw Error("tensor: expected all sub-lists to have the same shape " + shape_str(b->sizes_) + ", got " +
                            shape_str(r->sizes_));
            kind_ = promote_types(kind_, r->kind_);
            doubles_.insert(doubles_.end(), r->doubles_.begin(), r->doubles_.end());
            longs_.insert(longs_.end(), r->longs_.begin(), r->longs_.end());
        }
        if (b != e) sizes_.insert(sizes_.end(), b->sizes_.begin(), b->sizes_.end());
        if (b == e) kind_ = kFloat;
    }
    std::vector<std::int64_t> sizes_;
    ScalarType kind_ = kFloat;
    std::vector<double> doubles_;
    std::vector<std::int64_t> longs_;
};

inline Tensor tensor(const TensorData& data, const TensorOptions& options = {}) { return data.make(options); }

}  // namespace ctgrad
