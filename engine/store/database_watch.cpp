#include "engine/store/database_watch.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mayaflow {

Result<DatabaseWatch> DatabaseWatch::watch(const std::filesystem::path& path, int open_fd) {
    struct stat info {};
    if (::fstat(open_fd, &info) != 0) {
        return make_error("cannot look at the database file {}: {}", path.string(), std::strerror(errno));
    }
    return DatabaseWatch(path, info.st_dev, info.st_ino);
}

DatabaseWatch::Finding DatabaseWatch::check() const {
    using Kind = Finding::Kind;
    struct stat info {};
    if (::stat(path_.c_str(), &info) != 0) {
        if (errno == ENOENT) {
            return {Kind::lost, fmt::format("the database file {} was deleted or moved away while the daemon ran; put it back "
                              "(or restore it from a backup) and start the daemon again",
                              path_.string())};
        }
        return {Kind::not_writable,
                fmt::format("cannot look at the database file {}: {}", path_.string(), std::strerror(errno))};
    }
    if (info.st_dev != device_ || info.st_ino != inode_) {
        return {Kind::lost, fmt::format("the database file {} was replaced by another file while the daemon ran; the daemon "
                          "stops rather than write into the old one: start it again to use the file now there",
                          path_.string())};
    }
    struct statvfs file_system {};
    if (::statvfs(path_.c_str(), &file_system) == 0 && (file_system.f_flag & ST_RDONLY) != 0) {
        return {Kind::not_writable, fmt::format("the database file {} is on a file system that is now read-only; no state can be saved "
                          "until it is writable again",
                          path_.string())};
    }
    if (::geteuid() != 0 && ::access(path_.c_str(), W_OK) != 0) {
        return {Kind::not_writable, fmt::format("the database file {} can no longer be written ({}); give the daemon's user write "
                          "permission again",
                          path_.string(), std::strerror(errno))};
    }
    return {};
}

}  // namespace mayaflow
