#include "engine/exec/process_probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <charconv>
#include <thread>
#include <vector>

#include "engine/exec/pidfd.h"

namespace mayaflow {

namespace {

// Reads a small /proc file whole; /proc files report no size, so read until end of file.
std::optional<std::string> read_proc_file(const char* path) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char buffer[1024];
    for (;;) {
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got > 0) {
            text.append(buffer, static_cast<std::size_t>(got));
        } else if (got == 0) {
            break;
        } else if (errno != EINTR) {
            ::close(fd);
            return std::nullopt;
        }
    }
    ::close(fd);
    return text;
}

template <class Number>
bool parse_number(std::string_view text, Number& out) {
    if (text.empty()) return false;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc() && end == text.data() + text.size();
}

// Splits the fields after the command name, which are separated by single spaces.
std::vector<std::string_view> split_fields(std::string_view text) {
    std::vector<std::string_view> fields;
    while (!text.empty()) {
        const std::size_t space = text.find(' ');
        fields.push_back(text.substr(0, space));
        if (space == std::string_view::npos) break;
        text.remove_prefix(space + 1);
    }
    return fields;
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
    const std::size_t open = text.find(" (");
    const std::size_t close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2) {
        return std::nullopt;
    }
    if (close + 2 > text.size() || text[close + 1] != ' ') return std::nullopt;

    ProcStat stat;
    if (!parse_number(text.substr(0, open), stat.pid)) return std::nullopt;
    stat.command_name = std::string(text.substr(open + 2, close - open - 2));

    std::string_view rest = text.substr(close + 2);
    while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
    const std::vector<std::string_view> fields = split_fields(rest);
    // fields[0] is proc(5)'s field 3, so field n is fields[n - 3].
    constexpr std::size_t kStartTime = 22 - 3;
    if (fields.size() <= kStartTime || fields[0].size() != 1) return std::nullopt;
    stat.state = fields[0][0];
    if (!parse_number(fields[4 - 3], stat.parent) || !parse_number(fields[5 - 3], stat.process_group) ||
        !parse_number(fields[6 - 3], stat.session) || !parse_number(fields[14 - 3], stat.user_ticks) ||
        !parse_number(fields[15 - 3], stat.system_ticks) || !parse_number(fields[kStartTime], stat.start_ticks)) {
        return std::nullopt;
    }
    return stat;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    const std::string path = fmt::format("/proc/{}/stat", pid);
    const std::optional<std::string> text = read_proc_file(path.c_str());
    if (!text) return std::nullopt;
    return parse_proc_stat(*text);
}

std::optional<std::uint64_t> process_start_ticks(pid_t pid) {
    const std::optional<ProcStat> stat = read_proc_stat(pid);
    if (!stat) return std::nullopt;
    return stat->start_ticks;
}

bool same_process(pid_t pid, std::uint64_t start_ticks) {
    const std::optional<ProcStat> stat = read_proc_stat(pid);
    return stat && stat->start_ticks == start_ticks && !stat->ended();
}

bool process_group_alive(pid_t pgid) {
    if (pgid <= 1) return false;
    return ::kill(-pgid, 0) == 0 || errno == EPERM;
}

bool process_group_has_live_members(pid_t pgid) {
    if (!process_group_alive(pgid)) return false;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return true;  // cannot look closer; the group exists, so say it lives
    bool found = false;
    while (const dirent* entry = ::readdir(proc)) {
        pid_t pid = 0;
        if (!parse_number(std::string_view(entry->d_name), pid)) continue;
        const std::optional<ProcStat> stat = read_proc_stat(pid);
        if (stat && stat->process_group == pgid && !stat->ended()) {
            found = true;
            break;
        }
    }
    ::closedir(proc);
    return found;
}

bool group_outlives_leader(pid_t leader, std::uint64_t start_ticks, Duration reap_wait) {
    const auto deadline = std::chrono::steady_clock::now() + reap_wait;
    auto pause = std::chrono::microseconds(20);
    while (true) {
        if (!process_group_alive(leader)) return false;
        const std::optional<ProcStat> stat = read_proc_stat(leader);
        // Reaped, and the group lives on: another member holds it.
        if (!stat || stat->start_ticks != start_ticks) return true;
        if (!stat->ended() || std::chrono::steady_clock::now() >= deadline) {
            return process_group_has_live_members(leader);
        }
        std::this_thread::sleep_for(pause);
        pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(2));
    }
}

std::optional<pid_t> find_session_leader_with_environment(std::string_view entry) {
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return std::nullopt;
    std::optional<pid_t> found;
    while (const dirent* entry_in_proc = ::readdir(proc)) {
        pid_t pid = 0;
        if (!parse_number(std::string_view(entry_in_proc->d_name), pid)) continue;
        const std::optional<ProcStat> stat = read_proc_stat(pid);
        if (!stat || stat->session != pid || stat->ended()) continue;
        const std::string path = fmt::format("/proc/{}/environ", pid);
        const std::optional<std::string> environment = read_proc_file(path.c_str());
        if (!environment) continue;
        std::string_view rest = *environment;  // NUL-separated NAME=value entries
        while (!rest.empty() && !found) {
            const std::size_t end = rest.find('\0');
            if (rest.substr(0, end) == entry) found = pid;
            rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
        }
        if (found) break;
    }
    ::closedir(proc);
    return found;
}

std::optional<std::string> boot_id() {
    // Read once: a process lives in one boot (every try records it).
    static const std::optional<std::string> id = []() -> std::optional<std::string> {
        std::optional<std::string> text = read_proc_file("/proc/sys/kernel/random/boot_id");
        if (!text) return std::nullopt;
        while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
        if (text->empty()) return std::nullopt;
        return text;
    }();
    return id;
}

Result<ForeignWait> wait_for_foreign_exit(pid_t pid, std::uint64_t start_ticks,
                                          std::optional<Duration> timeout) {
    Result<std::optional<Pidfd>> pidfd = Pidfd::open(pid);
    if (!pidfd) return std::move(pidfd).error();
    if (!pidfd->has_value()) return ForeignWait::ended;
    // Checked after opening: the pidfd pins the process, so if it is the one that started at start_ticks now,
    // the pidfd names it, not a later process that was given the same number.
    if (!same_process(pid, start_ticks)) return ForeignWait::ended;
    Result<bool> ended = (*pidfd)->wait_for_exit(timeout);
    if (!ended) {
        return make_error("cannot wait for process {} (started at tick {}): {}", pid, start_ticks,
                          ended.error().message);
    }
    return *ended ? ForeignWait::ended : ForeignWait::timed_out;
}

}  // namespace mayaflow
