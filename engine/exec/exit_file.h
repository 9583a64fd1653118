#pragma once
// The exit file is how a task's success survives the daemon's death: the task's own shell writes the
// user's command's exit status to a file next to the log when the command ends ("attempt=3.exit" beside
// "attempt=3.log"), whether or not the daemon is still alive to wait for it. After a restart the daemon
// reads the file instead of running a task again that had already succeeded. See docs/exec.md.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/util/result.h"

namespace mayaflow {

// The argv and the environment variables to add to a task's environment that run `command` with bash and
// record its exit status in `exit_file`.
struct WrappedCommand {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;  // MAYAFLOW_COMMAND and MAYAFLOW_EXIT_FILE
};

// Wraps a bash command so its exit status is written to `exit_file`. The command runs in a subshell, so
// its own `exit 3`, `set -e` and `trap … EXIT` end the subshell, not the shell that writes the file; that
// shell also survives a SIGTERM to the group long enough to record the command's end (143). The command
// and path travel in environment variables (no quoting problems, and not visible in `ps` as argv is), and
// are removed from the environment before the command runs. Costs no exec beyond bash itself.
// Not covered: a SIGKILL of the wrapping shell, a crash of the machine, or a command that kills its
// parent shell ($$ is that shell's pid); then there is no exit file.
WrappedCommand wrap_shell_command(const std::string& command, const std::filesystem::path& exit_file,
                                  const std::string& bash = "/bin/bash");

// The exit file that belongs to a log file: the same name with the extension ".exit".
std::filesystem::path exit_file_path(const std::filesystem::path& log_file);

// The exit status recorded in `path`: a number 0..255 on one line. nullopt when the file is absent, empty
// (the shell was killed while writing it) or holds anything else.
std::optional<int> read_exit_file(const std::filesystem::path& path);

// Removes an exit file left by an earlier run of the same attempt, so it cannot be mistaken for this run's.
// Not an error when there is none.
Status remove_exit_file(const std::filesystem::path& path);

}  // namespace mayaflow
