#include "engine/dagfile/text_encoding.h"

#include <fmt/format.h>

#include "engine/util/utf8.h"

namespace mayaflow {

std::optional<NotUtf8> find_non_utf8(std::string_view text) {
    auto offset = first_invalid_utf8(text);
    if (!offset) return std::nullopt;
    NotUtf8 where;
    where.offset = *offset;
    where.byte = static_cast<unsigned char>(text[*offset]);
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < *offset; ++i) {
        if (text[i] == '\n') {
            ++where.line;
            line_start = i + 1;
        }
    }
    // Everything before the offset is UTF-8: count the characters, not their continuation bytes.
    for (std::size_t i = line_start; i < *offset; ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++where.column;
    }
    return where;
}

std::string describe(const NotUtf8& where) {
    return fmt::format("byte 0x{:02x} at offset {}", where.byte, where.offset);
}

}  // namespace mayaflow
