#pragma once
// Printing a tensor's elements exactly as PyTorch 1.13's print(tensor) (torch/_tensor_str.py) and
// numpy 1.24's print(ndarray) (numpy/core/arrayprint.py) show them, byte for byte. The functions
// work on plain data (print_values), so that they need nothing from the Tensor class; ctgrad::str
// gathers a tensor's elements into a print_values and calls format_tensor. (Tensor's operator<<
// prints libtorch's format instead: libtorch_format.hpp.)
//
// Both libraries format doubles with correctly rounded decimal conversions; here std::to_chars
// gives the shortest round-trip digits (numpy's Dragon4 in "unique" mode, Python's repr) and
// snprintf gives digits correctly rounded at a fixed position (Python's "{:.4f}", "{:.4e}";
// Dragon4 with a digit cutoff). glibc's printf is exact, as both libraries are.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../core/dtype.hpp"

namespace ctgrad::detail {

struct print_values {                    // a tensor's elements in row-major order
    std::vector<std::int64_t> sizes;     // empty: a 0-d tensor
    ScalarType dtype = kFloat;
    std::vector<double> floating;        // filled when dtype is kFloat or kDouble (float32 values converted to double)
    std::vector<std::int64_t> integral;  // filled for the integer dtypes and kBool (0/1)
};

struct print_suffix {
    std::string device;          // "cpu" (or empty) is not printed
    bool requires_grad = false;  // printed as requires_grad=True when there is no grad_fn
    std::string grad_fn;         // e.g. "MulBackward0"; empty: none
};

inline std::string format_tensor(const print_values& values, const print_suffix& suffix);  // print(tensor), no trailing newline
inline std::string format_numpy(const print_values& values);  // print(tensor.numpy()), no trailing newline

// ------------------------------------------------------------------------------------------------
// Shared by both printers
// ------------------------------------------------------------------------------------------------
namespace print {

// Both libraries summarize arrays of more than 1000 elements (torch: PRINT_OPTS.threshold,
// numpy: threshold) and then show 3 items at each end of every dimension longer than 6
// (edgeitems = 3).
inline constexpr std::int64_t summary_threshold = 1000;
inline constexpr std::int64_t edge_items = 3;

inline std::int64_t element_count(const std::vector<std::int64_t>& sizes) {
    std::int64_t n = 1;
    for (auto s : sizes) n *= s;
    return n;
}

inline std::vector<std::int64_t> row_major_strides(const std::vector<std::int64_t>& sizes) {
    std::vector<std::int64_t> strides(sizes.size(), 1);
    for (std::size_t d = sizes.size(); d-- > 1;) strides[d - 1] = strides[d] * sizes[d];
    return strides;
}

// The positions along one dimension that are printed, in order; nullopt marks the ellipsis.
inline std::vector<std::optional<std::int64_t>> shown_positions(std::int64_t size, bool summarize) {
    std::vector<std::optional<std::int64_t>> positions;
    if (summarize && size > 2 * edge_items) {
        for (std::int64_t i = 0; i < edge_items; ++i) positions.emplace_back(i);
        positions.emplace_back(std::nullopt);
        for (std::int64_t i = size - edge_items; i < size; ++i) positions.emplace_back(i);
    } else {
        for (std::int64_t i = 0; i < size; ++i) positions.emplace_back(i);
    }
    return positions;
}

// Flat indices of the elements that appear in the output. The column widths and the choice of
// notation are computed from these only (torch: get_summarized_data; numpy: _leading_trailing).
inline std::vector<std::int64_t> shown_elements(const std::vector<std::int64_t>& sizes, bool summarize) {
    const auto strides = row_major_strides(sizes);
    std::vector<std::int64_t> flat{0};
    for (std::size_t d = 0; d < sizes.size(); ++d) {
        std::vector<std::int64_t> next;
        for (auto base : flat)
            for (auto p : shown_positions(sizes[d], summarize))
                if (p) next.push_back(base + *p * strides[d]);
        flat = std::move(next);
    }
    return flat;
}

inline bool is_integral_dtype(ScalarType t) { return is_integral(t, true); }

// snprintf into a std::string (the numbers here are at most a few hundred characters).
template <class... Args>
std::string printf_string(const char* format, Args... args) {
    char buffer[512];
    int n = std::snprintf(buffer, sizeof buffer, format, args...);
    return std::string(buffer, static_cast<std::size_t>(std::max(n, 0)));
}

// Shortest digits that read back as the same value of the element type (float32 elements use
// float's shortest digits, as numpy's Dragon4 does for np.float32).
inline std::string shortest_chars(double v, bool single, std::chars_format format) {
    char buffer[400];
    auto result = single ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(v), format)
                         : std::to_chars(buffer, buffer + sizeof buffer, v, format);
    return std::string(buffer, result.ptr);
}

// The shortest digits in positional notation: "1317801900." for np.float32(1317801856), as
// Dragon4 and Python's repr write them. (std::to_chars's fixed format would give the exact
// "1317801856", as short and closer; so the digits come from the scientific format.)
inline std::string shortest_positional(double v, bool single) {
    std::string sci = shortest_chars(v, single, std::chars_format::scientific);  // "-1.2345e+02"
    const auto e = sci.find('e');
    const int exponent = std::stoi(sci.substr(e + 1));
    // The sign is built once, not assigned in the loop: GCC 12 at -O3 warns (-Wrestrict, a false
    // positive) about assigning a literal to a string inside it.
    std::string digits;
    for (char c : sci.substr(0, e))
        if (c != '.' && c != '-') digits += c;
    const std::string sign(sci[0] == '-' ? 1 : 0, '-');
    if (exponent < 0) return sign + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    const auto integer_digits = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() < integer_digits) digits.resize(integer_digits, '0');
    return sign + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

// A decimal number as text, split at its point and exponent: "-12.50e+03" -> {"-12", "50", "+03"}.
struct decimal_parts {
    std::string integer;   // with the sign
    std::string fraction;  // digits after the point (may be empty)
    std::string exponent;  // sign and digits after 'e'; empty in positional notation
};

inline decimal_parts split_decimal(std::string_view text) {
    decimal_parts parts;
    auto e = text.find('e');
    if (e != std::string_view::npos) {
        parts.exponent = std::string(text.substr(e + 1));
        text = text.substr(0, e);
    }
    auto dot = text.find('.');
    parts.integer = std::string(text.substr(0, dot));
    if (dot != std::string_view::npos) parts.fraction = std::string(text.substr(dot + 1));
    return parts;
}

inline void trim_trailing_zeros(std::string& digits) {
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
}

inline std::string pad_left(std::string text, std::size_t width) {
    if (text.size() < width) text.insert(0, width - text.size(), ' ');
    return text;
}

}  // namespace print

