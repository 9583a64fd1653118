#pragma once
// FileLock is an exclusive advisory lock on a file (flock): the scheduler holds one on its database
// file itself, so that two schedulers never write the same runs, and the CLI can tell whether one
// runs. (flock and SQLite's POSIX record locks do not interact on Linux.)

#include <filesystem>
#include <optional>

#include "engine/util/result.h"

namespace mayaflow {

class FileLock {
  public:
    // Takes the lock without waiting (the file is made if missing); nullopt when another process holds
    // it, an error when the file cannot be opened (a folder of that name, no permission, a read-only
    // file system), which names the file and the reason.
    static Result<std::optional<FileLock>> try_acquire(const std::filesystem::path& path);
    // Whether some process holds the lock on `path` now. Opens and closes the file: call it before
    // this process opens the file with SQLite (closing a descriptor drops the process's POSIX locks).
    static bool is_held(const std::filesystem::path& path);

    FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    FileLock& operator=(FileLock&&) = delete;
    FileLock(const FileLock&) = delete;
    ~FileLock();

    // The descriptor the lock is held on, open on the locked file.
    int fd() const { return fd_; }

  private:
    explicit FileLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace mayaflow
