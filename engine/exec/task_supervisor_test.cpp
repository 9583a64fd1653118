#include "engine/exec/task_supervisor.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <catch2/catch.hpp>

#include "engine/exec/exec_test_support.h"
#include "engine/exec/exit_file.h"
#include "engine/exec/process_group.h"
#include "engine/exec/process_probe.h"

using namespace mayaflow;
using namespace mayaflow::exec_test;
using namespace std::chrono_literals;

namespace {

// The test program itself serves as the supervisor (tests/catch_main.cpp).
std::unique_ptr<TaskSupervisor> start_supervisor() {
    auto supervisor = TaskSupervisor::start("/proc/self/exe");
    REQUIRE(supervisor);
    return std::move(*supervisor);
}

}  // namespace

TEST_CASE("the task supervisor starts processes and records how each ended", "[exec][supervisor]") {
    Watchdog watchdog(30);
    TempDir dir;
    auto supervisor = start_supervisor();
    struct Case {
        std::vector<std::string> argv;
        int recorded;
    };
    const std::vector<Case> cases = {{{"/bin/sh", "-c", "exit 3"}, 3},
                                     {{"true"}, 0},
                                     {{"/bin/sh", "-c", "echo out; echo err >&2"}, 0},
                                     {{"/bin/sh", "-c", "kill -KILL $$"}, 128 + SIGKILL}};
    int n = 0;
    for (const auto& c : cases) {
        CAPTURE(c.argv);
        ProcessSpec spec = spec_in(dir, c.argv);
        spec.log_file = dir.path() / fmt::format("attempt={}.log", ++n);
        auto exit_file = exit_file_path(spec.log_file);
        auto started = supervisor->spawn(spec, exit_file, "[mayaflow] running: test");
        REQUIRE(started);
        CHECK(started->pid > 0);
        CHECK(started->start_ticks > 0);
        CHECK(wait_for_exit_file(exit_file, started->pid, started->start_ticks, 20s) == c.recorded);
        CHECK(read_exit_file(exit_file) == c.recorded);
    }
    CHECK(read_text(dir.path() / "attempt=3.log") == "[mayaflow] running: test\nout\nerr\n");
}

TEST_CASE("the task supervisor masks secrets in a process's output", "[exec][supervisor][masker]") {
    Watchdog watchdog(30);
    TempDir dir;
    auto supervisor = start_supervisor();
    const std::vector<std::string> secrets{"hunter2", "p@ss word"};
    // A secret split between two writes with a pause between, stderr too, a URL-encoded form, and a
    // last line (the task's result) that must be in the log by the time the end is recorded.
    ProcessSpec spec = spec_in(dir, {"/bin/sh", "-c",
                                     "printf 'pw=hun'; sleep 0.2; printf 'ter2\\n'; echo 'p%40ss%20word' >&2; "
                                     "head -c 300000 /dev/zero | tr '\\0' x; echo; echo last hunter2"});
    spec.log_file = dir.path() / "attempt=1.log";
    auto exit_file = exit_file_path(spec.log_file);
    auto started = supervisor->spawn(spec, exit_file, "[mayaflow] running: echo hunter2", secrets);
    REQUIRE(started);
    CHECK(started->log_linked);  // the pump writes to the log the caller made, linked in
    REQUIRE(wait_for_exit_file(exit_file, started->pid, started->start_ticks, 20s) == 0);
    const std::string log = read_text(spec.log_file);
    CHECK(log.starts_with("[mayaflow] running: echo ***\npw=***\n***\nxxx"));
    CHECK(log.ends_with("xxx\nlast ***\n"));
    CHECK(log.size() == std::string("[mayaflow] running: echo ***\npw=***\n***\n").size() + 300000 + 1 +
                            std::string("last ***\n").size());
    CHECK(log.find("hunter") == std::string::npos);
    CHECK(log.find("word") == std::string::npos);

    // Without secrets the output goes straight to the log, as before.
    ProcessSpec plain = spec_in(dir, {"/bin/sh", "-c", "echo hunter2"});
    plain.log_file = dir.path() / "attempt=2.log";
    auto plain_started = supervisor->spawn(plain, exit_file_path(plain.log_file), "h");
    REQUIRE(plain_started);
    REQUIRE(wait_for_exit_file(exit_file_path(plain.log_file), plain_started->pid, plain_started->start_ticks, 20s) == 0);
    CHECK(read_text(plain.log_file) == "h\nhunter2\n");
}

