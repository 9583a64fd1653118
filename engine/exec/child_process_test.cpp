#include "engine/exec/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "engine/exec/exec_test_support.h"
#include "engine/exec/process_probe.h"

using namespace mayaflow;
using namespace mayaflow::exec_test;
using namespace std::chrono_literals;

namespace {

ChildProcess must_spawn(const ProcessSpec& spec) {
    Result<ChildProcess> child = ChildProcess::spawn(spec);
    if (!child) FAIL("spawn failed: " << child.error().message);
    return std::move(child).value();
}

ExitStatus must_wait(ChildProcess& child, Duration timeout = 20s) {
    Result<ExitStatus> status = child.wait(timeout);
    if (!status) FAIL("wait failed: " << status.error().message);
    return *status;
}

std::string spawn_error(const ProcessSpec& spec) {
    Result<ChildProcess> child = ChildProcess::spawn(spec);
    REQUIRE_FALSE(child.ok());
    return child.error().message;
}

void write_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
    std::ofstream(path, std::ios::binary) << text;
    std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode));
}

}  // namespace

TEST_CASE("ChildProcess reports the exit code", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    const int code = GENERATE(0, 1, 99, 255);
    ChildProcess child = must_spawn(spec_in(dir, {"/bin/sh", "-c", "exit " + std::to_string(code)}));
    const ExitStatus status = must_wait(child);
    CHECK(status.exited);
    CHECK(status.exit_code == code);
    CHECK(status.signal == 0);
    CHECK_FALSE(status.timed_out);
    CHECK(status.succeeded() == (code == 0));
    CHECK(status.describe() == "exited with code " + std::to_string(code));
}

TEST_CASE("ChildProcess reports the signal that killed the child", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    ChildProcess child = must_spawn(spec_in(dir, {"/bin/sh", "-c", "kill -USR1 $$"}));
    const ExitStatus status = must_wait(child);
    CHECK_FALSE(status.exited);
    CHECK(status.signal == SIGUSR1);
    CHECK_FALSE(status.succeeded());
    CHECK(status.describe() == "killed by signal 10 (SIGUSR1)");
    CHECK(ExitStatus{.timed_out = true}.describe() == "still running");
}

TEST_CASE("ChildProcess appends stdout and stderr to the log across runs", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    ProcessSpec spec = spec_in(dir, {"/bin/sh", "-c", "echo out; echo err >&2; echo out2"});
    spec.log_file = dir.path() / "logs" / "dag=d" / "attempt=1.log";  // folders created on the way
    for (int run = 0; run < 2; ++run) {
        ChildProcess child = must_spawn(spec);
        CHECK(must_wait(child).succeeded());
    }
    CHECK(read_text(spec.log_file) == "out\nerr\nout2\nout\nerr\nout2\n");
}

TEST_CASE("ChildProcess passes exactly the given environment", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    ::setenv("MAYAFLOW_TEST_MUST_NOT_LEAK", "1", 1);
    ProcessSpec spec = spec_in(dir, {"/usr/bin/env"});
    spec.env = {{"A", "1"}, {"B", "x y = z"}, {"EMPTY", ""}, {"UNICODE", "Grüße"}};
    ChildProcess child = must_spawn(spec);
    CHECK(must_wait(child).succeeded());
    ::unsetenv("MAYAFLOW_TEST_MUST_NOT_LEAK");
    CHECK(read_text(spec.log_file) == "A=1\nB=x y = z\nEMPTY=\nUNICODE=Grüße\n");
}

