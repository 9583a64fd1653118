#include "operators/shell_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "engine/connections/secret_masker.h"
#include "engine/exec/child_process.h"
#include "engine/exec/direct_command.h"
#include "engine/exec/exit_file.h"
#include "engine/exec/exit_status.h"
#include "engine/exec/log_file.h"
#include "engine/exec/pidfd.h"
#include "engine/exec/process_group.h"
#include "engine/exec/process_probe.h"
#include "engine/exec/task_supervisor.h"
#include "engine/time/duration_text.h"

namespace mayaflow {

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kHeaderText = "running: ";
// Without an eventfd the cancel flag is checked this often.
constexpr auto kCancelPollInterval = std::chrono::milliseconds(50);
// The header shows at most this much of the command's first line.
constexpr std::size_t kHeaderCommandLimit = 500;

enum class Woke { ended, cancelled, timed_out };

// How long a note may wait for the task's output to reach a line's end, and how often it looks.
constexpr auto kNoteWait = std::chrono::seconds(10);
constexpr auto kNotePollInterval = std::chrono::milliseconds(100);

// A line for the log that waits until the task's output is at a line's end (at most kNoteWait): the
// note of a restarted daemon must not cut into a line the task is writing — or one the supervisor's
// masker holds back in part, because it may begin a secret.
class PendingNote {
  public:
    PendingNote(fs::path log_file, std::string line)
        : log_file_(std::move(log_file)), line_(std::move(line)), until_(SteadyClock::now() + kNoteWait) {}
    bool pending() const { return !written_; }
    void try_write() {
        if (written_) return;
        if (SteadyClock::now() >= until_) return write_now();
        auto appended = append_line_at_line_end(log_file_, line_);
        written_ = !appended || *appended;  // a log that cannot be written is not tried again
    }
    void write_now() {
        if (written_) return;
        (void)append_line_to_log(log_file_, line_);
        written_ = true;
    }

  private:
    fs::path log_file_;
    std::string line_;
    SteadyClock::time_point until_;
    bool written_ = false;
};

// Waits until `process_fd` is readable (the process ended), `cancel` is raised or `deadline` passes. An
// ended process wins over a cancel that came at the same moment: its own status is the truer answer.
Result<Woke> wait_for(int process_fd, const CancelFlag& cancel,
                      std::optional<SteadyClock::time_point> deadline, PendingNote* note = nullptr) {
    for (;;) {
        if (note) note->try_write();
        int timeout_ms = -1;
        if (deadline) {
            const auto left = *deadline - SteadyClock::now();
            const auto left_ms = std::chrono::ceil<std::chrono::milliseconds>(std::max(left, left.zero()));
            timeout_ms = static_cast<int>(std::min<std::int64_t>(left_ms.count(), 1 << 30));
        }
        if (cancel.fd() < 0) {
            const int slice = static_cast<int>(kCancelPollInterval.count());
            timeout_ms = timeout_ms < 0 ? slice : std::min(timeout_ms, slice);
        }
        if (note && note->pending()) {
            const int slice = static_cast<int>(kNotePollInterval.count());
            timeout_ms = timeout_ms < 0 ? slice : std::min(timeout_ms, slice);
        }
        pollfd fds[2] = {{process_fd, POLLIN, 0}, {cancel.fd(), POLLIN, 0}};
        const int ready = ::poll(fds, cancel.fd() < 0 ? 1 : 2, timeout_ms);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return make_error("cannot wait for the task's process: {}", std::strerror(errno));
        }
        if (fds[0].revents != 0) return Woke::ended;
        if (cancel.raised()) return Woke::cancelled;
        if (deadline && SteadyClock::now() >= *deadline) return Woke::timed_out;
    }
}

// When the try must end, as a steady-clock time: the timeout counted from `started_at` (a try resumed after
// a restart has only what is left of it). An unknown start counts from now.
std::optional<SteadyClock::time_point> deadline_for(const TaskRun& run, Instant started_at) {
    if (!run.execution_timeout) return std::nullopt;
    Duration left = *run.execution_timeout;
    if (started_at != Instant{}) left -= std::max(Duration::zero(), now_instant() - started_at);
    // The steady clock counts nanoseconds, so it cannot reach as far as a Duration can.
    const Duration kFarEnough = std::chrono::duration_cast<Duration>(std::chrono::days(365 * 100));
    return SteadyClock::now() + std::clamp(left, Duration::zero(), kFarEnough);
}

