#include "engine/dagfile/load_error.h"

#include <fmt/format.h>

namespace mayaflow {

std::string LoadError::to_string() const {
    std::string text = where.file;
    if (where.line > 0) text += fmt::format(":{}:{}", where.line, where.column > 0 ? where.column : 1);
    text += ": ";
    if (!field.empty()) text += field + ": ";
    text += message;
    return text;
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