// ------------------------------------------------------------------------------------------------
// PyTorch (torch/_tensor_str.py)
// ------------------------------------------------------------------------------------------------
namespace torch_print {

inline constexpr int precision = 4;         // PRINT_OPTS.precision
inline constexpr std::int64_t linewidth = 80;  // PRINT_OPTS.linewidth

// Python's str.format of a float: nan and inf are spelled "nan", "inf", "-inf" (never "-nan").
inline std::string python_float(double v, char conversion, int digits) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    const char format[] = {'%', '.', '*', conversion, '\0'};
    return print::printf_string(format, digits, v);
}
inline std::string python_fixed(double v, int digits) { return python_float(v, 'f', digits); }       // "{:.Nf}"
inline std::string python_scientific(double v, int digits) { return python_float(v, 'e', digits); }  // "{:.Ne}"

// _Formatter: one notation and one width for every element printed.
struct element_formatter {
    ScalarType dtype = kFloat;
    bool int_mode = true;    // floats that are all integers print as "3."
    bool sci_mode = false;   // "1.0000e-05"
    std::size_t width = 1;   // max_width starts at 1

    // _Formatter.format: the element in this formatter's notation, right-aligned in the column.
    std::string text(double v) const {
        std::string s;
        if (sci_mode) s = python_scientific(v, precision);
        else if (int_mode) s = python_fixed(v, 0) + (std::isfinite(v) ? "." : "");
        else s = python_fixed(v, precision);
        return print::pad_left(std::move(s), width);
    }
    std::string text(std::int64_t v) const { return print::pad_left(integral_text(v), width); }
    // "{}".format of a Python int or bool
    std::string integral_text(std::int64_t v) const {
        return dtype == kBool ? (v ? "True" : "False") : std::to_string(v);
    }
};