std::string header_for(std::string_view command) {
    const std::size_t start = command.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return std::string(kHeaderText) + "(an empty command)";
    command.remove_prefix(start);
    const std::size_t end = command.find('\n');
    std::string_view first = command.substr(0, end);
    while (!first.empty() && (first.back() == '\r' || first.back() == ' ' || first.back() == '\t')) {
        first.remove_suffix(1);
    }
    std::string text(kHeaderText);
    if (first.size() > kHeaderCommandLimit) {
        std::size_t cut = kHeaderCommandLimit;
        while (cut > 0 && (static_cast<unsigned char>(first[cut]) & 0xC0) == 0x80) --cut;  // a UTF-8 boundary
        text.append(first.substr(0, cut)).append("…");
    } else {
        text.append(first);
    }
    std::size_t more = 0;  // lines after the first that are not blank
    for (std::size_t at = end; at != std::string_view::npos;) {
        const std::size_t next = command.find('\n', at + 1);
        const std::string_view line =
            command.substr(at + 1, next == std::string_view::npos ? next : next - at - 1);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos) ++more;
        at = next;
    }
    if (more > 0) text += fmt::format(" (and {} more line{})", more, more == 1 ? "" : "s");
    return text;
}

std::uint64_t file_size_or_zero(const fs::path& path) {
    std::error_code error;
    const std::uintmax_t size = fs::file_size(path, error);
    return error ? 0 : size;
}

std::string timeout_note(const TaskRun& run, Duration kill_grace) {
    return fmt::format("timed out after {}; ending the task's processes (SIGTERM, SIGKILL after {})",
                       format_duration(run.execution_timeout.value_or(Duration::zero())),
                       format_duration(kill_grace));
}

std::string cancel_note(Duration kill_grace) {
    return fmt::format("cancelled; ending the task's processes (SIGTERM, SIGKILL after {})",
                       format_duration(kill_grace));
}

// Looks up a try's shell by the exit file path in its starting environment, for a try whose pid was never
// recorded.
std::optional<StartedProcess> find_unrecorded_process(const fs::path& exit_file, const std::string& this_boot,
                                                      Instant started_at) {
    const std::optional<pid_t> pid =
        find_session_leader_with_environment("MAYAFLOW_EXIT_FILE=" + exit_file.string());
    if (!pid) return std::nullopt;
    const std::optional<std::uint64_t> ticks = process_start_ticks(*pid);
    if (!ticks) return std::nullopt;
    return StartedProcess{.pid = *pid, .start_ticks = *ticks, .boot_id = this_boot, .started_at = started_at};
}

}  // namespace

CancelFlag::CancelFlag() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

CancelFlag::~CancelFlag() {
    if (fd_ >= 0) ::close(fd_);
}

void CancelFlag::raise() noexcept {
    raised_.store(true);
    if (fd_ >= 0) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t written = ::write(fd_, &one, sizeof one);
    }
}

Status append_log_line(const fs::path& log_file, std::string_view text) {
    std::string line(kLogPrefix);
    line.append(text);
    auto appended = append_line_to_log(log_file, line);
    if (!appended) return appended.error();
    return Status::success();
}

Status append_log_line(const TaskRun& run, std::string_view text) {
    return append_log_line(run.log_file, mask_secrets(run, text));
}

OperatorResult failed_result(std::string message) {
    return OperatorResult{.outcome = TaskOutcome::failed, .message = std::move(message)};
}

OperatorResult cancelled_result() {
    return OperatorResult{
        .outcome = TaskOutcome::failed, .message = "cancelled", .cancelled = true, .retryable = false};
}

std::optional<OperatorResult> result_without_exit(const ShellEnd& end, const TaskRun& run) {
    if (end.timed_out) {
        OperatorResult result = failed_result(fmt::format(
            "timed out after {}", format_duration(run.execution_timeout.value_or(Duration::zero()))));
        result.timed_out = true;
        result.exit_code = end.exit_code;
        return result;
    }
    if (end.cancelled) {
        OperatorResult result = cancelled_result();
        result.exit_code = end.exit_code;
        return result;
    }
    if (end.supervisor_lost) {
        return failed_result(
            "the task's process ended, but the task supervisor that started it had gone (the daemon's log says "
            "how), so its exit status was not recorded");
    }
    if (!end.unrecorded_exit_file.empty()) {
        return failed_result(fmt::format("the task's process ended, but its exit status was not recorded in \"{}\" "
                                         "(is the logs folder full or not writable?)",
                                         end.unrecorded_exit_file.string()));
    }
    if (end.no_status) return failed_result(std::string(kEndedWithDaemonMessage));
    if (!end.exit_code) return failed_result(ExitStatus{.signal = end.signal}.describe());
    return std::nullopt;
}

