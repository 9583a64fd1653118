#include "engine/exec/exit_file.h"

#include <charconv>
#include <fstream>
#include <system_error>

namespace mayaflow {

namespace {

// The shell copies the variables into unexported ones and unsets them, so the user's command and its
// children do not carry (or print) the command a second time. A trap makes this shell live through a
// SIGTERM sent to the whole group and record the command's end; the subshell puts the signals back.
constexpr const char* kWrapperScript = R"(__mayaflow_command=$MAYAFLOW_COMMAND
__mayaflow_exit_file=$MAYAFLOW_EXIT_FILE
unset MAYAFLOW_COMMAND MAYAFLOW_EXIT_FILE
trap : TERM INT HUP
(trap - TERM INT HUP; eval "$__mayaflow_command")
__mayaflow_status=$?
printf '%s\n' "$__mayaflow_status" > "$__mayaflow_exit_file"
exit "$__mayaflow_status")";

}  // namespace

WrappedCommand wrap_shell_command(const std::string& command, const std::filesystem::path& exit_file,
                                  const std::string& bash) {
    return WrappedCommand{
        .argv = {bash, "-c", kWrapperScript},
        .env = {{"MAYAFLOW_COMMAND", command}, {"MAYAFLOW_EXIT_FILE", exit_file.string()}},
    };
}

std::filesystem::path exit_file_path(const std::filesystem::path& log_file) {
    std::filesystem::path path = log_file;
    path.replace_extension(".exit");
    return path;
}

std::optional<int> read_exit_file(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::string text;
    char buffer[16];
    file.read(buffer, sizeof buffer);
    text.assign(buffer, static_cast<std::size_t>(file.gcount()));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (text.empty() || text.size() > 3) return std::nullopt;
    int status = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), status);
    if (error != std::errc() || end != text.data() + text.size() || status < 0 || status > 255) {
        return std::nullopt;
    }
    return status;
}

Status remove_exit_file(const std::filesystem::path& path) {
    std::error_code error;
    std::filesystem::remove(path, error);
    if (error) {
        return make_error(
            "cannot remove the old exit file \"{}\": {}; remove it by hand, or the task's result "
            "could be mistaken for this run's",
            path.string(), error.message());
    }
    return Status::success();
}

}  // namespace mayaflow