TEST_CASE("the task supervisor takes secrets of any size, in pieces, and the set that is current",
          "[exec][supervisor][masker]") {
    Watchdog watchdog(120);
    TempDir dir;
    auto supervisor = start_supervisor();
    auto run = [&](int n, const std::shared_ptr<const std::vector<std::string>>& secrets,
                   const std::string& printf_format) {
        ProcessSpec spec = spec_in(dir, {"/bin/sh", "-c", "printf '" + printf_format + "\\n'"});
        spec.log_file = dir.path() / fmt::format("attempt={}.log", n);
        auto started = supervisor->spawn(spec, exit_file_path(spec.log_file), "h", secrets);
        REQUIRE(started);
        REQUIRE(wait_for_exit_file(exit_file_path(spec.log_file), started->pid, started->start_ticks, 60s) ==
                0);
        return read_text(spec.log_file);
    };
    // Past the 4 MiB a datagram holds: 3,000 secrets of 2 KiB, one of 5 MiB, and bytes that are not UTF-8.
    auto big = std::make_shared<std::vector<std::string>>();
    for (int i = 0; i < 3'000; ++i) big->push_back(fmt::format("{:05d}", i) + std::string(2'043, 'k'));
    big->push_back(std::string(5 << 20, 'h') + "-end");
    big->push_back("not-utf8-\xff\xfe");
    big->push_back("small-secret");
    std::shared_ptr<const std::vector<std::string>> sent = big;
    CHECK(run(1, sent, "a small-secret b") == "h\na *** b\n");
    CHECK(run(2, sent, "x " + (*big)[1234] + " y") == "h\nx *** y\n");
    CHECK(run(3, sent, "not-utf8-\\377\\376!") == "h\n***!\n");
    // Another set replaces it: a secret left out is shown again.
    auto smaller = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"kept-secret"});
    CHECK(run(4, smaller, "small-secret kept-secret") == "h\nsmall-secret ***\n");
    CHECK(run(5, sent, "small-secret kept-secret") == "h\n*** kept-secret\n");
}

TEST_CASE("the task supervisor says why a process cannot start", "[exec][supervisor]") {
    TempDir dir;
    auto supervisor = start_supervisor();
    ProcessSpec spec = spec_in(dir, {"/no/such/program"});
    spec.log_file = dir.path() / "attempt=1.log";
    auto started = supervisor->spawn(spec, exit_file_path(spec.log_file), "h");
    REQUIRE_FALSE(started);
    CHECK(started.error().message.find("/no/such/program") != std::string::npos);
    spec = spec_in(dir, {"true"});
    spec.cwd = dir.path() / "missing";
    spec.log_file = dir.path() / "attempt=2.log";
    CHECK_FALSE(supervisor->spawn(spec, exit_file_path(spec.log_file), "h"));
}

TEST_CASE("the task supervisor outlives its daemon and still records the end of its tasks", "[exec][supervisor]") {
    Watchdog watchdog(30);
    TempDir dir;
    auto supervisor = start_supervisor();
    ProcessSpec spec = spec_in(dir, {"/bin/sh", "-c", "sleep 0.5; exit 7"});
    spec.log_file = dir.path() / "attempt=1.log";
    auto exit_file = exit_file_path(spec.log_file);
    auto started = supervisor->spawn(spec, exit_file, "[mayaflow] running: test");
    REQUIRE(started);
    pid_t supervisor_pid = supervisor->pid();
    supervisor.reset();  // the daemon hangs up, as when it is killed
    CHECK(::kill(supervisor_pid, 0) == 0);  // still there: a task is running
    CHECK(wait_for_exit_file(exit_file, started->pid, started->start_ticks, 20s) == 7);
    CHECK(read_exit_file(exit_file) == 7);
    // With its last task ended, the supervisor ends too.
    CHECK(eventually([&] {
        siginfo_t info{};
        return ::waitid(P_PID, static_cast<id_t>(supervisor_pid), &info, WEXITED | WNOHANG) == 0 &&
               info.si_pid == supervisor_pid;
    }));
}

TEST_CASE("a supervised process group ends on SIGTERM and its end is recorded", "[exec][supervisor]") {
    Watchdog watchdog(30);
    TempDir dir;
    auto supervisor = start_supervisor();
    ProcessSpec spec = spec_in(dir, {"/bin/sh", "-c", "sleep 1000"});
    spec.log_file = dir.path() / "attempt=1.log";
    auto exit_file = exit_file_path(spec.log_file);
    auto started = supervisor->spawn(spec, exit_file, "[mayaflow] running: test");
    REQUIRE(started);
    REQUIRE(terminate_process_group(started->pid, 5s));
    CHECK(wait_for_exit_file(exit_file, started->pid, started->start_ticks, 20s) == 128 + SIGTERM);
    CHECK(read_exit_file(exit_file) == 128 + SIGTERM);
}

namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

std::size_t open_descriptors(pid_t pid) {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid)))
        ++count;
    return count;
}

// A process that waits at `gate` (a FIFO) until the test lets it go: what the test checks before
// that is not a race with the process's end, however loaded the machine.
class Gate {
  public:
    explicit Gate(std::filesystem::path path) : path_(std::move(path)) { REQUIRE(::mkfifo(path_.c_str(), 0600) == 0); }
    std::string wait_command() const { return "read line < \"" + path_.string() + "\""; }
    void open_up() {
        std::ofstream(path_) << "go\n";  // blocks until the process has opened its end
    }

  private:
    std::filesystem::path path_;
};

}  // namespace

TEST_CASE("a try's log appears with its header and its exit file starts empty, whatever was there",
          "[exec][supervisor]") {
    Watchdog watchdog(60);
    TempDir dir;
    auto supervisor = start_supervisor();
    const mode_t mask = ::umask(0022);
    ::umask(mask);
    Gate gate(dir.path() / "gate");

    SECTION("a new log, in folders not made yet") {
        ProcessSpec spec = spec_in(dir, {"/bin/sh", "-c", gate.wait_command() + "; echo out"});
        spec.log_file = dir.path() / "dag_id=d" / "run_id=r" / "task_id=t" / "attempt=1.log";
        const auto exit_file = exit_file_path(spec.log_file);
        auto started = supervisor->spawn(spec, exit_file, "[mayaflow] running: test");
        REQUIRE(started);
        // The unnamed file the caller made, linked in: whole from the moment it is there, the
        // header, and the process's output after it.
        CHECK(started->log_linked);
        CHECK(read_text(spec.log_file) == "[mayaflow] running: test\n");
        CHECK(started->log_size_before == std::string("[mayaflow] running: test\n").size());
        CHECK(std::filesystem::exists(exit_file));
        CHECK_FALSE(read_exit_file(exit_file));
        gate.open_up();
        CHECK(wait_for_exit_file(exit_file, started->pid, started->start_ticks, 20s) == 0);
        CHECK(read_text(spec.log_file) == "[mayaflow] running: test\nout\n");
        struct stat info {};
        REQUIRE(::stat(spec.log_file.c_str(), &info) == 0);
        CHECK((info.st_mode & 0777) == (0644 & ~mask));
        CHECK(info.st_nlink == 1);
    }
    SECTION("a log and an exit file left by an earlier start of the same try") {
        ProcessSpec spec = spec_in(dir, {"/bin/sh", "-c", gate.wait_command() + "; echo out; exit 4"});
        spec.log_file = dir.path() / "attempt=1.log";
        const auto exit_file = exit_file_path(spec.log_file);
        write_text(spec.log_file, "earlier line\n");
        write_text(exit_file, "0\n");
        auto started = supervisor->spawn(spec, exit_file, "[mayaflow] running: test");
        REQUIRE(started);
        CHECK_FALSE(started->log_linked);  // appended to by its name
        CHECK_FALSE(read_exit_file(exit_file));  // the earlier status is gone before the process runs
        gate.open_up();
        CHECK(wait_for_exit_file(exit_file, started->pid, started->start_ticks, 20s) == 4);
        CHECK(read_text(spec.log_file) == "earlier line\n[mayaflow] running: test\nout\n");
    }
    SECTION("an exit file the task removed or wrote to still gets the status alone") {
        int n = 0;
        for (const std::string command : {"rm \"$MAYAFLOW_EXIT_FILE\"; exit 6",
                                          "echo 'not a status' >> \"$MAYAFLOW_EXIT_FILE\"; exit 6",
                                          "mv \"$MAYAFLOW_EXIT_FILE\" elsewhere; exit 6"}) {
            CAPTURE(command);
            ProcessSpec spec = spec_in(dir, {"/bin/sh", "-c", command});
            spec.log_file = dir.path() / fmt::format("attempt={}.log", ++n);
            const auto exit_file = exit_file_path(spec.log_file);
            spec.env["MAYAFLOW_EXIT_FILE"] = exit_file.string();
            auto started = supervisor->spawn(spec, exit_file, "h");
            REQUIRE(started);
            CHECK(wait_for_exit_file(exit_file, started->pid, started->start_ticks, 20s) == 6);
            CHECK(read_text(exit_file) == "6\n");
        }
    }
    SECTION("no exit file is left for a process that could not start") {
        ProcessSpec spec = spec_in(dir, {"/no/such/program"});
        spec.log_file = dir.path() / "attempt=1.log";
        const auto exit_file = exit_file_path(spec.log_file);
        REQUIRE_FALSE(supervisor->spawn(spec, exit_file, "h"));
        CHECK_FALSE(std::filesystem::exists(exit_file));
    }
    SECTION("a log folder that cannot be made") {
        write_text(dir.path() / "blocked", "a file where the folder should be\n");
        ProcessSpec spec = spec_in(dir, {"true"});
        spec.log_file = dir.path() / "blocked" / "attempt=1.log";
        auto started = supervisor->spawn(spec, exit_file_path(spec.log_file), "h");
        REQUIRE_FALSE(started);
        CHECK(started.error().message.find("attempt=1.log") != std::string::npos);
    }
    SECTION("the files passed to the supervisor are closed once the processes end, or fail to start") {
        int n = 0;
        auto start_one = [&](bool masked, bool starts) {
            ProcessSpec spec = spec_in(dir, {starts ? "true" : "/no/such/program"});
            spec.log_file = dir.path() / fmt::format("attempt={}.log", ++n);
            const auto exit_file = exit_file_path(spec.log_file);
            auto started = supervisor->spawn(spec, exit_file, "h",
                                             masked ? std::vector<std::string>{"hunter2"} : std::vector<std::string>{});
            REQUIRE(started.ok() == starts);
            if (starts) REQUIRE(wait_for_exit_file(exit_file, started->pid, started->start_ticks, 20s) == 0);
        };
        start_one(false, true);
        start_one(true, true);
        // The supervisor closes a process's files just after it writes the status: counted once settled.
        auto settled_count = [&](std::size_t expected) {
            std::size_t count = open_descriptors(supervisor->pid());
            for (int i = 0; i < 200 && count != expected; ++i) {
                std::this_thread::sleep_for(10ms);
                count = open_descriptors(supervisor->pid());
            }
            return count;
        };
        std::this_thread::sleep_for(100ms);
        const std::size_t before = open_descriptors(supervisor->pid());
        for (int i = 0; i < 10; ++i) {
            start_one(false, true);
            start_one(true, true);
            start_one(false, false);
            start_one(true, false);
        }
        CHECK(settled_count(before) == before);
    }
}