OperatorResult logged_result(const TaskRun& run, OperatorResult result) {
    (void)append_log_line(run, fmt::format("{}: {}", to_string(result.outcome), result.message));
    return result;
}

std::optional<std::string> last_output_line(const fs::path& log_file, std::uint64_t from) {
    const int fd = ::open(log_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat info {};
    std::string tail;
    if (::fstat(fd, &info) == 0) {
        const auto size = static_cast<std::uint64_t>(info.st_size);
        const std::uint64_t start = std::max(from, size > kOutputScanLimit ? size - kOutputScanLimit : 0);
        if (start < size) {
            tail.resize(size - start);
            std::size_t got = 0;
            while (got < tail.size()) {
                const ssize_t n =
                    ::pread(fd, tail.data() + got, tail.size() - got, static_cast<off_t>(start + got));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) break;
                got += static_cast<std::size_t>(n);
            }
            tail.resize(got);
        }
    }
    ::close(fd);

    std::string header(kLogPrefix);
    header += kHeaderText;
    std::string_view rest = tail;
    while (!rest.empty()) {
        const std::size_t newline = rest.rfind('\n', rest.size() - 1);
        const std::size_t begin = newline == std::string_view::npos ? 0 : newline + 1;
        std::string_view line = rest.substr(begin);
        rest = rest.substr(0, newline == std::string_view::npos ? 0 : newline);
        const std::size_t last = line.find_last_not_of(" \t\r\n\v\f");
        if (last == std::string_view::npos) continue;
        line = line.substr(0, last + 1);
        if (line.starts_with(header)) return std::nullopt;
        if (line.starts_with(kLogPrefix)) continue;
        return std::string(line);
    }
    return std::nullopt;
}

