#include "engine/util/utf8.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace mayaflow {

std::size_t utf8_sequence_length(std::string_view text, std::size_t pos) {
    if (pos >= text.size()) return 0;
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char lead = byte(pos);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;   // overlong
        if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;   // overlong
        if (lead == 0xF4) high = 0x8F;  // past U+10FFFF
    } else {
        return 0;
    }
    if (pos + length > text.size()) return 0;
    if (byte(pos + 1) < low || byte(pos + 1) > high) return 0;
    for (std::size_t i = 2; i < length; ++i) {
        if (byte(pos + i) < 0x80 || byte(pos + i) > 0xBF) return 0;
    }
    return length;
}

std::string_view invalid_utf8_reason(std::string_view text, std::size_t at) {
    if (at >= text.size()) return "the end of the text";
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(at);
    if (lead >= 0x80 && lead <= 0xBF) return "a continuation byte with no lead byte before it";
    if (lead == 0xC0 || lead == 0xC1) return "an overlong form";
    if (lead >= 0xF5) return "a byte that never occurs in UTF-8";
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    std::size_t present = 1;
    while (present < length && at + present < text.size() && (byte(at + present) & 0xC0) == 0x80) ++present;
    if (present < length) return "a sequence cut short";
    const unsigned char second = byte(at + 1);
    if ((lead == 0xE0 && second < 0xA0) || (lead == 0xF0 && second < 0x90)) return "an overlong form";
    if (lead == 0xED && second >= 0xA0) return "a surrogate (U+D800 to U+DFFF)";
    if (lead == 0xF4 && second >= 0x90) return "a code point past U+10FFFF";
    return "not UTF-8";
}

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t length = utf8_sequence_length(text, pos);
        if (length == 0) return pos;
        pos += length;
    }
    return std::nullopt;
}

std::string to_valid_utf8(std::string_view text) {
    if (is_valid_utf8(text)) return std::string(text);
    std::string out;
    out.reserve(text.size() + 8);
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t length = utf8_sequence_length(text, pos);
        if (length == 0) {
            out += "\xEF\xBF\xBD";
            ++pos;
        } else {
            out.append(text, pos, length);
            pos += length;
        }
    }
    return out;
}

std::string escape_invalid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t length = utf8_sequence_length(text, pos);
        if (length == 0) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[pos]));
            ++pos;
        } else {
            out.append(text, pos, length);
            pos += length;
        }
    }
    return out;
}

std::string dump_json(const nlohmann::json& value, int indent) {
    return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mayaflow