// _Formatter.__init__. For floats only the non-zero finite values decide int_mode, sci_mode and
// the width: zeros, nan and inf are not measured (so "nan" may be wider than the column).
inline element_formatter make_formatter(const print_values& values, const std::vector<std::int64_t>& shown) {
    element_formatter f;
    f.dtype = values.dtype;
    if (print::is_integral_dtype(values.dtype)) {
        for (auto i : shown) f.width = std::max(f.width, f.integral_text(values.integral[i]).size());
        return f;
    }
    std::vector<double> nonzero_finite;
    for (auto i : shown) {
        double v = values.floating[i];
        if (std::isfinite(v) && v != 0) nonzero_finite.push_back(v);
    }
    if (nonzero_finite.empty()) return f;
    double max_abs = 0, min_abs = INFINITY;
    for (double v : nonzero_finite) {
        max_abs = std::max(max_abs, std::abs(v));
        min_abs = std::min(min_abs, std::abs(v));
        if (v != std::ceil(v)) f.int_mode = false;
    }
    // torch computes the ratio in double whatever the dtype (tensor_totype).
    const bool wide_range = max_abs / min_abs > 1000.0 || max_abs > 1.0e8;
    f.sci_mode = f.int_mode ? wide_range : (wide_range || min_abs < 1.0e-4);
    for (double v : nonzero_finite) {
        std::size_t len = f.sci_mode   ? python_scientific(v, precision).size()
                          : f.int_mode ? python_fixed(v, 0).size() + 1  // + 1 for the '.'
                                       : python_fixed(v, precision).size();
        f.width = std::max(f.width, len);
    }
    return f;
}

class body_printer {
public:
    body_printer(const print_values& values, bool summarize, element_formatter formatter)
        : values_(values), strides_(print::row_major_strides(values.sizes)), summarize_(summarize),
          formatter_(std::move(formatter)) {}

    // _tensor_str_with_formatter: `indent` is the column the opening '[' of this level sits after.
    std::string render(std::size_t dim, std::int64_t offset, std::int64_t indent) const {
        const std::size_t rank = values_.sizes.size();
        if (rank == 0) return element(offset);
        if (rank - dim == 1) return vector(dim, offset, indent);
        // Sub-tensors are separated by a comma and (dims left - 1) newlines: one blank line
        // between the 2-d blocks of a 3-d tensor, two between the 3-d blocks of a 4-d one.
        const std::string separator = "," + std::string(rank - dim - 1, '\n') + std::string(indent + 1, ' ');
        std::string out = "[";
        bool first = true;
        for (auto p : print::shown_positions(values_.sizes[dim], summarize_)) {
            if (!first) out += separator;
            first = false;
            out += p ? render(dim + 1, offset + *p * strides_[dim], indent + 1) : "...";
        }
        return out + "]";
    }

private:
    std::string element(std::int64_t i) const {
        return print::is_integral_dtype(values_.dtype) ? formatter_.text(values_.integral[i])
                                                       : formatter_.text(values_.floating[i]);
    }

    // _vector_str: a fixed number of elements per line, floor((80 - indent) / (width + 2)); the
    // summary marker " ..." counts as one element.
    std::string vector(std::size_t dim, std::int64_t offset, std::int64_t indent) const {
        const auto element_length = static_cast<std::int64_t>(formatter_.width) + 2;
        const std::int64_t per_line = std::max<std::int64_t>(1, (linewidth - indent) / element_length);
        std::vector<std::string> items;
        for (auto p : print::shown_positions(values_.sizes[dim], summarize_))
            items.push_back(p ? element(offset + *p * strides_[dim]) : " ...");
        std::string out = "[";
        for (std::size_t k = 0; k < items.size(); ++k) {
            if (k > 0) out += (k % per_line == 0) ? ",\n" + std::string(indent + 1, ' ') : ", ";
            out += items[k];
        }
        return out + "]";
    }

    const print_values& values_;
    std::vector<std::int64_t> strides_;
    bool summarize_;
    element_formatter formatter_;
};

// str(tuple(shape)): "(0, 3)", "(0,)".
inline std::string python_tuple(const std::vector<std::int64_t>& sizes) {
    std::string out = "(";
    for (std::size_t d = 0; d < sizes.size(); ++d) out += (d ? ", " : "") + std::to_string(sizes[d]);
    return out + (sizes.size() == 1 ? ",)" : ")");
}

