#include "engine/template/pystr.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <system_error>
#include <limits>

#include "engine/template/error.h"
#include "engine/template/limits.h"
#include "engine/template/unicode.h"

namespace mayaflow::tmpl::py {

namespace {

void append_hex(std::string& out, char prefix, unsigned value, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('\\');
    out.push_back(prefix);
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(kHex[(value >> shift) & 0xF]);
}

template <class Fn>
std::string map_code_points(std::string_view text, Fn&& fn) {
    std::u32string out;
    std::size_t pos = 0;
    while (pos < text.size()) fn(out, unicode::decode_next(text, pos));
    return unicode::encode(out);
}

}  // namespace

std::string repr_string(std::string_view text) {
    bool has_single = text.find('\'') != std::string_view::npos;
    bool has_double = text.find('"') != std::string_view::npos;
    char quote = (has_single && !has_double) ? '"' : '\'';
    std::string out;
    out.reserve(text.size() + 2);
    out.push_back(quote);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t start = pos;
        char32_t cp = unicode::decode_next(text, pos);
        if (cp == static_cast<char32_t>(quote) || cp == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(cp));
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (unicode::is_printable(cp)) {
            out.append(text.substr(start, pos - start));
        } else if (cp < 0x100) {
            append_hex(out, 'x', cp, 2);
        } else if (cp < 0x10000) {
            append_hex(out, 'u', cp, 4);
        } else {
            append_hex(out, 'U', cp, 8);
        }
    }
    out.push_back(quote);
    return out;
}

std::string repr_float(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    (void)ec;
    std::string_view sci(buffer, static_cast<std::size_t>(end - buffer));
    // sci looks like "-1.2345e+06": split into sign, digits and exponent.
    bool negative = sci.front() == '-';
    if (negative) sci.remove_prefix(1);
    std::size_t e_pos = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e_pos)) {
        if (c != '.') digits.push_back(c);
    }
    int exponent = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
    std::string out = negative ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
        if (exponent < 0) {
            out += "0.";
            out.append(static_cast<std::size_t>(-exponent - 1), '0');
            out += digits;
        } else {
            std::size_t int_digits = static_cast<std::size_t>(exponent) + 1;
            if (digits.size() <= int_digits) {
                out += digits;
                out.append(int_digits - digits.size(), '0');
                out += ".0";
            } else {
                out += digits.substr(0, int_digits);
                out += '.';
                out += digits.substr(int_digits);
            }
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
        out += '.';
        out += digits.substr(1);
    }
    out += exponent < 0 ? "e-" : "e+";
    int magnitude = std::abs(exponent);
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
    return out;
}

SliceRange adjust_slice(std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                        std::optional<std::int64_t> step, std::int64_t length) {
    SliceRange range;
    range.step = step.value_or(1);
    if (range.step == 0) throw_runtime("slice step cannot be zero");
    auto clamp = [&](std::optional<std::int64_t> index, bool is_start) -> std::int64_t {
        bool forward = range.step > 0;
        if (!index) {
            if (is_start) return forward ? 0 : length - 1;
            return forward ? length : -1;
        }
        std::int64_t i = *index;
        if (i < 0) {
            i = (i < -length) ? -1 : i + length;
            if (i < 0) return forward ? 0 : -1;
        } else if (i >= length) {
            return forward ? length : length - 1;
        }
        return i;
    };
    std::int64_t first = clamp(start, true);
    std::int64_t last = clamp(stop, false);
    range.start = first;
    if (range.step > 0) {
        range.count = last > first ? (last - first - 1) / range.step + 1 : 0;
    } else {
        range.count = first > last ? (first - last - 1) / (-range.step) + 1 : 0;
    }
    return range;
}

std::vector<std::string> chars(std::string_view text) {
    check_list_size(unicode::length(text));
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t start = pos;
        unicode::decode_next(text, pos);
        out.emplace_back(text.substr(start, pos - start));
    }
    return out;
}

std::string slice(std::string_view text, const SliceRange& range) {
    if (range.count == 0) return "";
    if (unicode::is_ascii(text)) {
        std::string out;
        out.reserve(static_cast<std::size_t>(range.count));
        for (std::int64_t i = 0, at = range.start; i < range.count; ++i, at += range.step) {
            out.push_back(text[static_cast<std::size_t>(at)]);
        }
        return out;
    }
    std::u32string points = unicode::decode(text);
    std::u32string out;
    for (std::int64_t i = 0, at = range.start; i < range.count; ++i, at += range.step) {
        out.push_back(points[static_cast<std::size_t>(at)]);
    }
    return unicode::encode(out);
}

