#include "engine/dagfile/load_error.h"

#include <fmt/format.h>

#include "engine/util/utf8.h"

namespace mayaflow {

std::string LoadError::to_string() const {
    std::string text = where.file;
    if (where.line > 0) text += fmt::format(":{}:{}", where.line, where.column > 0 ? where.column : 1);
    text += ": ";
    if (!field.empty()) text += field + ": ";
    text += message;
    // Messages end up in JSON answers and the database: whatever bytes a file name or value held,
    // the text is UTF-8.
    return escape_invalid_utf8(text);
}

std::string format_errors(const std::vector<LoadError>& errors) {
    std::string text;
    for (const auto& error : errors) {
        if (!text.empty()) text += '\n';
        text += error.to_string();
    }
    return text;
}

}  // namespace mayaflow
