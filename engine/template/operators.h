#pragma once
// Python's operators on template values: arithmetic with Python's rules (true division, floor
// division and modulo rounding toward negative infinity, int overflow reported instead of wrapping),
// comparisons, `in`, and iteration. Errors are TypeError-like runtime TemplateErrors.

#include <vector>

#include "engine/template/ast.h"
#include "engine/template/limits.h"
#include "engine/template/value.h"

namespace mayaflow::tmpl {

Value binary_op(BinaryOp op, const Value& left, const Value& right);
Value negate(const Value& value);
Value unary_plus(const Value& value);
bool compare(CompareOp op, const Value& left, const Value& right);
// Python's `<` ordering; throws a TypeError when the values cannot be ordered.
bool less_than(const Value& left, const Value& right);
bool contains(const Value& container, const Value& item);

// The items a Python `for` would see: list items, dict keys, string characters.
std::vector<Value> iterate(const Value& iterable);
// len(); throws for values without a length.
std::size_t length_of(const Value& value);
// Python's operator.index(): ints and bools; anything else is a TypeError naming `what`.
std::int64_t to_index(const Value& value, std::string_view what);

}  // namespace mayaflow::tmpl
