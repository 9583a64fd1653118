#include "engine/exec/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <utility>

#include "engine/exec/process_group.h"
#include "engine/exec/process_probe.h"

namespace mayaflow {

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

// Used when the task's environment has no PATH, as execvp does.
constexpr const char* kDefaultPath = "/usr/bin:/bin";

class UniqueFd {
  public:
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&&) = delete;
    ~UniqueFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

// posix_spawn's attribute and file-action objects, destroyed on every path out of spawn().
struct SpawnSetup {
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_t actions;
    SpawnSetup() {
        posix_spawnattr_init(&attributes);
        posix_spawn_file_actions_init(&actions);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

bool has_nul(const std::string& text) {
    return text.find('\0') != std::string::npos;
}

Status check_spec(const ProcessSpec& spec) {
    if (spec.argv.empty()) return make_error("cannot start a task process: ProcessSpec.argv is empty");
    if (spec.argv[0].empty()) {
        return make_error("cannot start a task process: its program name (argv[0]) is empty");
    }
    for (std::size_t i = 0; i < spec.argv.size(); ++i) {
        if (has_nul(spec.argv[i])) {
            return make_error(
                "cannot start \"{}\": argument {} contains a NUL byte, which a process cannot receive",
                spec.argv[0].c_str(), i);
        }
    }
    for (const auto& [name, value] : spec.env) {
        if (name.empty() || name.find('=') != std::string::npos || has_nul(name)) {
            return make_error(
                "cannot start \"{}\": \"{}\" is not a valid environment variable name (it must be "
                "non-empty, without '=' or NUL)",
                spec.argv[0], name.c_str());
        }
        if (has_nul(value)) {
            return make_error(
                "cannot start \"{}\": environment variable {} contains a NUL byte, which a process "
                "cannot receive",
                spec.argv[0], name);
        }
    }
    if (spec.log_file.empty()) {
        return make_error(
            "cannot start \"{}\": ProcessSpec.log_file is empty; every task process needs a log file",
            spec.argv[0]);
    }
    return Status::success();
}

// What is wrong with `path` as a program to run, or nothing.
std::optional<std::string> unusable_executable(const fs::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return std::string(std::strerror(errno));
    if (S_ISDIR(info.st_mode)) return std::string("it is a directory");
    if (!S_ISREG(info.st_mode)) return std::string("it is not a regular file");
    if (::access(path.c_str(), X_OK) != 0) return std::string("it is not executable (chmod +x?)");
    return std::nullopt;
}

// Finds the file to execute, the way the child will see it: after changing to `cwd`.
Result<fs::path> resolve_executable(const ProcessSpec& spec, const fs::path& cwd) {
    const std::string& program = spec.argv[0];
    auto in_cwd = [&](const fs::path& path) { return path.is_absolute() || cwd.empty() ? path : cwd / path; };
    if (program.find('/') != std::string::npos) {
        const fs::path path = in_cwd(program);
        if (std::optional<std::string> problem = unusable_executable(path)) {
            return make_error("cannot start \"{}\": {} ({}); check the command's path", program, *problem,
                              path.string());
        }
        return path;
    }
    const auto path_variable = spec.env.find("PATH");
    const std::string search = path_variable == spec.env.end() ? kDefaultPath : path_variable->second;
    std::size_t begin = 0;
    for (;;) {
        const std::size_t end = search.find(':', begin);
        const std::string folder = search.substr(begin, end == std::string::npos ? end : end - begin);
        const fs::path candidate = in_cwd(fs::path(folder.empty() ? "." : folder) / program);
        if (!unusable_executable(candidate)) return candidate;
        if (end == std::string::npos) break;
        begin = end + 1;
    }
    return make_error(
        "cannot start \"{}\": no executable of that name in the task's PATH \"{}\"; install it, "
        "give its full path, or set PATH in the task's environment",
        program, search);
}

Result<UniqueFd> open_log(const fs::path& log_file) {
    std::error_code error;
    if (log_file.has_parent_path()) fs::create_directories(log_file.parent_path(), error);
    if (error) {
        return make_error(
            "cannot create the folder of log file \"{}\": {}; check the logs folder's permissions",
            log_file.string(), error.message());
    }
    const int fd = ::open(log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        return make_error(
            "cannot open log file \"{}\": {}; check the logs folder's permissions and free space",
            log_file.string(), std::strerror(errno));
    }
    // A daemon started with 0, 1 or 2 closed gets those numbers back from open(); the child's own 0, 1 and 2
    // are set up from this descriptor, so keep it out of their way.
    if (fd > 2) return UniqueFd(fd);
    UniqueFd low(fd);
    const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (moved < 0) {
        return make_error("cannot open log file \"{}\": {}", log_file.string(), std::strerror(errno));
    }
    return UniqueFd(moved);
}

// A copy of a given output descriptor, numbered above 2 (see open_log).
Result<UniqueFd> duplicate_output(int fd) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) return make_error("cannot pass the task's output descriptor on: {}", std::strerror(errno));
    return UniqueFd(copy);
}

// Sets up what the child does between its creation and exec. Returns 0, or the error of the step that failed.
int configure(SpawnSetup& setup, const fs::path& cwd, int log_fd) {
    sigset_t none;
    sigemptyset(&none);
    // Not sigfillset: it leaves out the two signals glibc keeps for itself (32 and 33), and posix_spawn then
    // leaves those ignored in the child, where a program built on another runtime may need them.
    sigset_t all;
    std::memset(&all, 0xff, sizeof all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    const short flags = POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (const int error = posix_spawnattr_setflags(&setup.attributes, flags)) return error;
    if (const int error = posix_spawnattr_setsigmask(&setup.attributes, &none)) return error;
    if (const int error = posix_spawnattr_setsigdefault(&setup.attributes, &all)) return error;

    posix_spawn_file_actions_t* actions = &setup.actions;
    if (!cwd.empty()) {
        if (const int error = posix_spawn_file_actions_addchdir_np(actions, cwd.c_str())) return error;
    }
    if (const int error = posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0))
        return error;
    if (const int error = posix_spawn_file_actions_adddup2(actions, log_fd, 1)) return error;
    if (const int error = posix_spawn_file_actions_adddup2(actions, log_fd, 2)) return error;
    // The daemon's sockets and database files must not live on in a task that outlives it.
    return posix_spawn_file_actions_addclosefrom_np(actions, 3);
}

std::string spawn_failure_hint(int error) {
    switch (error) {
        case ENOENT:
            return "; if it is a script, check the interpreter on its #! line";
        case ENOEXEC:
            return "; it is neither a program nor a script that starts with #!";
        case E2BIG:
            return "; the command line and environment together exceed the kernel's limit (each single "
                   "argument or variable at most 128 KiB)";
        case EAGAIN:
            return "; the system or this user has reached its process limit (ulimit -u)";
        default:
            return "";
    }
}

ExitStatus status_from(const siginfo_t& info) {
    ExitStatus status;
    if (info.si_code == CLD_EXITED) {
        status.exited = true;
        status.exit_code = info.si_status;
    } else {
        status.signal = info.si_status;
    }
    return status;
}

// Ends and reaps a child that spawn() cannot hand over.
void discard_child(pid_t pid) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

// A failed wait counts as "not ended", which leads to SIGKILL: the safe side.
bool ended_within(const Pidfd& pidfd, Duration timeout) {
    const Result<bool> ended = pidfd.wait_for_exit(timeout);
    return ended.ok() && *ended;
}

Duration left_until(SteadyClock::time_point deadline) {
    const auto left = deadline - SteadyClock::now();
    return left > SteadyClock::duration::zero() ? std::chrono::duration_cast<Duration>(left)
                                                : Duration::zero();
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(const ProcessSpec& spec) {
    if (Status valid = check_spec(spec); !valid) return valid.error();

    fs::path cwd;
    if (!spec.cwd.empty()) {
        std::error_code error;
        cwd = fs::absolute(spec.cwd, error);
        if (error || !fs::is_directory(cwd, error)) {
            return make_error(
                "cannot start \"{}\": working directory \"{}\" does not exist or is not a folder; "
                "create it or fix the task's cwd",
                spec.argv[0], spec.cwd.string());
        }
    }
    Result<fs::path> executable = resolve_executable(spec, cwd);
    if (!executable) return std::move(executable).error();
    Result<UniqueFd> log = spec.output_fd >= 0 ? duplicate_output(spec.output_fd) : open_log(spec.log_file);
    if (!log) return std::move(log).error();

    std::vector<char*> argv;
    for (const std::string& argument : spec.argv) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> variables;
    for (const auto& [name, value] : spec.env) variables.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (const std::string& variable : variables) envp.push_back(const_cast<char*>(variable.c_str()));
    envp.push_back(nullptr);

    SpawnSetup setup;
    if (const int failed = configure(setup, cwd, log->get())) {
        return make_error("cannot prepare to start \"{}\": {}", spec.argv[0], std::strerror(failed));
    }

    pid_t pid = -1;
    const int failed =
        ::posix_spawn(&pid, executable->c_str(), &setup.actions, &setup.attributes, argv.data(), envp.data());
    if (failed) {
        std::error_code ignored;
        return make_error("cannot start \"{}\" ({}) in \"{}\": {}{}", spec.argv[0], executable->string(),
                          cwd.empty() ? fs::current_path(ignored).string() : cwd.string(),
                          std::strerror(failed), spawn_failure_hint(failed));
    }
    const Instant started_at = now_instant();

    // The child is not reaped yet, so its /proc entry and pid are certainly still its own.
    const std::optional<std::uint64_t> start_ticks = process_start_ticks(pid);
    if (!start_ticks) {
        discard_child(pid);
        return make_error(
            "started \"{}\" as process {} but cannot read /proc/{}/stat; mayaflow needs /proc "
            "mounted to recognise its tasks after a restart",
            spec.argv[0], pid, pid);
    }
    Result<std::optional<Pidfd>> pidfd = Pidfd::open(pid);
    if (!pidfd || !pidfd->has_value()) {
        discard_child(pid);
        return make_error("started \"{}\" as process {} but cannot watch it: {}", spec.argv[0], pid,
                          pidfd ? "it vanished" : pidfd.error().message);
    }
    return ChildProcess(pid, std::move(**pidfd), started_at, *start_ticks);
}

ChildProcess::ChildProcess(pid_t pid, Pidfd pidfd, Instant started_at, std::uint64_t start_ticks)
    : pid_(pid), pidfd_(std::move(pidfd)), started_at_(started_at), start_ticks_(start_ticks) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, std::nullopt)),
      started_at_(other.started_at_),
      start_ticks_(other.start_ticks_),
      status_(std::exchange(other.status_, std::nullopt)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        if (pidfd_) terminate(kDestructorGrace);
        pid_ = std::exchange(other.pid_, -1);
        pidfd_ = std::exchange(other.pidfd_, std::nullopt);
        started_at_ = other.started_at_;
        start_ticks_ = other.start_ticks_;
        status_ = std::exchange(other.status_, std::nullopt);
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    if (pidfd_) terminate(kDestructorGrace);
}

