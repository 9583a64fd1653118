#include "engine/template/pyformat.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "engine/template/datetime_value.h"
#include "engine/template/error.h"
#include "engine/template/lookup.h"
#include "engine/template/operators.h"
#include "engine/template/pystr.h"
#include "engine/template/unicode.h"

namespace mayaflow::tmpl {

namespace {

// A parsed format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type].
struct Spec {
    std::string fill = " ";
    char align = 0;
    char sign = 0;
    bool alternate = false;
    bool zero = false;
    std::int64_t width = -1;
    char grouping = 0;
    std::int64_t precision = -1;
    char type = 0;
};

bool is_align(char c) { return c == '<' || c == '>' || c == '^' || c == '='; }

Spec parse_spec(std::string_view text) {
    Spec spec;
    std::size_t i = 0;
    // The fill may be any character, so look one code point ahead for an alignment.
    std::size_t after_first = 0;
    if (!text.empty()) unicode::decode_next(text, after_first);
    if (after_first < text.size() && is_align(text[after_first])) {
        spec.fill = std::string(text.substr(0, after_first));
        spec.align = text[after_first];
        i = after_first + 1;
    } else if (!text.empty() && is_align(text[0])) {
        spec.align = text[0];
        i = 1;
    }
    if (i < text.size() && (text[i] == '+' || text[i] == '-' || text[i] == ' ')) spec.sign = text[i++];
    if (i < text.size() && text[i] == 'z') ++i;
    if (i < text.size() && text[i] == '#') {
        spec.alternate = true;
        ++i;
    }
    if (i < text.size() && text[i] == '0') {
        spec.zero = true;
        ++i;
    }
    auto read_number = [&]() -> std::int64_t {
        std::int64_t n = -1;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            n = (n < 0 ? 0 : n) * 10 + (text[i++] - '0');
            if (n > 100'000'000) throw_runtime("too many decimal digits in format string");
        }
        return n;
    };
    spec.width = read_number();
    if (spec.width > 0) check_string_size(static_cast<std::size_t>(spec.width));
    if (i < text.size() && (text[i] == ',' || text[i] == '_')) spec.grouping = text[i++];
    if (i < text.size() && text[i] == '.') {
        ++i;
        spec.precision = read_number();
        if (spec.precision < 0) throw_runtime("format specifier missing precision");
    }
    if (i < text.size()) spec.type = text[i++];
    if (i != text.size()) throw_runtime("invalid format specifier '{}'", text);
    return spec;
}

// Pads text by `margin` fill characters; format() centres with the extra character on the right.
std::string align_text(std::string_view text, std::int64_t margin, std::string_view fill, char align) {
    std::int64_t left = align == '>' ? margin : (align == '^' ? margin / 2 : 0);
    return py::repeat(fill, left) + std::string(text) + py::repeat(fill, margin - left);
}

std::string group_digits(std::string_view digits, char separator, std::size_t every) {
    std::string out;
    std::size_t count = 0;
    for (std::size_t i = digits.size(); i > 0; --i) {
        if (count > 0 && count % every == 0) out.push_back(separator);
        out.push_back(digits[i - 1]);
        ++count;
    }
    return std::string(out.rbegin(), out.rend());
}

// Pads `body` (which follows `prefix`, the sign and radix prefix) to the spec's width.
std::string pad_number(const Spec& spec, std::string_view prefix, std::string_view body) {
    std::int64_t length = static_cast<std::int64_t>(prefix.size() + unicode::length(body));
    char align = spec.align != 0 ? spec.align : '>';
    std::string fill = spec.fill;
    if (spec.zero && spec.align == 0) {
        align = '=';
        fill = "0";
    }
    if (spec.width <= length) return std::string(prefix) + std::string(body);
    std::int64_t margin = spec.width - length;
    if (align == '=') return std::string(prefix) + py::repeat(fill, margin) + std::string(body);
    return align_text(std::string(prefix) + std::string(body), margin, fill, align);
}

std::string sign_prefix(bool negative, char sign) {
    if (negative) return "-";
    if (sign == '+') return "+";
    if (sign == ' ') return " ";
    return "";
}

std::string format_int(std::int64_t value, const Spec& spec) {
    if (spec.precision >= 0) throw_runtime("Precision not allowed in integer format specifier");
    bool negative = value < 0;
    unsigned long long magnitude = negative ? 0ull - static_cast<unsigned long long>(value) : static_cast<unsigned long long>(value);
    std::string digits;
    std::string prefix = sign_prefix(negative, spec.sign);
    std::size_t group_every = 3;
    switch (spec.type) {
        case 0:
        case 'd':
        case 'n': digits = std::to_string(magnitude); break;
        case 'x': digits = fmt::format("{:x}", magnitude); group_every = 4; if (spec.alternate) prefix += "0x"; break;
        case 'X': digits = fmt::format("{:X}", magnitude); group_every = 4; if (spec.alternate) prefix += "0X"; break;
        case 'o': digits = fmt::format("{:o}", magnitude); group_every = 4; if (spec.alternate) prefix += "0o"; break;
        case 'b': digits = fmt::format("{:b}", magnitude); group_every = 4; if (spec.alternate) prefix += "0b"; break;
        case 'c': {
            if (value < 0 || value > 0x10FFFF) throw_runtime("%c arg not in range(0x110000)");
            std::string ch;
            unicode::append_utf8(ch, static_cast<char32_t>(value));
            return pad_number(spec, "", ch);
        }
        default: throw_runtime("Unknown format code '{}' for object of type 'int'", spec.type);
    }
    if (spec.grouping != 0) digits = group_digits(digits, spec.grouping, group_every);
    return pad_number(spec, prefix, digits);
}

std::string c_format(const char* conversion, std::int64_t precision, double value) {
    char format[16];
    std::snprintf(format, sizeof format, "%%.%d%s", static_cast<int>(precision), conversion);
    int size = std::snprintf(nullptr, 0, format, value);
    std::string out(static_cast<std::size_t>(size), '\0');
    std::snprintf(out.data(), out.size() + 1, format, value);
    return out;
}

// Python's float formatting with no type and a precision: like 'g', but scientific from an exponent of
// precision - 1 on, and fixed-point results keep at least one digit after the point.
std::string general_with_point(double magnitude, std::int64_t precision) {
    if (!std::isfinite(magnitude)) return py::repr_float(magnitude);
    if (precision == 0) precision = 1;
    std::string scientific = c_format("e", precision - 1, magnitude);
    int exponent = std::atoi(scientific.c_str() + scientific.find('e') + 1);
    auto strip_zeros = [](std::string text, bool keep_one) {
        std::size_t point = text.find('.');
        if (point == std::string::npos) return keep_one ? text + ".0" : text;
        std::size_t last = text.find_last_not_of('0');
        if (last == point) return keep_one ? text.substr(0, point + 2) : text.substr(0, point);
        return text.substr(0, last + 1);
    };
    if (exponent < -4 || exponent >= precision - 1) {
        std::size_t e = scientific.find('e');
        return strip_zeros(scientific.substr(0, e), false) + scientific.substr(e);
    }
    return strip_zeros(c_format("f", precision - 1 - exponent, magnitude), true);
}

std::string format_float(double value, const Spec& spec) {
    bool negative = std::signbit(value) && !std::isnan(value);
    double magnitude = std::fabs(value);
    std::string body;
    char type = spec.type;
    std::int64_t precision = spec.precision;
    if (precision > 10000) throw_runtime("precision too big");
    switch (type) {
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G': {
            if (precision < 0) precision = 6;
            char conversion[2] = {type, 0};
            if ((type == 'g' || type == 'G') && spec.alternate) {
                body = c_format(type == 'g' ? "#g" : "#G", precision, magnitude);
            } else {
                body = c_format(conversion, precision, magnitude);
            }
            break;
        }
        case 'n':
            body = c_format("g", precision < 0 ? 6 : precision, magnitude);
            break;
        case '%':
            body = c_format("f", precision < 0 ? 6 : precision, magnitude * 100) + "%";
            break;
        case 0:
            body = precision < 0 ? py::repr_float(magnitude) : general_with_point(magnitude, precision);
            break;
        default: throw_runtime("Unknown format code '{}' for object of type 'float'", type);
    }
    if (spec.grouping != 0) {
        std::size_t end = body.find_first_not_of("0123456789");
        if (end == std::string::npos) end = body.size();
        body = group_digits(body.substr(0, end), spec.grouping, 3) + body.substr(end);
    }
    return pad_number(spec, sign_prefix(negative, spec.sign), body);
}

