#include "engine/connections/pyyaml_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <vector>

namespace mayaflow::pyyaml {
namespace {

constexpr int kBestIndent = 2;
constexpr int kBestWidth = 80;
constexpr std::size_t kMaxSimpleKeyLength = 128;

// Width in bytes of the UTF-8 character that starts with `lead`.
std::size_t char_width(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0) return 2;
    if ((lead & 0xF0) == 0xE0) return 3;
    if ((lead & 0xF8) == 0xF0) return 4;
    return 1;
}

bool is_break_at(std::string_view s, std::size_t i) {
    if (i >= s.size()) return false;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\r' || c == '\n') return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) return true;  // NEL
    return c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
           (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9);
}
bool is_space_at(std::string_view s, std::size_t i) {
    return i < s.size() && s[i] == ' ';
}
// Blank, break, or the end of the text (libyaml reads the terminating NUL there).
bool is_blankz_at(std::string_view s, std::size_t i) {
    return i >= s.size() || s[i] == ' ' || s[i] == '\t' || s[i] == '\0' || is_break_at(s, i);
}
// Printable ASCII or a newline; with allow_unicode off every other character must be escaped.
bool is_plain_ascii(unsigned char c) {
    return c == '\n' || (c >= 0x20 && c <= 0x7E);
}

struct ScalarAnalysis {
    bool empty = false;
    bool multiline = false;
    bool flow_plain_allowed = true;
    bool block_plain_allowed = true;
    bool single_quoted_allowed = true;
};

// yaml_emitter_analyze_scalar.
ScalarAnalysis analyze(std::string_view s) {
    ScalarAnalysis a;
    if (s.empty()) {
        a.empty = true;
        a.flow_plain_allowed = false;
        return a;
    }
    bool block_indicators = false, flow_indicators = false, line_breaks = false, special = false;
    bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
    bool break_space = false, space_break = false, previous_space = false, previous_break = false;
    if (s.starts_with("---") || s.starts_with("...")) block_indicators = flow_indicators = true;
    bool preceded_by_whitespace = true;
    bool followed_by_whitespace = is_blankz_at(s, char_width(static_cast<unsigned char>(s[0])));
    for (std::size_t i = 0; i < s.size();) {
        char c = s[i];
        std::size_t width = char_width(static_cast<unsigned char>(c));
        if (i == 0) {
            if (std::string_view("#,[]{}&*!|>'\"%@`").find(c) != std::string_view::npos) {
                flow_indicators = block_indicators = true;
            }
            if (c == '?' || c == ':') {
                flow_indicators = true;
                if (followed_by_whitespace) block_indicators = true;
            }
            if (c == '-' && followed_by_whitespace) flow_indicators = block_indicators = true;
        } else {
            if (std::string_view(",?[]{}").find(c) != std::string_view::npos) flow_indicators = true;
            if (c == ':') {
                flow_indicators = true;
                if (followed_by_whitespace) block_indicators = true;
            }
            if (c == '#' && preceded_by_whitespace) flow_indicators = block_indicators = true;
        }
        if (!is_plain_ascii(static_cast<unsigned char>(c))) special = true;
        bool is_break = is_break_at(s, i);
        if (is_break) line_breaks = true;
        if (c == ' ') {
            if (i == 0) leading_space = true;
            if (i + width == s.size()) trailing_space = true;
            if (previous_break) break_space = true;
            previous_space = true;
            previous_break = false;
        } else if (is_break) {
            if (i == 0) leading_break = true;
            if (i + width == s.size()) trailing_break = true;
            if (previous_space) space_break = true;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = previous_break = false;
        }
        preceded_by_whitespace = is_blankz_at(s, i);
        i += width;
        if (i < s.size())
            followed_by_whitespace = is_blankz_at(s, i + char_width(static_cast<unsigned char>(s[i])));
    }
    a.multiline = line_breaks;
    if (leading_space || leading_break || trailing_space || trailing_break) {
        a.flow_plain_allowed = a.block_plain_allowed = false;
    }
    if (break_space) a.flow_plain_allowed = a.block_plain_allowed = a.single_quoted_allowed = false;
    if (space_break || special)
        a.flow_plain_allowed = a.block_plain_allowed = a.single_quoted_allowed = false;
    if (line_breaks) a.flow_plain_allowed = a.block_plain_allowed = false;
    if (flow_indicators) a.flow_plain_allowed = false;
    if (block_indicators) a.block_plain_allowed = false;
    return a;
}

enum class Style { plain, single_quoted, double_quoted };

// A scalar as the representer hands it over: its text, and whether plain text would read back
// with the same type (false for a string that looks like a number, a bool or null).
struct Scalar {
    std::string text;
    bool plain_implicit = true;
};

// The libyaml emitter's state for block collections and scalars (flow only for empty ones).
class Emitter {
  public:
    std::string finish() {
        write_indent();  // the document end puts the last line break
        return std::move(out_);
    }

