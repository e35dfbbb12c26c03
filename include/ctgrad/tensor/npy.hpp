#pragma once
// Tensors in numpy's .npy files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
//
//   save_npy(t, path)   writes format 1.0, C order, little-endian, the same bytes np.save writes
//                       (header padding included) for dtypes <f4 <f8 <i8 |b1.
//   load_npy(path)      reads formats 1.0, 2.0 and 3.0, C or Fortran order (a Fortran-order array
//                       comes back as a contiguous row-major tensor), either byte order, for the
//                       same four dtypes.
// A missing, unreadable or corrupt file raises ctgrad::Error naming the path and what was wrong;
// the header's claims are checked against the file's length (and a shape whose non-zero sizes
// multiply beyond int64 is refused, as numpy does) before they size an allocation. The format
// has no checksum: a damaged data byte loads as a different value.
// xtensor's xnpy.hpp reads only the dtype fixed at compile time and reports errors without the
// file's name, so this small reader/writer is our own.
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "copy.hpp"
#include "tensor.hpp"

namespace ctgrad {

namespace detail::npy {

inline constexpr char magic[] = "\x93NUMPY";
inline constexpr std::size_t magic_size = 6;
inline constexpr std::size_t align = 64;  // numpy's ARRAY_ALIGN: the data starts at a multiple of 64
inline constexpr std::size_t growth_digits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS
inline constexpr std::size_t max_dims = 64;       // numpy 2's NPY_MAXDIMS

struct header {
    ScalarType dtype = kFloat;
    bool swap_bytes = false;  // the file's byte order is not this machine's
    bool fortran_order = false;
    std::vector<std::int64_t> shape;
};

// A problem with the file's contents; load_npy adds the path.
struct corrupt {
    std::string what;
};

inline const char* descr_of(ScalarType s) {
    switch (s) {
        case kFloat: return "<f4";
        case kDouble: return "<f8";
        case kLong: return "<i8";
        case kBool: return "|b1";
        case kByte: return "|u1";
        case kChar: return "|i1";
        case kShort: return "<i2";
        case kInt: return "<i4";
    }
    return "?";
}

inline ScalarType parse_descr(const std::string& d, bool& swap) {
    const char order = d.empty() ? '?' : d[0];
    const std::string type = d.size() > 1 ? d.substr(1) : "";
    constexpr bool little = std::endian::native == std::endian::little;
    if (order == '|' || order == '<' || order == '>' || order == '=') {  // one byte: no order to swap
        swap = false;
        if (type == "b1") return kBool;
        if (type == "u1") return kByte;
        if (type == "i1") return kChar;
    }
    if (order == '<' || order == '>' || order == '=') {
        swap = (order == '<' && !little) || (order == '>' && little);
        if (type == "f4") return kFloat;
        if (type == "f8") return kDouble;
        if (type == "i8") return kLong;
        if (type == "i4") return kInt;
        if (type == "i2") return kShort;
    }
    throw corrupt{"unsupported dtype '" + d + "' (ctgrad reads <f4, <f8, <i8, <i4, <i2, |i1, |u1 and |b1, either byte order)"};
}

// The header's Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class dict_parser {
public:
    explicit dict_parser(const std::string& text) : s_(text) {}

