#pragma once
// The records of test/reference/dtype.txt (tools/reference_dtype.py): PyTorch's result dtype and
// values of element-wise ops and comparisons for every pair of dtypes and operand kinds (vector,
// 0-d tensor, Python number), sums and conversions. Read by test_elementwise and test_compare.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctgrad/tensor.hpp>

namespace ctgrad_test {

struct dtype_record {
    std::string kind;               // binary, sum, convert
    std::string op, lhs, rhs;       // binary: the op and the operand specs (t:Byte, z:Int, s:float)
    bool error = false;             // binary: PyTorch raised
    std::string from, to;           // sum: dtype and result dtype; convert: the two dtypes
    std::vector<double> values;     // the result's values
};

inline ctgrad::ScalarType dtype_named(const std::string& name) {
    for (auto d : {ctgrad::kBool, ctgrad::kByte, ctgrad::kChar, ctgrad::kShort, ctgrad::kInt, ctgrad::kLong,
                   ctgrad::kFloat, ctgrad::kDouble})
        if (name == ctgrad::dtype_name(d)) return d;
    throw std::runtime_error("dtype.txt: unknown dtype " + name);
}

inline std::vector<dtype_record> read_dtype_records() {
    const std::string path = std::string(CTGRAD_REFERENCE_DIR) + "/dtype.txt";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<dtype_record> records;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream f(line);
        dtype_record r;
        f >> r.kind;
        std::size_t n = 0;
        if (r.kind == "binary") {
            f >> r.op >> r.lhs >> r.rhs >> r.to;
            if (r.to == "error") {
                r.error = true;
                r.to.clear();
            } else {
                f >> n;
            }
        } else if (r.kind == "sum") {
            f >> r.from >> r.to;
            n = 1;
        } else if (r.kind == "convert") {
            f >> r.from >> r.to >> n;
        }
        if (!f) throw std::runtime_error("dtype.txt: malformed line: " + line);
        std::string token;  // strtod, not >>: it reads "inf" and "nan" (integer division by zero)
        while (f >> token) r.values.push_back(std::strtod(token.c_str(), nullptr));
        if (r.values.size() != n) throw std::runtime_error("dtype.txt: wrong value count: " + line);
        records.push_back(std::move(r));
    }
    return records;
}

// The operands of the records: t:<dtype> the vector LHS or RHS in that dtype, z:<dtype> a 0-d
// tensor holding 3 (true), s:int 3, s:float 2.5, s:bool true.
struct dtype_operand {
    bool is_scalar = false;
    ctgrad::Tensor tensor;
    ctgrad::Scalar scalar;
};
inline dtype_operand dtype_operand_of(const std::string& spec, bool left) {
    const std::string kind = spec.substr(0, 1), what = spec.substr(2);
    dtype_operand o;
    if (kind == "s") {
        o.is_scalar = true;
        o.scalar = what == "int" ? ctgrad::Scalar(3) : what == "float" ? ctgrad::Scalar(2.5) : ctgrad::Scalar(true);
        return o;
    }
    const ctgrad::ScalarType d = dtype_named(what);
    const bool is_bool = d == ctgrad::kBool;
    if (kind == "z") {
        o.tensor = ctgrad::full({}, is_bool ? ctgrad::Scalar(true) : ctgrad::Scalar(3), d);
        return o;
    }
    const std::vector<double> values = is_bool ? (left ? std::vector<double>{1, 0, 1, 1} : std::vector<double>{1, 1, 0, 1})
                                               : (left ? std::vector<double>{1, 2, 5, 100} : std::vector<double>{3, 1, 2, 7});
    o.tensor = ctgrad::tensor(values, ctgrad::kDouble).to(d);
    return o;
}

}  // namespace ctgrad_test