TEST_CASE("a task supervisor that was killed is replaced by the next start, and says what its tries lost",
          "[exec][supervisor]") {
    Watchdog watchdog(60);
    TempDir dir;
    auto supervisor = start_supervisor();
    Gate gate(dir.path() / "gate");
    ProcessSpec orphaned = spec_in(dir, {"/bin/sh", "-c", gate.wait_command() + "; echo orphan"});
    orphaned.log_file = dir.path() / "attempt=1.log";
    const auto orphaned_exit = exit_file_path(orphaned.log_file);
    auto first = supervisor->spawn(orphaned, orphaned_exit, "h", {"hunter2"});  // masked: secrets were sent
    REQUIRE(first);
    const pid_t killed = supervisor->pid();
    CHECK_FALSE(supervisor->gone());
    REQUIRE(::kill(killed, SIGKILL) == 0);
    for (int i = 0; i < 500 && !supervisor->gone(); ++i) std::this_thread::sleep_for(10ms);
    REQUIRE(supervisor->gone());
    CHECK(supervisor->replacements() == 0);  // not before a process is asked for

    // The next start goes to a new supervisor, with the secrets sent again.
    for (bool masked : {false, true}) {
        CAPTURE(masked);
        ProcessSpec spec = spec_in(dir, {"/bin/sh", "-c", "echo hunter2"});
        spec.log_file = dir.path() / fmt::format("attempt={}.log", masked ? 3 : 2);
        const auto exit_file = exit_file_path(spec.log_file);
        auto started = supervisor->spawn(spec, exit_file, "h",
                                         masked ? std::vector<std::string>{"hunter2"} : std::vector<std::string>{});
        REQUIRE(started);
        CHECK(wait_for_exit_file(exit_file, started->pid, started->start_ticks, 20s) == 0);
        CHECK(read_text(spec.log_file) == (masked ? "h\n***\n" : "h\nhunter2\n"));
    }
    CHECK(supervisor->pid() != killed);
    CHECK(supervisor->replacements() == 1);
    CHECK_FALSE(supervisor->gone());

    // The process the killed one started runs on; its end is not recorded (no one is left to).
    CHECK(process_group_alive(first->pid));
    gate.open_up();
    CHECK_FALSE(wait_for_exit_file(orphaned_exit, first->pid, first->start_ticks, 3s));
}