// _str_intern's suffix list, in its order: device, size (empty only), dtype, autograd.
inline std::vector<std::string> suffixes(const print_values& values, const print_suffix& suffix) {
    std::vector<std::string> out;
    if (!suffix.device.empty() && suffix.device != "cpu") out.push_back("device='" + suffix.device + "'");
    const bool empty = print::element_count(values.sizes) == 0;
    if (empty && values.sizes.size() != 1) out.push_back("size=" + python_tuple(values.sizes));
    // A non-empty tensor names its dtype unless it is a "default" one (the default dtype, int64,
    // bool); an empty one has no elements to show the dtype by, so anything but the default
    // dtype is named.
    const ScalarType default_dtype = get_default_dtype_as_scalartype();
    const bool named_dtype = empty ? values.dtype != default_dtype
                                   : values.dtype != default_dtype && values.dtype != kLong && values.dtype != kBool;
    if (named_dtype) out.push_back(std::string("dtype=") + dtype_python_name(values.dtype));
    if (!suffix.grad_fn.empty()) out.push_back("grad_fn=<" + suffix.grad_fn + ">");
    else if (suffix.requires_grad) out.push_back("requires_grad=True");
    return out;
}

// _add_suffixes: a suffix that would pass the line width starts a new line indented under the
// '['. torch measures the last line as len - rfind('\n') + 1, two more than its length.
inline std::string add_suffixes(std::string text, const std::vector<std::string>& suffixes, std::int64_t indent) {
    const auto newline = text.rfind('\n');
    std::int64_t last_line = static_cast<std::int64_t>(text.size()) -
                             (newline == std::string::npos ? -1 : static_cast<std::int64_t>(newline)) + 1;
    for (const auto& s : suffixes) {
        const auto len = static_cast<std::int64_t>(s.size());
        if (last_line + len + 2 > linewidth) {
            text += ",\n" + std::string(indent, ' ') + s;
            last_line = indent + len;
        } else {
            text += ", " + s;
            last_line += len + 2;
        }
    }
    return text + ")";
}

}  // namespace torch_print

inline std::string format_tensor(const print_values& values, const print_suffix& suffix) {
    const std::string prefix = "tensor(";
    const auto indent = static_cast<std::int64_t>(prefix.size());
    const std::int64_t numel = print::element_count(values.sizes);
    std::string body = "[]";
    if (numel > 0) {
        const bool summarize = numel > print::summary_threshold;
        auto formatter = torch_print::make_formatter(values, print::shown_elements(values.sizes, summarize));
        body = torch_print::body_printer(values, summarize, std::move(formatter)).render(0, 0, indent);
    }
    return torch_print::add_suffixes(prefix + body, torch_print::suffixes(values, suffix), indent);
}

// ------------------------------------------------------------------------------------------------
// numpy (numpy/core/arrayprint.py, with its defaults: precision 8, floatmode 'maxprec',
// linewidth 75, sign '-', no suppression)
// ------------------------------------------------------------------------------------------------
namespace numpy_print {

inline constexpr int precision = 8;
inline constexpr std::int64_t linewidth = 75;

// Dragon4 in unique mode with at most `precision` digits after the point, trimmed to "1." form:
// the shortest digits when they fit, else the value correctly rounded at that many digits.
// FloatingFormat passes min_digits=0, which makes Dragon4 print every digit down to the units
// place: a float32 array shows 82088248., where the scalar's shortest digits are 82088250.
// (Shortest digits stop before the units place only for integers too large to have a fraction.)
inline print::decimal_parts positional_digits(double v, bool single) {
    auto parts = print::split_decimal(print::shortest_positional(v, single));
    if (parts.fraction.empty()) {
        parts = print::split_decimal(print::printf_string("%.0f", v));
    } else if (parts.fraction.size() > static_cast<std::size_t>(precision)) {
        parts = print::split_decimal(print::printf_string("%.*f", precision, v));
        print::trim_trailing_zeros(parts.fraction);
    }
    return parts;
}

// The same in scientific notation: "1.2345e-05", "1e+100" (exponent of at least two digits).
inline print::decimal_parts scientific_digits(double v, bool single) {
    auto parts = print::split_decimal(print::shortest_chars(v, single, std::chars_format::scientific));
    if (parts.fraction.size() > static_cast<std::size_t>(precision)) {
        parts = print::split_decimal(print::printf_string("%.*e", precision, v));
        print::trim_trailing_zeros(parts.fraction);
    }
    return parts;
}

// Dragon4(unique=True, precision=p, min_digits=p): exactly p digits after the point. The
// shortest digits when they have exactly p; otherwise (fewer or more) the value correctly
// rounded at p digits, which for float32 may show digits beyond the shortest ones
// (np.float32(1e-5) prints as 9.9999997e-06 next to a number that needs 7 digits).
inline print::decimal_parts scientific_digits_exactly(double v, bool single, int p) {
    auto parts = print::split_decimal(print::shortest_chars(v, single, std::chars_format::scientific));
    if (parts.fraction.size() != static_cast<std::size_t>(p))
        parts = print::split_decimal(print::printf_string("%.*e", p, v));
    return parts;
}

// FloatingFormat: the notation and paddings chosen from every printed finite value.
struct float_formatter {
    bool single = false;       // float32: digits of the float, not of the double
    bool scientific = false;
    std::size_t pad_left = 0;   // characters before the point, sign included
    std::size_t pad_right = 0;  // characters after the point (scientific: digits, 'e', exponent)
    int digits = 0;             // scientific: digits after the point
    std::size_t exp_digits = 0; // scientific: exponent digits (zero-padded)

