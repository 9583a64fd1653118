#include "engine/exec/process_probe.h"

#include <signal.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>

#include "engine/exec/child_process.h"
#include "engine/exec/exec_test_support.h"
#include "engine/exec/exit_file.h"
#include "engine/exec/process_group.h"

using namespace mayaflow;
using namespace mayaflow::exec_test;
using namespace std::chrono_literals;

namespace {

// A pid above the largest the kernel hands out (/proc/sys/kernel/pid_max is at most 2^22).
constexpr pid_t kNoSuchPid = 0x7ffffff0;

// A /proc/<pid>/stat line with the given command name, fields 14 and 15 (utime, stime) of 1 and 2 and
// field 22 (start ticks) of 98765.
std::string stat_line(const std::string& name) {
    return "4242 (" + name +
           ") S 1 4240 4239 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 10000000 300 "
           "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

}  // namespace

TEST_CASE("parse_proc_stat reads the fields after a command name with spaces and parentheses",
          "[exec][process_probe]") {
    const std::string name =
        GENERATE(as<std::string>(), "bash", "a) b (c", ") ) (", "x) S 1 2 3 (", "two\nlines", "");
    CAPTURE(name);
    const std::optional<ProcStat> stat = parse_proc_stat(stat_line(name));
    REQUIRE(stat.has_value());
    CHECK(stat->pid == 4242);
    CHECK(stat->command_name == name);
    CHECK(stat->state == 'S');
    CHECK(stat->parent == 1);
    CHECK(stat->process_group == 4240);
    CHECK(stat->session == 4239);
    CHECK(stat->user_ticks == 1);
    CHECK(stat->system_ticks == 2);
    CHECK(stat->start_ticks == 98765);
    CHECK_FALSE(stat->ended());
}

TEST_CASE("parse_proc_stat rejects what is not a stat line", "[exec][process_probe]") {
    const std::string text =
        GENERATE(as<std::string>(), "", "4242", "4242 (bash", "4242 (bash) S 1 2 3",
                 "x (bash) S 1 4240 4239 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765",
                 "4242 (bash) S 1 4240 4239 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 9x",
                 "4242 (bash) SS 1 4240 4239 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765",
                 "4242 (bash)S 1 4240 4239 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765");
    CAPTURE(text);
    CHECK(parse_proc_stat(text) == std::nullopt);
}

TEST_CASE("read_proc_stat reads a real process named \"a) b (c\"", "[exec][process_probe]") {
    Watchdog watchdog(30);
    TempDir dir;
    const std::filesystem::path program = dir.path() / "a) b (c";
    std::filesystem::create_symlink("/bin/sleep", program);  // the kernel names a process after the path run
    Result<ChildProcess> child = ChildProcess::spawn(spec_in(dir, {program.string(), "1000"}));
    REQUIRE(child.ok());

    const std::optional<ProcStat> stat = read_proc_stat(child->pid());
    REQUIRE(stat.has_value());
    CHECK(stat->pid == child->pid());
    CHECK(stat->command_name == "a) b (c");
    CHECK(stat->parent == ::getpid());
    CHECK(stat->process_group == child->pid());
    CHECK(stat->session == child->pid());
    CHECK(stat->start_ticks == child->start_ticks());
    CHECK(process_start_ticks(child->pid()) == child->start_ticks());
    child->terminate(10s);
}

TEST_CASE("same_process tells a process from another with the same pid", "[exec][process_probe]") {
    const std::optional<std::uint64_t> mine = process_start_ticks(::getpid());
    REQUIRE(mine.has_value());
    CHECK(same_process(::getpid(), *mine));
    CHECK_FALSE(same_process(::getpid(), *mine + 1));
    CHECK_FALSE(same_process(kNoSuchPid, *mine));
    CHECK(process_start_ticks(kNoSuchPid) == std::nullopt);
    CHECK(process_start_ticks(0) == std::nullopt);
    CHECK(process_start_ticks(-1) == std::nullopt);
}

TEST_CASE("A zombie is not the same process any more, but still holds its group", "[exec][process_probe]") {
    Watchdog watchdog(30);
    TempDir dir;
    Result<ChildProcess> child = ChildProcess::spawn(spec_in(dir, {"/bin/sh", "-c", "exit 0"}));
    REQUIRE(child.ok());
    REQUIRE(child->wait(20s)->succeeded());  // ended, not yet reaped

    CHECK(read_proc_stat(child->pid())->state == 'Z');
    CHECK_FALSE(same_process(child->pid(), child->start_ticks()));
    CHECK(process_group_alive(child->process_group()));
    CHECK_FALSE(process_group_has_live_members(child->process_group()));
    child->terminate(1s);
    CHECK_FALSE(process_group_alive(child->process_group()));
}

TEST_CASE("process_group_alive sees a live group and never means every process", "[exec][process_probe]") {
    Watchdog watchdog(30);
    TempDir dir;
    CHECK_FALSE(process_group_alive(0));
    CHECK_FALSE(process_group_alive(1));
    CHECK_FALSE(process_group_alive(-1));
    CHECK_FALSE(process_group_alive(kNoSuchPid));
    CHECK_FALSE(process_group_has_live_members(0));

    Result<ChildProcess> child = ChildProcess::spawn(spec_in(dir, {"/bin/sleep", "1000"}));
    REQUIRE(child.ok());
    CHECK(process_group_alive(child->process_group()));
    CHECK(process_group_has_live_members(child->process_group()));
    child->terminate(10s);
    CHECK_FALSE(process_group_alive(child->process_group()));
}

TEST_CASE("boot_id names this boot", "[exec][process_probe]") {
    const std::optional<std::string> id = boot_id();
    REQUIRE(id.has_value());
    CHECK(id->size() == 36);  // a UUID
    CHECK(boot_id() == id);
}

TEST_CASE("wait_for_foreign_exit waits for a process that is not our child", "[exec][process_probe]") {
    Watchdog watchdog(30);
    TempDir dir;
    const std::filesystem::path go = dir.path() / "go";
    const std::string script = "(while [ ! -e go ]; do sleep 0.01; done) & echo $!; wait";
    Result<ChildProcess> child = ChildProcess::spawn(spec_in(dir, {"/bin/sh", "-c", script}));
    REQUIRE(child.ok());
    REQUIRE(eventually([&] { return read_text(dir.path() / "task.log").find('\n') != std::string::npos; }));
    const pid_t grandchild = std::stoi(read_text(dir.path() / "task.log"));
    const std::optional<std::uint64_t> ticks = process_start_ticks(grandchild);
    REQUIRE(ticks.has_value());
    REQUIRE(read_proc_stat(grandchild)->parent == child->pid());

    Result<ForeignWait> early = wait_for_foreign_exit(grandchild, *ticks, 20ms);
    REQUIRE(early.ok());
    CHECK(*early == ForeignWait::timed_out);

    std::ofstream(go).put('\n');
    Result<ForeignWait> late = wait_for_foreign_exit(grandchild, *ticks, 20s);
    REQUIRE(late.ok());
    CHECK(*late == ForeignWait::ended);
    CHECK_FALSE(same_process(grandchild, *ticks));
    CHECK(child->wait(20s)->succeeded());
}

TEST_CASE("wait_for_foreign_exit does not wait for a process the pid no longer names",
          "[exec][process_probe]") {
    Watchdog watchdog(30);
    const std::uint64_t mine = *process_start_ticks(::getpid());
    // This very process, recorded with another start time, stands for a recycled pid: it must not be waited
    // on.
    CHECK(*wait_for_foreign_exit(::getpid(), mine + 1, std::nullopt) == ForeignWait::ended);
    CHECK(*wait_for_foreign_exit(kNoSuchPid, mine, std::nullopt) == ForeignWait::ended);
    CHECK(*wait_for_foreign_exit(::getpid(), mine, 1ms) == ForeignWait::timed_out);
}

TEST_CASE("A task that outlives its daemon finishes, records its exit and can be told apart",
          "[exec][process_probe][recovery]") {
    Watchdog watchdog(60);
    TempDir dir;
    ProcessSpec spec = spec_in(dir, {});
    spec.log_file = dir.path() / "attempt=1.log";
    const std::filesystem::path exit_file = exit_file_path(spec.log_file);
    const WrappedCommand wrapped = wrap_shell_command(
        "echo working; while [ ! -e go ]; do sleep 0.01; done; echo done; exit 7", exit_file);
    spec.argv = wrapped.argv;
    spec.env.insert(wrapped.env.begin(), wrapped.env.end());

    // The daemon starts the task, records pid and start time, and is killed with SIGKILL.
    const std::optional<Orphan> task = spawn_from_dying_daemon(spec);
    REQUIRE(task.has_value());

    // The restarted daemon finds the recorded process still running, and not as its own child.
    CHECK(same_process(task->pid, task->start_ticks));
    CHECK(process_group_alive(task->pid));
    CHECK(read_proc_stat(task->pid)->parent != ::getpid());
    CHECK(read_exit_file(exit_file) == std::nullopt);
    CHECK(*wait_for_foreign_exit(task->pid, task->start_ticks, 20ms) == ForeignWait::timed_out);

    // It adopts the task and waits for its exit file.
    std::ofstream(dir.path() / "go").put('\n');
    Result<ForeignWait> waited = wait_for_foreign_exit(task->pid, task->start_ticks, 20s);
    REQUIRE(waited.ok());
    CHECK(*waited == ForeignWait::ended);
    CHECK(read_exit_file(exit_file) == 7);
    CHECK_FALSE(same_process(task->pid, task->start_ticks));
    CHECK(read_text(spec.log_file) == "working\ndone\n");
}

TEST_CASE("A task killed along with its daemon leaves no exit file", "[exec][process_probe][recovery]") {
    Watchdog watchdog(60);
    TempDir dir;
    ProcessSpec spec = spec_in(dir, {});
    spec.log_file = dir.path() / "attempt=1.log";
    const std::filesystem::path exit_file = exit_file_path(spec.log_file);
    const WrappedCommand wrapped = wrap_shell_command("sleep 1000", exit_file);
    spec.argv = wrapped.argv;
    spec.env.insert(wrapped.env.begin(), wrapped.env.end());

    const std::optional<Orphan> task = spawn_from_dying_daemon(spec);
    REQUIRE(task.has_value());
    REQUIRE(same_process(task->pid, task->start_ticks));
    REQUIRE(signal_process_group(task->pid, SIGKILL).ok());  // say, the machine's OOM killer
    CHECK(*wait_for_foreign_exit(task->pid, task->start_ticks, 20s) == ForeignWait::ended);
    CHECK(wait_for_group_to_end(task->pid, 20s));
    // Neither running nor an exit file: the restarted daemon retries the task per its retry policy.
    CHECK_FALSE(same_process(task->pid, task->start_ticks));
    CHECK(read_exit_file(exit_file) == std::nullopt);
}

TEST_CASE("A task whose pid was never recorded is found by its exit file's path",
          "[exec][process_probe][recovery]") {
    Watchdog watchdog(60);
    TempDir dir;
    ProcessSpec spec = spec_in(dir, {});
    spec.log_file = dir.path() / "attempt=2.log";
    const std::filesystem::path exit_file = exit_file_path(spec.log_file);
    const WrappedCommand wrapped = wrap_shell_command("sleep 1000", exit_file);
    spec.argv = wrapped.argv;
    spec.env.insert(wrapped.env.begin(), wrapped.env.end());
    const std::string entry = "MAYAFLOW_EXIT_FILE=" + exit_file.string();
    CHECK(find_session_leader_with_environment(entry) == std::nullopt);

    Result<ChildProcess> child = ChildProcess::spawn(spec);
    REQUIRE(child.ok());
    // Found although the wrapper unset the variable, and only the leader, not the subshell or sleep.
    REQUIRE(eventually([&] { return live_members(child->pid()).size() >= 2; }));
    CHECK(find_session_leader_with_environment(entry) == child->pid());
    CHECK(find_session_leader_with_environment(entry + "x") == std::nullopt);
    CHECK(find_session_leader_with_environment("MAYAFLOW_EXIT_FILE=") == std::nullopt);
    child->terminate(10s);
    CHECK(find_session_leader_with_environment(entry) == std::nullopt);
}
