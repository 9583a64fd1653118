#pragma once
// ChildProcess runs one task's process: started with posix_spawn in its own session and process group,
// stdin from /dev/null, stdout and stderr appended to the task's log file, waited for through a pidfd,
// and ended as a whole group (SIGTERM, a grace period, SIGKILL). It never leaves a zombie behind.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/exec/exit_status.h"
#include "engine/exec/pidfd.h"
#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

// What to run and where.
struct ProcessSpec {
    // argv[0] is a path, or a name looked up in env's PATH (in "/usr/bin:/bin" when env has no PATH).
    // A relative path is relative to cwd.
    std::vector<std::string> argv;
    // The complete environment: the process gets these variables and no others.
    std::map<std::string, std::string> env;
    // The working directory; empty keeps the daemon's.
    std::filesystem::path cwd;
    // stdout and stderr are appended here (O_APPEND, so two runs and two streams never overwrite each
    // other); the file and its parent folders are created when missing.
    std::filesystem::path log_file;
    // When set (≥ 0), stdout and stderr go to this descriptor instead (the write end of a pipe whose
    // reader masks secrets on their way to log_file, as the task supervisor does); log_file is then
    // not opened. The descriptor stays the caller's to close.
    int output_fd = -1;
};

class ChildProcess {
  public:
    // Starts the process. posix_spawn uses vfork-style cloning, so a large daemon is not copied. The child
    // leads a new session (so it has no controlling terminal and cannot be stopped by one, and its process
    // group id is its pid), starts with no signal blocked and every signal at its default action whatever
    // the daemon does with them, and inherits no file descriptor but 0, 1 and 2. A missing executable or
    // working folder, or a log file that cannot be opened, is an error that says which.
    static Result<ChildProcess> spawn(const ProcessSpec& spec);

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    // Ends whatever is left of the process group (terminate(kDestructorGrace)) and reaps the child.
    ~ChildProcess();

    pid_t pid() const { return pid_; }
    pid_t process_group() const { return pid_; }  // the child leads its own session and group
    Instant started_at() const { return started_at_; }
    // /proc/<pid>/stat field 22; with pid() it tells this process from a later one given the same pid.
    std::uint64_t start_ticks() const { return start_ticks_; }
    // Readable once the child has ended; -1 after terminate() or detach(). For runners that use epoll.
    int pidfd() const { return pidfd_ ? pidfd_->fd() : -1; }

    // Waits until the child ends or `timeout` passes (nullopt: no limit); timed_out means it still runs.
    // The ended child is left a zombie until terminate() or the destructor, so that its pid, which is also
    // its process group's id, cannot be given to another process while we may still signal the group.
    Result<ExitStatus> wait(std::optional<Duration> timeout);

    // Ends the child's whole process group and reaps the child: SIGTERM (and SIGCONT) to the group, up to
    // `grace` for the leader and then the rest of the group to end, then SIGKILL to what is left. Also
    // right after a normal exit, to end background processes the task left behind. Safe to call again.
    void terminate(Duration grace);

    // Sends `signal` to the child's process group. The one member that may be called from another thread
    // while the owner is inside wait() (to cancel a task); not while terminate(), detach() or the
    // destructor runs.
    Status signal_group(int signal) const;

    // Lets the child go: it keeps running and this object no longer waits for, ends or reaps it. For a
    // daemon about to exit that leaves the task to be adopted by its next start (see docs/exec.md). In a
    // process that lives on, the child becomes a zombie when it ends unless something reaps it.
    void detach();

    static constexpr Duration kDestructorGrace = std::chrono::seconds(1);

  private:
    ChildProcess(pid_t pid, Pidfd pidfd, Instant started_at, std::uint64_t start_ticks);

    void reap();

    pid_t pid_ = -1;
    std::optional<Pidfd> pidfd_;  // set while the child is ours to wait for, end and reap
    Instant started_at_{};
    std::uint64_t start_ticks_ = 0;
    std::optional<ExitStatus> status_;  // once the child has ended
};

}  // namespace mayaflow
