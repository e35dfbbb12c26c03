#pragma once
// Golden values written by tools/make_reference.py (PyTorch, float64) into test/reference/.
// The directory comes from meson as CTGRAD_REFERENCE_DIR.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef CTGRAD_REFERENCE_DIR
#error "CTGRAD_REFERENCE_DIR must name test/reference (test/meson.build defines it)"
#endif

namespace ctgrad_test {

// One line of the file: inputs, value, gradient and row-major Hessian (k x k).
struct reference_record {
    std::vector<double> inputs;
    double value = 0;
    std::vector<double> grad;
    std::vector<double> hessian;
    double h(std::size_t i, std::size_t j) const { return hessian[i * inputs.size() + j]; }
};

using reference_table = std::map<std::string, std::vector<reference_record>>;

inline reference_table read_reference(const std::string& file) {
    const std::string path = std::string(CTGRAD_REFERENCE_DIR) + "/" + file;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open the golden file " + path);
    reference_table table;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string name;
        std::size_t k = 0;
        fields >> name >> k;
        reference_record r;
        r.inputs.resize(k);
        r.grad.resize(k);
        r.hessian.resize(k * k);
        for (auto& v : r.inputs) fields >> v;
        fields >> r.value;
        for (auto& v : r.grad) fields >> v;
        for (auto& v : r.hessian) fields >> v;
        std::string extra;
        if (!fields || (fields >> extra)) throw std::runtime_error("malformed golden record: " + line);
        table[name].push_back(std::move(r));
    }
    return table;
}

// Tensors with their shapes, as tools/reference_nn.py, reference_classification.py and
// reference_conv.py write them: "case label rank size... value..." per line, and
// "error label message" for PyTorch's error messages.
struct golden_tensor {
    std::vector<std::int64_t> sizes;
    std::vector<double> values;
};
using golden_case = std::map<std::string, golden_tensor>;
struct golden_tensor_file {
    std::map<std::string, golden_case> cases;
    std::map<std::string, std::string> errors;
};

inline golden_tensor_file read_golden_tensors(const std::string& file) {
    const std::string path = std::string(CTGRAD_REFERENCE_DIR) + "/" + file;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    golden_tensor_file f;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string name, label;
        fields >> name >> label;
        if (name == "error") {
            std::string message;
            std::getline(fields >> std::ws, message);
            f.errors[label] = message;
            continue;
        }
        std::size_t rank = 0;
        fields >> rank;
        golden_tensor g;
        g.sizes.resize(rank);
        std::int64_t n = 1;
        for (auto& s : g.sizes) {
            fields >> s;
            n *= s;
        }
        g.values.resize(static_cast<std::size_t>(n));
        for (auto& v : g.values) fields >> v;
        if (!fields) throw std::runtime_error("malformed golden line: " + line);
        f.cases[name][label] = std::move(g);
    }
    return f;
}

}  // namespace ctgrad_test
