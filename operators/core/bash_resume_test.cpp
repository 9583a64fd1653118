// The bash operator after a daemon restart: a try whose daemon died is adopted while it runs, read from
// its exit file when it has ended, and reported as ended with the daemon when neither is there.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "engine/exec/exit_file.h"
#include "engine/exec/process_probe.h"
#include "operators/core/bash_operator.h"
#include "operators/core/bash_test_support.h"

namespace mayaflow {
namespace {

using namespace bash_test;
using exec_test::eventually;
using exec_test::live_members;
using exec_test::Watchdog;

// What a forked daemon reports through a pipe before it dies.
struct Report {
    pid_t pid = 0;
    std::uint64_t start_ticks = 0;
    std::int64_t started_at_us = 0;
};

// Runs the task's try in a forked copy of this program that is killed (SIGKILL) right after on_started,
// as a daemon killed while its task runs: the task's process lives on, an orphan. Returns what the dead
// daemon would have recorded; nullopt when no report came.
std::optional<StartedProcess> execute_in_dying_daemon(BashRun& r) {
    int report_pipe[2];
    if (::pipe(report_pipe) != 0) return std::nullopt;
    const pid_t daemon = ::fork();
    if (daemon < 0) return std::nullopt;
    if (daemon == 0) {
        ::close(report_pipe[0]);
        BashOperator op(r.options());
        TaskRun run = r.run();
        run.on_started = [&](const StartedProcess& process) {
            const Report report{process.pid, process.start_ticks,
                                process.started_at.time_since_epoch().count()};
            [[maybe_unused]] const ssize_t written = ::write(report_pipe[1], &report, sizeof report);
            ::kill(::getpid(), SIGKILL);
        };
        (void)op.execute(run);
        ::_exit(1);
    }
    ::close(report_pipe[1]);
    Report report;
    pollfd readable{report_pipe[0], POLLIN, 0};
    const bool reported =
        ::poll(&readable, 1, 10'000) == 1 &&
        ::read(report_pipe[0], &report, sizeof report) == static_cast<ssize_t>(sizeof report);
    ::close(report_pipe[0]);
    if (!reported) ::kill(daemon, SIGKILL);
    ::waitpid(daemon, nullptr, 0);
    if (!reported || report.pid <= 0) return std::nullopt;
    return StartedProcess{.pid = report.pid,
                          .start_ticks = report.start_ticks,
                          .boot_id = boot_id().value_or(""),
                          .started_at = Instant{Duration{report.started_at_us}}};
}

// A command that waits (at most 20 s) until the test creates `go`, then prints `value`.
std::string wait_for_file_then_echo(const std::filesystem::path& go, const std::string& value) {
    return "echo waiting\nfor i in $(seq 400); do [ -e '" + go.string() +
           "' ] && break; sleep 0.05; done\necho " + value;
}

// Creates `go` once the resumed operator has said in the log that it waits for the process again.
std::thread release_when_adopted(const BashRun& r, std::filesystem::path go) {
    return std::thread([&r, go] {
        eventually([&] { return r.log().find("waiting again for the task's process") != std::string::npos; });
        std::ofstream(go) << "go\n";
    });
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

TEST_CASE("bash resume: a try still running is adopted and waited for", "[bash][resume]") {
    Watchdog watchdog(60);
    BashRun r({});
    const auto go = r.dir.path() / "go";
    r.task.params["bash_command"] = wait_for_file_then_echo(go, "adopted-value");
    const std::optional<StartedProcess> recorded = execute_in_dying_daemon(r);
    REQUIRE(recorded);
    REQUIRE(same_process(recorded->pid, recorded->start_ticks));
    REQUIRE(entries_of(r.temp_root()).size() == 1);  // the dead daemon's temporary working folder

    std::thread releaser = release_when_adopted(r, go);
    BashOperator op(r.options());
    const OperatorResult result = op.resume(r.run(), *recorded);
    releaser.join();
    CHECK(result.outcome == TaskOutcome::success);
    CHECK(result.value == "adopted-value");
    CHECK(result.exit_code == 0);
    CHECK(entries_of(r.temp_root()).empty());
    CHECK(r.log().ends_with("adopted-value\n[mayaflow] success: exit code 0\n"));
}

TEST_CASE("bash resume: a try whose pid was never recorded is found by its exit file", "[bash][resume]") {
    Watchdog watchdog(60);
    BashRun r({});
    const auto go = r.dir.path() / "go";
    r.task.params["bash_command"] = wait_for_file_then_echo(go, "found-value") + "\nexit 3";
    const std::optional<StartedProcess> recorded = execute_in_dying_daemon(r);
    REQUIRE(recorded);

    std::thread releaser = release_when_adopted(r, go);
    BashOperator op(r.options());
    const OperatorResult result = op.resume(r.run(), StartedProcess{.started_at = recorded->started_at});
    releaser.join();
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK(result.message == "exit code 3");
    // The scheduler is told the pid it never recorded.
    REQUIRE(r.started().size() == 1);
    CHECK(r.started()[0].pid == recorded->pid);
    CHECK(r.started()[0].start_ticks == recorded->start_ticks);
}

TEST_CASE("bash resume: an adopted try honours what is left of its timeout", "[bash][resume]") {
    Watchdog watchdog(60);
    BashRun r({{"bash_command", "trap '' TERM\nsleep 60\nsleep 60"}});
    const std::optional<StartedProcess> recorded = execute_in_dying_daemon(r);
    REQUIRE(recorded);
    BashOperator op(r.options());

    SECTION("part of it left") {
        r.timeout = 400ms;
        const OperatorResult result = op.resume(r.run(), *recorded);
        CHECK(result.timed_out);
        CHECK(result.message == "timed out after 400ms");
    }
    SECTION("already over") {
        r.timeout = std::chrono::minutes(10);
        StartedProcess long_ago = *recorded;
        long_ago.started_at -= std::chrono::hours(1);
        const OperatorResult result = op.resume(r.run(), long_ago);
        CHECK(result.timed_out);
        CHECK(result.message == "timed out after 10m");
    }
    CHECK(eventually([&] { return live_members(recorded->pid).empty(); }));
    CHECK(entries_of(r.temp_root()).empty());
}

TEST_CASE("bash resume: a cancelled operator ends the adopted try", "[bash][resume]") {
    Watchdog watchdog(60);
    BashRun r({{"bash_command", "sleep 60"}});
    const std::optional<StartedProcess> recorded = execute_in_dying_daemon(r);
    REQUIRE(recorded);
    BashOperator op(r.options());
    op.cancel();
    const OperatorResult result = op.resume(r.run(), *recorded);
    CHECK(result.cancelled);
    CHECK_FALSE(result.retryable);
    CHECK(eventually([&] { return live_members(recorded->pid).empty(); }));
}

TEST_CASE("bash resume: a try that ended while the daemon was dead is read from its exit file",
          "[bash][resume]") {
    Watchdog watchdog(60);
    BashRun r({{"bash_command", "echo quick-value"}});
    const std::optional<StartedProcess> recorded = execute_in_dying_daemon(r);
    REQUIRE(recorded);
    REQUIRE(eventually([&] { return !same_process(recorded->pid, recorded->start_ticks); }));
    BashOperator op(r.options());
    const OperatorResult result = op.resume(r.run(), *recorded);
    CHECK(result.outcome == TaskOutcome::success);
    CHECK(result.value == "quick-value");
    CHECK(r.log().find("waiting again") == std::string::npos);
}

TEST_CASE("bash resume: the exit file decides when the recorded process is gone", "[bash][resume]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "echo x"}});
    write_file(r.log_file(), "[mayaflow] running: ./load.sh\nloaded 42 rows\n\n");
    // A recorded pid now used by another process (this one), told apart by its start time.
    const StartedProcess recorded{
        .pid = ::getpid(), .start_ticks = 1, .boot_id = boot_id().value_or(""), .started_at = now_instant()};
    BashOperator op(r.options());
    SECTION("0") {
        write_file(r.exit_file(), "0\n");
        const OperatorResult result = op.resume(r.run(), recorded);
        CHECK(result.outcome == TaskOutcome::success);
        CHECK(result.value == "loaded 42 rows");
    }
    SECTION("3") {
        write_file(r.exit_file(), "3\n");
        const OperatorResult result = op.resume(r.run(), recorded);
        CHECK(result.outcome == TaskOutcome::failed);
        CHECK(result.exit_code == 3);
        CHECK(result.message == "exit code 3");
    }
    SECTION("99") {
        write_file(r.exit_file(), "99\n");
        CHECK(op.resume(r.run(), recorded).outcome == TaskOutcome::skipped);
    }
    SECTION("no pid recorded") {
        write_file(r.exit_file(), "0\n");
        CHECK(op.resume(r.run(), StartedProcess{}).value == "loaded 42 rows");
        CHECK(r.started().empty());
    }
    SECTION("recorded in another boot") {
        // In this boot the pid and start ticks name this test program, which must not be waited for.
        write_file(r.exit_file(), "0\n");
        const StartedProcess other_boot{.pid = ::getpid(),
                                        .start_ticks = *process_start_ticks(::getpid()),
                                        .boot_id = "another-boot",
                                        .started_at = now_instant()};
        CHECK(op.resume(r.run(), other_boot).outcome == TaskOutcome::success);
    }
}

TEST_CASE("bash resume: neither a process nor an exit file means the try ended with the daemon",
          "[bash][resume]") {
    Watchdog watchdog(30);
    SECTION("nothing recorded at all") {
        BashRun r({{"bash_command", "echo x"}});
        BashOperator op(r.options());
        const OperatorResult result = op.resume(r.run(), StartedProcess{});
        CHECK(result.outcome == TaskOutcome::failed);
        CHECK(result.message == "the task's process ended with the daemon; no exit status was recorded");
        CHECK(result.retryable);
        CHECK_FALSE(result.exit_code);
    }
    SECTION("the shell was killed after the daemon died") {
        BashRun r({{"bash_command", "sleep 60"}});
        const std::optional<StartedProcess> recorded = execute_in_dying_daemon(r);
        REQUIRE(recorded);
        ::kill(-recorded->pid, SIGKILL);
        REQUIRE(eventually([&] { return !same_process(recorded->pid, recorded->start_ticks); }));
        BashOperator op(r.options());
        const OperatorResult result = op.resume(r.run(), *recorded);
        CHECK(result.outcome == TaskOutcome::failed);
        CHECK(result.message == std::string(kEndedWithDaemonMessage));
        CHECK(result.retryable);
    }
    SECTION("an empty exit file: the shell died while writing it") {
        BashRun r({{"bash_command", "echo x"}});
        write_file(r.exit_file(), "");
        BashOperator op(r.options());
        CHECK(op.resume(r.run(), StartedProcess{}).message == std::string(kEndedWithDaemonMessage));
    }
}

}  // namespace
}  // namespace mayaflow
