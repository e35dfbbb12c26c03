#pragma once
// Printing a tensor as libtorch 1.13's operator<<(std::ostream&, const at::Tensor&) does (ATen's
// Formatting.cpp), byte for byte: a column of numbers per row, one scale factor or notation for
// the whole matrix, "Columns a to b" blocks for rows wider than the line, "(i,j,.,.) = " headers
// for the matrices of a tensor of rank 3 or more, and a "[ CPUFloatType{2,3} ]" footer.
//
// Like ATen, the numbers go through the stream's own formatting (std::fixed, std::scientific,
// std::setw, and the stream's precision where ATen leaves the notation at its default), and the
// stream's format flags are restored afterwards. Like format.hpp, the functions work on plain data
// (print_values), so that they need nothing from the Tensor class.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ios>
#include <iomanip>
#include <ostream>
#include <string>
#include <vector>

#include "format.hpp"

namespace ctgrad::detail {

namespace libtorch_print {

// How every element of one matrix (or vector) is written: ATen picks one notation and one column
// width for all of them, and, for fixed notation with too large or too small magnitudes, a power
// of ten that every element is divided by (printed once as "0.001 *").
struct layout {
    double scale = 1;
    std::int64_t width = 0;
};

// Restores the stream's flags, precision, width and fill, as ATen's FormatGuard does.
class format_guard {
public:
    explicit format_guard(std::ostream& os) : os_(os), saved_(nullptr) { saved_.copyfmt(os); }
    ~format_guard() { os_.copyfmt(saved_); }
    format_guard(const format_guard&) = delete;
    format_guard& operator=(const format_guard&) = delete;

private:
    std::ostream& os_;
    std::ios saved_;
};

// The number of decimal digits before the point of a magnitude (1 for zero), as
// floor(log10(x)) + 1: 0.05 -> -1, 0.5 -> 0, 5 -> 1, 500 -> 3.
inline double digits_before_point(double magnitude) {
    return magnitude != 0 ? std::floor(std::log10(magnitude)) + 1 : 1;
}

// ATen's __printFormat: chooses the layout from the elements p[0..n) and sets the stream's
// notation and precision to match.
inline layout choose_layout(std::ostream& os, const double* p, std::int64_t n) {
    layout chosen;
    bool int_mode = true;
    for (std::int64_t i = 0; i < n; ++i)
        if (std::isfinite(p[i]) && p[i] != std::ceil(p[i])) {
            int_mode = false;
            break;
        }
    // The magnitude range of the finite elements, started from the first finite one. ATen
    // compares the largest with the signed element (`p[i] > max`), so a negative element never
    // raises it unless it is the first finite one; the widths below follow that rule too.
    double min_digits = 1, max_digits = 1;
    const std::int64_t first = std::find_if(p, p + n, [](double v) { return std::isfinite(v); }) - p;
    if (first < n) {
        double min_abs = std::fabs(p[first]), max_abs = std::fabs(p[first]);
        for (std::int64_t i = first; i < n; ++i) {
            if (!std::isfinite(p[i])) continue;
            min_abs = std::min(min_abs, std::fabs(p[i]));
            if (p[i] > max_abs) max_abs = std::fabs(p[i]);
        }
        min_digits = digits_before_point(min_abs);
        max_digits = digits_before_point(max_abs);
    }
    if (int_mode) {
        if (max_digits > 9) {
            chosen.width = 11;
            os << std::scientific << std::setprecision(4);
        } else {
            chosen.width = static_cast<std::int64_t>(max_digits) + 1;
            os.unsetf(std::ios_base::floatfield);  // the stream's own precision
        }
    } else if (max_digits - min_digits > 4) {
        chosen.width = std::fabs(max_digits) > 99 || std::fabs(min_digits) > 99 ? 12 : 11;  // 3-digit exponents
        os << std::scientific << std::setprecision(4);
    } else {
        if (max_digits > 5 || max_digits < 0) {
            chosen.width = 7;
            chosen.scale = std::pow(10, max_digits - 1);
        } else {
            chosen.width = max_digits == 0 ? 7 : static_cast<std::int64_t>(max_digits) + 6;
        }
        os << std::fixed << std::setprecision(4);
    }
    return chosen;
}

inline void indent(std::ostream& os, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) os << ' ';
}

// "0.001 *" on a line of its own, in the default notation at the precision just chosen.
inline void print_scale(std::ostream& os, double scale) {
    format_guard guard(os);
    os.unsetf(std::ios_base::floatfield);
    os << scale << " *\n";
}

// ATen's __printMatrix: the rows x columns matrix at p, each line `indent_by` spaces in. The
// columns are cut into blocks of as many as fit in `linesize`, each block headed by
// "Columns a to b" (ATen writes the first row right after that header, on the same line).
inline void print_matrix(std::ostream& os, const double* p, std::int64_t rows, std::int64_t columns,
                         std::int64_t linesize, std::int64_t indent_by) {
    const layout chosen = choose_layout(os, p, rows * columns);
    indent(os, indent_by);
    // ATen would loop forever when not even one column fits; ctgrad prints one per block.
    const std::int64_t per_block = std::max<std::int64_t>(1, (linesize - indent_by) / (chosen.width + 1));
    for (std::int64_t first = 0; first < columns;) {
        const std::int64_t last = std::min(first + per_block, columns) - 1;
        if (per_block < columns) {
            if (first != 0) os << '\n';
            os << "Columns " << first + 1 << " to " << last + 1;
            indent(os, indent_by);
        }
        if (chosen.scale != 1) {
            print_scale(os, chosen.scale);
            indent(os, indent_by);
        }
        for (std::int64_t r = 0; r < rows; ++r) {
            for (std::int64_t c = first; c <= last; ++c) {
                os << std::setw(static_cast<int>(chosen.width)) << p[r * columns + c] / chosen.scale;
                if (c != last) {
                    os << ' ';
                    continue;
                }
                os << '\n';
                // Rows after the first of a scaled block are one space further in, as in ATen.
                if (r != rows - 1) indent(os, indent_by + (chosen.scale != 1 ? 1 : 0));
            }
        }
        first = last + 1;
    }
}

// ATen's __printTensor: every matrix of the last two dimensions, headed by its 1-based index in
// the leading ones, "(2,1,.,.) = ". The first leading index runs fastest.
inline void print_matrices(std::ostream& os, const double* p, const std::vector<std::int64_t>& sizes,
                           std::int64_t linesize) {
    const std::size_t leading = sizes.size() - 2;
    const std::int64_t rows = sizes[leading], columns = sizes[leading + 1];
    const auto strides = print::row_major_strides(sizes);
    std::vector<std::int64_t> index(leading, 0);
    for (bool first = true;; first = false) {
        if (!first) {
            std::size_t d = 0;
            while (d < leading && ++index[d] == sizes[d]) index[d++] = 0;
            if (d == leading) return;
            os << '\n';
        }
        std::int64_t offset = 0;
        os << '(';
        for (std::size_t d = 0; d < leading; ++d) {
            offset += index[d] * strides[d];
            os << index[d] + 1 << ',';
        }
        os << ".,.) = \n";
        print_matrix(os, p + offset, rows, columns, linesize, 1);
    }
}

}  // namespace libtorch_print

