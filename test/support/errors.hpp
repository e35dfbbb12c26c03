#pragma once
// Checking the ctgrad::Error a call throws: its message must contain a given part (PyTorch's
// wording), shown in the report when it does not.
#include <doctest/doctest.h>

#include <string>

#include <ctgrad/error.hpp>

namespace ctgrad_test {

// The message of the ctgrad::Error that f throws, or "(no ctgrad::Error thrown)".
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const ctgrad::Error& e) {
        return e.what();
    }
    return "(no ctgrad::Error thrown)";
}

}  // namespace ctgrad_test

#define CTGRAD_CHECK_ERROR(statement, part)                                                                   \
    do {                                                                                                      \
        const std::string ctgrad_message_ = ::ctgrad_test::error_of([&] { (void)(statement); });              \
        CHECK_MESSAGE(ctgrad_message_.find(part) != std::string::npos, "message: ", ctgrad_message_);         \
    } while (0)
