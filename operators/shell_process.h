#pragma once
// A try's shell process: a command run with bash through the exit-file wrapper (engine/exec/exit_file.h),
// its output in the try's log, waited for with the execution timeout and a cancel flag, and ended as a
// whole process group. After a daemon restart the same try is adopted instead of started again. Operators
// that run a program (bash, notebook) build on it; the rules it follows are in docs/exec.md.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "engine/time/instant.h"
#include "engine/util/result.h"
#include "operators/operator.h"

namespace mayaflow {

// CancelFlag is raised by another thread to end a try; a runner waiting for the try's process wakes up
// at once (it polls an eventfd beside the process's pidfd). Once raised it stays raised.
class CancelFlag {
  public:
    CancelFlag();
    ~CancelFlag();
    CancelFlag(const CancelFlag&) = delete;
    CancelFlag& operator=(const CancelFlag&) = delete;

    void raise() noexcept;  // thread-safe, async-signal-safe
    bool raised() const noexcept { return raised_.load(); }
    int fd() const { return fd_; }  // readable once raised; -1 if no eventfd could be made (then polled)

  private:
    std::atomic<bool> raised_{false};
    int fd_ = -1;
};

// What to run: the command's text, its complete environment and its working folder.
struct ShellCommand {
    std::string command;
    std::map<std::string, std::string> env;  // the wrapper adds MAYAFLOW_COMMAND and MAYAFLOW_EXIT_FILE
    std::filesystem::path cwd;
};

// How a try's shell command ended.
struct ShellEnd {
    std::optional<int> exit_code;  // the command's exit status (0..255), when the shell recorded it
    int signal = 0;                // the wrapping shell itself was killed by this signal
    bool timed_out = false;        // the execution timeout passed; the group was ended
    bool cancelled = false;        // the cancel flag was raised; the group was ended
    bool no_status = false;        // resume: the process was gone and left no exit file
    // The daemon saw the process end, yet no exit status was recorded in this file (the task
    // supervisor could not write it: a full or read-only logs folder); empty otherwise.
    std::filesystem::path unrecorded_exit_file;
    // ... because the task supervisor that started the process went away (killed, crashed) meanwhile.
    bool supervisor_lost = false;
    bool adopted = false;          // resume: the process still ran and was waited for
    // resume: the working folder of the adopted process, read before waiting (its temporary folder may
    // need removing); empty when unknown.
    std::filesystem::path adopted_cwd;
    // Where this try's output starts in the log (after the "[mayaflow] running:" header); 0 after resume.
    std::uint64_t output_start = 0;
};

// How long a group gets to end after SIGTERM before SIGKILL, on timeout and cancel.
inline constexpr Duration kDefaultKillGrace = std::chrono::seconds(5);

// Runs `command` as one try: removes a stale exit file, writes "[mayaflow] running: <first line>" to the
// log, starts bash through the exit-file wrapper (output appended to the log), calls run.on_started, and
// waits until the command ends, run.execution_timeout passes, or `cancel` is raised. On timeout or cancel
// the group gets SIGTERM, then SIGKILL after `kill_grace`; after a normal end, background processes left
// in the group are ended the same way. Errors are failures to start (bad cwd, unwritable log), for the caller
// to report and log.
Result<ShellEnd> run_shell_command(const ShellCommand& command, const TaskRun& run, const CancelFlag& cancel,
                                   Duration kill_grace = kDefaultKillGrace);

// Finishes a try that an earlier daemon started, in docs/exec.md's order: (1) if the recorded process still
// runs in this boot, adopt it and wait (with what is left of the execution timeout, counted from
// recorded.started_at, and the cancel flag); (2) if its exit file holds a status, that is how it ended;
// (3) otherwise no_status. recorded.pid 0 means the pid was never recorded: the process is looked up by
// its exit file path in its environment, and run.on_started is called when it is found.
Result<ShellEnd> resume_shell_command(const TaskRun& run, const StartedProcess& recorded,
                                      const CancelFlag& cancel, Duration kill_grace = kDefaultKillGrace);

// The results every operator that runs a program gives: a failure with `message`, and a cancelled try
// (failed, not retried).
OperatorResult failed_result(std::string message);
OperatorResult cancelled_result();

// The result of a try whose command did not end by exiting: timed out ("timed out after 30m", with
// timed_out set), cancelled, gone with an earlier daemon and no status left, or its shell killed by a
// signal. nullopt when the command exited with a code, which is for the operator to read.
std::optional<OperatorResult> result_without_exit(const ShellEnd& end, const TaskRun& run);

// Lines mayaflow itself writes into a task's log start with this.
inline constexpr std::string_view kLogPrefix = "[mayaflow] ";

// Appends "[mayaflow] <text>" as a line of its own to the log (on a new line if the log does not end
// with one), creating the file and its folders when missing.
Status append_log_line(const std::filesystem::path& log_file, std::string_view text);
// The same in the try's log, with the try's secrets masked.
Status append_log_line(const TaskRun& run, std::string_view text);

// Writes the try's outcome as the log's last line ("[mayaflow] failed: cancelled"), and returns it.
OperatorResult logged_result(const TaskRun& run, OperatorResult result);

// The last line of the command's output with trailing whitespace removed, skipping empty lines and
// mayaflow's own lines: read from `from` on, and stopping at a "[mayaflow] running:" header (where the
// try's output starts when `from` is not known). Looks at the last kOutputScanLimit bytes at most; a line
// longer than that is cut to its end. nullopt when the command printed nothing.
std::optional<std::string> last_output_line(const std::filesystem::path& log_file, std::uint64_t from);

inline constexpr std::uint64_t kOutputScanLimit = 1 << 20;

}  // namespace mayaflow