std::optional<std::string> char_at(std::string_view text, std::int64_t index) {
    std::int64_t length = unicode::is_ascii(text) ? static_cast<std::int64_t>(text.size())
                                                   : static_cast<std::int64_t>(unicode::length(text));
    if (index < 0) index += length;
    if (index < 0 || index >= length) return std::nullopt;
    return slice(text, SliceRange{index, 1, 1});
}

std::string upper(std::string_view text) {
    return map_code_points(text, [](std::u32string& out, char32_t cp) { unicode::append_upper(out, cp); });
}

std::string lower(std::string_view text) {
    return map_code_points(text, [](std::u32string& out, char32_t cp) { out.push_back(unicode::to_lower(cp)); });
}

std::string swapcase(std::string_view text) {
    return map_code_points(text, [](std::u32string& out, char32_t cp) {
        if (unicode::is_upper(cp)) {
            out.push_back(unicode::to_lower(cp));
        } else if (unicode::is_lower(cp)) {
            unicode::append_upper(out, cp);
        } else {
            out.push_back(cp);
        }
    });
}

std::string capitalize(std::string_view text) {
    bool first = true;
    return map_code_points(text, [&first](std::u32string& out, char32_t cp) {
        if (first) {
            unicode::append_upper(out, cp);
            first = false;
        } else {
            out.push_back(unicode::to_lower(cp));
        }
    });
}

std::string title(std::string_view text) {
    bool previous_cased = false;
    return map_code_points(text, [&previous_cased](std::u32string& out, char32_t cp) {
        if (previous_cased) {
            out.push_back(unicode::to_lower(cp));
        } else {
            unicode::append_upper(out, cp);
        }
        previous_cased = unicode::is_cased(cp);
    });
}

bool is_upper(std::string_view text) {
    bool any_cased = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        char32_t cp = unicode::decode_next(text, pos);
        if (unicode::is_lower(cp)) return false;
        any_cased = any_cased || unicode::is_upper(cp);
    }
    return any_cased;
}

bool is_lower(std::string_view text) {
    bool any_cased = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        char32_t cp = unicode::decode_next(text, pos);
        if (unicode::is_upper(cp)) return false;
        any_cased = any_cased || unicode::is_lower(cp);
    }
    return any_cased;
}

std::string strip(std::string_view text, std::optional<std::string_view> chars, StripSide side) {
    std::u32string set = chars ? unicode::decode(*chars) : std::u32string();
    auto strippable = [&](char32_t cp) {
        return chars ? set.find(cp) != std::u32string::npos : unicode::is_space(cp);
    };
    std::u32string points = unicode::decode(text);
    std::size_t begin = 0;
    std::size_t end = points.size();
    if (side != StripSide::right) {
        while (begin < end && strippable(points[begin])) ++begin;
    }
    if (side != StripSide::left) {
        while (end > begin && strippable(points[end - 1])) --end;
    }
    if (unicode::is_ascii(text)) return std::string(text.substr(begin, end - begin));
    return unicode::encode(std::u32string_view(points).substr(begin, end - begin));
}

