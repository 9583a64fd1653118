#include "engine/dagfile/plain_scalar.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace mayaflow {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The length of the run of characters from `at` for which `accept` holds.
template <class Accept>
std::size_t run_length(std::string_view text, std::size_t at, Accept accept) {
    std::size_t end = at;
    while (end < text.size() && accept(text[end])) ++end;
    return end - at;
}

std::string_view without_sign(std::string_view text) {
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
    return text;
}

// [-+]?[0-9]+
bool is_decimal_integer(std::string_view text) {
    std::string_view digits = without_sign(text);
    return !digits.empty() && run_length(digits, 0, is_digit) == digits.size();
}

// 0x[0-9a-fA-F]+
bool is_hex_integer(std::string_view text) {
    return text.size() > 2 && text.starts_with("0x") && run_length(text, 2, is_hex_digit) == text.size() - 2;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_float(std::string_view text) {
    std::string_view rest = without_sign(text);
    std::size_t pos = run_length(rest, 0, is_digit);
    const bool integer_part = pos > 0;
    if (pos < rest.size() && rest[pos] == '.') {
        const std::size_t fraction = run_length(rest, pos + 1, is_digit);
        if (!integer_part && fraction == 0) return false;
        pos += 1 + fraction;
    } else if (!integer_part) {
        return false;
    }
    if (pos < rest.size() && (rest[pos] == 'e' || rest[pos] == 'E')) {
        std::size_t exponent = pos + 1;
        if (exponent < rest.size() && (rest[exponent] == '-' || rest[exponent] == '+')) ++exponent;
        const std::size_t digits = run_length(rest, exponent, is_digit);
        if (digits == 0) return false;
        pos = exponent + digits;
    }
    return pos == rest.size();
}

}  // namespace

nlohmann::json plain_scalar_to_json(std::string_view text) {
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    if (is_decimal_integer(text)) {
        std::string_view digits = text.front() == '+' ? text.substr(1) : text;
        std::int64_t value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec == std::errc() && end == digits.data() + digits.size()) return value;
        return std::string(text);  // too large for 64 bits: keep the digits
    }
    if (is_hex_integer(text)) {
        std::int64_t value = 0;
        auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), value, 16);
        if (ec == std::errc() && end == text.data() + text.size()) return value;
        return std::string(text);
    }
    if (is_float(text)) {
        std::string_view number = text.front() == '+' ? text.substr(1) : text;
        double value = 0;
        auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
        if (ec == std::errc() && end == number.data() + number.size()) return value;
        return std::string(text);  // beyond a double's range: keep the text
    }
    if (text == ".inf" || text == "+.inf" || text == ".Inf") return std::numeric_limits<double>::infinity();
    if (text == "-.inf" || text == "-.Inf") return -std::numeric_limits<double>::infinity();
    return std::string(text);
}

}  // namespace mayaflow
