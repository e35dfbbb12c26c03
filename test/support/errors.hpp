#pragma once
// Checking the ctgrad::Error a call throws: its message must contain a given part (PyTorch's
// wording), shown in the report when it does not.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include <ctgrad/core/error.hpp>

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

// Runs f, which must throw ctgrad::Error with `fragment` in its message.
inline void check_error(const std::function<void()>& f, const std::string& fragment) {
    INFO("expected an error containing: " << fragment);
    try {
        f();
        FAIL("no error was thrown");
    } catch (const ctgrad::Error& e) {
        const std::string msg = e.what();
        INFO("message: " << msg);
        CHECK(msg.find(fragment) != std::string::npos);
    }
}

}  // namespace ctgrad_test

#define CTGRAD_CHECK_ERROR(statement, part)                                                                   \
    do {                                                                                                      \
        const std::string ctgrad_message_ = ::ctgrad_test::error_of([&] { (void)(statement); });              \
        CHECK_MESSAGE(ctgrad_message_.find(part) != std::string::npos, "message: ", ctgrad_message_);         \
    } while (0)
