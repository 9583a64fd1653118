#include "engine/exec/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mayaflow {

Result<std::uint64_t> append_line_to_log(const std::filesystem::path& log_file, std::string_view line) {
    std::error_code error;
    if (log_file.has_parent_path()) std::filesystem::create_directories(log_file.parent_path(), error);
    const int fd = ::open(log_file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        return make_error("cannot write to log file \"{}\": {}; check the logs folder's permissions and free space",
                          log_file.string(), std::strerror(errno));
    }
    std::string text;
    struct stat info {};
    char last = '\n';
    if (::fstat(fd, &info) == 0 && info.st_size > 0 && ::pread(fd, &last, 1, info.st_size - 1) == 1 &&
        last != '\n') {
        text += '\n';
    }
    text.append(line).append("\n");
    std::string_view rest = text;
    while (!rest.empty()) {
        const ssize_t written = ::write(fd, rest.data(), rest.size());
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) {
            auto failure = make_error("cannot write to log file \"{}\": {}", log_file.string(), std::strerror(errno));
            ::close(fd);
            return failure;
        }
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
    const std::uint64_t size = ::fstat(fd, &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
    ::close(fd);
    return size;
}

}  // namespace mayaflow