namespace {

// A run of non-whitespace, as byte offsets.
struct Word {
    std::size_t begin = 0;
    std::size_t end = 0;
};

// Calls `on_word` for each word of `text` in order, until it returns false.
template <class OnWord>
void for_each_word(std::string_view text, OnWord&& on_word) {
    std::size_t pos = 0;
    Word word;
    bool in_word = false;
    while (pos < text.size()) {
        std::size_t at = pos;
        bool space = unicode::is_space(unicode::decode_next(text, pos));
        if (!space && !in_word) word = Word{at, at};
        if (!space) word.end = pos;
        if (space && in_word && !on_word(word)) return;
        in_word = !space;
    }
    if (in_word) on_word(word);
}

// The number of pieces a split into at most `maxsplit` + 1 parts makes from `found` separators.
std::size_t pieces(std::size_t found, std::int64_t maxsplit) {
    if (maxsplit >= 0 && found > static_cast<std::size_t>(maxsplit)) return static_cast<std::size_t>(maxsplit);
    return found;
}

// Python's split on runs of whitespace. The words are counted first, so that a text of millions of
// words is refused before any is copied, and only the words that become parts are remembered.
std::vector<std::string> split_whitespace(std::string_view text, std::int64_t maxsplit, bool from_right) {
    std::size_t words = 0;
    for_each_word(text, [&](const Word&) { return ++words <= kMaxListItems || maxsplit >= 0; });
    const std::size_t parts = maxsplit >= 0 ? std::min(words, static_cast<std::size_t>(maxsplit) + 1) : words;
    check_list_size(parts);
    std::vector<std::string> out;
    out.reserve(parts);
    if (!from_right) {
        std::size_t seen = 0;
        for_each_word(text, [&](const Word& word) {
            if (maxsplit >= 0 && seen == static_cast<std::size_t>(maxsplit)) {
                out.emplace_back(text.substr(word.begin));  // Python keeps the rest as it is
                return false;
            }
            out.emplace_back(text.substr(word.begin, word.end - word.begin));
            ++seen;
            return true;
        });
        return out;
    }
    // From the right the last `parts` words are kept; when the split is limited, the first of them
    // takes everything before it too.
    const bool limited = words > parts;
    const std::size_t first_kept = words - parts;
    std::size_t index = 0;
    for_each_word(text, [&](const Word& word) {
        if (index >= first_kept) {
            if (limited && index == first_kept) out.emplace_back(text.substr(0, word.end));
            else out.emplace_back(text.substr(word.begin, word.end - word.begin));
        }
        ++index;
        return true;
    });
    return out;
}

// Non-overlapping occurrences of `sep`, counted no further than `enough`.
std::size_t count_occurrences(std::string_view text, std::string_view sep, std::size_t enough) {
    std::size_t found = 0;
    for (std::size_t at = text.find(sep); at != std::string_view::npos && found < enough;
         at = text.find(sep, at + sep.size())) {
        ++found;
    }
    return found;
}

void require_separator(std::string_view sep) {
    if (sep.empty()) throw_runtime("empty separator");
}

}  // namespace

std::vector<std::string> split(std::string_view text, std::optional<std::string_view> sep,
                               std::int64_t maxsplit) {
    if (!sep) return split_whitespace(text, maxsplit, false);
    require_separator(*sep);
    check_list_size(pieces(count_occurrences(text, *sep, kMaxListItems), maxsplit) + 1);
    std::vector<std::string> out;
    std::size_t start = 0;
    while (maxsplit < 0 || static_cast<std::int64_t>(out.size()) < maxsplit) {
        std::size_t found = text.find(*sep, start);
        if (found == std::string_view::npos) break;
        out.emplace_back(text.substr(start, found - start));
        start = found + sep->size();
    }
    out.emplace_back(text.substr(start));
    return out;
}

