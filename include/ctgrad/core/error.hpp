#pragma once
#include <stdexcept>
#include <string>

namespace ctgrad {

// The one exception type of the library: every run-time misuse (shapes that disagree, an
// output of the wrong size, ...) raises it with a message naming the operation and what it found.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace ctgrad
