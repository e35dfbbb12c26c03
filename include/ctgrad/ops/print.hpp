#pragma once
// Three ways to print a tensor's values:
//  - `std::cout << t` and print(os, t, linesize) write what libtorch 1.13's operator<< and
//    at::print write (ATen's Formatting.cpp): " 1  2\n 3  4\n[ CPUFloatType{2,2} ]", so that a
//    ported libtorch program prints the same text;
//  - str(t) is what Python's print(t) prints in PyTorch 1.13, suffixes included
//    (`requires_grad=True`, `grad_fn=<MulBackward0>`);
//  - numpy_str(t) is what print(t.numpy()) prints.
#include <iostream>
#include <ostream>
#include <string>

#include "../core/config.hpp"
#include "../autograd/node.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/format.hpp"
#include "../tensor/libtorch_format.hpp"

namespace ctgrad {

namespace detail {
inline print_values gather_print_values(const Tensor& t) {
    print_values v;
    v.sizes = t.sizes().vec();
    v.dtype = t.scalar_type();
    const Tensor c = t.is_contiguous() && t.is_cpu() ? t : contiguous_copy_on(t, Device(kCPU));
    const std::int64_t n = c.numel();
    dispatch_dtype(c.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* p = reinterpret_cast<const T*>(c.data_ptr());
        if constexpr (std::is_floating_point_v<T>) v.floating.assign(p, p + n);
        else v.integral.assign(p, p + n);
    });
    return v;
}
}  // namespace detail

CTGRAD_API std::string str(const Tensor& t) {
    if (!t.defined()) return "[ Tensor (undefined) ]";
    detail::print_suffix suffix;
    suffix.device = t.device().str();
    if (t.grad_fn()) {
        // Python shows the engine's own nodes without their C++ namespace (<CopySlices>).
        std::string name = t.grad_fn()->name();
        const std::string prefix = "torch::autograd::";
        if (name.rfind(prefix, 0) == 0 && name.find("CppNode") == std::string::npos) name.erase(0, prefix.size());
        suffix.grad_fn = name;
    }
    else suffix.requires_grad = t.requires_grad();
    return detail::format_tensor(detail::gather_print_values(t), suffix);
}

// What print(t.numpy()) shows for t's values (numpy's array printing).
CTGRAD_API std::string numpy_str(const Tensor& t) { return detail::format_numpy(detail::gather_print_values(t)); }

CTGRAD_API std::ostream& print(std::ostream& os, const Tensor& t, std::int64_t linesize) {
    if (!t.defined()) return os << "[ Tensor (undefined) ]";
    return detail::print_libtorch(os, detail::gather_print_values(t),
                                  detail::libtorch_type_name(t.is_cuda(), t.scalar_type()), linesize);
}

CTGRAD_API void print(const Tensor& t, std::int64_t linesize) { print(std::cout, t, linesize); }

CTGRAD_API std::ostream& operator<<(std::ostream& os, const Tensor& t) { return print(os, t, 80); }

}  // namespace ctgrad