std::string format_string(std::string_view text, const Spec& spec) {
    if (spec.type != 0 && spec.type != 's') throw_runtime("Unknown format code '{}' for object of type 'str'", spec.type);
    if (spec.sign != 0) throw_runtime("Sign not allowed in string format specifier");
    if (spec.align == '=') throw_runtime("'=' alignment not allowed in string format specifier");
    std::string body = spec.precision >= 0 ? py::slice(text, py::adjust_slice(0, spec.precision, 1, static_cast<std::int64_t>(unicode::length(text))))
                                           : std::string(text);
    auto length = static_cast<std::int64_t>(unicode::length(body));
    if (spec.width <= length) return body;
    return align_text(body, spec.width - length, spec.fill, spec.align != 0 ? spec.align : '<');
}

}  // namespace

std::string format_with_spec(const Value& value, std::string_view spec_text) {
    if (value.is_undefined()) value.fail_undefined();
    switch (value.kind()) {
        case Value::Kind::string: return spec_text.empty() ? value.as_string() : format_string(value.as_string(), parse_spec(spec_text));
        case Value::Kind::boolean:
            if (spec_text.empty()) return value.str();
            [[fallthrough]];
        case Value::Kind::integer: {
            Spec spec = parse_spec(spec_text);
            if (spec.type == 0 || std::string_view("bcdoxXn").find(spec.type) != std::string_view::npos) {
                return format_int(value.as_int(), spec);
            }
            return format_float(value.as_double(), spec);
        }
        case Value::Kind::floating: return format_float(value.as_double(), parse_spec(spec_text));
        case Value::Kind::datetime:
            if (spec_text.empty()) return value.str();
            return datetime_strftime(value.as_datetime(), spec_text);
        default:
            if (!spec_text.empty()) throw_runtime("unsupported format string passed to {}.__format__", value.type_name());
            return value.str();
    }
}