TEST_CASE("ChildProcess runs in the given working directory", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    std::filesystem::create_directory(dir.path() / "work dir");
    write_file(dir.path() / "work dir" / "tool.sh", "#!/bin/sh\necho \"tool ran in $PWD\"\n", 0755);

    SECTION("an absolute program") {
        ProcessSpec spec = spec_in(dir, {"/bin/pwd"});
        spec.cwd = dir.path() / "work dir";
        ChildProcess child = must_spawn(spec);
        CHECK(must_wait(child).succeeded());
        CHECK(read_text(spec.log_file) == (dir.path() / "work dir").string() + "\n");
    }
    SECTION("a program relative to the working directory") {
        ProcessSpec spec = spec_in(dir, {"./tool.sh"});
        spec.cwd = dir.path() / "work dir";
        ChildProcess child = must_spawn(spec);
        CHECK(must_wait(child).succeeded());
        CHECK(read_text(spec.log_file) == "tool ran in " + (dir.path() / "work dir").string() + "\n");
    }
    SECTION("a program found in the task's PATH, not the daemon's") {
        ProcessSpec spec = spec_in(dir, {"tool.sh"});
        spec.env["PATH"] = (dir.path() / "work dir").string();
        ChildProcess child = must_spawn(spec);
        CHECK(must_wait(child).succeeded());
        CHECK(read_text(spec.log_file) == "tool ran in " + dir.path().string() + "\n");
    }
    SECTION("an empty cwd keeps the daemon's") {
        ProcessSpec spec = spec_in(dir, {"/bin/pwd"});
        spec.cwd.clear();
        ChildProcess child = must_spawn(spec);
        CHECK(must_wait(child).succeeded());
        CHECK(read_text(spec.log_file) == std::filesystem::current_path().string() + "\n");
    }
}

TEST_CASE("ChildProcess says clearly what is wrong instead of starting", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    ProcessSpec spec = spec_in(dir, {"/bin/true"});
    write_file(dir.path() / "plain.txt", "not a program\n", 0644);
    write_file(dir.path() / "no-shebang.sh", "echo hi\n", 0755);
    write_file(dir.path() / "bad-interpreter.sh", "#!/nonexistent/interpreter\necho hi\n", 0755);

    SECTION("a missing working directory") {
        spec.cwd = dir.path() / "missing";
        const std::string message = spawn_error(spec);
        CHECK_THAT(message, Catch::Contains("working directory") && Catch::Contains("missing"));
    }
    SECTION("a working directory that is a file") {
        spec.cwd = dir.path() / "plain.txt";
        CHECK_THAT(spawn_error(spec), Catch::Contains("not a folder"));
    }
    SECTION("a missing executable") {
        spec.argv = {(dir.path() / "nope").string()};
        CHECK_THAT(spawn_error(spec), Catch::Contains("No such file") && Catch::Contains("nope"));
    }
    SECTION("a name that is not in PATH") {
        spec.argv = {"mayaflow-no-such-program"};
        CHECK_THAT(spawn_error(spec), Catch::Contains("mayaflow-no-such-program") && Catch::Contains("PATH"));
    }
    SECTION("a directory") {
        spec.argv = {dir.path().string()};
        CHECK_THAT(spawn_error(spec), Catch::Contains("is a directory"));
    }
    SECTION("a file that is not executable") {
        spec.argv = {(dir.path() / "plain.txt").string()};
        CHECK_THAT(spawn_error(spec), Catch::Contains("not executable"));
    }
    SECTION("a script without #!") {
        spec.argv = {(dir.path() / "no-shebang.sh").string()};
        CHECK_THAT(spawn_error(spec), Catch::Contains("#!"));
    }
    SECTION("a script whose interpreter is missing") {
        spec.argv = {(dir.path() / "bad-interpreter.sh").string()};
        CHECK_THAT(spawn_error(spec), Catch::Contains("interpreter"));
    }
    SECTION("an empty argv") {
        spec.argv.clear();
        CHECK_THAT(spawn_error(spec), Catch::Contains("argv is empty"));
    }
    SECTION("a bad environment variable name") {
        spec.env["A=B"] = "1";
        CHECK_THAT(spawn_error(spec), Catch::Contains("A=B") && Catch::Contains("environment variable name"));
    }
    SECTION("a NUL byte in an argument") {
        spec.argv.push_back(std::string("a\0b", 3));
        CHECK_THAT(spawn_error(spec), Catch::Contains("NUL"));
    }
    SECTION("no log file") {
        spec.log_file.clear();
        CHECK_THAT(spawn_error(spec), Catch::Contains("log_file is empty"));
    }
    SECTION("a log file that cannot be created") {
        spec.log_file = dir.path() / "plain.txt" / "task.log";
        CHECK_THAT(spawn_error(spec), Catch::Contains("plain.txt/task.log"));
    }
    CHECK(zombie_children().empty());
}