    void emit_node(const pyjson::Json& value, bool mapping_context, bool simple_key) {
        if (value.is_object()) {
            emit_mapping(value);
        } else if (value.is_array()) {
            emit_sequence(value, mapping_context);
        } else {
            emit_scalar(represent(value), simple_key);
        }
    }

  private:
    static Scalar represent(const pyjson::Json& value) {
        switch (value.type()) {
            case pyjson::Json::value_t::null:
                return {"null"};
            case pyjson::Json::value_t::boolean:
                return {value.get<bool>() ? "true" : "false"};
            case pyjson::Json::value_t::number_integer:
                return {std::to_string(value.get<std::int64_t>())};
            case pyjson::Json::value_t::number_unsigned:
                return {std::to_string(value.get<std::uint64_t>())};
            case pyjson::Json::value_t::number_float: {
                double number = value.get<double>();
                if (std::isnan(number)) return {".nan"};
                if (std::isinf(number)) return {number > 0 ? ".inf" : "-.inf"};
                std::string text = pyjson::float_repr(number);
                std::transform(text.begin(), text.end(), text.begin(),
                               [](char c) { return c == 'E' ? 'e' : c; });
                if (text.find('.') == std::string::npos && text.find('e') != std::string::npos) {
                    text.replace(text.find('e'), 1, ".0e");
                }
                return {text};
            }
            case pyjson::Json::value_t::string: {
                const auto& text = value.get_ref<const std::string&>();
                return {text, !plain_text_resolves_to_non_string(text)};
            }
            default:
                return {"null"};
        }
    }

    void put(char c) {
        out_.push_back(c);
        ++column_;
    }
    void put_break() {
        out_.push_back('\n');
        column_ = 0;
    }
    // Copies the character at `i`, counting it as one column; returns its width.
    std::size_t write_char(std::string_view s, std::size_t i) {
        std::size_t width = std::min(char_width(static_cast<unsigned char>(s[i])), s.size() - i);
        out_.append(s.substr(i, width));
        ++column_;
        return width;
    }
    void increase_indent(bool flow) {
        indents_.push_back(indent_);
        if (indent_ < 0) {
            indent_ = flow ? kBestIndent : 0;
        } else {
            indent_ += kBestIndent;
        }
    }
    void pop_indent() {
        indent_ = indents_.back();
        indents_.pop_back();
    }
    void write_indent() {
        int indent = std::max(indent_, 0);
        if (!indention_ || column_ > indent || (column_ == indent && !whitespace_)) put_break();
        while (column_ < indent) put(' ');
        whitespace_ = true;
        indention_ = true;
    }
    void write_indicator(std::string_view indicator, bool need_whitespace, bool is_whitespace,
                         bool is_indention) {
        if (need_whitespace && !whitespace_) put(' ');
        for (char c : indicator) put(c);
        whitespace_ = is_whitespace;
        indention_ = indention_ && is_indention;
    }

