#include "operators/shell_process.h"

#include <poll.h>

#include <catch2/catch.hpp>

#include <fstream>

#include "engine/exec/exec_test_support.h"
#include "engine/exec/process_probe.h"
#include "engine/exec/task_supervisor.h"

namespace mayaflow {
namespace {

using exec_test::read_text;
using exec_test::TempDir;

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

TEST_CASE("last_output_line skips blank lines and mayaflow's own lines", "[shell]") {
    TempDir dir;
    const auto log = dir.path() / "attempt=1.log";
    auto last = [&](const std::string& text, std::uint64_t from = 0) {
        write_file(log, text);
        return last_output_line(log, from);
    };
    CHECK(last("a\nb\n") == "b");
    CHECK(last("a\nb") == "b");
    CHECK(last("a\nb \t\r\n\n  \n") == "b");
    CHECK(last("  indented\n") == "  indented");
    CHECK(last("value\n[mayaflow] the daemon restarted; waiting again\n[mayaflow] success: exit code 0\n") ==
          "value");
    CHECK(last("") == std::nullopt);
    CHECK(last("\n\n") == std::nullopt);
    // The try's output starts after its header: an earlier run's output is not this one's.
    CHECK(last("old\n[mayaflow] running: true\n") == std::nullopt);
    CHECK(last("old\n[mayaflow] running: echo new\nnew\n") == "new");
    // `from` is where the try's output starts.
    CHECK(last("old\nnew\n", 4) == "new");
    CHECK(last("old\n", 4) == std::nullopt);
    CHECK(last("old\n", 400) == std::nullopt);
    CHECK(last_output_line(dir.path() / "missing.log", 0) == std::nullopt);
}

TEST_CASE("last_output_line reads only the log's tail", "[shell]") {
    TempDir dir;
    const auto log = dir.path() / "attempt=1.log";
    const std::string long_line(kOutputScanLimit + 100, 'x');
    write_file(log, "first\n" + long_line + "\n");
    const std::optional<std::string> line = last_output_line(log, 0);
    REQUIRE(line);
    CHECK(line->size() == kOutputScanLimit - 1);  // the window ends with the newline
    write_file(log, "first\n" + std::string(kOutputScanLimit, '\n'));
    CHECK(last_output_line(log, 0) == std::nullopt);
}

TEST_CASE("append_log_line starts a line of its own and creates the log's folders", "[shell]") {
    TempDir dir;
    const auto log = dir.path() / "a" / "b" / "attempt=1.log";
    REQUIRE(append_log_line(log, "running: echo"));
    CHECK(read_text(log) == "[mayaflow] running: echo\n");
    std::ofstream(log, std::ios::app) << "partial";
    REQUIRE(append_log_line(log, "failed: exit code 1"));
    CHECK(read_text(log) == "[mayaflow] running: echo\npartial\n[mayaflow] failed: exit code 1\n");
    CHECK_FALSE(append_log_line("/proc/mayaflow-cannot-write/attempt=1.log", "x"));
}

TEST_CASE("CancelFlag wakes a poller and stays raised", "[shell]") {
    CancelFlag flag;
    CHECK_FALSE(flag.raised());
    REQUIRE(flag.fd() >= 0);
    pollfd readable{flag.fd(), POLLIN, 0};
    CHECK(::poll(&readable, 1, 0) == 0);
    flag.raise();
    flag.raise();
    CHECK(flag.raised());
    CHECK(::poll(&readable, 1, 0) == 1);
    CHECK(::poll(&readable, 1, 0) == 1);
}

TEST_CASE("run_shell_command writes a header and reports how the command ended", "[shell]") {
    exec_test::Watchdog watchdog(30);
    TempDir dir;
    Task task;
    const TaskRun run{.task = task, .log_file = dir.path() / "attempt=1.log"};
    CancelFlag cancel;
    const ShellCommand command{.command = "\n  echo one   \n\necho two\nexit 4\n",
                               .env = {{"PATH", "/usr/bin:/bin"}},
                               .cwd = dir.path()};
    const Result<ShellEnd> end = run_shell_command(command, run, cancel, std::chrono::milliseconds(200));
    REQUIRE(end);
    CHECK(end->exit_code == 4);
    CHECK_FALSE(end->timed_out);
    CHECK_FALSE(end->adopted);
    const std::string header = "[mayaflow] running: echo one (and 2 more lines)\n";
    CHECK(end->output_start == header.size());
    CHECK(read_text(run.log_file) == header + "one\ntwo\n");
    CHECK(read_text(dir.path() / "attempt=1.exit") == "4\n");
}

TEST_CASE("run_shell_command clears a stale exit file before it starts", "[shell]") {
    exec_test::Watchdog watchdog(30);
    TempDir dir;
    Task task;
    const TaskRun run{.task = task, .log_file = dir.path() / "attempt=1.log"};
    write_file(dir.path() / "attempt=1.exit", "0\n");
    CancelFlag cancel;
    const ShellCommand command{.command = "cat attempt=1.exit 2>/dev/null || echo no-exit-file; exit 5",
                               .env = {},
                               .cwd = dir.path()};
    const Result<ShellEnd> end = run_shell_command(command, run, cancel, std::chrono::milliseconds(200));
    REQUIRE(end);
    CHECK(end->exit_code == 5);
    CHECK(last_output_line(run.log_file, end->output_start) == "no-exit-file");
}

TEST_CASE("run_shell_command takes a timeout longer than the steady clock can count", "[shell]") {
    exec_test::Watchdog watchdog(30);
    TempDir dir;
    Task task;
    const TaskRun run{
        .task = task, .log_file = dir.path() / "attempt=1.log", .execution_timeout = Duration::max()};
    CancelFlag cancel;
    const Result<ShellEnd> end =
        run_shell_command(ShellCommand{.command = "exit 0", .cwd = dir.path()}, run, cancel);
    REQUIRE(end);
    CHECK(end->exit_code == 0);
    CHECK_FALSE(end->timed_out);
}

TEST_CASE("run_shell_command fails to start with an error that names the problem", "[shell]") {
    TempDir dir;
    Task task;
    const TaskRun run{.task = task, .log_file = dir.path() / "attempt=1.log"};
    CancelFlag cancel;
    const Result<ShellEnd> end =
        run_shell_command(ShellCommand{.command = "true", .cwd = dir.path() / "missing"}, run, cancel);
    REQUIRE_FALSE(end);
    CHECK_THAT(end.error().message, Catch::Contains("missing") && Catch::Contains("does not exist"));
}

}  // namespace
}  // namespace mayaflow

