#include "operators/firebase/firebase_keys.h"

#include <fmt/format.h>

#include <vector>

#include "engine/util/hash.h"
#include "engine/util/utf8.h"

namespace mayaflow::firebase {
namespace {

bool refused_character(unsigned char c) {
    return c < 32 || c == 127 || c == '.' || c == '$' || c == '#' || c == '[' || c == ']' || c == '/';
}

// The length of the valid UTF-8 sequence at text[i], or 0 when the byte there does not start one.
std::size_t utf8_sequence_at(std::string_view text, std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return 0;
    return is_valid_utf8(text.substr(i, length)) ? length : 0;
}

}  // namespace

std::optional<InvalidKeys> invalid_keys_from(std::string_view text) {
    if (text == "fail") return InvalidKeys::fail;
    if (text == "sanitize") return InvalidKeys::sanitize;
    if (text == "skip") return InvalidKeys::skip;
    return std::nullopt;
}

std::optional<std::string> key_problem(std::string_view key) {
    if (key.empty()) return "is empty";
    if (auto bad = first_invalid_utf8(key)) return fmt::format("is not valid UTF-8 (byte {})", *bad + 1);
    for (unsigned char c : key) {
        if (c < 32 || c == 127) return fmt::format("contains the control character U+{:04X}", c);
        if (refused_character(c)) return fmt::format("contains '{}'", static_cast<char>(c));
    }
    if (key.size() > kMaxKeyBytes) return fmt::format("is {} bytes of UTF-8, more than {}", key.size(), kMaxKeyBytes);
    return std::nullopt;
}

std::optional<std::string> sanitize_key(std::string_view key) {
    if (key.empty()) return std::nullopt;
    if (!key_problem(key)) return std::string(key);
    std::string sanitized;
    // Where each whole character ends in `sanitized`, so a cut never splits one.
    std::vector<std::size_t> boundaries;
    for (std::size_t i = 0; i < key.size();) {
        const std::size_t length = utf8_sequence_at(key, i);
        const auto c = static_cast<unsigned char>(key[i]);
        if (length == 0 || (length == 1 && (refused_character(c) || c == '%'))) {
            sanitized += fmt::format("%{:02X}", c);
            i += 1;
        } else {
            sanitized.append(key.substr(i, length));
            i += length;
        }
        boundaries.push_back(sanitized.size());
    }
    if (sanitized.size() <= kMaxKeyBytes) return sanitized;
    ContentHash hash;
    hash.add(key);
    const std::string tail = "~" + hash.hex();
    std::size_t keep = 0;
    for (std::size_t boundary : boundaries) {
        if (boundary + tail.size() > kMaxKeyBytes) break;
        keep = boundary;
    }
    return sanitized.substr(0, keep) + tail;
}

}  // namespace mayaflow::firebase
