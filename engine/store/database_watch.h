#pragma once
// DatabaseWatch notices when the database file a daemon opened is no longer the file at its path
// (deleted, moved away, or replaced by another file), was truncated or overwritten, when its
// write-ahead log (-wal) or shared-memory index (-shm) was deleted or replaced under it (other
// programs would then read without the daemon's latest commits, or without its locks), or can no
// longer be written (its file system
// turned read-only, or the file lost its write permission). A daemon that went on would write into
// a file nobody reads, so it reports the problem and stops.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "engine/util/result.h"

namespace mayaflow {

class DatabaseWatch {
  public:
    // Remembers which file `open_fd` (a descriptor open on `path`, kept open while the watch is
    // used) is. The watch never opens and closes the database file itself: closing any descriptor
    // of a file drops the POSIX locks SQLite holds on it in this process.
    static Result<DatabaseWatch> watch(const std::filesystem::path& path, int open_fd);

    struct Finding {
        enum class Kind {
            fine,
            lost,          // the path no longer names the file the daemon opened: stop
            not_writable,  // the file is there but cannot be written now: report, commits will fail
        };
        Kind kind = Kind::fine;
        std::string message;  // what is wrong and what to do, in words
    };
    Finding check() const;

  private:
    struct Identity {
        dev_t device = 0;
        ino_t inode = 0;
        bool operator==(const Identity&) const = default;
    };
    // The -wal or -shm file beside the database, once seen: SQLite keeps both while it is open.
    struct Companion {
        std::string suffix;
        std::optional<Identity> seen;
    };

    DatabaseWatch(std::filesystem::path path, int open_fd, Identity identity)
        : path_(std::move(path)), open_fd_(open_fd), identity_(identity) {}
    std::optional<Finding> check_companion(Companion& companion) const;
    std::optional<Finding> check_header() const;

    std::filesystem::path path_;
    int open_fd_;  // stays open while the watch is used; never closed here
    Identity identity_;
    mutable Companion wal_{"-wal", std::nullopt};
    mutable Companion shm_{"-shm", std::nullopt};
};

}  // namespace mayaflow
