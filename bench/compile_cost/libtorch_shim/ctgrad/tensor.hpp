#pragma once
// The libtorch side of measure_dynamic.sh: a ctgrad program compiled against Debian's libtorch
// by the namespace change alone (`namespace ctgrad = torch;`), plus the few names ctgrad spells
// differently, so that the two compile times are of the same source. Timing only: the programs
// are compiled, not linked or run.
#include <sstream>
#include <string>

#include <torch/torch.h>

namespace ctgrad = torch;

namespace torch {
// ctgrad::str / numpy_str print a tensor as Python's repr / str do.
inline std::string str(const Tensor& t) {
    std::ostringstream s;
    s << t;
    return s.str();
}
inline std::string numpy_str(const Tensor& t) { return str(t); }
}  // namespace torch

#define CTGRAD_MODULE(Name) TORCH_MODULE(Name)