    std::string text(double v) const {
        if (!std::isfinite(v)) {
            // right-aligned in the width of a finite element
            std::string s = std::isnan(v) ? "nan" : (v < 0 ? "-inf" : "inf");
            return print::pad_left(std::move(s), pad_left + pad_right + 1);
        }
        if (scientific) {
            auto parts = scientific_digits_exactly(v, single, digits);
            std::string exponent_digits = parts.exponent.substr(1);
            if (exponent_digits.size() < exp_digits) exponent_digits.insert(0, exp_digits - exponent_digits.size(), '0');
            return print::pad_left(parts.integer, pad_left) + "." + parts.fraction + "e" + parts.exponent[0] +
                   exponent_digits;
        }
        auto parts = positional_digits(v, single);
        std::string fraction = parts.fraction;
        fraction.resize(std::max(fraction.size(), pad_right), ' ');
        return print::pad_left(parts.integer, pad_left) + "." + fraction;
    }
};

inline float_formatter make_float_formatter(const print_values& values, const std::vector<std::int64_t>& shown) {
    float_formatter f;
    f.single = values.dtype == kFloat;
    std::vector<double> finite;
    bool has_nonfinite = false, has_negative_inf = false;
    for (auto i : shown) {
        double v = values.floating[i];
        if (std::isfinite(v)) finite.push_back(v);
        else {
            has_nonfinite = true;
            has_negative_inf = has_negative_inf || v < 0;
        }
    }
    // Scientific notation when the non-zero magnitudes reach 1e8, go below 1e-4 or span more
    // than a factor 1000. numpy divides in the array's dtype (float32 for float32 arrays).
    double max_abs = 0, min_abs = INFINITY;
    for (double v : finite)
        if (v != 0) {
            max_abs = std::max(max_abs, std::abs(v));
            min_abs = std::min(min_abs, std::abs(v));
        }
    if (max_abs > 0) {
        const double ratio = f.single ? static_cast<double>(static_cast<float>(max_abs) / static_cast<float>(min_abs))
                                      : max_abs / min_abs;
        f.scientific = max_abs >= 1.e8 || min_abs < 0.0001 || ratio > 1000.;
    }
    if (!finite.empty() && f.scientific) {
        std::size_t exponent_length = 0, fraction_length = 0;
        for (double v : finite) {
            auto parts = scientific_digits(v, f.single);
            f.pad_left = std::max(f.pad_left, parts.integer.size());
            fraction_length = std::max(fraction_length, parts.fraction.size());
            exponent_length = std::max(exponent_length, parts.exponent.size());
        }
        f.digits = static_cast<int>(fraction_length);
        f.exp_digits = exponent_length - 1;  // without the sign
        f.pad_right = f.exp_digits + 2 + fraction_length;
    } else if (!finite.empty()) {
        for (double v : finite) {
            auto parts = positional_digits(v, f.single);
            f.pad_left = std::max(f.pad_left, parts.integer.size());
            f.pad_right = std::max(f.pad_right, parts.fraction.size());
        }
    }
    // nan and inf (with its sign when one is negative) must fit the column too.
    if (has_nonfinite) {
        const std::size_t offset = f.pad_right + 1;
        const std::size_t widest = has_negative_inf ? 4 : 3;
        if (widest > offset) f.pad_left = std::max(f.pad_left, widest - offset);
    }
    return f;
}

// IntegerFormat ('%{w}d', w from the largest and the smallest value) and BoolFormat (" True").
inline std::string integral_text(const print_values& values, std::int64_t v, std::size_t width) {
    if (values.dtype == kBool) return v ? " True" : "False";
    return print::pad_left(std::to_string(v), width);
}

class array_printer {
public:
    array_printer(const print_values& values, bool summarize)
        : values_(values), strides_(print::row_major_strides(values.sizes)), summarize_(summarize) {
        const auto shown = print::shown_elements(values.sizes, summarize);
        if (print::is_integral_dtype(values.dtype)) {
            for (auto i : shown) int_width_ = std::max(int_width_, std::to_string(values.integral[i]).size());
        } else {
            float_ = make_float_formatter(values, shown);
        }
    }

