#pragma once
// The task supervisor: a small process, separate from the daemon, that starts the tasks' processes
// for it and records how each ended in its exit file (exit_file.h) before reaping it. Because the
// supervisor outlives a daemon killed with SIGKILL (it finishes when its last task has ended), a
// restarted daemon learns how every try ended without a recording shell wrapped around each command,
// so a command runs as one process: `bash -c`, or the program itself when the command has no shell
// syntax (see docs/exec.md).

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/exec/child_process.h"
#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

struct SupervisedProcess {
    pid_t pid = 0;  // leads its own session and process group
    std::uint64_t start_ticks = 0;
    Instant started_at{};
    std::uint64_t log_size_before = 0;  // the log's size after the header line, before any output
    bool log_linked = false;  // the log is the unnamed file the caller made (false: the supervisor made it by name)
    std::uint64_t supervisor_generation = 0;  // replacements() when the supervisor that started it answered
};

class TaskSupervisor {
  public:
    // Starts `program` (the mayaflow binary) as `program _supervise` in its own session, talking over a
    // socket on its descriptor 3. With `json_log` what it logs (to the daemon's stderr) is JSON lines,
    // as the daemon's own with log_format: json.
    static Result<std::unique_ptr<TaskSupervisor>> start(const std::filesystem::path& program, bool json_log = false);
    ~TaskSupervisor();  // hangs up: the supervisor ends once its running tasks have ended
    TaskSupervisor(const TaskSupervisor&) = delete;
    TaskSupervisor& operator=(const TaskSupervisor&) = delete;

    // Starts a process as ChildProcess::spawn would (own session, log appended, no other descriptors),
    // after appending `log_header` as a line of its own to the log: so a try's log exists only once
    // its process has been started, and a restarted daemon that finds no log knows it never was (the
    // supervisor drops requests of a daemon that has died). When the process ends the supervisor
    // writes its status (the exit code, or 128 + the signal) to `exit_file`, then reaps it. Thread-safe.
    // The calling thread makes the try's files (the log's folder, the exit file, empty, and the log as
    // an unnamed file, passed over the socket): the supervisor's one thread then only writes the header
    // and links the log in, and the costly part of making files is spread over the workers.
    // With `secrets`, the header and everything the process writes reach the log with each secret
    // (and its URL and JSON forms) shown as "***": the output goes through a pipe that the supervisor
    // reads, and is all in the log before the exit file is written. The secrets travel over the
    // supervisor's socket, never on a command line or in an environment: in pieces, so a set of any
    // size goes, and only when they differ from the last set sent (SecretMasker::secret_list()
    // gives the same list until the secrets change).
    Result<SupervisedProcess> spawn(const ProcessSpec& spec, const std::filesystem::path& exit_file,
                                    const std::string& log_header,
                                    const std::shared_ptr<const std::vector<std::string>>& secrets);
    Result<SupervisedProcess> spawn(const ProcessSpec& spec, const std::filesystem::path& exit_file,
                                    const std::string& log_header, const std::vector<std::string>& secrets = {});

    pid_t pid() const { return pid_.load(); }
    // How many times a supervisor that had gone (killed, crashed) was replaced by a new one. A try
    // started before a replacement lost its supervisor, and with it the record of its exit status.
    std::uint64_t replacements() const { return replacements_.load(); }
    // Whether the supervisor has gone since it was last talked to (the next spawn replaces it).
    bool gone();

  private:
    TaskSupervisor(std::filesystem::path program, bool json_log, int socket, pid_t pid)
        : program_(std::move(program)), json_log_(json_log), socket_(socket), pid_(pid) {}
    Status send_secrets(const std::shared_ptr<const std::vector<std::string>>& secrets);  // under mutex_
    // Under mutex_: the supervisor has hung up; a new one takes its place (its tries run on, unrecorded).
    Status replace_gone_supervisor();

    std::filesystem::path program_;
    bool json_log_ = false;
    std::mutex mutex_;
    std::shared_ptr<const std::vector<std::string>> sent_secrets_;  // the set the supervisor masks with
    int socket_ = -1;
    std::atomic<pid_t> pid_{0};
    std::atomic<std::uint64_t> replacements_{0};
};

// The supervisor's side: serves requests on `socket` until the daemon hangs up and no task is left.
// Returns the process's exit code.
int run_task_supervisor(int socket, bool json_log = false);

// Waits until the exit file of a supervised process is there (the supervisor writes it between the
// process's end and its reaping) or the process is gone without one, up to `timeout`. Returns
// the status the file records, nothing when there is none. A process that still runs is waited for too.
std::optional<int> wait_for_exit_file(const std::filesystem::path& exit_file, pid_t pid, std::uint64_t start_ticks,
                                      Duration timeout);

}  // namespace mayaflow
