#pragma once
// Pidfd is a file descriptor that names one process, not a pid number: the kernel may give a number to a new
// process once the old one is reaped, but a pidfd keeps meaning the process it was opened for. It becomes
// readable when that process ends, so waiting on it needs no busy loop and no SIGCHLD handler, and it works
// for processes that are not our children (a task adopted after a restart belongs to init). Linux >= 5.3.

#include <sys/types.h>

#include <optional>

#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

class Pidfd {
  public:
    // Opens a pidfd for `pid`. nullopt when no process has that pid; a zombie still has one.
    static Result<std::optional<Pidfd>> open(pid_t pid);

    Pidfd(Pidfd&& other) noexcept;
    Pidfd& operator=(Pidfd&& other) noexcept;
    Pidfd(const Pidfd&) = delete;
    Pidfd& operator=(const Pidfd&) = delete;
    ~Pidfd();

    // Readable once the process has ended; for callers that wait on many processes with epoll.
    int fd() const { return fd_; }

    // Waits until the process has ended (a zombie has ended) or `timeout` has passed; nullopt waits without
    // a limit. Returns whether the process has ended. Never reaps: reaping is the parent's business.
    Result<bool> wait_for_exit(std::optional<Duration> timeout) const;

  private:
    explicit Pidfd(int fd) : fd_(fd) {}

    int fd_ = -1;
};

}  // namespace mayaflow