TEST_CASE("ChildProcess gives the child /dev/null as stdin and none of the daemon's descriptors",
          "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    const int leaked = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
    REQUIRE(leaked > 2);
    const std::string script = "cat; readlink /proc/$$/fd/0; test -e /proc/$$/fd/" + std::to_string(leaked) +
                               " && echo leaked; ls /proc/$$/fd";
    ChildProcess child = must_spawn(spec_in(dir, {"/bin/sh", "-c", script}));
    CHECK(must_wait(child).succeeded());
    ::close(leaked);
    CHECK(read_text(dir.path() / "task.log") == "/dev/null\n0\n1\n2\n");
}

TEST_CASE("ChildProcess starts the child with no blocked or ignored signals", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGUSR2);
    sigset_t old_mask;
    REQUIRE(::pthread_sigmask(SIG_BLOCK, &blocked, &old_mask) == 0);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction old_pipe {};
    struct sigaction old_int {};
    ::sigaction(SIGPIPE, &ignore, &old_pipe);
    ::sigaction(SIGINT, &ignore, &old_int);

    Result<ChildProcess> child =
        ChildProcess::spawn(spec_in(dir, {"/bin/grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"}));

    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    ::sigaction(SIGINT, &old_int, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    REQUIRE(child.ok());
    CHECK(must_wait(*child).succeeded());
    CHECK(read_text(dir.path() / "task.log") == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST_CASE("ChildProcess leads its own session and process group", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    const Instant before = now_instant();
    ChildProcess child = must_spawn(spec_in(dir, {"/bin/sleep", "1000"}));
    CHECK(child.pid() > 0);
    CHECK(child.process_group() == child.pid());
    CHECK(::getpgid(child.pid()) == child.pid());
    CHECK(::getsid(child.pid()) == child.pid());
    CHECK(child.started_at() >= before);
    CHECK(child.started_at() <= now_instant());
    CHECK(process_start_ticks(child.pid()) == child.start_ticks());
    CHECK(same_process(child.pid(), child.start_ticks()));

    const Result<ExitStatus> status = child.wait(0us);
    REQUIRE(status.ok());
    CHECK(status->timed_out);
    CHECK(status->describe() == "still running");
    child.terminate(10s);
    CHECK(child.wait(0us)->signal == SIGTERM);
    CHECK_FALSE(process_group_alive(child.pid()));
}

TEST_CASE("ChildProcess::terminate ends a whole group whose grandchild ignores SIGTERM",
          "[exec][child_process]") {
    Watchdog watchdog(60);
    TempDir dir;
    ChildProcess child = must_spawn(spec_in(dir, {"/bin/bash", "-c", "trap \"\" TERM; sleep 1000 & wait"}));
    const pid_t group = child.process_group();
    REQUIRE(eventually([&] { return live_members(group).size() == 2; }));
    const std::vector<ProcStat> members = live_members(group);

    const ExitStatus waited = must_wait(child, 200ms);
    CHECK(waited.timed_out);  // the timeout passed; the caller now ends the task
    child.terminate(300ms);

    CHECK_FALSE(process_group_has_live_members(group));
    for (const ProcStat& member : members) CHECK_FALSE(same_process(member.pid, member.start_ticks));
    CHECK(zombie_children().empty());
    const ExitStatus status = must_wait(child, 0us);
    CHECK(status.signal == SIGKILL);  // bash ignored SIGTERM, so only SIGKILL ended it
    child.terminate(300ms);           // a second call does nothing
}

TEST_CASE("ChildProcess ends what a finished task left running in its group", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    std::optional<ProcStat> background;
    {
        ChildProcess child = must_spawn(spec_in(dir, {"/bin/sh", "-c", "sleep 1000 & echo $!"}));
        CHECK(must_wait(child).succeeded());
        const pid_t pid = std::stoi(read_text(dir.path() / "task.log"));
        background = read_proc_stat(pid);
        REQUIRE(background.has_value());
        CHECK(background->process_group == child.process_group());
        CHECK(same_process(background->pid, background->start_ticks));
    }
    CHECK_FALSE(same_process(background->pid, background->start_ticks));
    CHECK(zombie_children().empty());
}

TEST_CASE("ChildProcess's destructor ends a running child and leaves no zombie", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    pid_t pid = -1;
    std::uint64_t ticks = 0;
    {
        ChildProcess child = must_spawn(spec_in(dir, {"/bin/sleep", "1000"}));
        pid = child.pid();
        ticks = child.start_ticks();
    }
    CHECK_FALSE(same_process(pid, ticks));
    CHECK_FALSE(process_group_alive(pid));
    CHECK(zombie_children().empty());
}

TEST_CASE("ChildProcess moves its ownership of the child", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    ChildProcess first = must_spawn(spec_in(dir, {"/bin/sleep", "1000"}));
    const pid_t pid = first.pid();
    ChildProcess second = std::move(first);
    CHECK(second.pid() == pid);
    CHECK(first.pid() == -1);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    CHECK(first.pidfd() == -1);
    CHECK_FALSE(first.wait(0us).ok());

    ChildProcess third = must_spawn(spec_in(dir, {"/bin/sleep", "1000"}));
    const pid_t replaced = third.pid();
    const std::uint64_t replaced_ticks = third.start_ticks();
    third = std::move(second);  // ends the child third held
    CHECK_FALSE(same_process(replaced, replaced_ticks));
    CHECK(third.pid() == pid);
    CHECK(third.wait(0us)->timed_out);
    third.terminate(10s);
    CHECK(zombie_children().empty());
}

TEST_CASE("ChildProcess::signal_group may cancel a child another thread is waiting for",
          "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    ChildProcess child = must_spawn(spec_in(dir, {"/bin/sleep", "1000"}));
    std::thread canceller([&child] {
        std::this_thread::sleep_for(50ms);
        CHECK(child.signal_group(SIGTERM).ok());
    });
    const ExitStatus status = must_wait(child);
    canceller.join();
    CHECK(status.signal == SIGTERM);
}

TEST_CASE("ChildProcess's pidfd becomes readable when the child ends", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    ChildProcess child = must_spawn(spec_in(dir, {"/bin/sh", "-c", "exit 4"}));
    pollfd readable{child.pidfd(), POLLIN, 0};
    REQUIRE(::poll(&readable, 1, 20'000) == 1);
    CHECK(must_wait(child, 0us).exit_code == 4);
    child.terminate(1s);
    CHECK(child.pidfd() == -1);
    CHECK(must_wait(child, 0us).exit_code == 4);  // the status outlives the reaping
    CHECK(zombie_children().empty());
}

TEST_CASE("ChildProcess::detach leaves the child running", "[exec][child_process]") {
    Watchdog watchdog(30);
    TempDir dir;
    pid_t pid = -1;
    std::uint64_t ticks = 0;
    {
        ChildProcess child = must_spawn(spec_in(dir, {"/bin/sleep", "1000"}));
        pid = child.pid();
        ticks = child.start_ticks();
        child.detach();
        CHECK_FALSE(child.wait(0us).ok());
        CHECK_FALSE(child.signal_group(SIGTERM).ok());
    }
    CHECK(same_process(pid, ticks));
    // This test program stands for the daemon that let it go; clean up as its successor would.
    ::kill(-pid, SIGKILL);
    CHECK(::waitpid(pid, nullptr, 0) == pid);
}
