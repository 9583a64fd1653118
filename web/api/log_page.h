#pragma once
// Reading a task's log a page at a time, for the API's continuation tokens: a page ends at a line's
// end where it can, and never inside a UTF-8 character, so pages joined give the log's bytes again.

#include <cstdint>
#include <string>

#include "engine/util/result.h"
#include "web/api/task_files.h"

namespace mayaflow {

// How much of a log one answer holds without full_content.
inline constexpr std::uint64_t kLogPageBytes = 256 * 1024;
// How much full_content=true answers at most: the answer is built in memory (about three times the
// text, escaped as JSON), so a log of gigabytes, asked for by a few clients at once, must not take
// the daemon's memory. A longer log goes on with the answer's token.
inline constexpr std::uint64_t kFullContentBytes = 8 * 1024 * 1024;

struct LogPage {
    std::string content;    // the bytes as written (a JSON answer shows invalid UTF-8 as U+FFFD)
    std::uint64_t end = 0;  // the offset after them: where the next page starts
};

// At most `max_bytes` from `offset`: when more follows, cut after the page's last newline (or, in a
// line longer than a page, at a character's start). When `growing` (the task still writes), a
// character whose last bytes are not written yet is left for the next page. An offset past the end
// (the log was truncated) answers nothing, from the end.
Result<LogPage> read_log_page(const OpenedFile& file, std::uint64_t offset, std::uint64_t max_bytes, bool growing);

}  // namespace mayaflow
