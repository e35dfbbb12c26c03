#pragma once
// Golden values written by tools/make_reference.py (PyTorch, float64) into test/reference/.
// The directory comes from meson as CTGRAD_REFERENCE_DIR.
#include <cstddef>
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

}  // namespace ctgrad_test