std::vector<std::string> rsplit(std::string_view text, std::optional<std::string_view> sep,
                                std::int64_t maxsplit) {
    if (!sep) return split_whitespace(text, maxsplit, true);
    require_separator(*sep);
    check_list_size(pieces(count_occurrences(text, *sep, kMaxListItems), maxsplit) + 1);
    std::vector<std::string> out;
    std::size_t end = text.size();
    while (maxsplit < 0 || static_cast<std::int64_t>(out.size()) < maxsplit) {
        if (end < sep->size()) break;
        std::size_t found = text.rfind(*sep, end - sep->size());
        if (found == std::string_view::npos) break;
        out.emplace_back(text.substr(found + sep->size(), end - found - sep->size()));
        end = found;
    }
    out.emplace_back(text.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
}

void for_each_line(std::string_view text, bool keepends, const std::function<bool(std::string_view)>& on_line) {
    std::size_t line_start = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t at = pos;
        char32_t cp = unicode::decode_next(text, pos);
        if (!unicode::is_line_break(cp)) continue;
        if (cp == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
        if (!on_line(text.substr(line_start, (keepends ? pos : at) - line_start))) return;
        line_start = pos;
    }
    if (line_start < text.size()) on_line(text.substr(line_start));
}

std::vector<std::string> splitlines(std::string_view text, bool keepends) {
    std::size_t lines = 0;
    for_each_line(text, false, [&](std::string_view) { return ++lines <= kMaxListItems; });
    check_list_size(lines);
    std::vector<std::string> out;
    out.reserve(lines);
    for_each_line(text, keepends, [&](std::string_view line) {
        out.emplace_back(line);
        return true;
    });
    return out;
}

std::string replace(std::string_view text, std::string_view old, std::string_view replacement,
                    std::int64_t count) {
    // The size of the result is known before it is built: refuse a result that would be too large.
    const std::size_t enough = count < 0 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(count);
    const std::size_t replaced = old.empty() ? std::min(unicode::length(text) + 1, enough)
                                             : count_occurrences(text, old, enough);
    check_repeated_size(replacement.size(), static_cast<std::int64_t>(std::min<std::size_t>(replaced, kMaxStringBytes + 1)));
    check_string_size(text.size() - replaced * old.size() + replaced * replacement.size());
    std::string out;
    if (old.empty()) {
        // Python inserts the replacement before every code point and at the end.
        std::int64_t done = 0;
        for (std::size_t pos = 0; pos < text.size();) {
            std::size_t start = pos;
            unicode::decode_next(text, pos);
            if (count < 0 || done < count) {
                out += replacement;
                ++done;
            }
            out.append(text.substr(start, pos - start));
        }
        if (count < 0 || done < count) out += replacement;
        return out;
    }
    std::size_t start = 0;
    std::int64_t done = 0;
    while (count < 0 || done < count) {
        std::size_t found = text.find(old, start);
        if (found == std::string_view::npos) break;
        out.append(text.substr(start, found - start));
        out.append(replacement);
        start = found + old.size();
        ++done;
    }
    out.append(text.substr(start));
    return out;
}

std::int64_t find(std::string_view text, std::string_view sub) {
    std::size_t found = text.find(sub);
    if (found == std::string_view::npos) return -1;
    return static_cast<std::int64_t>(unicode::length(text.substr(0, found)));
}

std::int64_t rfind(std::string_view text, std::string_view sub) {
    std::size_t found = text.rfind(sub);
    if (found == std::string_view::npos) return -1;
    return static_cast<std::int64_t>(unicode::length(text.substr(0, found)));
}

std::int64_t count(std::string_view text, std::string_view sub) {
    if (sub.empty()) return static_cast<std::int64_t>(unicode::length(text)) + 1;
    std::int64_t n = 0;
    std::size_t start = 0;
    while (true) {
        std::size_t found = text.find(sub, start);
        if (found == std::string_view::npos) return n;
        ++n;
        start = found + sub.size();
    }
}

std::string repeat(std::string_view text, std::int64_t times) {
    std::string out;
    if (times <= 0 || text.empty()) return out;
    check_repeated_size(text.size(), times);
    out.reserve(text.size() * static_cast<std::size_t>(times));
    for (std::int64_t i = 0; i < times; ++i) out.append(text);
    return out;
}

std::string pad(std::string_view text, std::int64_t width, std::string_view fill, char align) {
    if (unicode::length(fill) != 1) throw_runtime("The fill character must be exactly one character long");
    std::int64_t length = static_cast<std::int64_t>(unicode::length(text));
    if (width <= length) return std::string(text);
    std::int64_t margin = width - length;
    check_repeated_size(fill.size(), margin);
    check_string_size(text.size() + fill.size() * static_cast<std::size_t>(margin));
    std::int64_t left = 0;
    if (align == '>') left = margin;
    if (align == '^') left = margin / 2 + (margin & width & 1);
    std::string out = repeat(fill, left);
    out += text;
    out += repeat(fill, margin - left);
    return out;
}

std::string zfill(std::string_view text, std::int64_t width) {
    std::int64_t length = static_cast<std::int64_t>(unicode::length(text));
    if (width <= length) return std::string(text);
    check_string_size(text.size() + static_cast<std::size_t>(width - length));
    std::string out;
    std::string_view rest = text;
    if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
        out.push_back(rest.front());
        rest.remove_prefix(1);
    }
    out.append(static_cast<std::size_t>(width - length), '0');
    out.append(rest);
    return out;
}

