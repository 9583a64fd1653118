#pragma once
// DatabaseWatch notices when the database file a daemon opened is no longer the file at its path
// (deleted, moved away, or replaced by another file) or can no longer be written (its file system
// turned read-only, or the file lost its write permission). A daemon that went on would write into
// a file nobody reads, so it reports the problem and stops.

#include <sys/types.h>

#include <filesystem>

#include "engine/util/result.h"

namespace mayaflow {

class DatabaseWatch {
  public:
    // Remembers which file `open_fd` (a descriptor open on `path`) is.
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
    DatabaseWatch(std::filesystem::path path, dev_t device, ino_t inode)
        : path_(std::move(path)), device_(device), inode_(inode) {}

    std::filesystem::path path_;
    dev_t device_;
    ino_t inode_;
};

}  // namespace mayaflow
