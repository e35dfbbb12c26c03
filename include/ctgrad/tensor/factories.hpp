#pragma once
// Factories with TensorOptions, as libtorch spells them: zeros({2, 3}, dtype(kDouble)),
// randn({3, 1}, requires_grad()), tensor({{1, 2}, {3, 4}}), linspace, arange, the *_like forms.
#include <cmath>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include "../core/config.hpp"
#include "copy.hpp"
#include "distributions.hpp"
#include "functions.hpp"
#include "generator.hpp"
#include "tensor_data.hpp"

namespace ctgrad {

namespace detail {
// Factories that compute their values (linspace, the random ones, tensor(...)) write them on the
// host, with the CPU's algorithms, and finish() moves them to the requested device: a CUDA
// tensor from randn after manual_seed(s) holds the CPU's numbers, not those of PyTorch's CUDA
// generator.
inline Tensor finish(Tensor t, const TensorOptions& options) {
    if (!(t.device() == options.device())) t = t.to(options.device());
    if (options.requires_grad()) t.requires_grad_(true);
    return t;
}
// `op` names the factory in the errors of impossible sizes and of memory that is not there.
inline Tensor allocate(IntArrayRef sizes, const TensorOptions& options, const char* op) {
    return make_empty(sizes, options.dtype(), Device(kCPU), op);
}
// A tensor of `sizes` on the requested device with every element `value`.
inline Tensor filled(IntArrayRef sizes, const TensorOptions& options, const Scalar& value, const char* op) {
    Tensor t = make_empty(sizes, options.dtype(), options.device(), op);
    if (t.numel() == 0) return t;
    kernels_of(t, op).fill(view_of(*t.unsafeGetTensorImpl()), fill_value_of(value));
    return t;
}
}  // namespace detail

CTGRAD_API Tensor empty(IntArrayRef sizes, const TensorOptions& options) {
    return detail::finish(make_empty(sizes, options.dtype(), options.device(), "empty"), options);
}

CTGRAD_API Tensor full(IntArrayRef sizes, const Scalar& value, const TensorOptions& options) {
    // libtorch's full infers the dtype from the value when none is given.
    TensorOptions o = options;
    if (!o.has_dtype()) o = o.dtype(value.is_floating_point() ? get_default_dtype_as_scalartype() : value.is_boolean() ? kBool : kLong);
    return detail::finish(detail::filled(sizes, o, value, "full"), o);
}
CTGRAD_API Tensor zeros(IntArrayRef sizes, const TensorOptions& options) {
    return detail::finish(detail::filled(sizes, options, 0, "zeros"), options);
}
CTGRAD_API Tensor ones(IntArrayRef sizes, const TensorOptions& options) {
    return detail::finish(detail::filled(sizes, options, 1, "ones"), options);
}
CTGRAD_API Tensor scalar_tensor(const Scalar& value, const TensorOptions& options) {
    return full({}, value, options.has_dtype() ? options : options.dtype(get_default_dtype_as_scalartype()));
}

CTGRAD_API Tensor empty_like(const Tensor& t, const TensorOptions& o) { return empty(t.sizes(), o.merged_with(t.options())); }
CTGRAD_API Tensor zeros_like(const Tensor& t, const TensorOptions& o) { return zeros(t.sizes(), o.merged_with(t.options())); }
CTGRAD_API Tensor ones_like(const Tensor& t, const TensorOptions& o) { return ones(t.sizes(), o.merged_with(t.options())); }
CTGRAD_API Tensor full_like(const Tensor& t, const Scalar& v, const TensorOptions& o) {
    return full(t.sizes(), v, o.merged_with(t.options()));
}
CTGRAD_API Tensor rand_like(const Tensor& t, const TensorOptions& o) { return rand(t.sizes(), o.merged_with(t.options())); }
CTGRAD_API Tensor randn_like(const Tensor& t, const TensorOptions& o) { return randn(t.sizes(), o.merged_with(t.options())); }

namespace detail {
// torch.linspace and torch.arange give the values of ATen's CPU kernels as they run with AVX2
// vectors (the capability ATen picks on any AVX2 machine), and those depend on the vector
// width: elements come in blocks of two vectors of V = 32 bytes / element (8 floats, 4
// doubles); the first element of each vector is computed from its index (with one rounding:
// the kernel's `a + step * i` is contracted to a fused multiply-add), the other lanes add
// k * step to it; elements after the last whole block use the index formula. Reproducing this
// makes linspace(-pi, pi, 2000) equal torch's bit for bit.
template <class T, class First, class Lane>
void fill_in_vector_blocks(T* p, std::int64_t n, First&& first, Lane&& lane) {
    constexpr std::int64_t V = 32 / sizeof(T);
    std::int64_t i = 0;
    for (; i + 2 * V <= n; i += 2 * V)
        for (std::int64_t c = i; c < i + 2 * V; c += V) {
            p[c] = first(c);
            for (std::int64_t k = 1; k < V; ++k) p[c + k] = lane(p[c], k);
        }
    for (; i < n; ++i) p[i] = first(i);
}
}  // namespace detail

// steps values from start to end inclusive, from both ends towards the middle as ATen computes
// them (see fill_in_vector_blocks), so that the values equal torch.linspace's.
CTGRAD_API Tensor linspace(const Scalar& start, const Scalar& end, std::int64_t steps, const TensorOptions& options) {
    if (steps < 0) throw Error("linspace: number of steps must be non-negative");
    Tensor t = detail::allocate({steps}, options, "linspace");
    const double a = start.to_double(), b = end.to_double();
    dispatch_dtype(t.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = t.data_ptr<T>();
        if (steps == 1) {
            p[0] = detail::convert_element<T>(a);
            return;
        }
        if constexpr (std::is_floating_point_v<T>) {
            const T ta = static_cast<T>(a), tb = static_cast<T>(b);
            const T step = (tb - ta) / static_cast<T>(steps - 1);
            const std::int64_t half = steps / 2;
            auto first = [&](std::int64_t i) {
                return i < half ? std::fma(step, static_cast<T>(i), ta)
                                : std::fma(-step, static_cast<T>(steps - i - 1), tb);
            };
            auto lane = [&](T base, std::int64_t k) { return base + static_cast<T>(k) * step; };
            detail::fill_in_vector_blocks(p, steps, first, lane);
        } else {
            const double step = (b - a) / static_cast<double>(steps - 1);
            for (std::int64_t i = 0; i < steps; ++i) p[i] = detail::convert_element<T>(a + step * static_cast<double>(i));
        }
    });
    return detail::finish(t, options);
}

