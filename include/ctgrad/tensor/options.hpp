#pragma once
// TensorOptions, as libtorch spells them: `ctgrad::dtype(kDouble).requires_grad(true)`,
// `ctgrad::requires_grad()`, or a bare dtype or device where options are expected.
#include <optional>

#include "../core/device.hpp"
#include "../core/dtype.hpp"

namespace ctgrad {

class TensorOptions {
public:
    TensorOptions() = default;
    TensorOptions(ScalarType d) : dtype_(d) {}  // NOLINT: `zeros({2}, kDouble)` as in libtorch
    TensorOptions(Device d) : device_(d) {}     // NOLINT
    TensorOptions(DeviceType d) : device_(Device(d)) {}  // NOLINT

    TensorOptions dtype(ScalarType d) const { auto o = *this; o.dtype_ = d; return o; }
    TensorOptions device(Device d) const { auto o = *this; o.device_ = d; return o; }
    TensorOptions requires_grad(bool r) const { auto o = *this; o.requires_grad_ = r; return o; }

    // Unset: the default dtype (set_default_dtype), as libtorch's TensorOptions.
    ScalarType dtype() const { return dtype_ ? *dtype_ : get_default_dtype_as_scalartype(); }
    Device device() const { return device_.value_or(Device(kCPU)); }
    bool requires_grad() const { return requires_grad_; }
    bool has_dtype() const { return dtype_.has_value(); }
    bool has_device() const { return device_.has_value(); }

    // Fills what this one leaves unset from `base` (the *_like factories).
    TensorOptions merged_with(const TensorOptions& base) const {
        auto o = *this;
        if (!o.dtype_) o.dtype_ = base.dtype_;
        if (!o.device_) o.device_ = base.device_;
        return o;
    }

private:
    std::optional<ScalarType> dtype_;
    std::optional<Device> device_;
    bool requires_grad_ = false;
};

inline TensorOptions dtype(ScalarType d) { return TensorOptions().dtype(d); }
// `dtype<std::uint8_t>()`: the dtype of an element type, as libtorch's at::dtype<T>().
template <class T> TensorOptions dtype() { return TensorOptions().dtype(dtype_of<T>()); }
inline TensorOptions device(Device d) { return TensorOptions().device(d); }
inline TensorOptions requires_grad(bool r = true) { return TensorOptions().requires_grad(r); }

}  // namespace ctgrad
