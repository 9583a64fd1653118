#pragma once
// Appending a line of its own to a try's log, as the daemon and the task supervisor both do.

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow {

// Appends `line` and a newline to the log (after a newline of its own if the log does not end with
// one), creating the file and its folders when missing. Returns the log's size after it.
Result<std::uint64_t> append_line_to_log(const std::filesystem::path& log_file, std::string_view line);

}  // namespace mayaflow