    header parse() {
        header h;
        bool seen_descr = false, seen_order = false, seen_shape = false;
        expect('{');
        while (!eat('}')) {
            const std::string key = quoted();
            expect(':');
            if (key == "descr") {
                h.dtype = parse_descr(quoted(), h.swap_bytes);
                seen_descr = true;
            } else if (key == "fortran_order") {
                h.fortran_order = boolean();
                seen_order = true;
            } else if (key == "shape") {
                h.shape = tuple();
                seen_shape = true;
            } else {
                throw corrupt{"unexpected key '" + key + "' in the header"};
            }
            if (!eat(',')) {
                expect('}');
                break;
            }
        }
        if (!seen_descr || !seen_order || !seen_shape)
            throw corrupt{"the header lacks " + std::string(!seen_descr ? "'descr'" : !seen_order ? "'fortran_order'" : "'shape'")};
        skip_space();
        if (i_ != s_.size()) throw corrupt{"unexpected text after the header's dict"};
        return h;
    }

private:
    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    bool eat(char c) {
        skip_space();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!eat(c))
            throw corrupt{std::string("malformed header: expected '") + c + "' at offset " + std::to_string(i_) +
                          " of \"" + s_ + "\""};
    }
    std::string quoted() {
        skip_space();
        if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"'))
            throw corrupt{"malformed header: expected a quoted string at offset " + std::to_string(i_)};
        const char q = s_[i_++];
        const std::size_t end = s_.find(q, i_);
        if (end == std::string::npos) throw corrupt{"malformed header: unterminated string"};
        std::string out = s_.substr(i_, end - i_);
        i_ = end + 1;
        return out;
    }
    bool boolean() {
        skip_space();
        for (const char* word : {"True", "False"}) {
            const std::size_t n = std::strlen(word);
            if (s_.compare(i_, n, word) == 0) {
                i_ += n;
                return word[0] == 'T';
            }
        }
        throw corrupt{"malformed header: 'fortran_order' is neither True nor False"};
    }
    std::vector<std::int64_t> tuple() {
        std::vector<std::int64_t> out;
        expect('(');
        while (!eat(')')) {
            skip_space();
            std::size_t digits = 0;
            std::int64_t v = 0;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
                if (v > (INT64_MAX - 9) / 10) throw corrupt{"malformed header: a dimension overflows int64"};
                v = v * 10 + (s_[i_++] - '0');
                ++digits;
            }
            if (digits == 0) throw corrupt{"malformed header: 'shape' must be a tuple of non-negative integers"};
            if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2's long literals
            out.push_back(v);
            if (!eat(',')) {
                expect(')');
                break;
            }
        }
        return out;
    }

    const std::string& s_;
    std::size_t i_ = 0;
};

inline void swap_elements(char* p, std::size_t count, std::size_t width) {
    for (std::size_t k = 0; k < count; ++k, p += width)
        for (std::size_t a = 0, b = width - 1; a < b; ++a, --b) std::swap(p[a], p[b]);
}

// repr() of a Python tuple of ints: "()", "(3,)", "(2, 3)".
inline std::string shape_repr(IntArrayRef shape) {
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + (shape.size() == 1 ? ",)" : ")");
}

// The header np.save writes: the dict, spare spaces for the first dim to grow in place, then
// spaces and a newline up to a multiple of 64 bytes.
inline std::string header_bytes(ScalarType dtype, IntArrayRef shape) {
    std::string dict = std::string("{'descr': '") + descr_of(dtype) + "', 'fortran_order': False, 'shape': " +
                       shape_repr(shape) + ", }";
    if (!shape.empty()) {
        const std::size_t first = std::to_string(shape[0]).size();
        dict.append(growth_digits > first ? growth_digits - first : 0, ' ');
    }
    const std::size_t prefix = magic_size + 2 + 2;  // magic, version, 2-byte header length
    const std::size_t pad = align - (prefix + dict.size() + 1) % align;
    dict.append(pad % align, ' ');
    dict += '\n';
    std::string out(magic, magic_size);
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(dict.size() & 0xff);
    out += static_cast<char>((dict.size() >> 8) & 0xff);
    return out + dict;
}

inline std::string errno_text() { return errno ? std::strerror(errno) : "unknown error"; }

}  // namespace detail::npy

CTGRAD_API void save_npy(const Tensor& t, const std::string& path) {
    namespace npy = detail::npy;
    if (!t.defined()) throw Error("save_npy: '" + path + "': the tensor is undefined");
    if (!t.is_cpu()) throw Error("save_npy: '" + path + "': the tensor is on " + t.device().str() + "; move it to the CPU first");
    const std::string head = npy::header_bytes(t.scalar_type(), t.sizes());
    Tensor data = t.is_contiguous() ? t : detail::contiguous_copy(t, t.scalar_type());
    std::vector<char> swapped;
    const char* bytes = static_cast<const char*>(data.data_ptr());
    if constexpr (std::endian::native != std::endian::little) {
        swapped.assign(bytes, bytes + data.nbytes());
        npy::swap_elements(swapped.data(), static_cast<std::size_t>(data.numel()), data.element_size());
        bytes = swapped.data();
    }
    errno = 0;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("save_npy: cannot open '" + path + "' for writing: " + npy::errno_text());
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    out.write(bytes, static_cast<std::streamsize>(data.nbytes()));
    out.close();
    if (!out) throw Error("save_npy: writing '" + path + "' failed: " + npy::errno_text());
}

