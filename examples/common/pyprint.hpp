#pragma once
// Python's print() for the examples, so that a twin prints the lines its PyTorch original prints:
// py::print(t, loss.item<double>()) writes "99 3238.300537109375" as print(t, loss.item()) does.
// Tensors print through ctgrad::str (PyTorch's format; operator<< writes libtorch's); floats as
// Python's repr; sizes as torch.Size does.
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <string>

#include <ctgrad/tensor.hpp>

namespace py {

// repr(float): the shortest digits that read back as the same double, positional for decimal
// exponents in [-4, 16) with at least one digit after the point ("3.0"), else scientific with a
// signed exponent of at least two digits ("1e-05", "-6.2158362901243436e-09", "1e+16").
inline std::string repr(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    char buffer[64];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::scientific).ptr;
    const std::string sci(buffer, end);  // "-1.2345e+02"
    const auto e = sci.find('e');
    const int exponent = std::stoi(sci.substr(e + 1));
    std::string sign, digits;
    for (char c : sci.substr(0, e)) {
        if (c == '-') sign = "-";
        else if (c != '.') digits += c;
    }
    if (exponent < -4 || exponent >= 16) {
        std::string mantissa = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
        const std::string exp_digits = std::to_string(exponent < 0 ? -exponent : exponent);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (exp_digits.size() < 2 ? "0" : "") + exp_digits;
    }
    if (exponent < 0) return sign + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    const auto integer_digits = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() < integer_digits) digits.resize(integer_digits, '0');
    std::string fraction = digits.substr(integer_digits);
    return sign + digits.substr(0, integer_digits) + "." + (fraction.empty() ? "0" : fraction);
}

// str(x) for what the examples print.
inline std::string str(const std::string& s) { return s; }
inline std::string str(const char* s) { return s; }
inline std::string str(double v) { return repr(v); }
inline std::string str(float v) { return repr(v); }  // a float32 .item() widens to a Python float
template <std::integral I>
    requires(!std::same_as<I, bool>)
std::string str(I v) {
    return std::to_string(v);
}
inline std::string str(bool v) { return v ? "True" : "False"; }
inline std::string str(const ctgrad::Tensor& t) { return ctgrad::str(t); }
// print(t.shape) shows torch.Size([3, 3]).
inline std::string str(ctgrad::IntArrayRef sizes) {
    std::ostringstream out;
    out << "torch.Size(" << sizes << ")";
    return out.str();
}

// print(a, b, ...): the arguments' str() separated by spaces, then a newline.
template <class... Args>
void print(const Args&... args) {
    std::string line;
    bool first = true;
    ((line += (first ? "" : " ") + py::str(args), first = false), ...);
    std::cout << line << '\n';
}

}  // namespace py
