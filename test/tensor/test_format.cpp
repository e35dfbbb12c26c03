// Tensor printing against the real thing: every case of test/reference/format.txt
// (tools/reference_format.py) holds a tensor's elements and what PyTorch 1.13's print(tensor) and
// numpy 1.24's print(tensor.numpy()) showed for it; format_tensor and format_numpy must give the
// same strings, byte for byte. The second half checks the libtorch-style printing (operator<<,
// print_libtorch) against libtorch 1.13 itself (test/reference/libtorch_format.txt).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctgrad/tensor/format.hpp>
#include <ctgrad/tensor/libtorch_format.hpp>
#include <ctgrad/tensor.hpp>

namespace {

using ctgrad::detail::print_suffix;
using ctgrad::detail::print_values;

struct format_case {
    std::string name;
    print_values values;
    print_suffix suffix;
    std::string torch_text;
    std::string numpy_text;
};

ctgrad::ScalarType parse_dtype(const std::string& name) {
    if (name == "float32") return ctgrad::kFloat;
    if (name == "float64") return ctgrad::kDouble;
    if (name == "int64") return ctgrad::kLong;
    if (name == "bool") return ctgrad::kBool;
    if (name == "int32") return ctgrad::kInt;
    if (name == "int16") return ctgrad::kShort;
    if (name == "int8") return ctgrad::kChar;
    if (name == "uint8") return ctgrad::kByte;
    throw std::runtime_error("format.txt: unknown dtype " + name);
}

// The body of a JSON string literal as json.dumps writes it for printable ASCII.
std::string json_unescape(const std::string& quoted) {
    if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"')
        throw std::runtime_error("format.txt: expected a JSON string, got " + quoted);
    std::string out;
    for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
        char c = quoted[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        switch (quoted[++i]) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            default: throw std::runtime_error("format.txt: unsupported escape in " + quoted);
        }
    }
    return out;
}

// The text after "<keyword> " on the next line (empty for a line of the keyword alone).
std::string expect_line(std::istream& in, const std::string& keyword) {
    std::string line;
    if (!std::getline(in, line) || line.rfind(keyword, 0) != 0 ||
        (line.size() > keyword.size() && line[keyword.size()] != ' '))
        throw std::runtime_error("format.txt: expected a '" + keyword + "' line, got '" + line + "'");
    return line.size() > keyword.size() ? line.substr(keyword.size() + 1) : std::string();
}

std::vector<format_case> read_cases() {
    const std::string path = std::string(CTGRAD_REFERENCE_DIR) + "/format.txt";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<format_case> cases;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream header(line);
        std::string keyword, dtype, grad_fn;
        int requires_grad = 0;
        std::size_t rank = 0;
        format_case c;
        header >> keyword >> c.name >> dtype >> c.suffix.device >> requires_grad >> grad_fn >> rank;
        if (keyword != "case" || !header) throw std::runtime_error("format.txt: bad case line '" + line + "'");
        c.values.dtype = parse_dtype(dtype);
        c.values.sizes.resize(rank);
        for (auto& s : c.values.sizes) header >> s;
        c.suffix.requires_grad = requires_grad != 0;
        c.suffix.grad_fn = grad_fn == "-" ? "" : grad_fn;

        std::istringstream numbers(expect_line(in, "values"));
        std::string token;
        while (numbers >> token) {
            if (ctgrad::is_floating_point(c.values.dtype)) c.values.floating.push_back(std::strtod(token.c_str(), nullptr));
            else c.values.integral.push_back(std::stoll(token));
        }
        c.torch_text = json_unescape(expect_line(in, "torch"));
        c.numpy_text = json_unescape(expect_line(in, "numpy"));
        cases.push_back(std::move(c));
    }
    return cases;
}

}  // namespace

