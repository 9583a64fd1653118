#include "engine/exec/log_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

namespace mayaflow {

LogLock::LogLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
}

LogLock::~LogLock() {
    (void)::flock(fd_, LOCK_UN);
}

namespace {

// Appends the line to the open log under its lock; with `only_at_line_end`, not at all while the log
// stops mid-line. The size after it, or nullopt when it did not write.
Result<std::optional<std::uint64_t>> append_line_to_fd(int fd, const std::filesystem::path& log_file,
                                                       std::string_view line, bool only_at_line_end) {
    LogLock lock(fd);
    std::string text;
    struct stat info {};
    char last = '\n';
    if (::fstat(fd, &info) == 0 && info.st_size > 0 && ::pread(fd, &last, 1, info.st_size - 1) == 1 &&
        last != '\n') {
        text += '\n';
    }
    const bool mid_line = !text.empty();
    if (only_at_line_end && mid_line) return std::optional<std::uint64_t>();
    text.append(line).append("\n");
    std::string_view rest = text;
    while (!rest.empty()) {
        const ssize_t written = ::write(fd, rest.data(), rest.size());
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) {
            return make_error("cannot write to log file \"{}\": {}", log_file.string(), std::strerror(errno));
        }
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
    return std::optional<std::uint64_t>(::fstat(fd, &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0);
}

// As append_line_to_fd, opening (and if need be creating) the log and its folders first.
Result<std::optional<std::uint64_t>> append_line(const std::filesystem::path& log_file, std::string_view line,
                                                 bool only_at_line_end) {
    std::error_code error;
    if (log_file.has_parent_path()) std::filesystem::create_directories(log_file.parent_path(), error);
    const int fd = ::open(log_file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        return make_error(
            "cannot write to log file \"{}\": {}; check the logs folder's permissions and free space",
            log_file.string(), std::strerror(errno));
    }
    auto appended = append_line_to_fd(fd, log_file, line, only_at_line_end);
    ::close(fd);
    return appended;
}

}  // namespace

Result<std::uint64_t> append_line_to_log(const std::filesystem::path& log_file, std::string_view line) {
    auto appended = append_line(log_file, line, false);
    if (!appended) return appended.error();
    return **appended;
}

Result<std::uint64_t> append_line_to_open_log(int fd, const std::filesystem::path& log_file,
                                              std::string_view line) {
    auto appended = append_line_to_fd(fd, log_file, line, false);
    if (!appended) return appended.error();
    return **appended;
}

Result<bool> append_line_at_line_end(const std::filesystem::path& log_file, std::string_view line) {
    auto appended = append_line(log_file, line, true);
    if (!appended) return appended.error();
    return appended->has_value();
}

}  // namespace mayaflow