namespace mayaflow {
namespace {

TEST_CASE("run_shell_command through the task supervisor: one process, every end recorded", "[shell][supervisor]") {
    exec_test::Watchdog watchdog(60);
    TempDir dir;
    auto supervisor = TaskSupervisor::start("/proc/self/exe");  // the test program serves (catch_main.cpp)
    REQUIRE(supervisor);
    Task task;
    int attempt = 0;
    auto run_command = [&](const std::string& text, std::optional<Duration> timeout = std::nullopt) {
        TaskRun run{.task = task,
                    .log_file = dir.path() / fmt::format("attempt={}.log", ++attempt),
                    .execution_timeout = timeout,
                    .supervisor = supervisor->get()};
        std::optional<StartedProcess> started;
        run.on_started = [&](const StartedProcess& process) { started = process; };
        CancelFlag cancel;
        std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"}};
        Result<ShellEnd> end =
            run_shell_command(ShellCommand{.command = text, .env = env, .cwd = dir.path()}, run, cancel,
                              std::chrono::milliseconds(500));
        REQUIRE(end);
        REQUIRE(started);
        CHECK(started->pid > 0);
        return std::pair{*end, read_text(run.log_file)};
    };
    CHECK(run_command("true").first.exit_code == 0);  // run without a shell
    CHECK(run_command("sleep 0").first.exit_code == 0);
    CHECK(run_command("exit 4").first.exit_code == 4);
    CHECK(run_command("false").first.exit_code == 1);
    auto [trapped, trapped_log] = run_command("trap 'echo bye' EXIT; exit 5");
    CHECK(trapped.exit_code == 5);  // a command's own EXIT trap no longer hides its status
    CHECK(trapped_log.find("bye") != std::string::npos);
    CHECK(run_command("exec /bin/sh -c 'exit 6'").first.exit_code == 6);
    auto [output, output_log] = run_command("echo \"$MAYAFLOW_EXIT_FILE\" | grep -c attempt=");
    CHECK(output.exit_code == 0);
    auto [slow, slow_log] = run_command("sleep 30", std::chrono::milliseconds(300));
    CHECK(slow.timed_out);
    CHECK(slow.exit_code == 128 + SIGTERM);
    CHECK(slow_log.find("timed out") != std::string::npos);
    // What a command leaves running in its group ends with it.
    const std::filesystem::path left_pid = dir.path() / "left.pid";
    CHECK(run_command(fmt::format("sleep 30 & echo $! > '{}'", left_pid.string())).first.exit_code == 0);
    const std::optional<ProcStat> left = read_proc_stat(std::stoi(read_text(left_pid)));
    CHECK((!left || left->ended()));
    auto [missing, missing_log] = run_command("no-such-program-xyz");
    CHECK(missing.exit_code == 127);  // bash says so in the log
    CHECK(missing_log.find("no-such-program-xyz") != std::string::npos);
}

}  // namespace
}  // namespace mayaflow
