// The `rss` scenario: the real daemon (`mayaflow scheduler`, no web server) with a folder of DAG
// files, its load time and its peak resident memory once everything is loaded.

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>

#include "bench/scheduler_bench.h"

namespace mayaflow::bench {
namespace {

namespace fs = std::filesystem;

// Ten tasks: start -> eight bash tasks -> end, with templates as real DAGs have them.
void write_dag_file(const fs::path& path, int index) {
    std::ofstream out(path);
    out << fmt::format(
        "description: generated DAG {0}\nschedule: null\ntags: [bench]\n"
        "params: {{project: bench-{0}}}\ndefault_args: {{retries: 1, retry_delay: 1m}}\ntasks:\n"
        "  - task_id: start\n    operator: empty\n",
        index);
    for (int i = 0; i < 8; ++i) {
        out << fmt::format(
            "  - task_id: load_{0}\n    operator: bash\n    depends_on: [start]\n"
            "    bash_command: \"echo load table_{0} for {{{{ ds }}}} into {{{{ params.project }}}}\"\n",
            i);
    }
    out << "  - task_id: end\n    operator: empty\n    depends_on: [\"load_*\"]\n";
}

std::optional<fs::path> find_daemon(const RssOptions& options) {
    if (options.mayaflow) {
        if (fs::exists(*options.mayaflow)) return fs::absolute(*options.mayaflow);
        return std::nullopt;
    }
    // build/bench/scheduler -> build/mayaflow
    fs::path beside = options.self.parent_path().parent_path() / "mayaflow";
    if (fs::exists(beside)) return beside;
    return std::nullopt;
}

// The environment the daemon gets: ours without any MAYAFLOW_* setting, and MAYAFLOW_HOME set.
std::vector<std::string> daemon_environment(const fs::path& home) {
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        if (!std::string_view(*entry).starts_with("MAYAFLOW_")) env.emplace_back(*entry);
    }
    env.push_back("MAYAFLOW_HOME=" + home.string());
    return env;
}

Result<pid_t> spawn_daemon(const fs::path& daemon, const fs::path& home, const fs::path& log) {
    std::vector<std::string> argv{daemon.string(), "scheduler", "--dags-folder", (home / "dags").string()};
    std::vector<std::string> env = daemon_environment(home);
    std::vector<char*> args, envp;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    for (auto& variable : env) envp.push_back(variable.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return make_error("cannot start {}: {}", daemon.string(), std::strerror(spawned));
    return pid;
}

// The DAGs the daemon has recorded so far; 0 while its database is not there or not migrated yet.
size_t dags_recorded(const fs::path& database) {
    if (!fs::exists(database)) return 0;
    auto store = SqliteStore::open(StoreOptions{.path = database, .read_only = true});
    if (!store) return 0;
    auto dags = (*store)->list_dags(false);
    return dags ? dags->size() : 0;
}

// Values of /proc/<pid>/status lines such as "VmHWM:  12345 kB", in kB (or as counted).
std::map<std::string, long> process_status(pid_t pid) {
    std::map<std::string, long> values;
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(in, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        try {
            values[line.substr(0, colon)] = std::stol(line.substr(colon + 1));
        } catch (const std::exception&) {
        }
    }
    return values;
}

std::string log_tail(const fs::path& log) {
    std::ifstream in(log);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::string tail;
    for (size_t i = lines.size() > 20 ? lines.size() - 20 : 0; i < lines.size(); ++i)
        tail += "    " + lines[i] + "\n";
    return tail;
}

// Waits for the daemon to exit; its exit status, or nothing when it is still running at the deadline.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        int status = 0;
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

int run_rss(const RssOptions& options) {
    fmt::print(
        "rss: the daemon (mayaflow scheduler) with {} DAG files x 10 tasks (empty and bash), nothing "
        "scheduled\n",
        options.files);
    auto daemon = find_daemon(options);
    if (!daemon) {
        fmt::print(stderr, "no mayaflow binary at {}; build it or give --mayaflow PATH\n",
                   options.mayaflow ? options.mayaflow->string() : "../mayaflow next to this program");
        return 1;
    }
    BenchFolder home("rss");
    fs::create_directories(home.path() / "dags");
    for (int i = 0; i < options.files; ++i)
        write_dag_file(home.path() / "dags" / fmt::format("dag_{:05}.yaml", i), i);

    fs::path log = home.path() / "daemon.log";
    auto started = std::chrono::steady_clock::now();
    auto pid = spawn_daemon(*daemon, home.path(), log);
    if (!pid) {
        fmt::print(stderr, "{}\n", pid.error().message);
        return 1;
    }
    auto deadline = started + std::chrono::seconds(options.timeout_seconds);
    size_t loaded = 0;
    while ((loaded = dags_recorded(home.path() / "mayaflow.db")) < static_cast<size_t>(options.files)) {
        if (auto exited = wait_for_exit(*pid, std::chrono::milliseconds(0))) {
            fmt::print(stderr, "the daemon exited with status {} after loading {} DAGs; its log ends:\n{}",
                       *exited, loaded, log_tail(log));
            return 1;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            fmt::print(stderr, "the daemon loaded {} of {} DAGs in {} s; stopping it\n", loaded,
                       options.files, options.timeout_seconds);
            ::kill(*pid, SIGKILL);
            wait_for_exit(*pid, std::chrono::seconds(10));
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto status = process_status(*pid);

    auto stopping = std::chrono::steady_clock::now();
    ::kill(*pid, SIGTERM);
    auto exited = wait_for_exit(*pid, std::chrono::seconds(10));
    double stop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopping).count();
    if (!exited) {
        ::kill(*pid, SIGKILL);
        wait_for_exit(*pid, std::chrono::seconds(10));
    }

    double peak_mib = static_cast<double>(status["VmHWM"]) / 1024.0;
    fmt::print("  binary:           {}\n", daemon->string());
    fmt::print("  DAGs loaded:      {} (as the database shows)\n", loaded);
    fmt::print("  load time:        {:.3f} s (start -> all DAGs in the database)\n", load_seconds);
    fmt::print("  peak RSS (VmHWM): {:.1f} MiB\n", peak_mib);
    fmt::print("  RSS now (VmRSS):  {:.1f} MiB, {} threads\n", status["VmRSS"] / 1024.0, status["Threads"]);
    fmt::print("  stop on SIGTERM:  {}\n",
               exited ? fmt::format("exit status {} in {:.3f} s", *exited, stop_seconds)
                      : std::string("still running after 10 s: killed"));
    double peak_bytes = static_cast<double>(status["VmHWM"]) * 1024.0;
    fmt::print("  goal:             under 30 MB (28.6 MiB): {}\n\n",
               peak_bytes < 30e6 ? "met" : fmt::format("missed by {:.1f} MB", (peak_bytes - 30e6) / 1e6));
    return exited && *exited == 0 ? 0 : 1;
}

}  // namespace mayaflow::bench