namespace {

std::string_view trim_ascii_and_unicode_space(std::string_view text) {
    std::size_t begin = 0;
    while (begin < text.size()) {
        std::size_t next = begin;
        if (!unicode::is_space(unicode::decode_next(text, next))) break;
        begin = next;
    }
    std::size_t end = begin;
    std::size_t pos = begin;
    while (pos < text.size()) {
        if (!unicode::is_space(unicode::decode_next(text, pos))) end = pos;
    }
    return text.substr(begin, end - begin);
}

int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

// Parses Python int() text; `overflow` reports a valid literal that does not fit in 64 bits.
std::optional<std::int64_t> parse_int_impl(std::string_view text, int base, bool& overflow) {
    overflow = false;
    std::string_view s = trim_ascii_and_unicode_space(text);
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    auto has_prefix = [&](char lower) {
        return s.size() >= 2 && s[0] == '0' && (s[1] == lower || s[1] == lower - 32);
    };
    if (base == 0) {
        if (has_prefix('x')) base = 16;
        else if (has_prefix('o')) base = 8;
        else if (has_prefix('b')) base = 2;
        else base = 10;
        if (base != 10) {
            s.remove_prefix(2);
            if (!s.empty() && s.front() == '_') s.remove_prefix(1);
        }
        else if (s.size() > 1 && s[0] == '0' && s.find_first_not_of("0_") != std::string_view::npos) return std::nullopt;
    } else if ((base == 16 && has_prefix('x')) || (base == 8 && has_prefix('o')) || (base == 2 && has_prefix('b'))) {
        s.remove_prefix(2);
        if (!s.empty() && s.front() == '_') s.remove_prefix(1);
    }
    if (base < 2 || base > 36 || s.empty()) return std::nullopt;
    unsigned __int128 magnitude = 0;
    bool previous_underscore = true;  // a leading '_' is invalid
    for (char c : s) {
        if (c == '_') {
            if (previous_underscore) return std::nullopt;
            previous_underscore = true;
            continue;
        }
        int digit = digit_value(c);
        if (digit >= base) return std::nullopt;
        previous_underscore = false;
        if (magnitude <= (static_cast<unsigned __int128>(1) << 64)) {
            magnitude = magnitude * static_cast<unsigned>(base) + static_cast<unsigned>(digit);
        }
    }
    if (previous_underscore) return std::nullopt;
    constexpr unsigned __int128 kLimit = static_cast<unsigned __int128>(std::numeric_limits<std::int64_t>::max());
    if (magnitude > kLimit + (negative ? 1 : 0)) {
        overflow = true;
        return std::nullopt;
    }
    if (negative) return static_cast<std::int64_t>(-static_cast<__int128>(magnitude));
    return static_cast<std::int64_t>(magnitude);
}

}  // namespace

std::optional<std::int64_t> parse_int(std::string_view text, int base) {
    bool overflow = false;
    return parse_int_impl(text, base, overflow);
}

bool int_text_overflows(std::string_view text, int base) {
    bool overflow = false;
    (void)parse_int_impl(text, base, overflow);
    return overflow;
}

std::optional<double> parse_float(std::string_view text) {
    std::string_view s = trim_ascii_and_unicode_space(text);
    std::string cleaned;
    bool previous_digit = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '_') {
            bool next_digit = i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9';
            if (!previous_digit || !next_digit) return std::nullopt;
            continue;
        }
        previous_digit = c >= '0' && c <= '9';
        cleaned.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    }
    std::string_view body = cleaned;
    bool negative = false;
    if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
        negative = body.front() == '-';
        body.remove_prefix(1);
    }
    if (body == "inf" || body == "infinity") return negative ? -HUGE_VAL : HUGE_VAL;
    if (body == "nan") return std::numeric_limits<double>::quiet_NaN();
    // Only decimal digits, one point and an exponent are allowed (no hex floats, no "in" prefixes).
    bool digits = false;
    std::size_t i = 0;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i, digits = true;
    if (i < body.size() && body[i] == '.') {
        ++i;
        while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i, digits = true;
    }
    if (!digits) return std::nullopt;
    if (i < body.size() && body[i] == 'e') {
        ++i;
        if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
        bool exponent_digits = false;
        while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i, exponent_digits = true;
        if (!exponent_digits) return std::nullopt;
    }
    if (i != body.size()) return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
    if (ec == std::errc::result_out_of_range) {
        // Python rounds overflowing literals to inf and tiny ones to 0.
        bool tiny = body.find("e-") != std::string_view::npos;
        value = tiny ? 0.0 : HUGE_VAL;
    } else if (ec != std::errc() || end != body.data() + body.size()) {
        return std::nullopt;
    }
    return negative ? -value : value;
}

}  // namespace mayaflow::tmpl::py
