#pragma once
// Where a DAG file, or a file it includes, stops being UTF-8 (the rule is in engine/util/utf8.h): the
// line, column and byte, so that the error can point at the character an editor saved as Latin-1.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mayaflow {

struct NotUtf8 {
    int line = 1;            // 1-based
    int column = 1;          // 1-based, in characters
    std::size_t offset = 0;  // of the byte, from the start of the text
    unsigned char byte = 0;  // the first byte that is not UTF-8
};

// nullopt when all of `text` is UTF-8.
std::optional<NotUtf8> find_non_utf8(std::string_view text);

// "byte 0xe9 at offset 57"
std::string describe(const NotUtf8& where);

}  // namespace mayaflow
