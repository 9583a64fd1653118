// Jinja's filters that convert or inspect one value: default, int, float, abs, round, tojson, attr.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <charconv>
#include <cstdio>
#include <limits>

#include "engine/template/args.h"
#include "engine/template/builtins.h"
#include "engine/template/error.h"
#include "engine/template/lookup.h"
#include "engine/template/operators.h"
#include "engine/template/pystr.h"
#include "engine/template/renderer.h"
#include "engine/template/unicode.h"

namespace mayaflow::tmpl {

namespace {

Value default_filter(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("default", args, {"default_value", "boolean"});
    if (input.is_undefined() || (a.boolean(1, false) && !input.truthy())) return a.get(0, Value(""));
    return input;
}

std::optional<std::int64_t> float_to_int(double d) {
    if (std::isnan(d)) return std::nullopt;
    if (std::isinf(d)) throw_runtime("cannot convert float infinity to integer");
    double truncated = std::trunc(d);
    if (std::fabs(truncated) >= 9.223372036854775807e18) throw_runtime("integer overflow: the result does not fit in 64 bits");
    return static_cast<std::int64_t>(truncated);
}

Value int_filter(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("int", args, {"default", "base"});
    Value fallback = a.get(0, Value(0));
    if (input.is_undefined()) input.fail_undefined();
    if (input.is_integral()) return Value(input.as_int());
    if (input.kind() == Value::Kind::floating) {
        auto n = float_to_int(input.as_double());
        return n ? Value(*n) : fallback;
    }
    if (input.is_string()) {
        int base = static_cast<int>(a.integer(1, 10));
        if (auto n = py::parse_int(input.as_string(), base)) return Value(*n);
        if (py::int_text_overflows(input.as_string(), base)) throw_runtime("integer overflow: the result does not fit in 64 bits");
        if (auto d = py::parse_float(input.as_string())) {
            auto n = float_to_int(*d);
            return n ? Value(*n) : fallback;
        }
    }
    return fallback;
}

Value float_filter(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("float", args, {"default"});
    if (input.is_undefined()) input.fail_undefined();
    if (input.is_number()) return Value(input.as_double());
    if (input.is_string()) {
        if (auto d = py::parse_float(input.as_string())) return Value(*d);
    }
    return a.get(0, Value(0.0));
}

Value abs_filter(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("abs", args);
    if (input.kind() == Value::Kind::floating) return Value(std::fabs(input.as_double()));
    if (input.is_integral()) {
        std::int64_t n = input.as_int();
        if (n == std::numeric_limits<std::int64_t>::min()) throw_runtime("integer overflow: the result does not fit in 64 bits");
        return Value(n < 0 ? -n : n);
    }
    if (input.kind() == Value::Kind::timedelta) return Value::timedelta(std::chrono::abs(input.as_timedelta()));
    throw_runtime("bad operand type for abs(): '{}'", input.type_name());
}

// Python's round(x, ndigits) for floats: the nearest multiple of 10**-ndigits, ties to even, computed
// on the exact binary value (which printf's correctly rounded %.*f also does).
double round_float(double value, std::int64_t ndigits) {
    if (!std::isfinite(value) || ndigits > 308) return value;
    if (ndigits >= 0) {
        char buffer[512];
        std::snprintf(buffer, sizeof buffer, "%.*f", static_cast<int>(ndigits), value);
        double rounded = 0;
        std::from_chars(buffer, buffer + std::char_traits<char>::length(buffer), rounded);
        return rounded;
    }
    if (ndigits < -308) return std::copysign(0.0, value);
    double scale = std::pow(10.0, static_cast<double>(-ndigits));
    return std::nearbyint(value / scale) * scale;
}

Value round_filter(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("round", args, {"precision", "method"});
    std::string method = a.string(1, "common");
    if (method != "common" && method != "ceil" && method != "floor") {
        throw_runtime("method must be common, ceil or floor");
    }
    std::int64_t precision = a.integer(0, 0);
    if (input.is_undefined()) input.fail_undefined();
    if (!input.is_number()) throw_runtime("type {} doesn't define __round__ method", input.type_name());
    if (method == "common") {
        if (input.is_integral()) {
            std::int64_t n = input.as_int();
            if (precision >= 0) return Value(n);
            if (precision < -18) return Value(std::int64_t{0});
            std::int64_t scale = 1;
            for (std::int64_t i = 0; i < -precision; ++i) scale *= 10;
            std::int64_t quotient = n / scale;
            std::int64_t remainder = n % scale;
            if (remainder < 0) {
                remainder += scale;
                --quotient;
            }
            if (remainder * 2 > scale || (remainder * 2 == scale && quotient % 2 != 0)) ++quotient;
            return Value(quotient * scale);
        }
        return Value(round_float(input.as_double(), precision));
    }
    double scale = std::pow(10.0, static_cast<double>(precision));
    double scaled = input.as_double() * scale;
    double whole = method == "ceil" ? std::ceil(scaled) : std::floor(scaled);
    if (!std::isfinite(whole)) throw_runtime("cannot convert float {} to integer", py::repr_float(whole));
    return Value(whole / scale);
}

// ---- tojson: Python's json.dumps(value, sort_keys=True) made safe for HTML ----

void append_json_string(std::string& out, std::string_view text) {
    out.push_back('"');
    std::size_t pos = 0;
    while (pos < text.size()) {
        char32_t cp = unicode::decode_next(text, pos);
        switch (cp) {
            case '"': out += "\\\""; continue;
            case '\\': out += "\\\\"; continue;
            case '\n': out += "\\n"; continue;
            case '\r': out += "\\r"; continue;
            case '\t': out += "\\t"; continue;
            case '\b': out += "\\b"; continue;
            case '\f': out += "\\f"; continue;
            case '<': out += "\\u003c"; continue;
            case '>': out += "\\u003e"; continue;
            case '&': out += "\\u0026"; continue;
            case '\'': out += "\\u0027"; continue;
            default: break;
        }
        if (cp < 0x20 || (cp >= 0x80 && cp < 0x10000)) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
        } else if (cp >= 0x10000) {
            char32_t v = cp - 0x10000;
            out += fmt::format("\\u{:04x}\\u{:04x}", static_cast<unsigned>(0xD800 + (v >> 10)),
                               static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
        } else {
            out.push_back(static_cast<char>(cp));
        }
    }
    out.push_back('"');
}

std::string json_float(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    return py::repr_float(d);
}

std::string json_key(const Value& key) {
    switch (key.kind()) {
        case Value::Kind::string: return key.as_string();
        case Value::Kind::boolean: return key.as_bool() ? "true" : "false";
        case Value::Kind::integer: return std::to_string(key.as_int());
        case Value::Kind::floating: return json_float(key.as_double());
        case Value::Kind::none: return "null";
        default: throw_runtime("keys must be str, int, float, bool or None, not {}", key.type_name());
    }
}

class JsonWriter {
  public:
    explicit JsonWriter(std::optional<std::int64_t> indent) : indent_(indent) {}