TEST_CASE("format_tensor and format_numpy print what PyTorch and numpy print") {
    const auto cases = read_cases();
    REQUIRE(cases.size() >= 60);
    for (const auto& c : cases) {
        const auto expected_count = ctgrad::detail::print::element_count(c.values.sizes);
        const auto count = static_cast<std::int64_t>(c.values.floating.size() + c.values.integral.size());
        REQUIRE_MESSAGE(count == expected_count, "case " << c.name << ": element count");
        CHECK_MESSAGE(ctgrad::detail::format_tensor(c.values, c.suffix) == c.torch_text, "case " << c.name << " (torch)");
        CHECK_MESSAGE(ctgrad::detail::format_numpy(c.values) == c.numpy_text, "case " << c.name << " (numpy)");
    }
}

TEST_CASE("format_tensor: small cases spelled out") {
    print_values scalar{{}, ctgrad::kLong, {}, {3}};
    CHECK(ctgrad::detail::format_tensor(scalar, {}) == "tensor(3)");
    print_values zeros{{2, 2}, ctgrad::kFloat, {0, 0, 0, 0}, {}};
    CHECK(ctgrad::detail::format_tensor(zeros, {"cpu", false, ""}) == "tensor([[0., 0.],\n        [0., 0.]])");
    CHECK(ctgrad::detail::format_numpy(zeros) == "[[0. 0.]\n [0. 0.]]");
    print_values scientific{{2}, ctgrad::kFloat, {1e-5f, 1e3f}, {}};
    CHECK(ctgrad::detail::format_tensor(scientific, {"cuda:0", true, "MulBackward0"}) ==
          "tensor([1.0000e-05, 1.0000e+03], device='cuda:0', grad_fn=<MulBackward0>)");
}

// libtorch's operator<< (ATen's Formatting.cpp): every case of test/reference/libtorch_format.txt
// (tools/reference_libtorch_format.cpp) holds a tensor's elements and what libtorch 1.13 printed
// for it; print_libtorch must write the same text, byte for byte.
namespace {

struct libtorch_case {
    std::string name;
    print_values values;
    std::int64_t linesize = 80;
    std::string text;
};

std::vector<libtorch_case> read_libtorch_cases() {
    const std::string path = std::string(CTGRAD_REFERENCE_DIR) + "/libtorch_format.txt";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<libtorch_case> cases;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream header(line);
        std::string keyword, dtype;
        std::size_t rank = 0;
        libtorch_case c;
        header >> keyword >> c.name >> dtype >> c.linesize >> rank;
        if (keyword != "case" || !header) throw std::runtime_error("libtorch_format.txt: bad case line '" + line + "'");
        c.values.dtype = parse_dtype(dtype);
        c.values.sizes.resize(rank);
        for (auto& s : c.values.sizes) header >> s;
        std::istringstream numbers(expect_line(in, "values"));
        std::string token;
        while (numbers >> token) {
            const double v = std::strtod(token.c_str(), nullptr);
            if (ctgrad::is_floating_point(c.values.dtype)) c.values.floating.push_back(v);
            else c.values.integral.push_back(static_cast<std::int64_t>(v));
        }
        c.text = json_unescape(expect_line(in, "libtorch"));
        cases.push_back(std::move(c));
    }
    return cases;
}

std::string print_libtorch_text(const print_values& values, const std::string& type_name, std::int64_t linesize = 80) {
    std::ostringstream os;
    ctgrad::detail::print_libtorch(os, values, type_name, linesize);
    return os.str();
}

}  // namespace

TEST_CASE("print_libtorch prints what libtorch's operator<< prints") {
    const auto cases = read_libtorch_cases();
    REQUIRE(cases.size() >= 60);
    for (const auto& c : cases) {
        const auto expected_count = ctgrad::detail::print::element_count(c.values.sizes);
        const auto count = static_cast<std::int64_t>(c.values.floating.size() + c.values.integral.size());
        REQUIRE_MESSAGE(count == expected_count, "case " << c.name << ": element count");
        const auto type_name = ctgrad::detail::libtorch_type_name(false, c.values.dtype);
        CHECK_MESSAGE(print_libtorch_text(c.values, type_name, c.linesize) == c.text, "case " << c.name);
    }
}

