#pragma once
// TemplateError is how the template engine's inner parts report a failure: a syntax error found while
// parsing, a use of an undefined value, or any other error while rendering (a TypeError in Python's
// words). The public API (Template) turns it into an Error value; nothing else sees the exception.

#include <fmt/format.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace mayaflow::tmpl {

// The three kinds of failure Jinja distinguishes: TemplateSyntaxError, UndefinedError, the rest.
enum class ErrorKind { syntax, undefined, runtime };

inline constexpr std::size_t kNoOffset = static_cast<std::size_t>(-1);

class TemplateError : public std::runtime_error {
  public:
    TemplateError(ErrorKind kind, std::string message, std::size_t offset = kNoOffset)
        : std::runtime_error(std::move(message)), kind_(kind), offset_(offset) {}

    ErrorKind kind() const { return kind_; }
    // Byte offset in the (newline-normalized) template source, or kNoOffset when unknown.
    std::size_t offset() const { return offset_; }
    void set_offset_if_unknown(std::size_t offset) {
        if (offset_ == kNoOffset) offset_ = offset;
    }

  private:
    ErrorKind kind_;
    std::size_t offset_;
};

template <class... Args>
[[noreturn]] void throw_runtime(fmt::format_string<Args...> format, Args&&... args) {
    throw TemplateError(ErrorKind::runtime, fmt::format(format, std::forward<Args>(args)...));
}

[[noreturn]] inline void throw_undefined(std::string message) {
    throw TemplateError(ErrorKind::undefined, std::move(message));
}

}  // namespace mayaflow::tmpl
