#include "engine/exec/exit_file.h"

#include <signal.h>
#include <catch2/catch.hpp>

#include <fstream>

#include "engine/exec/child_process.h"
#include "engine/exec/exec_test_support.h"

using namespace mayaflow;
using namespace mayaflow::exec_test;
using namespace std::chrono_literals;

namespace {

struct WrappedRun {
    ExitStatus status;
    std::optional<int> recorded;
    std::string log;
};

ProcessSpec wrapped_spec(const TempDir& dir, const std::string& command) {
    ProcessSpec spec = spec_in(dir, {});
    spec.log_file = dir.path() / "attempt=1.log";
    const WrappedCommand wrapped = wrap_shell_command(command, exit_file_path(spec.log_file));
    spec.argv = wrapped.argv;
    spec.env.insert(wrapped.env.begin(), wrapped.env.end());
    return spec;
}

WrappedRun run_wrapped(const TempDir& dir, const std::string& command) {
    const ProcessSpec spec = wrapped_spec(dir, command);
    Result<ChildProcess> child = ChildProcess::spawn(spec);
    if (!child) FAIL("spawn failed: " << child.error().message);
    Result<ExitStatus> status = child->wait(20s);
    if (!status) FAIL("wait failed: " << status.error().message);
    child->terminate(1s);
    return WrappedRun{*status, read_exit_file(exit_file_path(spec.log_file)), read_text(spec.log_file)};
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("wrap_shell_command records the command's exit status", "[exec][exit_file]") {
    Watchdog watchdog(30);
    TempDir dir;
    const auto [command, expected] = GENERATE(table<std::string, int>({
        {"true", 0},
        {"false", 1},
        {"exit 3", 3},
        {"exit 255", 255},
        {"(exit 99)", 99},
        {"set -e; false; echo never", 1},
        {"trap 'echo bye' EXIT; exit 5", 5},
        {"trap 'exit 6' EXIT; true", 6},
        {"exec /bin/sh -c 'exit 4'", 4},
        {"if then", 2},
        {"no-such-command-for-mayaflow", 127},
        {"kill -KILL $BASHPID", 128 + SIGKILL},
    }));
    CAPTURE(command);
    const WrappedRun run = run_wrapped(dir, command);
    CHECK(run.status.exited);
    CHECK(run.status.exit_code == expected);
    CHECK(run.recorded == expected);
    CHECK(run.log.find("never") == std::string::npos);
    if (command.find("bye") != std::string::npos) CHECK(run.log == "bye\n");
}

TEST_CASE("wrap_shell_command passes any command text through unharmed", "[exec][exit_file]") {
    Watchdog watchdog(30);
    TempDir dir;
    const std::string command =
        "printf '%s\\n' \"it's \\\"quoted\\\"\" '$HOME' 'back\\slash' \"$GREETING\"\n"
        "cat <<'END'\n"
        "line with `backticks` and $(not a substitution) and ; & | < >\n"
        "END\n"
        "echo \"$0\"";
    ProcessSpec spec = wrapped_spec(dir, command);
    spec.env["GREETING"] = "Grüße, 世界";
    Result<ChildProcess> child = ChildProcess::spawn(spec);
    REQUIRE(child.ok());
    CHECK(child->wait(20s)->succeeded());
    CHECK(read_text(spec.log_file) ==
          "it's \"quoted\"\n$HOME\nback\\slash\nGrüße, 世界\n"
          "line with `backticks` and $(not a substitution) and ; & | < >\n/bin/bash\n");
    CHECK(read_exit_file(exit_file_path(spec.log_file)) == 0);
}

TEST_CASE("wrap_shell_command keeps its variables from the user's command", "[exec][exit_file]") {
    Watchdog watchdog(30);
    TempDir dir;
    const WrappedRun run = run_wrapped(dir, "env | grep -c MAYAFLOW_; echo \"[$MAYAFLOW_EXIT_FILE]\"");
    CHECK(run.log == "0\n[]\n");
    CHECK(run.recorded == 0);  // grep's 1 ("no match") is not the last command's status
}

TEST_CASE("wrap_shell_command records a task ended with SIGTERM", "[exec][exit_file]") {
    Watchdog watchdog(30);
    TempDir dir;
    const ProcessSpec spec = wrapped_spec(dir, "echo started; sleep 1000");
    Result<ChildProcess> child = ChildProcess::spawn(spec);
    REQUIRE(child.ok());
    REQUIRE(eventually([&] { return read_text(spec.log_file) == "started\n"; }));
    child->terminate(10s);
    CHECK(child->wait(0us)->exit_code == 128 + SIGTERM);
    CHECK(read_exit_file(exit_file_path(spec.log_file)) == 128 + SIGTERM);
}

TEST_CASE("read_exit_file accepts only a status on one line", "[exec][exit_file]") {
    TempDir dir;
    const std::filesystem::path path = dir.path() / "attempt=1.exit";
    CHECK(read_exit_file(path) == std::nullopt);  // absent

    const auto [text, expected] = GENERATE(table<std::string, std::optional<int>>({
        {"0\n", 0},
        {"7\n", 7},
        {"255\n", 255},
        {"42", 42},
        {"", std::nullopt},
        {"\n", std::nullopt},
        {"256\n", std::nullopt},
        {"-1\n", std::nullopt},
        {"+1\n", std::nullopt},
        {" 1\n", std::nullopt},
        {"1 \n", std::nullopt},
        {"abc\n", std::nullopt},
        {"3x\n", std::nullopt},
        {"1\n2\n", std::nullopt},
        {"1\n\n", std::nullopt},
        {"99999999999999999999\n", std::nullopt},
    }));
    CAPTURE(text);
    write_file(path, text);
    CHECK(read_exit_file(path) == expected);
}

TEST_CASE("exit_file_path puts the exit file next to the log", "[exec][exit_file]") {
    CHECK(exit_file_path("/var/log/mayaflow/dag_id=sales/run_id=r1/task_id=load/attempt=3.log") ==
          "/var/log/mayaflow/dag_id=sales/run_id=r1/task_id=load/attempt=3.exit");
    CHECK(exit_file_path("logs/attempt=1") == "logs/attempt=1.exit");
}

TEST_CASE("remove_exit_file clears an earlier run's status", "[exec][exit_file]") {
    Watchdog watchdog(30);
    TempDir dir;
    const std::filesystem::path path = dir.path() / "attempt=1.exit";
    CHECK(remove_exit_file(path).ok());  // none there: fine
    write_file(path, "0\n");
    REQUIRE(remove_exit_file(path).ok());
    CHECK(read_exit_file(path) == std::nullopt);

    write_file(path, "0\n");  // a stale success must not survive a new run that fails
    REQUIRE(remove_exit_file(path).ok());
    const WrappedRun run = run_wrapped(dir, "exit 1");
    CHECK(run.recorded == 1);

    std::filesystem::create_directories(dir.path() / "not-a-file" / "inside");
    const Status status = remove_exit_file(dir.path() / "not-a-file");
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::Contains("not-a-file"));
}
