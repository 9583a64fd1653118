#include "engine/connections/python_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "engine/template/unicode.h"

namespace mayaflow::pyjson {
namespace {

void append_u_escape(std::string& out, unsigned value) {
    out += fmt::format("\\u{:04x}", value);
}

void append_string(std::string& out, std::string_view text, bool ensure_ascii) {
    out.push_back('"');
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto byte = static_cast<unsigned char>(text[pos]);
        if (byte < 0x80) {
            ++pos;
            switch (byte) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '\b':
                    out += "\\b";
                    break;
                case '\f':
                    out += "\\f";
                    break;
                default:
                    if (byte < 0x20 || (ensure_ascii && byte == 0x7F)) {
                        append_u_escape(out, byte);
                    } else {
                        out.push_back(static_cast<char>(byte));
                    }
            }
            continue;
        }
        std::size_t start = pos;
        char32_t cp = tmpl::unicode::decode_next(text, pos);
        if (!ensure_ascii) {
            if (cp == 0xFFFD) {
                tmpl::unicode::append_utf8(out, cp);
            } else {
                out.append(text.substr(start, pos - start));
            }
        } else if (cp >= 0x10000) {
            char32_t v = cp - 0x10000;
            append_u_escape(out, 0xD800 + static_cast<unsigned>(v >> 10));
            append_u_escape(out, 0xDC00 + static_cast<unsigned>(v & 0x3FF));
        } else {
            append_u_escape(out, static_cast<unsigned>(cp));
        }
    }
    out.push_back('"');
}

void dump(std::string& out, const Json& value, const DumpOptions& options, int depth) {
    auto newline = [&](int level) {
        out.push_back('\n');
        out.append(static_cast<std::size_t>(options.indent * level), ' ');
    };
    const char* item_separator = options.indent >= 0 ? "," : ", ";
    switch (value.type()) {
        case Json::value_t::null:
            out += "null";
            return;
        case Json::value_t::boolean:
            out += value.get<bool>() ? "true" : "false";
            return;
        case Json::value_t::number_integer:
            out += std::to_string(value.get<std::int64_t>());
            return;
        case Json::value_t::number_unsigned:
            out += std::to_string(value.get<std::uint64_t>());
            return;
        case Json::value_t::number_float: {
            double number = value.get<double>();
            if (std::isnan(number))
                out += "NaN";
            else if (std::isinf(number))
                out += number > 0 ? "Infinity" : "-Infinity";
            else
                out += float_repr(number);
            return;
        }
        case Json::value_t::string:
            append_string(out, value.get_ref<const std::string&>(), options.ensure_ascii);
            return;
        case Json::value_t::array: {
            if (value.empty()) {
                out += "[]";
                return;
            }
            out.push_back('[');
            bool first = true;
            for (const auto& item : value) {
                if (!first) out += item_separator;
                first = false;
                if (options.indent >= 0) newline(depth + 1);
                dump(out, item, options, depth + 1);
            }
            if (options.indent >= 0) newline(depth);
            out.push_back(']');
            return;
        }
        case Json::value_t::object: {
            if (value.empty()) {
                out += "{}";
                return;
            }
            std::vector<std::pair<const std::string*, const Json*>> members;
            for (auto it = value.begin(); it != value.end(); ++it)
                members.emplace_back(&it.key(), &it.value());
            if (options.sort_keys) {
                std::stable_sort(members.begin(), members.end(),
                                 [](auto& a, auto& b) { return *a.first < *b.first; });
            }
            out.push_back('{');
            bool first = true;
            for (const auto& [key, member] : members) {
                if (!first) out += item_separator;
                first = false;
                if (options.indent >= 0) newline(depth + 1);
                append_string(out, *key, options.ensure_ascii);
                out += ": ";
                dump(out, *member, options, depth + 1);
            }
            if (options.indent >= 0) newline(depth);
            out.push_back('}');
            return;
        }
        default:
            out += "null";
            return;  // binary and discarded values never come from JSON text
    }
}

}  // namespace

std::string float_repr(double value) {
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
    std::string sign;
    if (text.starts_with('-')) {
        sign = "-";
        text.remove_prefix(1);
    }
    auto e = text.find('e');
    std::string digits;
    for (char c : text.substr(0, e)) {
        if (c != '.') digits.push_back(c);
    }
    int exponent = 0;
    auto exponent_text = text.substr(e + 1);
    if (exponent_text.starts_with('+')) exponent_text.remove_prefix(1);
    std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    int point = exponent + 1;  // Python's decpt: where the decimal point falls in `digits`
    if (point <= -4 || point > 16) {
        std::string mantissa = digits.substr(0, 1);
        if (digits.size() > 1) mantissa += "." + digits.substr(1);
        return fmt::format("{}{}e{}{:02d}", sign, mantissa, exponent < 0 ? '-' : '+', std::abs(exponent));
    }
    if (point <= 0) return sign + "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    if (static_cast<std::size_t>(point) >= digits.size()) {
        return sign + digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0') + ".0";
    }
    return sign + digits.substr(0, static_cast<std::size_t>(point)) + "." +
           digits.substr(static_cast<std::size_t>(point));
}

std::string dumps(const Json& value, const DumpOptions& options) {
    std::string out;
    dump(out, value, options, 0);
    return out;
}

Result<Json> loads(std::string_view text) {
    try {
        return Json::parse(text);
    } catch (const Json::parse_error& e) {
        std::string message = e.what();
        // nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without its
        // code.
        if (auto at = message.find("] "); at != std::string::npos) message = message.substr(at + 2);
        // "…; last read: '<text>'" would repeat the text, which may be a password.
        if (auto at = message.find("; last read:"); at != std::string::npos) message.resize(at);
        return Error{message};
    }
}

}  // namespace mayaflow::pyjson