std::string percent_format(std::string_view format, const Value& args) {
    bool tuple = args.is_sequence_kind(SequenceKind::tuple);
    bool mapping = !tuple && (args.is_dict() || args.is_list() || args.kind() == Value::Kind::object);
    std::vector<Value> positional = tuple ? args.items() : std::vector<Value>{args};
    std::size_t next = 0;
    bool used_single = false;
    auto next_arg = [&]() -> const Value& {
        if (next >= positional.size()) throw_runtime("not enough arguments for format string");
        used_single = true;
        return positional[next++];
    };
    std::string out;
    std::size_t i = 0;
    while (i < format.size()) {
        char c = format[i++];
        if (c != '%') {
            out.push_back(c);
            continue;
        }
        if (i >= format.size()) throw_runtime("incomplete format");
        const Value* keyed = nullptr;
        Value keyed_value;
        if (format[i] == '(') {
            std::size_t close = format.find(')', i);
            if (close == std::string_view::npos) throw_runtime("incomplete format key");
            if (!mapping) throw_runtime("format requires a mapping");
            std::string key(format.substr(i + 1, close - i - 1));
            if (args.is_dict()) {
                const Value* found = args.dict_data().find(std::string_view(key));
                if (found == nullptr) throw_runtime("KeyError: {}", py::repr_string(key));
                keyed_value = *found;
            } else {
                keyed_value = get_item_strict(args, Value(key));
            }
            keyed = &keyed_value;
            i = close + 1;
        }
        Spec spec;
        spec.align = '>';
        bool left = false;
        while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos) {
            char flag = format[i++];
            if (flag == '-') left = true;
            else if (flag == '+') spec.sign = '+';
            else if (flag == ' ' && spec.sign != '+') spec.sign = ' ';
            else if (flag == '#') spec.alternate = true;
            else if (flag == '0') spec.zero = true;
        }
        auto read_count = [&]() -> std::int64_t {
            if (i < format.size() && format[i] == '*') {
                ++i;
                return to_index(next_arg(), "* wants int");
            }
            std::int64_t n = -1;
            while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
                n = (n < 0 ? 0 : n) * 10 + (format[i++] - '0');
                if (n > 100'000'000) throw_runtime("width too big");
            }
            return n;
        };
        spec.width = read_count();
        if (spec.width < -1) {
            left = true;
            spec.width = spec.width == std::numeric_limits<std::int64_t>::min() ? std::numeric_limits<std::int64_t>::max()
                                                                              : -spec.width;
        }
        // A width or precision from `*` can be any int: refuse one that makes too long a text.
        if (spec.width > 0) check_string_size(static_cast<std::size_t>(spec.width));
        if (i < format.size() && format[i] == '.') {
            ++i;
            spec.precision = std::max<std::int64_t>(read_count(), 0);
            check_string_size(static_cast<std::size_t>(spec.precision));
        }
        while (i < format.size() && (format[i] == 'h' || format[i] == 'l' || format[i] == 'L')) ++i;
        if (i >= format.size()) throw_runtime("incomplete format");
        char conversion = format[i++];
        if (conversion == '%') {
            out.push_back('%');
            continue;
        }
        const Value& arg = keyed != nullptr ? *keyed : next_arg();
        if (left) {
            spec.align = '<';
            spec.zero = false;
        } else if (spec.zero) {
            spec.align = 0;  // pad_number's zero padding after the sign
        }
        switch (conversion) {
            case 's':
            case 'r':
            case 'a': {
                std::string text = conversion == 's' ? arg.str() : arg.repr();
                if (spec.precision >= 0) text = py::slice(text, py::adjust_slice(0, spec.precision, 1, static_cast<std::int64_t>(unicode::length(text))));
                out += spec.width > 0 ? py::pad(text, spec.width, " ", left ? '<' : '>') : text;
                break;
            }
            case 'd':
            case 'i':
            case 'u': {
                if (arg.is_undefined()) arg.fail_undefined();
                if (!arg.is_number()) throw_runtime("%{} format: a real number is required, not {}", conversion, arg.type_name());
                std::int64_t n = 0;
                if (arg.is_integral()) {
                    n = arg.as_int();
                } else {
                    double d = arg.as_double();
                    if (!std::isfinite(d)) throw_runtime("cannot convert float {} to integer", py::repr_float(d));
                    if (std::fabs(d) >= 9.2e18) throw_runtime("integer overflow: the result does not fit in 64 bits");
                    n = static_cast<std::int64_t>(std::trunc(d));
                }
                unsigned long long magnitude = n < 0 ? 0ull - static_cast<unsigned long long>(n) : static_cast<unsigned long long>(n);
                std::string digits = std::to_string(magnitude);
                if (spec.precision > static_cast<std::int64_t>(digits.size())) {
                    digits.insert(0, static_cast<std::size_t>(spec.precision - static_cast<std::int64_t>(digits.size())), '0');
                }
                out += pad_number(spec, sign_prefix(n < 0, spec.sign), digits);
                break;
            }
            case 'x':
            case 'X':
            case 'o': {
                if (arg.is_undefined()) arg.fail_undefined();
                if (!arg.is_integral()) throw_runtime("%{} format: an integer is required, not {}", conversion, arg.type_name());
                Spec int_spec = spec;
                int_spec.type = conversion;
                int_spec.precision = -1;
                std::string text = format_int(arg.as_int(), int_spec);
                out += text;
                break;
            }
            case 'e':
            case 'E':
            case 'f':
            case 'F':
            case 'g':
            case 'G': {
                if (arg.is_undefined()) arg.fail_undefined();
                if (!arg.is_number()) throw_runtime("must be real number, not {}", arg.type_name());
                spec.type = conversion;
                out += format_float(arg.as_double(), spec);
                break;
            }
            case 'c': {
                std::string ch;
                if (arg.is_string() && unicode::length(arg.as_string()) == 1) {
                    ch = arg.as_string();
                } else {
                    std::int64_t cp = to_index(arg, "%c requires an int or a unicode character");
                    if (cp < 0 || cp > 0x10FFFF) throw_runtime("%c arg not in range(0x110000)");
                    unicode::append_utf8(ch, static_cast<char32_t>(cp));
                }
                out += spec.width > 0 ? py::pad(ch, spec.width, " ", left ? '<' : '>') : ch;
                break;
            }
            default:
                throw_runtime("unsupported format character '{}' (0x{:x}) at index {}", conversion,
                              static_cast<unsigned char>(conversion), i - 1);
        }
        check_string_size(out.size());
    }
    if (tuple && next < positional.size()) throw_runtime("not all arguments converted during string formatting");
    if (!tuple && !mapping && !used_single) throw_runtime("not all arguments converted during string formatting");
    return out;
}

