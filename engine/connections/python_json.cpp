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

// A scalar, or an empty array or object: what needs no walk.
void dump_leaf(std::string& out, const Json& value, const DumpOptions& options) {
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
        case Json::value_t::array:
            out += "[]";
            return;
        case Json::value_t::object:
            out += "{}";
            return;
        default:
            out += "null";
            return;  // binary and discarded values never come from JSON text
    }
}

// An array or object being written: its members (objects: keys sorted when asked) and the next one.
struct OpenContainer {
    const Json* value;
    std::vector<std::pair<const std::string*, const Json*>> members;  // objects only
    std::size_t next = 0;
    int depth;
};

OpenContainer open_container(std::string& out, const Json& value, const DumpOptions& options, int depth) {
    OpenContainer open{&value, {}, 0, depth};
    if (value.is_object()) {
        for (auto it = value.begin(); it != value.end(); ++it)
            open.members.emplace_back(&it.key(), &it.value());
        if (options.sort_keys) {
            std::stable_sort(open.members.begin(), open.members.end(),
                             [](auto& a, auto& b) { return *a.first < *b.first; });
        }
    }
    out.push_back(value.is_object() ? '{' : '[');
    return open;
}

void dump(std::string& out, const Json& root, const DumpOptions& options) {
    if (!root.is_structured() || root.empty()) {
        dump_leaf(out, root, options);
        return;
    }
    auto newline = [&](int level) {
        out.push_back('\n');
        out.append(static_cast<std::size_t>(options.indent * level), ' ');
    };
    const char* item_separator = options.indent >= 0 ? "," : ", ";
    std::vector<OpenContainer> open;
    open.push_back(open_container(out, root, options, 0));
    while (!open.empty()) {
        OpenContainer& top = open.back();
        const bool object = top.value->is_object();
        const std::size_t size = object ? top.members.size() : top.value->size();
        if (top.next == size) {
            if (options.indent >= 0) newline(top.depth);
            out.push_back(object ? '}' : ']');
            open.pop_back();
            continue;
        }
        if (top.next > 0) out += item_separator;
        if (options.indent >= 0) newline(top.depth + 1);
        const Json* member;
        if (object) {
            append_string(out, *top.members[top.next].first, options.ensure_ascii);
            out += ": ";
            member = top.members[top.next].second;
        } else {
            member = &(*top.value)[top.next];
        }
        ++top.next;
        const int depth = top.depth + 1;
        if (member->is_structured() && !member->empty()) {
            open.push_back(open_container(out, *member, options, depth));  // `top` is no longer valid
        } else {
            dump_leaf(out, *member, options);
        }
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
    dump(out, value, options);
    return out;
}

Status check_nesting(std::string_view text) {
    int depth = 0;
    std::size_t line = 1, line_start = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
            case '"':
                in_string = true;
                break;
            case '\n':
                ++line;
                line_start = i + 1;
                break;
            case '[':
            case '{':
                if (++depth > kMaxNesting) {
                    return make_error(
                        "JSON nested deeper than {} levels (at line {}, column {}); mayaflow reads JSON up "
                        "to {} "
                        "levels deep",
                        kMaxNesting, line, i - line_start + 1, kMaxNesting);
                }
                break;
            case ']':
            case '}':
                if (depth > 0) --depth;
                break;
            default:
                break;
        }
    }
    return Status::success();
}

std::vector<KeyPlace> top_level_keys(std::string_view text) {
    std::vector<KeyPlace> keys;
    int depth = 0;
    std::size_t line = 1;
    bool expect_key = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            const std::size_t start = i;
            for (++i; i < text.size() && text[i] != '"'; ++i) {
                if (text[i] == '\\') ++i;
            }
            if (depth == 1 && expect_key) {
                // The key as json.loads reads it (escapes decoded).
                auto key = Json::parse(text.substr(start, i + 1 - start), nullptr, false);
                if (key.is_string()) keys.push_back({key.get<std::string>(), line});
                expect_key = false;
            }
            continue;
        }
        if (c == '\n') ++line;
        if (c == '{' || c == '[') {
            ++depth;
            if (depth == 1) expect_key = c == '{';
        } else if (c == '}' || c == ']') {
            --depth;
        } else if (c == ',' && depth == 1) {
            expect_key = true;
        }
    }
    return keys;
}

nlohmann::json parse_or_discarded(std::string_view text) {
    if (!check_nesting(text)) return nlohmann::json(nlohmann::json::value_t::discarded);
    return nlohmann::json::parse(text, nullptr, false);
}

Result<Json> loads(std::string_view text) {
    // Before nlohmann builds the value: its copies, comparisons and destruction recurse.
    if (Status shallow = check_nesting(text); !shallow) return shallow.error();
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
    } catch (const Json::out_of_range&) {
        // A number beyond a double (1e400), which json.loads reads as inf: nlohmann throws
        // out_of_range.406 for it rather than parse_error. Its digits are not repeated (a secret?).
        return Error{"a number is too large for a double (at most about 1.8e308)"};
    }
}

}  // namespace mayaflow::pyjson
