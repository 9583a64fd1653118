#include "engine/store/database_watch.h"

#include <fcntl.h>
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
    DatabaseWatch watch(path, open_fd, Identity{info.st_dev, info.st_ino});
    (void)watch.check_companion(watch.wal_);  // remembers them when they are there already
    (void)watch.check_companion(watch.shm_);
    return watch;
}

std::optional<DatabaseWatch::Finding> DatabaseWatch::check_companion(Companion& companion) const {
    const std::string file = path_.string() + companion.suffix;
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) {
        if (errno != ENOENT || !companion.seen) return std::nullopt;
        return Finding{Finding::Kind::lost,
                       fmt::format("the database's {} file {} was deleted while the daemon ran: other programs "
                                   "(the CLI) would read the database without the daemon's latest changes or "
                                   "locks; the daemon stops and writes its changes into {} — start it again",
                                   companion.suffix, file, path_.string())};
    }
    const Identity now{info.st_dev, info.st_ino};
    if (!companion.seen) {
        companion.seen = now;
        return std::nullopt;
    }
    if (*companion.seen == now) return std::nullopt;
    return Finding{Finding::Kind::lost,
                   fmt::format("the database's {} file {} was replaced by another file while the daemon ran; the "
                               "daemon stops and writes its changes into {} — start it again",
                               companion.suffix, file, path_.string())};
}

// Every SQLite database starts with these 16 bytes; a file cut short or written over does not.
std::optional<DatabaseWatch::Finding> DatabaseWatch::check_header() const {
    static constexpr char kMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
    // Read through the descriptor the daemon holds open (check() has made sure the path still
    // names that file): opening and closing another one would drop every POSIX lock SQLite holds
    // on the file in this process.
    char header[sizeof kMagic] = {};
    const ssize_t got = ::pread(open_fd_, header, sizeof header, 0);
    if (got == static_cast<ssize_t>(sizeof header) && std::memcmp(header, kMagic, sizeof kMagic) == 0) {
        return std::nullopt;
    }
    return Finding{Finding::Kind::lost,
                   fmt::format("the database file {} was truncated or written over while the daemon ran (it no "
                               "longer starts as an SQLite database); the daemon stops — restore the file from a "
                               "backup, then start it again",
                               path_.string())};
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
    if (Identity{info.st_dev, info.st_ino} != identity_) {
        return {Kind::lost, fmt::format("the database file {} was replaced by another file while the daemon ran; the daemon "
                          "stops rather than write into the old one: start it again to use the file now there",
                          path_.string())};
    }
    if (auto header = check_header()) return *header;
    if (auto wal = check_companion(wal_)) return *wal;
    if (auto shm = check_companion(shm_)) return *shm;
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