TEST_CASE("print_libtorch: the stream's state") {
    print_values values{{3}, ctgrad::kFloat, {1234567, 1, 2}, {}};
    std::ostringstream os;
    // Integer-valued floats use the stream's precision, as ATen leaves the notation at its default.
    os << std::setprecision(3);
    ctgrad::detail::print_libtorch(os, values, "CPUFloatType", 80);
    CHECK(os.str() == "1.23e+06\n       1\n       2\n[ CPUFloatType{3} ]");
    // The stream's notation, precision and width are as they were.
    os.str("");
    os << 0.5 << ' ' << std::setw(4) << 7;
    CHECK(os.str() == "0.5    7");
    CHECK(os.precision() == 3);
    CHECK((os.flags() & std::ios_base::floatfield) == std::ios_base::fmtflags{});
    // Tensors on a GPU name their backend as ATen does.
    print_values on_device{{2}, ctgrad::kFloat, {0.5, 1.5}, {}};
    CHECK(print_libtorch_text(on_device, ctgrad::detail::libtorch_type_name(true, ctgrad::kFloat)) ==
          " 0.5000\n 1.5000\n[ CUDAFloatType{2} ]");
    CHECK(ctgrad::detail::libtorch_type_name(false, ctgrad::kLong) == "CPULongType");
}

TEST_CASE("print_libtorch: a line too narrow for one column still prints, one column per block") {
    print_values values{{1, 2}, ctgrad::kFloat, {0.25, 0.5}, {}};
    CHECK(print_libtorch_text(values, "CPUFloatType", 3) ==
          "Columns 1 to 1 0.2500\n\nColumns 2 to 2 0.5000\n[ CPUFloatType{1,2} ]");
}

// The same golden strings through the Tensor class: operator<< gathers a tensor's elements in
// its logical order whatever its strides, prints no autograd suffix (libtorch prints none), and
// print(os, t, linesize) takes the line width.
namespace {

ctgrad::Tensor tensor_of(const print_values& values) {
    const std::vector<double> elements = ctgrad::is_floating_point(values.dtype)
                                             ? values.floating
                                             : std::vector<double>(values.integral.begin(), values.integral.end());
    ctgrad::Tensor t = ctgrad::empty(values.sizes, ctgrad::TensorOptions().dtype(ctgrad::kDouble));
    std::copy(elements.begin(), elements.end(), t.data_ptr<double>());
    return t.to(values.dtype);
}

std::string printed(const ctgrad::Tensor& t, std::int64_t linesize) {
    std::ostringstream os;
    if (linesize == 80) os << t;
    else ctgrad::print(os, t, linesize);
    return os.str();
}

}  // namespace

TEST_CASE("operator<< and print(os, t, linesize) on tensors print what libtorch prints") {
    const auto cases = read_libtorch_cases();
    REQUIRE(cases.size() >= 60);
    for (const auto& c : cases) {
        const ctgrad::Tensor t = tensor_of(c.values);
        CHECK_MESSAGE(printed(t, c.linesize) == c.text, "case " << c.name);
        if (t.dim() >= 2 && t.size(0) > 1 && t.size(1) > 1) {
            // the same values in column-major memory
            const ctgrad::Tensor strided = t.transpose(0, 1).contiguous().transpose(0, 1);
            REQUIRE_FALSE(strided.is_contiguous());
            CHECK_MESSAGE(printed(strided, c.linesize) == c.text, "case " << c.name << " (strided)");
        }
        if (t.is_floating_point()) {
            const ctgrad::Tensor leaf = t.clone().requires_grad_(true);
            CHECK_MESSAGE(printed(leaf, c.linesize) == c.text, "case " << c.name << " (requires_grad)");
        }
    }
}

TEST_CASE("operator<<: undefined tensors; str() keeps Python's format") {
    std::ostringstream os;
    os << ctgrad::Tensor();
    CHECK(os.str() == "[ Tensor (undefined) ]");
    const ctgrad::Tensor t = ctgrad::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}});
    CHECK(printed(t, 80) == " 1  2\n 3  4\n[ CPUFloatType{2,2} ]");
    CHECK(ctgrad::str(t) == "tensor([[1., 2.],\n        [3., 4.]])");
}
