// The `processes` scenario: root -> N parallel `true` commands -> sink, run by mayaflow (bash tasks)
// and, on an equivalent graph, by ninja and make with the same number of jobs.

#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "bench/scheduler_bench.h"
#include "engine/exec/process_probe.h"

namespace mayaflow::bench {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string folders = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= folders.size()) {
        size_t end = folders.find(':', start);
        if (end == std::string::npos) end = folders.size();
        fs::path candidate = fs::path(folders.substr(start, end - start)) / name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return std::nullopt;
}

// Runs a program with its output (both streams) in a file and waits for it; returns its exit status.
Result<int> run_program(const std::vector<std::string>& argv, const fs::path& output) {
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return make_error("cannot start {}: {}", argv[0], std::strerror(spawned));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return make_error("waiting for {}: {}", argv[0], std::strerror(errno));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// CPU time (user + system) of this process and of its children that have been waited for.
struct CpuTimes {
    double self = 0;
    double children = 0;
};

double seconds_of(const timeval& time) {
    return static_cast<double>(time.tv_sec) + time.tv_usec / 1e6;
}

CpuTimes cpu_times() {
    rusage self{}, children{};
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return {seconds_of(self.ru_utime) + seconds_of(self.ru_stime),
            seconds_of(children.ru_utime) + seconds_of(children.ru_stime)};
}

// CPU time of the calling thread: the bench's own watching, to leave out of the scheduler's figure.
double thread_cpu() {
    rusage self{};
    getrusage(RUSAGE_THREAD, &self);
    return seconds_of(self.ru_utime) + seconds_of(self.ru_stime);
}

// CPU time (user + system) of a process that is not this one's waited-for child, from /proc; 0 when unknown.
double process_cpu(pid_t pid) {
    const std::optional<ProcStat> stat = read_proc_stat(pid);
    if (!stat) return 0;
    return static_cast<double>(stat->user_ticks + stat->system_ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

size_t count_lines(const fs::path& file, bool (*matches)(const std::string&)) {
    std::ifstream in(file);
    size_t count = 0;
    for (std::string line; std::getline(in, line);) count += matches(line) ? 1 : 0;
    return count;
}

// The commands' graph: root -> `size` parallel commands -> sink, or a chain of `size` commands.
struct Graph {
    bool chain = false;
    int size = 0;
    int commands() const { return chain ? size : size + 2; }
};

// Every edge runs `true` and makes no file, so each run of ninja runs them all.
void write_build_ninja(const fs::path& folder, const Graph& graph) {
    std::ofstream out(folder / "build.ninja");
    out << "rule t\n  command = true\n";
    if (graph.chain) {
        out << "build c_0: t\n";
        for (int i = 1; i < graph.size; ++i) out << "build c_" << i << ": t || c_" << i - 1 << "\n";
        out << "default c_" << graph.size - 1 << "\n";
        return;
    }
    out << "build root: t\n";
    for (int i = 0; i < graph.size; ++i) out << "build mid_" << i << ": t || root\n";
    out << "build sink: t ||";
    for (int i = 0; i < graph.size; ++i) out << " mid_" << i;
    out << "\ndefault sink\n";
}

// Phony targets are always remade; the recipe is echoed, so the output counts the commands run.
void write_makefile(const fs::path& folder, const Graph& graph) {
    std::ofstream out(folder / "Makefile");
    if (graph.chain) {
        out << "c_" << graph.size - 1 << ":\n";  // the first target is the goal
        for (int i = 0; i < graph.size; ++i) {
            out << "c_" << i << ":" << (i > 0 ? fmt::format(" c_{}", i - 1) : "") << "\n\ttrue\n.PHONY: c_" << i << "\n";
        }
        return;
    }
    out << "sink:";
    for (int i = 0; i < graph.size; ++i) out << " mid_" << i;
    out << "\n\ttrue\nroot:\n\ttrue\n.PHONY: sink root\n";
    for (int i = 0; i < graph.size; ++i) out << "mid_" << i << ": root\n\ttrue\n.PHONY: mid_" << i << "\n";
}

struct ToolTime {
    std::string name;
    std::optional<double> seconds;  // nothing when skipped or failed
};

ToolTime time_tool(const std::string& name, const fs::path& folder, const Graph& graph, int jobs) {
    auto program = find_program(name);
    if (!program) {
        fmt::print("  {:<18}not installed: skipped\n", name + ":");
        return {name, std::nullopt};
    }
    fs::path work = folder / name;
    fs::create_directories(work);
    bool is_ninja = name == "ninja";
    if (is_ninja) {
        write_build_ninja(work, graph);
    } else {
        write_makefile(work, graph);
    }
    std::vector<std::string> argv{program->string(), "-C", work.string(), fmt::format("-j{}", jobs)};
    if (!is_ninja) argv.push_back("--no-print-directory");
    CpuTimes cpu_before = cpu_times();
    auto start = std::chrono::steady_clock::now();
    auto status = run_program(argv, work / "output.txt");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double cpu = cpu_times().children - cpu_before.children;
    if (!status || *status != 0) {
        fmt::print("  {:<18}failed ({})\n", name + ":",
                   status ? fmt::format("exit status {}", *status) : status.error().message);
        return {name, std::nullopt};
    }
    // ninja prints "[k/N] true" for each edge it runs; make echoes each recipe line, "true".
    size_t ran =
        is_ninja ? count_lines(work / "output.txt", [](const std::string& l) { return l.starts_with("["); })
                 : count_lines(work / "output.txt", [](const std::string& l) { return l == "true"; });
    fmt::print("  {:<18}{:.3f} s, {} commands run{}, {:.2f} ms per command; CPU {:.2f} ms per command\n",
               name + ":", seconds, ran,
               ran == static_cast<size_t>(graph.commands()) ? "" : fmt::format(" (EXPECTED {})", graph.commands()),
               seconds * 1e3 / graph.commands(), cpu * 1e3 / graph.commands());
    return {name, seconds};
}

}  // namespace

int run_processes(const ProcessesOptions& options) {
    BenchFolder folder("processes");
    const Graph graph{.chain = options.chain, .size = options.tasks};
    const int commands = graph.commands();
    if (graph.chain) {
        fmt::print("processes: a chain of {} `true` commands, each after the one before, {} at a time\n",
                   options.tasks, options.parallelism);
    } else {
        fmt::print("processes: root -> {} parallel `true` commands -> sink ({} commands), {} at a time\n",
                   options.tasks, commands, options.parallelism);
    }

    const std::string dag_id = "processes";
    auto setup = scheduler_with(folder, options.parallelism, false,
                                {{dag_id, graph.chain ? chain_dag_yaml(dag_id, options.tasks)
                                                      : fan_out_dag_yaml(dag_id, options.tasks, "bash")}});
    if (!setup) return 1;
    const pid_t supervisor = setup->scheduler->supervisor_pid();
    CpuTimes cpu_before = cpu_times();
    const double watcher_before = thread_cpu();
    const double supervisor_before = process_cpu(supervisor);
    auto done = trigger_and_wait(*setup->scheduler, {dag_id}, options.timeout_seconds);
    if (!done) return 1;
    CpuTimes cpu_after = cpu_times();
    const double watcher = thread_cpu() - watcher_before;
    const double supervisor_cpu = process_cpu(supervisor) - supervisor_before;
    const DagRunRow& run = done->runs.at(0);
    double mayaflow_seconds = seconds_between(done->triggered, run.end_date.value_or(done->triggered));
    size_t succeeded =
        std::count_if(run.task_instances.begin(), run.task_instances.end(),
                      [](const TaskInstanceRow& row) { return row.state == TaskState::success; });
    fmt::print("  {:<18}{:.3f} s, {} bash tasks succeeded (run {}), {:.2f} ms per command\n",
               "mayaflow:", mayaflow_seconds, succeeded, to_string(run.state),
               mayaflow_seconds * 1e3 / commands);
    // The bench's own thread watches the store; its CPU is not the scheduler's.
    fmt::print("  {:<18}CPU per command: {:.2f} ms in the scheduler's threads, {:.2f} ms in the task supervisor "
               "(this bench's watching: {:.2f} ms)\n",
               "", (cpu_after.self - cpu_before.self - watcher) * 1e3 / commands, supervisor_cpu * 1e3 / commands,
               watcher * 1e3 / commands);

    std::map<std::string, double> tools;
    for (const auto& tool : {time_tool("ninja", folder.path(), graph, options.parallelism),
                             time_tool("make", folder.path(), graph, options.parallelism)}) {
        if (tool.seconds) tools[tool.name] = *tool.seconds;
    }
    fmt::print(
        "  note:             mayaflow's task supervisor execs `true` itself (no shell, as make does) and\n"
        "                    records its exit status in a file; each try also has a log folder and\n"
        "                    file, a private working folder and its transitions committed to SQLite;\n"
        "                    ninja runs /bin/sh -c true; make execs true itself. On ext4 without a\n"
        "                    journal, files made soon after mass deletions cost far more (benchmarks.md)\n");
    if (tools.empty()) {
        fmt::print("  ratio:            no ninja or make to compare with\n\n");
    } else {
        for (const auto& [name, seconds] : tools) {
            double ratio = mayaflow_seconds / seconds;
            fmt::print("  ratio:            mayaflow / {} = {:.2f}x (goal at most 1.2x: {})\n", name, ratio,
                       ratio <= 1.2 ? "met" : fmt::format("missed by {:.2f}x", ratio - 1.2));
        }
        fmt::print("\n");
    }
    return succeeded == static_cast<size_t>(commands) ? 0 : 1;
}

}  // namespace mayaflow::bench