CTGRAD_API Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& options) {
    const double s = step.to_double(), from = start.to_double(), to = end.to_double();
    if (!std::isfinite(from) || !std::isfinite(to))
        throw Error("arange: unsupported range: " + std::to_string(from) + " -> " + std::to_string(to) +
                    " (start and end must be finite)");
    if (s == 0 || std::isnan(s)) throw Error("arange: step must be nonzero");
    if ((s > 0 && to < from) || (s < 0 && to > from))
        throw Error("arange: upper bound and larger bound inconsistent with step sign (" + std::to_string(from) +
                    " -> " + std::to_string(to) + ", step " + std::to_string(s) + ")");
    const double span = std::ceil((to - from) / s);
    // 2^63 elements and more cannot be counted, let alone allocated (a double that large
    // converted to int64 is undefined behaviour).
    if (!(span < 9.2e18))
        throw Error("arange: the range " + std::to_string(from) + " -> " + std::to_string(to) + " with step " +
                    std::to_string(s) + " has too many elements (" + std::to_string(span) + ") for a tensor: too large");
    const std::int64_t n = span > 0 ? static_cast<std::int64_t>(span) : 0;
    const bool integral = !start.is_floating_point() && !end.is_floating_point() && !step.is_floating_point();
    TensorOptions o = options.has_dtype() ? options : options.dtype(integral ? kLong : get_default_dtype_as_scalartype());
    Tensor t = detail::allocate({n}, o, "arange");
    const double a = start.to_double();
    dispatch_dtype(t.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = t.data_ptr<T>();
        if constexpr (std::is_floating_point_v<T>) {
            // ATen accumulates in double (its acc_type of float and double on the CPU).
            auto first = [&](std::int64_t i) { return static_cast<T>(std::fma(s, static_cast<double>(i), a)); };
            auto lane = [&](T base, std::int64_t k) {
                return static_cast<T>(std::fma(static_cast<double>(k), s, static_cast<double>(base)));
            };
            detail::fill_in_vector_blocks(p, n, first, lane);
        } else {
            for (std::int64_t i = 0; i < n; ++i) p[i] = detail::convert_element<T>(a + s * static_cast<double>(i));
        }
    });
    return detail::finish(t, o);
}
CTGRAD_API Tensor arange(const Scalar& end, const TensorOptions& o) { return arange(0, end, 1, o); }
CTGRAD_API Tensor arange(const Scalar& start, const Scalar& end, const TensorOptions& o) { return arange(start, end, 1, o); }