    void emit_mapping(const pyjson::Json& value) {
        if (value.empty()) {
            write_indicator("{", true, true, false);
            write_indicator("}", false, false, false);
            return;
        }
        std::vector<std::pair<const std::string*, const pyjson::Json*>> members;
        for (auto it = value.begin(); it != value.end(); ++it) members.emplace_back(&it.key(), &it.value());
        std::stable_sort(members.begin(), members.end(),
                         [](auto& a, auto& b) { return *a.first < *b.first; });
        increase_indent(false);
        for (const auto& [key, member] : members) {
            write_indent();
            Scalar key_scalar{*key, !plain_text_resolves_to_non_string(*key)};
            bool simple = !analyze(*key).multiline && key->size() <= kMaxSimpleKeyLength;
            if (simple) {
                emit_scalar(key_scalar, true);
                write_indicator(":", false, false, false);
            } else {
                write_indicator("?", true, false, true);
                emit_scalar(key_scalar, false);
                write_indent();
                write_indicator(":", true, false, true);
            }
            emit_node(*member, true, false);
        }
        pop_indent();
    }

    void emit_sequence(const pyjson::Json& value, bool mapping_context) {
        if (value.empty()) {
            write_indicator("[", true, true, false);
            write_indicator("]", false, false, false);
            return;
        }
        // A sequence that is a mapping's value sits at the mapping's own indent ("indentless").
        bool indentless = mapping_context && !indention_;
        indents_.push_back(indent_);
        if (indent_ < 0)
            indent_ = 0;
        else if (!indentless)
            indent_ += kBestIndent;
        for (const auto& item : value) {
            write_indent();
            write_indicator("-", true, false, true);
            emit_node(item, false, false);
        }
        pop_indent();
    }

    void emit_scalar(const Scalar& scalar, bool simple_key) {
        auto analysis = analyze(scalar.text);
        Style style = Style::plain;
        if (simple_key && analysis.multiline) style = Style::double_quoted;
        if (style == Style::plain) {
            if (!analysis.block_plain_allowed) style = Style::single_quoted;
            if (analysis.empty && simple_key) style = Style::single_quoted;
            if (!scalar.plain_implicit) style = Style::single_quoted;
        }
        if (style == Style::single_quoted && !analysis.single_quoted_allowed) style = Style::double_quoted;
        increase_indent(true);
        bool allow_breaks = !simple_key;
        switch (style) {
            case Style::plain:
                write_plain(scalar.text, allow_breaks);
                break;
            case Style::single_quoted:
                write_single_quoted(scalar.text, allow_breaks);
                break;
            case Style::double_quoted:
                write_double_quoted(scalar.text, allow_breaks);
                break;
        }
        pop_indent();
    }

    void write_plain(std::string_view s, bool allow_breaks) {
        if (!whitespace_ && !s.empty()) put(' ');
        bool spaces = false;
        for (std::size_t i = 0; i < s.size();) {
            if (s[i] == ' ') {
                if (allow_breaks && !spaces && column_ > kBestWidth && !is_space_at(s, i + 1)) {
                    write_indent();
                    i += 1;
                } else {
                    i += write_char(s, i);
                }
                spaces = true;
            } else {
                i += write_char(s, i);
                indention_ = false;
                spaces = false;
            }
        }
        whitespace_ = false;
        indention_ = false;
    }

    void write_single_quoted(std::string_view s, bool allow_breaks) {
        write_indicator("'", true, false, false);
        bool spaces = false, breaks = false;
        for (std::size_t i = 0; i < s.size();) {
            if (s[i] == ' ') {
                if (allow_breaks && !spaces && column_ > kBestWidth && i != 0 && i != s.size() - 1 &&
                    !is_space_at(s, i + 1)) {
                    write_indent();
                    i += 1;
                } else {
                    i += write_char(s, i);
                }
                spaces = true;
            } else if (is_break_at(s, i)) {
                if (!breaks && s[i] == '\n') put_break();
                if (s[i] == '\n') {
                    put_break();
                    i += 1;
                } else {
                    i += write_char(s, i);
                    column_ = 0;
                }
                indention_ = true;
                breaks = true;
            } else {
                if (breaks) write_indent();
                if (s[i] == '\'') put('\'');
                i += write_char(s, i);
                indention_ = false;
                spaces = breaks = false;
            }
        }
        if (breaks) write_indent();
        write_indicator("'", false, false, false);
        whitespace_ = false;
        indention_ = false;
    }