namespace {

// Resolves a replacement field name like "0", "name", "0.attr" or "name[key]".
Value resolve_field(std::string_view field, const CallArgs& args, std::size_t& auto_index, int& numbering) {
    std::size_t end = field.find_first_of(".[");
    std::string_view head = field.substr(0, end);
    Value value;
    if (head.empty() || (head.find_first_not_of("0123456789") == std::string_view::npos)) {
        std::size_t index = 0;
        if (head.empty()) {
            if (numbering == 2) throw_runtime("cannot switch from manual field specification to automatic field numbering");
            numbering = 1;
            index = auto_index++;
        } else {
            if (numbering == 1) throw_runtime("cannot switch from automatic field numbering to manual field specification");
            numbering = 2;
            index = static_cast<std::size_t>(py::parse_int(head).value_or(1 << 30));
        }
        if (index >= args.positional.size()) throw_runtime("Replacement index {} out of range for positional args tuple", index);
        value = args.positional[index];
    } else {
        auto it = std::find_if(args.keyword.begin(), args.keyword.end(), [&](const auto& kw) { return kw.first == head; });
        if (it == args.keyword.end()) throw_runtime("KeyError: {}", py::repr_string(head));
        value = it->second;
    }
    std::size_t i = end;
    while (i != std::string_view::npos && i < field.size()) {
        if (field[i] == '.') {
            std::size_t next = field.find_first_of(".[", i + 1);
            std::string_view name = field.substr(i + 1, next == std::string_view::npos ? std::string_view::npos : next - i - 1);
            if (name.empty()) throw_runtime("Empty attribute in format string");
            value = get_attribute_strict(value, name);
            i = next;
        } else {
            std::size_t close = field.find(']', i);
            if (close == std::string_view::npos) throw_runtime("Missing ']' in format string");
            std::string_view key = field.substr(i + 1, close - i - 1);
            auto number = key.find_first_not_of("0123456789") == std::string_view::npos && !key.empty() ? py::parse_int(key) : std::nullopt;
            value = get_item_strict(value, number ? Value(*number) : Value(std::string(key)));
            i = close + 1;
            if (i < field.size() && field[i] != '.' && field[i] != '[') throw_runtime("Only '.' or '[' may follow ']' in format field specifier");
        }
    }
    return value;
}

}  // namespace