    // _formatArray's recurser: `hanging` is the indentation of continuation lines, `width` the
    // line width left at this depth (one less per nesting level, for the closing ']').
    std::string render(std::size_t dim, std::int64_t offset, const std::string& hanging, std::int64_t width) const {
        const std::size_t axes_left = values_.sizes.size() - dim;
        if (axes_left == 0) return element(offset);
        const std::string next_hanging = hanging + ' ';
        const auto positions = print::shown_positions(values_.sizes[dim], summarize_);
        std::string s;
        if (axes_left == 1) {
            // The last axis: words separated by ' ', wrapped before a word that would pass
            // width - 1 (room for ']'); a wrap never leaves a line with nothing on it.
            const std::int64_t element_width = width - 1;
            std::string line = hanging;
            for (std::size_t k = 0; k < positions.size(); ++k) {
                const auto& p = positions[k];
                std::string word = p ? element(offset + *p * strides_[dim]) : "...";
                const bool wrap = static_cast<std::int64_t>(line.size() + word.size()) > element_width &&
                                  line.size() > hanging.size();
                if (wrap) {
                    s += rstrip(line) + "\n";
                    line = hanging;
                }
                line += word;
                if (k + 1 < positions.size()) line += ' ';
            }
            s += line;
        } else {
            // Outer axes: one sub-array per line, (axes left - 1) newlines between them.
            const std::string line_separator(axes_left - 1, '\n');
            for (std::size_t k = 0; k < positions.size(); ++k) {
                const auto& p = positions[k];
                s += hanging + (p ? render(dim + 1, offset + *p * strides_[dim], next_hanging, width - 1) : "...");
                if (k + 1 < positions.size()) s += line_separator;
            }
        }
        return "[" + s.substr(hanging.size()) + "]";
    }

private:
    static std::string rstrip(std::string s) {
        while (!s.empty() && s.back() == ' ') s.pop_back();
        return s;
    }
    std::string element(std::int64_t i) const {
        if (print::is_integral_dtype(values_.dtype)) return integral_text(values_, values_.integral[i], int_width_);
        return float_.text(values_.floating[i]);
    }

    const print_values& values_;
    std::vector<std::int64_t> strides_;
    bool summarize_;
    std::size_t int_width_ = 0;
    float_formatter float_;
};

// str() of a numpy scalar (what a 0-d array prints): the shortest digits, positional
// ("1.0", "0.5") for 1e-4 <= |v| < 1e16 and zero, scientific otherwise ("1e-05", "1.5e+16").
inline std::string scalar_text(const print_values& values) {
    if (values.dtype == kBool) return values.integral[0] ? "True" : "False";
    if (is_integral(values.dtype, false)) return std::to_string(values.integral[0]);
    const double v = values.floating[0];
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    const bool single = values.dtype == kFloat;
    const double a = std::abs(v);
    if (a == 0 || (a >= 1.e-4 && a < 1.e16)) {
        auto parts = print::split_decimal(print::shortest_positional(v, single));
        return parts.integer + "." + (parts.fraction.empty() ? "0" : parts.fraction);
    }
    return print::shortest_chars(v, single, std::chars_format::scientific);
}

}  // namespace numpy_print

inline std::string format_numpy(const print_values& values) {
    if (values.sizes.empty()) return numpy_print::scalar_text(values);
    const std::int64_t numel = print::element_count(values.sizes);
    if (numel == 0) return "[]";  // whatever the shape
    const bool summarize = numel > print::summary_threshold;
    return numpy_print::array_printer(values, summarize).render(0, 0, " ", numpy_print::linewidth);
}

}  // namespace ctgrad::detail
