#include "engine/exec/folder_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

namespace mayaflow {

Status probe_writable_folder(const std::filesystem::path& folder) {
    std::error_code error;
    std::filesystem::create_directories(folder, error);
    if (error) return make_error("cannot create the folder \"{}\": {}", folder.string(), error.message());
    const std::filesystem::path probe = folder / fmt::format(".mayaflow-write-check-{}", ::getpid());
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return make_error("cannot create a file in \"{}\": {}", folder.string(), std::strerror(errno));
    constexpr std::string_view kLine = "mayaflow checks that it can write here\n";
    const ssize_t written = ::write(fd, kLine.data(), kLine.size());
    const int write_error = errno;
    const bool closed = ::close(fd) == 0;
    const int close_error = errno;
    ::unlink(probe.c_str());
    if (written != static_cast<ssize_t>(kLine.size())) {
        return make_error("cannot write to a file in \"{}\": {}", folder.string(),
                          written < 0 ? std::strerror(write_error) : "the write was cut short");
    }
    if (!closed) return make_error("cannot write to a file in \"{}\": {}", folder.string(), std::strerror(close_error));
    return Status::success();
}

}  // namespace mayaflow
