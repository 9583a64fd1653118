#pragma once
// Python's three ways of formatting values into text, which templates reach through the `format`
// filter, the `%` operator and str.format(): printf-style `'%05.1f' % x`, `'{:>8}'.format(x)`, and the
// format-spec mini-language behind format(value, spec).

#include <string>
#include <string_view>

#include "engine/template/value.h"

namespace mayaflow::tmpl {

// `format % args`: a tuple supplies the positional values, a dict the `%(key)s` values, anything else
// is the single value.
std::string percent_format(std::string_view format, const Value& args);

// `format.format(*args.positional, **args.keyword)`.
std::string brace_format(std::string_view format, const CallArgs& args);

// format(value, spec) with Python's rules for str, int, float, bool and datetimes.
std::string format_with_spec(const Value& value, std::string_view spec);

}  // namespace mayaflow::tmpl
