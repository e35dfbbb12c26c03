// Tensor printing against the real thing: every case of test/reference/format.txt
// (tools/reference_format.py) holds a tensor's elements and what PyTorch 1.13's print(tensor) and
// numpy 1.24's print(tensor.numpy()) showed for it; format_tensor and format_numpy must give the
// same strings, byte for byte.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctgrad/tensor/format.hpp>

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