namespace {

// How long the supervisor may take between a process's end and its exit file (normally microseconds).
constexpr Duration kExitFileWait = std::chrono::seconds(10);

// Waits until the try's process ends, its execution timeout (counted from `started_at`) passes, or
// the cancel flag is raised; the latter two are noted in `end` and the log. Whether it ended by itself.
Result<bool> wait_and_note(int process_fd, const TaskRun& run, Instant started_at, const CancelFlag& cancel,
                           Duration kill_grace, ShellEnd& end, PendingNote* note = nullptr) {
    const Result<Woke> woke = wait_for(process_fd, cancel, deadline_for(run, started_at), note);
    // A process that ended may still have output on its way to the log (the supervisor's pump drains it
    // before the exit file): the caller writes the note once that is in.
    if (woke && *woke == Woke::ended) return true;
    if (note) note->write_now();
    if (!woke) return woke.error();
    end.timed_out = *woke == Woke::timed_out;
    end.cancelled = *woke == Woke::cancelled;
    (void)append_log_line(run, end.timed_out ? timeout_note(run, kill_grace) : cancel_note(kill_grace));
    return false;
}

// Waits for a live process that is not this daemon's child (started by the task supervisor, or
// adopted after a restart); on timeout or cancel ends its whole group. Whether it ended by itself.
Result<bool> wait_for_live_process(const TaskRun& run, pid_t pid, Instant started_at, const Pidfd& pidfd,
                                   const CancelFlag& cancel, Duration kill_grace, ShellEnd& end,
                                   PendingNote* note = nullptr) {
    const Result<bool> ended = wait_and_note(pidfd.fd(), run, started_at, cancel, kill_grace, end, note);
    if (!ended) return ended.error();
    // The leader was alive a moment ago and is not reaped before its end is recorded, so the group is
    // still the task's.
    if (!*ended) (void)terminate_process_group(pid, kill_grace);
    return *ended;
}

// How long the leader's parent may take to reap it once its end is recorded (normally microseconds).
constexpr Duration kReapWait = std::chrono::milliseconds(500);

// Ends what a command that ended by itself left running in its group, as run_shell_command does.
void end_left_behind(pid_t pid, std::uint64_t start_ticks, Duration kill_grace) {
    if (group_outlives_leader(pid, start_ticks, kReapWait)) (void)terminate_process_group(pid, kill_grace);
}

// How the try ended, from its exit file; `wait` gives a task supervisor the moment it takes to write it.
void read_recorded_end(const fs::path& exit_file, pid_t pid, std::uint64_t start_ticks, bool wait, ShellEnd& end) {
    end.exit_code = wait ? wait_for_exit_file(exit_file, pid, start_ticks, kExitFileWait) : read_exit_file(exit_file);
    end.no_status = !end.exit_code && !end.timed_out && !end.cancelled;
}

// Whether this process has no descriptor left (its open-file limit, or the system's, is reached):
// then a failed look at a task's process or its exit file says nothing about the task.
bool out_of_descriptors() {
    const int probe = ::eventfd(0, EFD_CLOEXEC);
    if (probe >= 0) {
        ::close(probe);
        return false;
    }
    return errno == EMFILE || errno == ENFILE;
}

// Waits until a descriptor can be had again. The try's process was started: were the try given up
// for want of a descriptor to watch it with, its retry would run the command a second time beside
// the first. A cancel (or a shutdown) meanwhile ends the process group; false then.
bool wait_for_descriptors(const TaskRun& run, pid_t pid, const CancelFlag& cancel, Duration kill_grace,
                          ShellEnd& end) {
    spdlog::warn("task {} try {}: the daemon has no file descriptor left to watch its process {} with; waiting "
                 "for one (raise the daemon's open-file limit, `ulimit -n` or LimitNOFILE=, or lower parallelism)",
                 run.task.task_id, run.try_number, pid);
    while (out_of_descriptors()) {
        if (cancel.raised()) {
            end.cancelled = true;
            (void)terminate_process_group(pid, kill_grace);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

// With a task supervisor: one process (the program itself, or bash -c), whose end the supervisor
// records in the exit file.
Result<ShellEnd> run_supervised(const ShellCommand& command, const TaskRun& run, const CancelFlag& cancel,
                                Duration kill_grace, const fs::path& exit_file) {
    ProcessSpec spec{.env = command.env, .cwd = command.cwd, .log_file = run.log_file};
    if (auto direct = direct_argv(command.command, command.env)) spec.argv = std::move(*direct);
    else spec.argv = {"bash", "-c", command.command};
    // Lets a restarted daemon find the process by its environment if its pid was never recorded.
    spec.env.insert_or_assign("MAYAFLOW_EXIT_FILE", exit_file.string());
    Result<SupervisedProcess> started =
        run.supervisor->spawn(spec, exit_file, std::string(kLogPrefix) + header_for(command.command),
                              run.masker ? run.masker->secret_list() : nullptr);
    if (!started) return started.error();
    ShellEnd end{.output_start = started->log_size_before};
    const pid_t pid = started->pid;
    if (run.on_started) {
        run.on_started(StartedProcess{.pid = pid,
                                      .start_ticks = started->start_ticks,
                                      .boot_id = boot_id().value_or(""),
                                      .started_at = started->started_at});
    }
    Result<std::optional<Pidfd>> pidfd = Pidfd::open(pid);
    while (!pidfd && out_of_descriptors() && wait_for_descriptors(run, pid, cancel, kill_grace, end)) {
        pidfd = Pidfd::open(pid);
    }
    if (!pidfd && !end.cancelled) return std::move(pidfd).error();
    bool running = pidfd && pidfd->has_value() && same_process(pid, started->start_ticks);
    while (pidfd && pidfd->has_value() && !running && !end.cancelled && out_of_descriptors() &&
           wait_for_descriptors(run, pid, cancel, kill_grace, end)) {  // /proc could not be read
        running = same_process(pid, started->start_ticks);
    }
    if (running) {
        const Result<bool> waited =
            wait_for_live_process(run, pid, started->started_at, **pidfd, cancel, kill_grace, end);
        if (!waited) return waited.error();
    }
    read_recorded_end(exit_file, pid, started->start_ticks, true, end);
    while (end.no_status && !end.cancelled && out_of_descriptors() &&
           wait_for_descriptors(run, pid, cancel, kill_grace, end)) {  // the exit file could not be opened
        read_recorded_end(exit_file, pid, started->start_ticks, true, end);
    }
    // A supervisor that is slow to record the end (stopped, swapping) has not reaped the process
    // yet: while it (the one that started it, not a replacement) is there, the status is still to
    // come. Each look waits up to kExitFileWait; a cancel stops waiting.
    auto same_supervisor_there = [&] {
        return run.supervisor->replacements() == started->supervisor_generation && !run.supervisor->gone();
    };
    while (end.no_status && !cancel.raised() && same_supervisor_there()) {
        if (out_of_descriptors()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));  // then look again
        } else if (process_start_ticks(pid) != started->start_ticks) {
            break;  // reaped: what the exit file says now is final
        }
        read_recorded_end(exit_file, pid, started->start_ticks, true, end);
    }
    if (end.no_status && cancel.raised()) end.cancelled = true;
    // The daemon did not go away meanwhile, so a missing status is the supervisor's failed write, or
    // the supervisor itself is gone.
    if (end.no_status && !end.cancelled) {
        end.unrecorded_exit_file = exit_file;
        end.supervisor_lost = !same_supervisor_there();
    }
    // Also when the process had ended before it could be waited for.
    if (!end.timed_out && !end.cancelled) end_left_behind(pid, started->start_ticks, kill_grace);
    return end;
}

}  // namespace

Result<ShellEnd> run_shell_command(const ShellCommand& command, const TaskRun& run, const CancelFlag& cancel,
                                   Duration kill_grace) {
    const fs::path exit_file = exit_file_path(run.log_file);
    if (Status removed = remove_exit_file(exit_file); !removed) return removed.error();
    // With a supervisor, the supervisor writes the header as it starts the process (see there).
    if (run.supervisor) return run_supervised(command, run, cancel, kill_grace, exit_file);
    if (Status written = append_log_line(run, header_for(command.command)); !written) {
        return written.error();
    }
    ShellEnd end{.output_start = file_size_or_zero(run.log_file)};

    const WrappedCommand wrapped = wrap_shell_command(command.command, exit_file);
    ProcessSpec spec{.argv = wrapped.argv, .env = command.env, .cwd = command.cwd, .log_file = run.log_file};
    for (const auto& [name, value] : wrapped.env) spec.env.insert_or_assign(name, value);
    Result<ChildProcess> child = ChildProcess::spawn(spec);
    if (!child) return std::move(child).error();
    if (run.on_started) {
        run.on_started(StartedProcess{.pid = child->pid(),
                                      .start_ticks = child->start_ticks(),
                                      .boot_id = boot_id().value_or(""),
                                      .started_at = child->started_at()});
    }

    const Result<bool> ended = wait_and_note(child->pidfd(), run, child->started_at(), cancel, kill_grace, end);
    if (!ended) return ended.error();  // the destructor ends the group
    // After a normal end this ends what the command left running in its group; otherwise the command too.
    child->terminate(kill_grace);
    const Result<ExitStatus> status = child->wait(Duration::zero());
    if (!status) return status.error();
    if (status->exited) end.exit_code = status->exit_code;
    end.signal = status->signal;
    return end;
}

Result<ShellEnd> resume_shell_command(const TaskRun& run, const StartedProcess& recorded_process,
                                      const CancelFlag& cancel, Duration kill_grace) {
    const fs::path exit_file = exit_file_path(run.log_file);
    const std::string this_boot = boot_id().value_or("");
    StartedProcess recorded = recorded_process;
    if (recorded.pid <= 0) {
        std::optional<StartedProcess> found =
            find_unrecorded_process(exit_file, this_boot, recorded.started_at);
        if (found) {
            recorded = *found;
            if (run.on_started) run.on_started(recorded);
        }
    }
    ShellEnd end;
    const bool same_boot = recorded.pid > 0 && !this_boot.empty() && recorded.boot_id == this_boot;
    bool ended_by_itself = false;
    std::optional<PendingNote> note;

    // 1. Still running? Checked before the exit file: the shell writes the file before it exits, so once the
    // process is seen gone the file is final.
    if (same_boot && same_process(recorded.pid, recorded.start_ticks)) {
        Result<std::optional<Pidfd>> pidfd = Pidfd::open(recorded.pid);
        if (!pidfd) return std::move(pidfd).error();
        // Checked again with the pidfd open: now it names this process, not a later one with the same pid.
        if (pidfd->has_value() && same_process(recorded.pid, recorded.start_ticks)) {
            end.adopted = true;
            std::error_code ignored;
            end.adopted_cwd = fs::read_symlink(fmt::format("/proc/{}/cwd", recorded.pid), ignored);
            note.emplace(run.log_file,
                         std::string(kLogPrefix) +
                             mask_secrets(run, fmt::format("the daemon restarted; waiting again for the "
                                                           "task's process {}",
                                                           recorded.pid)));
            const Result<bool> waited = wait_for_live_process(run, recorded.pid, recorded.started_at, **pidfd,
                                                              cancel, kill_grace, end, &*note);
            if (!waited) {
                note->write_now();
                return waited.error();
            }
            ended_by_itself = *waited;
        }
    }

    // 2. An exit file: the command finished (a task supervisor writes it just after the end, so give it
    // that moment). 3. Neither: it ended with the daemon.
    read_recorded_end(exit_file, recorded.pid, recorded.start_ticks, same_boot, end);
    if (note) {
        note->try_write();  // the supervisor drained the task's output before the exit file
        note->write_now();  // a last line the task never ended
    }
    if (ended_by_itself) end_left_behind(recorded.pid, recorded.start_ticks, kill_grace);
    return end;
}

}  // namespace mayaflow
