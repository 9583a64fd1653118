#pragma once
// Appending a line of its own to a try's log, as the daemon and the task supervisor both do.

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow {

// Appends `line` and a newline to the log (after a newline of its own if the log does not end with
// one), creating the file and its folders when missing. Returns the log's size after it. The look at
// the last byte and the write hold the log's lock (flock), which the task supervisor's output pumps
// take for each write too: a task's output cannot slip in between.
Result<std::uint64_t> append_line_to_log(const std::filesystem::path& log_file, std::string_view line);

// As append_line_to_log, to a log already open (for reading and appending) as `fd`; `log_file` names it
// in an error.
Result<std::uint64_t> append_line_to_open_log(int fd, const std::filesystem::path& log_file, std::string_view line);

// As append_line_to_log, but only when the log is empty or ends at a line's end: false, and nothing
// written, while the output in it stops mid-line (a note then waits for the task to end its line).
Result<bool> append_line_at_line_end(const std::filesystem::path& log_file, std::string_view line);

// Holds a log's lock while appending to it (what append_line_to_log takes).
class LogLock {
  public:
    explicit LogLock(int fd);
    ~LogLock();
    LogLock(const LogLock&) = delete;
    LogLock& operator=(const LogLock&) = delete;

  private:
    int fd_;
};

}  // namespace mayaflow
