#pragma once
// Arguments binds the arguments of a call from a template to a function's parameter names, the way
// Python binds them to a def: positional first, then by keyword, with Python's TypeErrors for too
// many, unknown, repeated or missing arguments.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/template/value.h"

namespace mayaflow::tmpl {

class Arguments {
  public:
    // The first `required` names must be given.
    Arguments(std::string_view function, const CallArgs& args, std::initializer_list<std::string_view> names,
              std::size_t required = 0);

    bool has(std::size_t index) const { return values_[index] != nullptr; }
    const Value& operator[](std::size_t index) const { return *values_[index]; }
    Value get(std::size_t index, Value fallback) const { return has(index) ? *values_[index] : std::move(fallback); }

    // Typed readers; each throws a TypeError naming the parameter when the value has another type.
    std::int64_t integer(std::size_t index, std::int64_t fallback) const;
    std::optional<std::int64_t> optional_integer(std::size_t index) const;  // absent or None: nullopt
    bool boolean(std::size_t index, bool fallback) const;  // Python truthiness
    std::string string(std::size_t index, std::string_view fallback) const;
    std::optional<std::string> optional_string(std::size_t index) const;  // absent or None: nullopt

  private:
    const Value& checked(std::size_t index) const;

    std::string function_;
    std::vector<std::string_view> names_;
    std::vector<const Value*> values_;
};

// Calls that take no arguments at all.
void expect_no_arguments(std::string_view function, const CallArgs& args);

}  // namespace mayaflow::tmpl