// What libtorch's print(stream, tensor, linesize) writes for a defined tensor with these
// elements; type_name is ATen's "CPUFloatType", "CUDALongType", ... No trailing newline.
inline std::ostream& print_libtorch(std::ostream& os, const print_values& values, const std::string& type_name,
                                    std::int64_t linesize) {
    libtorch_print::format_guard guard(os);
    // ATen prints every dtype through a double copy of the tensor (bool as 0 and 1).
    std::vector<double> elements = values.floating;
    if (print::is_integral_dtype(values.dtype)) elements.assign(values.integral.begin(), values.integral.end());
    const auto& sizes = values.sizes;
    const double* p = elements.data();
    const bool empty = elements.empty();
    if (sizes.empty()) {
        os.unsetf(std::ios_base::floatfield);
        os << p[0] << '\n';
    } else if (sizes.size() == 1 && !empty) {
        const auto chosen = libtorch_print::choose_layout(os, p, sizes[0]);
        if (chosen.scale != 1) libtorch_print::print_scale(os, chosen.scale);
        for (std::int64_t i = 0; i < sizes[0]; ++i)
            os << std::setw(static_cast<int>(chosen.width)) << p[i] / chosen.scale << '\n';
    } else if (sizes.size() == 2 && !empty) {
        libtorch_print::print_matrix(os, p, sizes[0], sizes[1], linesize, 0);
    } else if (!empty) {
        libtorch_print::print_matrices(os, p, sizes, linesize);
    }
    os << "[ " << type_name << '{';
    for (std::size_t d = 0; d < sizes.size(); ++d) os << (d ? "," : "") << sizes[d];
    return os << "} ]";
}

// ATen's name of a tensor type: the backend, the dtype and "Type" ("CPUFloatType", "CUDABoolType").
inline std::string libtorch_type_name(bool on_cuda, ScalarType dtype) {
    return std::string(on_cuda ? "CUDA" : "CPU") + dtype_name(dtype) + "Type";
}

}  // namespace ctgrad::detail