// Random factories draw from the default CPU generator with PyTorch's algorithms, so after
// manual_seed(s) they give torch's numbers.
CTGRAD_API Tensor rand(IntArrayRef sizes, const TensorOptions& options) {
    Tensor t = detail::allocate(sizes, options, "rand");
    t.uniform_(0, 1);
    return detail::finish(t, options);
}
CTGRAD_API Tensor randn(IntArrayRef sizes, const TensorOptions& options) {
    Tensor t = detail::allocate(sizes, options, "randn");
    t.normal_(0, 1);
    return detail::finish(t, options);
}
CTGRAD_API Tensor randint(std::int64_t low, std::int64_t high, IntArrayRef sizes, const TensorOptions& options) {
    if (low >= high)
        throw Error("random_ expects 'from' to be less than 'to', but got from=" + std::to_string(low) +
                    " >= to=" + std::to_string(high));
    TensorOptions o = options.has_dtype() ? options : options.dtype(kLong);
    Tensor t = detail::allocate(sizes, o, "randint");
    t.random_(low, high);
    return detail::finish(t, o);
}
CTGRAD_API Tensor randint(std::int64_t high, IntArrayRef sizes, const TensorOptions& options) {
    return randint(0, high, sizes, options);
}

// ATen's randperm_cpu: 0 .. n-1, then one swap per position with a later one (or itself) chosen
// by a 32-bit draw modulo the positions left, so that after manual_seed(s) the permutation is
// torch.randperm's. From n = 2^32 / 20 on, where a 32-bit modulo would be visibly skewed, ATen
// (and ctgrad) switch to the inside-out shuffle with 64-bit draws. A float (double) permutation
// is refused beyond 2^24 + 1 (2^53 + 1) elements, where the indices stop being exact.
CTGRAD_API Tensor randperm(std::int64_t n, const TensorOptions& options) {
    if (n < 0) throw Error("randperm: n must be non-negative, got " + std::to_string(n));
    const TensorOptions o = options.has_dtype() ? options : options.dtype(kLong);
    if (o.dtype() == kBool) throw Error("randperm: \"randperm_cpu\" not implemented for 'Bool'");
    if ((o.dtype() == kFloat && n > (std::int64_t{1} << 24) + 1) || (o.dtype() == kDouble && n > (std::int64_t{1} << 53) + 1))
        throw Error("randperm: n cannot be greater than " + std::string(o.dtype() == kFloat ? "2^24+1" : "2^53+1") + " for " +
                    (o.dtype() == kFloat ? "Float" : "Double") + " type (got " + std::to_string(n) + ")");
    Tensor t = detail::allocate({n}, o, "randperm");
    dispatch_dtype(t.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (!std::is_same_v<T, bool>) {
            T* p = t.data_ptr<T>();
            Generator& g = default_generator();
            std::lock_guard<std::mutex> lock(g.mutex());
            if (n < static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max() / 20)) {
                for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(i);
                for (std::int64_t i = 0; i + 1 < n; ++i) {
                    const auto z = static_cast<std::int64_t>(g.random() % static_cast<std::uint64_t>(n - i));
                    std::swap(p[i], p[i + z]);
                }
            } else {
                for (std::int64_t i = 0; i < n; ++i) {
                    const auto z = static_cast<std::int64_t>(g.random64() % static_cast<std::uint64_t>(i + 1));
                    p[i] = p[z];
                    p[z] = static_cast<T>(i);
                }
            }
        }
    });
    return detail::finish(t, o);
}