CTGRAD_API Tensor load_npy(const std::string& path) {
    namespace npy = detail::npy;
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("load_npy: cannot open '" + path + "': " + npy::errno_text());
    auto fail = [&](const std::string& what) { return Error("load_npy: '" + path + "': " + what); };
    in.seekg(0, std::ios::end);
    const std::streamoff end = in.tellg();
    in.seekg(0);
    try {
        char prefix[8];
        if (end < 0 || !in) throw npy::corrupt{"cannot read it: " + npy::errno_text()};
        const auto file_size = static_cast<std::uint64_t>(end);
        if (!in.read(prefix, 8) || std::memcmp(prefix, npy::magic, npy::magic_size) != 0)
            throw npy::corrupt{in ? "not a .npy file (it does not start with \\x93NUMPY)"
                                  : errno ? "cannot read it: " + npy::errno_text()
                                          : "not a .npy file (shorter than the 8-byte magic and version)"};
        const int major = static_cast<unsigned char>(prefix[6]), minor = static_cast<unsigned char>(prefix[7]);
        if (major < 1 || major > 3 || minor != 0)
            throw npy::corrupt{"unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor)};
        const std::size_t length_bytes = major == 1 ? 2 : 4;
        unsigned char len[4] = {0, 0, 0, 0};
        if (!in.read(reinterpret_cast<char*>(len), static_cast<std::streamsize>(length_bytes)))
            throw npy::corrupt{"truncated: the file ends inside the header"};
        const std::uint64_t header_len = len[0] | (len[1] << 8) | (std::uint64_t(len[2]) << 16) | (std::uint64_t(len[3]) << 24);
        const std::uint64_t data_start = 8 + length_bytes + header_len;
        if (data_start > file_size)
            throw npy::corrupt{"truncated: the header claims " + std::to_string(header_len) + " bytes but the file has " +
                               std::to_string(file_size) + " in all"};
        std::string text(header_len, '\0');
        in.read(text.data(), static_cast<std::streamsize>(header_len));
        const npy::header h = npy::dict_parser(text).parse();

        // numpy's own limit: the non-zero sizes times the element size must fit int64. A zero
        // size empties the array but not its strides, which multiply the other sizes.
        if (h.shape.size() > npy::max_dims)
            throw npy::corrupt{"the shape has " + std::to_string(h.shape.size()) + " dims (numpy allows at most " +
                               std::to_string(npy::max_dims) + ")"};
        const std::size_t width = element_size(h.dtype);
        if (detail::size_product_overflows(h.shape, static_cast<std::int64_t>(width)))
            throw npy::corrupt{"shape " + npy::shape_repr(h.shape) + " of " + dtype_name(h.dtype) + " is too large (its sizes multiply beyond int64)"};
        std::uint64_t count = 1;
        for (auto s : h.shape) count *= static_cast<std::uint64_t>(s);
        const std::uint64_t available = file_size - data_start;
        if (count > available / width)
            throw npy::corrupt{"truncated: shape " + npy::shape_repr(h.shape) + " of " + dtype_name(h.dtype) + " needs " +
                               std::to_string(count * width) + " bytes of data, the file holds " +
                               std::to_string(available)};

        // Fortran order: the data is the row-major layout of the reversed shape, i.e. the
        // tensor with column-major strides; it is copied into row-major order below.
        std::vector<std::int64_t> stored = h.shape;
        if (h.fortran_order) std::reverse(stored.begin(), stored.end());
        Tensor raw = make_empty(stored, h.dtype);
        char* bytes = static_cast<char*>(raw.data_ptr());
        if (!in.read(bytes, static_cast<std::streamsize>(count * width)))
            throw npy::corrupt{"reading the data failed: " + npy::errno_text()};
        if (h.swap_bytes) npy::swap_elements(bytes, count, width);
        if (h.dtype == kBool)  // any nonzero byte is true; a ctgrad bool holds 0 or 1
            for (std::uint64_t k = 0; k < count; ++k) bytes[k] = bytes[k] != 0;
        if (!h.fortran_order || h.shape.size() < 2) return raw;
        auto column_major = std::make_shared<TensorImpl>();
        column_major->storage = raw.impl()->storage;
        column_major->sizes = h.shape;
        column_major->strides.resize(h.shape.size());
        std::int64_t stride = 1;
        for (std::size_t i = 0; i < h.shape.size(); ++i) {
            column_major->strides[i] = stride;
            stride *= std::max<std::int64_t>(h.shape[i], 1);
        }
        column_major->dtype = h.dtype;
        return detail::contiguous_copy(Tensor(std::move(column_major)), h.dtype);
    } catch (const npy::corrupt& c) {
        throw fail(c.what);
    }
}

}  // namespace ctgrad
