#pragma once
// Attribute and item lookup as Jinja does it: `a.b` tries the attribute (a method such as dict.items)
// before the item a['b']; `a['b']` tries the item first. What is missing becomes an Undefined value
// carrying Jinja's message ("'dict object' has no attribute 'x'"), which fails only when used.

#include <optional>
#include <string_view>

#include "engine/template/value.h"

namespace mayaflow::tmpl {

Value get_attribute(const Value& target, std::string_view name);
Value get_item(const Value& target, const Value& key);
// target[start:stop:step]; None bounds are open.
Value get_slice(const Value& target, const Value& start, const Value& stop, const Value& step);

// Like the above, but a missing attribute or item fails at once.
Value get_attribute_strict(const Value& target, std::string_view name);
Value get_item_strict(const Value& target, const Value& key);

// Methods of str, dict and list values (`'a,b'.split(',')`, `d.items()`), bound to `self`.
std::optional<Value> builtin_method(const Value& self, std::string_view name);

}  // namespace mayaflow::tmpl