    void write_double_quoted(std::string_view s, bool allow_breaks) {
        write_indicator("\"", true, false, false);
        bool spaces = false;
        for (std::size_t i = 0; i < s.size();) {
            auto byte = static_cast<unsigned char>(s[i]);
            if (!is_plain_ascii(byte) || byte == '\n' || byte == '"' || byte == '\\') {
                std::size_t width = std::min(char_width(byte), s.size() - i);
                unsigned value = width == 1   ? byte
                                 : width == 2 ? byte & 0x1Fu
                                 : width == 3 ? byte & 0x0Fu
                                              : byte & 0x07u;
                for (std::size_t k = 1; k < width; ++k)
                    value = (value << 6) + (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
                i += width;
                put('\\');
                switch (value) {
                    case 0x00:
                        put('0');
                        break;
                    case 0x07:
                        put('a');
                        break;
                    case 0x08:
                        put('b');
                        break;
                    case 0x09:
                        put('t');
                        break;
                    case 0x0A:
                        put('n');
                        break;
                    case 0x0B:
                        put('v');
                        break;
                    case 0x0C:
                        put('f');
                        break;
                    case 0x0D:
                        put('r');
                        break;
                    case 0x1B:
                        put('e');
                        break;
                    case 0x22:
                        put('"');
                        break;
                    case 0x5C:
                        put('\\');
                        break;
                    case 0x85:
                        put('N');
                        break;
                    case 0xA0:
                        put('_');
                        break;
                    case 0x2028:
                        put('L');
                        break;
                    case 0x2029:
                        put('P');
                        break;
                    default: {
                        std::string escaped = value <= 0xFF     ? fmt::format("x{:02X}", value)
                                              : value <= 0xFFFF ? fmt::format("u{:04X}", value)
                                                                : fmt::format("U{:08X}", value);
                        for (char c : escaped) put(c);
                    }
                }
                spaces = false;
            } else if (byte == ' ') {
                if (allow_breaks && !spaces && column_ > kBestWidth && i != 0 && i != s.size() - 1) {
                    write_indent();
                    if (is_space_at(s, i + 1)) put('\\');
                    i += 1;
                } else {
                    i += write_char(s, i);
                }
                spaces = true;
            } else {
                i += write_char(s, i);
                spaces = false;
            }
        }
        write_indicator("\"", false, false, false);
        whitespace_ = false;
        indention_ = false;
    }

    std::string out_;
    int column_ = 0;
    int indent_ = -1;
    std::vector<int> indents_;
    bool whitespace_ = true;
    bool indention_ = true;
};

}  // namespace

bool plain_text_resolves_to_non_string(std::string_view text) {
    // PyYAML's implicit resolvers (yaml/resolver.py), each tried on the characters it is registered for.
    static const std::regex kResolvers(
        "^(?:"
        // null
        "~|null|Null|NULL|"
        // bool
        "yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|"
        // int
        "[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|"
        "[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+|"
        // float
        "[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|"
        "[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN)|"
        // timestamp
        "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|"
        "[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]"
        "(?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?|"
        // merge, value, yaml
        "<<|=|!|&|\\*"
        ")$");
    if (text.empty()) return true;  // the empty string reads back as null
    return std::regex_match(text.begin(), text.end(), kResolvers);
}

std::string dump(const pyjson::Json& value) {
    Emitter emitter;
    emitter.emit_node(value, false, false);
    return emitter.finish();
}

}  // namespace mayaflow::pyyaml
