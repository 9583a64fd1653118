#include "engine/template/lookup.h"

#include <fmt/format.h>

#include "engine/template/datetime_value.h"
#include "engine/template/error.h"
#include "engine/template/operators.h"
#include "engine/template/pystr.h"
#include "engine/template/unicode.h"

namespace mayaflow::tmpl {

namespace {

Value no_attribute(const Value& target, std::string_view name) {
    return Value::undefined(fmt::format("{} has no attribute {}", py::repr_string(target.object_type_repr()),
                                        py::repr_string(name)));
}

Value no_element(const Value& target, const std::string& key_repr) {
    return Value::undefined(fmt::format("{} has no element {}", target.object_type_repr(), key_repr));
}

// The attribute proper (not the item): methods, datetime fields, object attributes.
std::optional<Value> attribute_only(const Value& target, std::string_view name) {
    if (name.starts_with("__")) return std::nullopt;  // Python internals are never exposed
    switch (target.kind()) {
        case Value::Kind::string:
        case Value::Kind::list:
        case Value::Kind::dict: return builtin_method(target, name);
        case Value::Kind::datetime: return datetime_attribute(target, name);
        case Value::Kind::timedelta: return timedelta_attribute(target, name);
        case Value::Kind::object: return target.as_object().attribute(name);
        default: return std::nullopt;
    }
}

// The item proper: nullopt when Python's obj[key] raises a LookupError or TypeError.
std::optional<Value> item_only(const Value& target, const Value& key) {
    switch (target.kind()) {
        case Value::Kind::dict: {
            if (key.is_undefined()) key.fail_undefined();
            if (key.is_list() && !key.is_sequence_kind(SequenceKind::tuple)) return std::nullopt;  // unhashable
            if (key.is_dict()) return std::nullopt;
            const Value* found = target.dict_data().find(key);
            if (found == nullptr) return std::nullopt;
            return *found;
        }
        case Value::Kind::list: {
            SequenceKind kind = target.list_data().kind;
            if (kind != SequenceKind::list && kind != SequenceKind::tuple) return std::nullopt;
            if (key.is_undefined()) key.fail_undefined();
            if (!key.is_integral()) return std::nullopt;
            std::int64_t index = key.as_int();
            std::int64_t size = static_cast<std::int64_t>(target.items().size());
            if (index < 0) index += size;
            if (index < 0 || index >= size) return std::nullopt;
            return target.items()[static_cast<std::size_t>(index)];
        }
        case Value::Kind::string: {
            if (key.is_undefined()) key.fail_undefined();
            if (!key.is_integral()) return std::nullopt;
            auto ch = py::char_at(target.as_string(), key.as_int());
            if (!ch) return std::nullopt;
            return Value(std::move(*ch));
        }
        case Value::Kind::object: return target.as_object().item(key);
        default: return std::nullopt;
    }
}

Value missing_item(const Value& target, const Value& key) {
    if (key.is_string()) return no_attribute(target, key.as_string());
    return no_element(target, key.repr());
}

}  // namespace

Value get_attribute(const Value& target, std::string_view name) {
    if (target.is_undefined()) target.fail_undefined();
    if (auto found = attribute_only(target, name)) return std::move(*found);
    if (target.kind() != Value::Kind::object) {
        Value key{std::string(name)};
        if (auto found = item_only(target, key)) return std::move(*found);
    }
    return no_attribute(target, name);
}

Value get_item(const Value& target, const Value& key) {
    if (target.is_undefined()) target.fail_undefined();
    if (auto found = item_only(target, key)) return std::move(*found);
    if (key.is_string()) {
        if (auto found = attribute_only(target, key.as_string())) return std::move(*found);
    }
    return missing_item(target, key);
}

Value get_slice(const Value& target, const Value& start, const Value& stop, const Value& step) {
    // Jinja slices with Python's own subscript, so failures are TypeErrors, not undefined values.
    if (target.is_undefined()) target.fail_undefined();
    if (target.is_dict()) throw_runtime("unhashable type: 'slice'");
    bool sliceable = target.is_string() || target.is_sequence_kind(SequenceKind::list) ||
                     target.is_sequence_kind(SequenceKind::tuple);
    if (!sliceable) throw_runtime("'{}' object is not subscriptable", target.type_name());
    auto bound = [](const Value& value) -> std::optional<std::int64_t> {
        if (value.is_undefined()) value.fail_undefined();
        if (value.is_none()) return std::nullopt;
        if (!value.is_integral()) throw_runtime("slice indices must be integers or None or have an __index__ method");
        return value.as_int();
    };
    auto first = bound(start);
    auto last = bound(stop);
    auto stride = bound(step);
    if (target.is_string()) {
        const std::string& text = target.as_string();
        std::int64_t length = static_cast<std::int64_t>(unicode::length(text));
        return Value(py::slice(text, py::adjust_slice(first, last, stride, length)));
    }
    const auto& items = target.items();
    py::SliceRange range = py::adjust_slice(first, last, stride, static_cast<std::int64_t>(items.size()));
    std::vector<Value> out;
    out.reserve(static_cast<std::size_t>(range.count));
    for (std::int64_t i = 0, at = range.start; i < range.count; ++i, at += range.step) {
        out.push_back(items[static_cast<std::size_t>(at)]);
    }
    return Value::list(std::move(out), target.list_data().kind);
}

Value get_attribute_strict(const Value& target, std::string_view name) {
    Value value = get_attribute(target, name);
    if (value.is_undefined()) value.fail_undefined();
    return value;
}

Value get_item_strict(const Value& target, const Value& key) {
    Value value = get_item(target, key);
    if (value.is_undefined()) value.fail_undefined();
    return value;
}

}  // namespace mayaflow::tmpl