    void write(const Value& value, int level) {
        if (level > 200) throw_runtime("value nested too deeply to convert to JSON");
        switch (value.kind()) {
            case Value::Kind::none: out_ += "null"; return;
            case Value::Kind::boolean: out_ += value.as_bool() ? "true" : "false"; return;
            case Value::Kind::integer: out_ += std::to_string(value.as_int()); return;
            case Value::Kind::floating: out_ += json_float(value.as_double()); return;
            case Value::Kind::string:
                append_json_string(out_, value.as_string());
                check_string_size(out_.size());  // [big] * 1000 holds the same big string 1000 times
                return;
            case Value::Kind::list: {
                SequenceKind kind = value.list_data().kind;
                if (kind != SequenceKind::list && kind != SequenceKind::tuple) break;
                const auto& items = value.items();
                if (items.empty()) {
                    out_ += "[]";
                    return;
                }
                out_ += "[";
                for (std::size_t i = 0; i < items.size(); ++i) {
                    separator(i > 0, level + 1);
                    write(items[i], level + 1);
                }
                newline(level);
                out_ += "]";
                return;
            }
            case Value::Kind::dict: {
                std::vector<const std::pair<Value, Value>*> entries;
                for (const auto& entry : value.dict_data().entries()) entries.push_back(&entry);
                std::stable_sort(entries.begin(), entries.end(),
                                 [](const auto* a, const auto* b) { return less_than(a->first, b->first); });
                if (entries.empty()) {
                    out_ += "{}";
                    return;
                }
                out_ += "{";
                for (std::size_t i = 0; i < entries.size(); ++i) {
                    separator(i > 0, level + 1);
                    append_json_string(out_, json_key(entries[i]->first));
                    out_ += ": ";
                    write(entries[i]->second, level + 1);
                }
                newline(level);
                out_ += "}";
                return;
            }
            default: break;
        }
        throw_runtime("Object of type {} is not JSON serializable", value.type_name());
    }

    std::string take() { return std::move(out_); }

  private:
    void separator(bool comma, int level) {
        if (comma) out_ += indent_ ? "," : ", ";
        newline(level);
    }
    void newline(int level) {
        if (!indent_) return;
        const std::int64_t width = std::max<std::int64_t>(*indent_, 0);
        check_repeated_size(static_cast<std::size_t>(level), width);
        check_string_size(out_.size() + 1 + static_cast<std::size_t>(width * level));
        out_ += "\n";
        out_.append(static_cast<std::size_t>(width * level), ' ');
    }

    std::optional<std::int64_t> indent_;
    std::string out_;
};

Value tojson(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("tojson", args, {"indent"});
    JsonWriter writer(a.optional_integer(0));
    writer.write(input, 0);
    std::string json = writer.take();
    check_string_size(json.size());
    return Value(std::move(json));
}

Value attr(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("attr", args, {"name"}, 1);
    if (input.is_undefined()) input.fail_undefined();
    std::string name = a[0].str();
    bool has_attribute = input.kind() == Value::Kind::object ? input.as_object().attribute(name).has_value()
                                                             : builtin_method(input, name).has_value();
    if (!has_attribute && input.kind() != Value::Kind::datetime && input.kind() != Value::Kind::timedelta) {
        return Value::undefined(fmt::format("{} has no attribute {}", py::repr_string(input.object_type_repr()),
                                            py::repr_string(name)));
    }
    return get_attribute(input, name);
}

Value pprint(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("pprint", args);
    return Value(input.repr());
}

}  // namespace

void add_value_filters(BuiltinTable& table) {
    add_filter(table, "default", default_filter);
    add_filter(table, "d", default_filter);
    add_filter(table, "int", int_filter);
    add_filter(table, "float", float_filter);
    add_filter(table, "abs", abs_filter);
    add_filter(table, "round", round_filter);
    add_filter(table, "tojson", tojson);
    add_filter(table, "attr", attr);
    add_filter(table, "pprint", pprint);
}

}  // namespace mayaflow::tmpl