namespace detail {
// from_blob's one implementation: `owner` (null without a deleter) frees the memory when the
// last tensor on it goes.
inline Tensor view_blob(void* data, IntArrayRef sizes, IntArrayRef strides, std::shared_ptr<void> owner,
                        const TensorOptions& options) {
    if (strides.size() != sizes.size())
        throw Error("from_blob: got " + std::to_string(strides.size()) + " strides for " + std::to_string(sizes.size()) +
                    " dimensions (sizes " + shape_str(sizes) + ", strides " + shape_str(strides) + ")");
    std::int64_t numel = 1, last = 0;  // the elements, and the offset of the farthest one
    for (std::size_t d = 0; d < sizes.size(); ++d) {
        if (sizes[d] < 0 || strides[d] < 0)
            throw Error("from_blob: sizes and strides must be non-negative, got sizes " + shape_str(sizes) + " and strides " +
                        shape_str(strides));
        numel *= sizes[d];
        last += (sizes[d] - 1) * strides[d];
    }
    if (numel != 0 && data == nullptr) throw Error("from_blob: data is null for a tensor of sizes " + shape_str(sizes));
    const ScalarType dtype = options.dtype();
    const Device device = options.device();
    if (!device.is_cpu() && is_integral(dtype, false) && dtype != kLong)
        throw Error(std::string("from_blob: tensors of dtype ") + dtype_name(dtype) +
                    " are supported on the CPU only, not on " + device.str());
    const std::size_t nbytes = numel == 0 ? 0 : static_cast<std::size_t>(last + 1) * element_size(dtype);
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = Storage::wrap(data, nbytes, std::move(owner), device);
    impl->sizes = sizes.vec();
    impl->strides = strides.vec();
    impl->dtype = dtype;
    Tensor t(std::move(impl));
    if (options.requires_grad()) t.requires_grad_(true);
    return t;
}
// A deleter as the owner of the memory (called once, when the storage goes).
inline std::shared_ptr<void> owner_calling(void* data, const std::function<void(void*)>& deleter) {
    return std::shared_ptr<void>(data, [deleter](void* p) {
        if (deleter) deleter(p);
    });
}
}  // namespace detail

CTGRAD_API Tensor from_blob(void* data, IntArrayRef sizes, const TensorOptions& options) {
    return detail::view_blob(data, sizes, contiguous_strides(sizes.vec()), nullptr, options);
}
CTGRAD_API Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const TensorOptions& options) {
    return detail::view_blob(data, sizes, strides, nullptr, options);
}
CTGRAD_API Tensor from_blob(void* data, IntArrayRef sizes, const std::function<void(void*)>& deleter,
                            const TensorOptions& options) {
    return detail::view_blob(data, sizes, contiguous_strides(sizes.vec()), detail::owner_calling(data, deleter), options);
}
CTGRAD_API Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const std::function<void(void*)>& deleter,
                            const TensorOptions& options) {
    return detail::view_blob(data, sizes, strides, detail::owner_calling(data, deleter), options);
}

CTGRAD_API Tensor TensorData::make(const TensorOptions& options) const {
    Tensor t = make_empty(sizes_, options.has_dtype() ? options.dtype() : desired_dtype());
    const bool written_floating = is_floating_point(type_);
    dispatch_dtype(t.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = t.data_ptr<T>();
        for (std::size_t i = 0; i < doubles_.size(); ++i)
            p[i] = written_floating ? detail::convert_element<T>(doubles_[i]) : detail::convert_element<T>(longs_[i]);
    });
    return detail::finish(t, options);
}


CTGRAD_API Tensor tensor(const TensorData& data, const TensorOptions& options) { return data.make(options); }

}  // namespace ctgrad