std::string brace_format(std::string_view format, const CallArgs& args) {
    std::string out;
    std::size_t auto_index = 0;
    int numbering = 0;  // 0 unknown, 1 automatic, 2 manual
    std::size_t i = 0;
    while (i < format.size()) {
        char c = format[i];
        if (c == '}') {
            if (i + 1 < format.size() && format[i + 1] == '}') {
                out.push_back('}');
                i += 2;
                continue;
            }
            throw_runtime("Single '}}' encountered in format string");
        }
        if (c != '{') {
            out.push_back(c);
            ++i;
            continue;
        }
        if (i + 1 < format.size() && format[i + 1] == '{') {
            out.push_back('{');
            i += 2;
            continue;
        }
        // Find the matching '}', allowing one level of nested fields in the spec.
        std::size_t depth = 1;
        std::size_t j = i + 1;
        while (j < format.size() && depth > 0) {
            if (format[j] == '{') ++depth;
            else if (format[j] == '}') --depth;
            if (depth > 0) ++j;
        }
        if (j >= format.size()) throw_runtime("expected '}}' before end of string");
        std::string_view field = format.substr(i + 1, j - i - 1);
        i = j + 1;
        std::size_t colon = std::string_view::npos;
        std::size_t bang = std::string_view::npos;
        for (std::size_t k = 0, brackets = 0; k < field.size(); ++k) {
            if (field[k] == '[') ++brackets;
            else if (field[k] == ']' && brackets > 0) --brackets;
            else if (brackets == 0 && field[k] == '!' && bang == std::string_view::npos && colon == std::string_view::npos) bang = k;
            else if (brackets == 0 && field[k] == ':') {
                colon = k;
                break;
            }
        }
        std::string_view name = field.substr(0, std::min(bang, colon));
        char conversion = 0;
        if (bang != std::string_view::npos) {
            std::size_t conversion_end = colon == std::string_view::npos ? field.size() : colon;
            if (conversion_end != bang + 2) throw_runtime("expected ':' after conversion specifier");
            conversion = field[bang + 1];
            if (conversion != 'r' && conversion != 's' && conversion != 'a') {
                throw_runtime("Unknown conversion specifier {}", conversion);
            }
        }
        std::string spec = colon == std::string_view::npos ? "" : std::string(field.substr(colon + 1));
        if (spec.find('{') != std::string::npos) spec = brace_format(spec, args);
        Value value = resolve_field(name, args, auto_index, numbering);
        if (conversion == 's') value = Value(value.str());
        if (conversion == 'r' || conversion == 'a') value = Value(value.repr());
        out += format_with_spec(value, spec);
        check_string_size(out.size());
    }
    return out;
}

}  // namespace mayaflow::tmpl
