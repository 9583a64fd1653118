#pragma once
// Helpers shared by the exec tests: a temporary folder, a watchdog so that no test can hang, and scans
// of /proc for zombies and process-group members.

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/exec/child_process.h"
#include "engine/exec/process_probe.h"

namespace mayaflow::exec_test {

// A folder under /tmp, removed with everything in it at the end of the test.
class TempDir {
  public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "mayaflow-exec-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = std::filesystem::canonical(pattern);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

// Ends the whole test program with SIGALRM when a test runs longer than `seconds`: a hang becomes a failure.
class Watchdog {
  public:
    explicit Watchdog(unsigned seconds) { ::alarm(seconds); }
    ~Watchdog() { ::alarm(0); }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
};

inline std::string read_text(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// A spec that runs `argv` in `dir` with only PATH set, logging to dir/task.log.
inline ProcessSpec spec_in(const TempDir& dir, std::vector<std::string> argv) {
    return ProcessSpec{.argv = std::move(argv),
                       .env = {{"PATH", "/usr/bin:/bin"}},
                       .cwd = dir.path(),
                       .log_file = dir.path() / "task.log"};
}

inline std::vector<ProcStat> all_processes() {
    std::vector<ProcStat> found;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return found;
    while (const dirent* entry = ::readdir(proc)) {
        const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
        if (pid <= 0) continue;
        if (std::optional<ProcStat> stat = read_proc_stat(pid)) found.push_back(*stat);
    }
    ::closedir(proc);
    return found;
}

inline std::vector<pid_t> zombie_children() {
    std::vector<pid_t> zombies;
    for (const ProcStat& stat : all_processes()) {
        if (stat.parent == ::getpid() && stat.state == 'Z') zombies.push_back(stat.pid);
    }
    return zombies;
}

// The members of a process group that have not ended.
inline std::vector<ProcStat> live_members(pid_t pgid) {
    std::vector<ProcStat> members;
    for (const ProcStat& stat : all_processes()) {
        if (stat.process_group == pgid && !stat.ended()) members.push_back(stat);
    }
    return members;
}

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// A task process whose daemon died: it is no longer our child (init has it) and nothing waits for it.
struct Orphan {
    pid_t pid = -1;
    std::uint64_t start_ticks = 0;
};

// Simulates a daemon that is killed (kill -9) while its task runs: a forked copy of this test program
// spawns `spec`, reports the child's pid and start time through a pipe, and kills itself. nullopt when
// the spawn failed or the report did not come within 10 s.
inline std::optional<Orphan> spawn_from_dying_daemon(const ProcessSpec& spec) {
    int report[2];
    if (::pipe(report) != 0) return std::nullopt;
    const pid_t daemon = ::fork();
    if (daemon < 0) return std::nullopt;
    if (daemon == 0) {
        ::close(report[0]);
        Result<ChildProcess> child = ChildProcess::spawn(spec);
        Orphan orphan;
        if (child) {
            orphan = Orphan{child->pid(), child->start_ticks()};
            child->detach();
        }
        [[maybe_unused]] const ssize_t written = ::write(report[1], &orphan, sizeof orphan);
        ::kill(::getpid(), SIGKILL);
        ::_exit(1);
    }
    ::close(report[1]);
    Orphan orphan;
    pollfd readable{report[0], POLLIN, 0};
    const bool reported = ::poll(&readable, 1, 10'000) == 1 &&
                          ::read(report[0], &orphan, sizeof orphan) == static_cast<ssize_t>(sizeof orphan);
    ::close(report[0]);
    if (!reported) ::kill(daemon, SIGKILL);
    ::waitpid(daemon, nullptr, 0);
    if (!reported || orphan.pid <= 0) return std::nullopt;
    return orphan;
}

}  // namespace mayaflow::exec_test
