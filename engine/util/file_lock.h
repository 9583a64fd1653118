#pragma once
// FileLock is an exclusive advisory lock on a file (flock): the scheduler holds one beside its
// database so that two schedulers never write the same runs, and the CLI can tell whether one runs.

#include <filesystem>
#include <optional>

namespace mayaflow {

class FileLock {
  public:
    // Takes the lock without waiting; nullopt when another process holds it.
    static std::optional<FileLock> try_acquire(const std::filesystem::path& path);
    // Whether some process holds the lock on `path` now.
    static bool is_held(const std::filesystem::path& path);

    FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    FileLock& operator=(FileLock&&) = delete;
    FileLock(const FileLock&) = delete;
    ~FileLock();

  private:
    explicit FileLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace mayaflow
