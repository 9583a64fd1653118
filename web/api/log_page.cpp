#include "web/api/log_page.h"

#include <algorithm>

namespace mayaflow {
namespace {

// Where `text` stops being whole characters: its size, or the start of a UTF-8 sequence at its end
// that needs more bytes than are there.
std::size_t end_of_whole_characters(const std::string& text) {
    const std::size_t size = text.size();
    for (std::size_t back = 1; back <= 3 && back <= size; ++back) {
        const auto byte = static_cast<unsigned char>(text[size - back]);
        if ((byte & 0xC0) == 0x80) continue;  // a continuation byte: look further back
        std::size_t needed = 1;
        if ((byte & 0xE0) == 0xC0) needed = 2;
        else if ((byte & 0xF0) == 0xE0) needed = 3;
        else if ((byte & 0xF8) == 0xF0) needed = 4;
        return needed > back ? size - back : size;
    }
    return size;
}

}  // namespace

Result<LogPage> read_log_page(const OpenedFile& file, std::uint64_t offset, std::uint64_t max_bytes, bool growing) {
    const std::uint64_t size = file.size();
    if (offset >= size) return LogPage{.content = {}, .end = std::min(offset, size)};
    auto read = file.read(offset, std::min(max_bytes, size - offset));
    if (!read) return read.error();
    std::string text = std::move(*read);
    const bool more_follows = offset + text.size() < size;
    if (more_follows) {
        const auto newline = text.rfind('\n');
        if (newline != std::string::npos) text.resize(newline + 1);
        else text.resize(end_of_whole_characters(text));
    } else if (growing) {
        text.resize(end_of_whole_characters(text));
    }
    const std::uint64_t end = offset + text.size();
    return LogPage{.content = std::move(text), .end = end};
}

}  // namespace mayaflow