Result<ExitStatus> ChildProcess::wait(std::optional<Duration> timeout) {
    if (status_) return *status_;
    if (!pidfd_) return make_error("cannot wait for process {}: it was detached or moved from", pid_);
    Result<bool> ended = pidfd_->wait_for_exit(timeout);
    if (!ended) return make_error("cannot wait for process {}: {}", pid_, ended.error().message);
    if (!*ended) return ExitStatus{.timed_out = true};
    siginfo_t info{};
    // WNOWAIT reads the status and leaves the zombie, which keeps the group's id reserved (see header).
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0) {
        if (errno == EINTR) continue;
        return make_error(
            "process {} ended but its exit status cannot be read: {}; the daemon must not set "
            "SIGCHLD to SIG_IGN or reap children it did not start",
            pid_, std::strerror(errno));
    }
    status_ = status_from(info);
    return *status_;
}

void ChildProcess::reap() {
    siginfo_t info{};
    int result;
    do {
        result = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED);
    } while (result != 0 && errno == EINTR);
    if (result == 0 && !status_) status_ = status_from(info);
    pidfd_.reset();
}

void ChildProcess::terminate(Duration grace) {
    if (!pidfd_) return;
    const SteadyClock::time_point deadline = SteadyClock::now() + grace;
    bool asked_to_end = false;
    bool leader_ended = status_.has_value() || ended_within(*pidfd_, Duration::zero());
    if (!leader_ended) {
        (void)signal_group(SIGTERM);
        (void)signal_group(SIGCONT);
        asked_to_end = true;
        leader_ended = ended_within(*pidfd_, left_until(deadline));
        // While the leader is unreaped its pid cannot name another group, so this reaches only the task.
        if (!leader_ended) (void)signal_group(SIGKILL);
    }
    reap();
    // What is left now are processes the task started that outlived its leader (background jobs, or a
    // grandchild that ignores SIGTERM). As long as any of them lives, the group id stays theirs.
    if (!process_group_has_live_members(pid_)) return;
    if (!asked_to_end) {
        (void)signal_process_group(pid_, SIGTERM);
        (void)signal_process_group(pid_, SIGCONT);
    }
    if (wait_for_group_to_end(pid_, left_until(deadline))) return;
    (void)signal_process_group(pid_, SIGKILL);
    wait_for_group_to_end(pid_, kKillSettleTime);
}

Status ChildProcess::signal_group(int signal) const {
    if (!pidfd_) {
        return make_error("cannot signal process group {}: the process was reaped or detached", pid_);
    }
    return signal_process_group(pid_, signal);
}

void ChildProcess::detach() {
    pidfd_.reset();
}

}  // namespace mayaflow
