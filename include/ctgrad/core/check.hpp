#pragma once
// libtorch's checking macros, which programs written against it use (pytorch/examples' mnist
// asserts that its loss is not NaN with AT_ASSERT): a failed check throws ctgrad::Error naming
// the condition and where it failed, as c10::Error does.
#include <sstream>
#include <string>

#include "config.hpp"
#include "error.hpp"

namespace ctgrad::detail {

[[noreturn]] void check_failed(const char* condition, const char* file, int line, const std::string& message);

// The message parts of TORCH_CHECK, streamed one after another.
template <class... Parts>
std::string check_message(const Parts&... parts) {
    std::ostringstream text;
    (text << ... << parts);
    return text.str();
}

}  // namespace ctgrad::detail

// AT_ASSERT(condition): libtorch's internal assertion, still common in its users' programs.
#define AT_ASSERT(...)                                                                            \
    do {                                                                                          \
        if (!(__VA_ARGS__)) ::ctgrad::detail::check_failed(#__VA_ARGS__, __FILE__, __LINE__, {}); \
    } while (false)

// TORCH_CHECK(condition, message parts...): the parts are streamed into the message.
#define TORCH_CHECK(condition, ...)                                                                 \
    do {                                                                                            \
        if (!(condition))                                                                           \
            ::ctgrad::detail::check_failed(#condition, __FILE__, __LINE__,                          \
                                           ::ctgrad::detail::check_message(__VA_ARGS__));           \
    } while (false)

#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::detail {

CTGRAD_API void check_failed(const char* condition, const char* file, int line, const std::string& message) {
    std::ostringstream text;
    text << (message.empty() ? std::string("Expected ") + condition + " to be true, but got false." : message) << " ("
         << condition << " at " << file << ":" << line << ")";
    throw Error(text.str());
}

}  // namespace ctgrad::detail
#endif  // CTGRAD_RUNTIME_DEFINITIONS
