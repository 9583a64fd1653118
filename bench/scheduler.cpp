// Measures the scheduler: how long a task waits after its upstream tasks end (`lag`), how many tasks
// per second one wide run gets through (`throughput`), how running many small processes compares
// with ninja and make (`processes`), and the daemon's memory with a thousand DAGs (`rss`). Prints
// figures; asserts nothing about time. See docs/benchmarks.md.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "bench/scheduler_bench.h"

using namespace mayaflow::bench;

namespace {

// What the command line says; sizes left unset take their full or --small defaults.
struct Command {
    bool small = false;
    bool chain = false;
    bool through_executor = false;
    std::string operator_name = "empty";
    std::optional<int> parallelism;
    std::optional<int> dags;
    std::optional<int> tasks;
    std::optional<int> files;
    std::optional<int> timeout_seconds;
    std::optional<std::filesystem::path> mayaflow;
    std::filesystem::path self;
};

LagOptions lag_options(const Command& command) {
    LagOptions options{.operator_name = command.operator_name, .through_executor = command.through_executor};
    options.dags = command.dags.value_or(command.small ? 5 : options.dags);
    options.parallelism = command.parallelism.value_or(options.parallelism);
    options.timeout_seconds = command.timeout_seconds.value_or(options.timeout_seconds);
    return options;
}

ThroughputOptions throughput_options(const Command& command) {
    ThroughputOptions options{.through_executor = command.through_executor};
    options.tasks = command.tasks.value_or(command.small ? 100 : options.tasks);
    options.parallelism = command.parallelism.value_or(options.parallelism);
    options.timeout_seconds = command.timeout_seconds.value_or(options.timeout_seconds);
    return options;
}

ProcessesOptions processes_options(const Command& command) {
    ProcessesOptions options{.chain = command.chain};
    options.tasks = command.tasks.value_or(command.small ? 20 : command.chain ? 200 : options.tasks);
    options.parallelism = command.parallelism.value_or(options.parallelism);
    options.timeout_seconds = command.timeout_seconds.value_or(options.timeout_seconds);
    return options;
}

RssOptions rss_options(const Command& command) {
    RssOptions options{.mayaflow = command.mayaflow, .self = command.self};
    options.files = command.files.value_or(command.small ? 20 : options.files);
    options.timeout_seconds = command.timeout_seconds.value_or(options.timeout_seconds);
    return options;
}

int run_all(const Command& command) {
    // Each scenario runs even when one before it failed; the exit status says whether any did.
    int failed = 0;
    failed += run_lag(lag_options(command)) != 0;
    failed += run_throughput(throughput_options(command)) != 0;
    failed += run_processes(processes_options(command)) != 0;
    Command chain = command;
    chain.chain = true;
    chain.tasks.reset();
    failed += run_processes(processes_options(chain)) != 0;
    failed += run_rss(rss_options(command)) != 0;
    if (failed) fmt::print(stderr, "{} of 5 scenarios failed\n", failed);
    return failed ? 1 : 0;
}

void add_small(CLI::App* sub, Command& command) {
    sub->add_flag("--small", command.small, "Tiny sizes, for a smoke test");
}
void add_timeout(CLI::App* sub, Command& command) {
    sub->add_option("--timeout", command.timeout_seconds, "Give up after this many seconds (per scenario)")
        ->check(CLI::Range(1, 86400));
}
void add_parallelism(CLI::App* sub, Command& command, int default_value) {
    sub->add_option("--parallelism", command.parallelism,
                    fmt::format("Tries at once (default {})", default_value))
        ->check(CLI::Range(1, 4096));
}
void add_through_executor(CLI::App* sub, Command& command) {
    sub->add_flag("--through-executor", command.through_executor,
                  "Send empty tasks through the thread pool too (finish_empty_in_scheduler=false)");
}
void add_mayaflow(CLI::App* sub, Command& command) {
    sub->add_option("--mayaflow", command.mayaflow,
                    "The daemon binary (default: ../mayaflow beside this program)");
}

}  // namespace

int main(int argc, char** argv) {
    // Task failures would log through spdlog; keep the figures readable.
    spdlog::set_level(spdlog::level::warn);
    CLI::App app{
        "Measures mayaflow's scheduler: lag, throughput, processes against ninja/make, daemon memory"};
    app.require_subcommand(1);
    Command command;
    std::error_code ec;
    command.self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) command.self = std::filesystem::absolute(argv[0]);

    auto* lag = app.add_subcommand("lag", "100 DAGs x 10 linear tasks, all triggered at once: lag per task");
    lag->add_option("--dags", command.dags, "How many DAGs (default 100)")->check(CLI::Range(1, 100000));
    lag->add_option("--operator", command.operator_name, "empty, or bash running `true`")
        ->check(CLI::IsMember({"empty", "bash"}));
    add_parallelism(lag, command, 32);
    add_through_executor(lag, command);
    add_small(lag, command);
    add_timeout(lag, command);

    auto* throughput =
        app.add_subcommand("throughput", "root -> 9,998 parallel empty tasks -> sink: tasks/s");
    throughput->add_option("--tasks", command.tasks, "Parallel tasks (default 9,998: with root and sink a DAG's most, 10,000)")
        ->check(CLI::Range(1, 9'998));
    add_parallelism(throughput, command, 32);
    add_through_executor(throughput, command);
    add_small(throughput, command);
    add_timeout(throughput, command);

    auto* processes = app.add_subcommand(
        "processes", "root -> N parallel `true` commands -> sink: mayaflow beside ninja and make");
    processes->add_option("--tasks", command.tasks, "Parallel commands (default 9,998, with root and sink 10,000; with --chain 200)")
        ->check(CLI::Range(1, 9'998));
    processes->add_flag("--chain", command.chain, "A chain of N `true` commands, each after the one before");
    add_parallelism(processes, command, 2);
    add_small(processes, command);
    add_timeout(processes, command);

    auto* rss = app.add_subcommand("rss", "The daemon with 1,000 DAG files: load time and peak RSS");
    rss->add_option("--files", command.files, "How many DAG files (default 1,000)")
        ->check(CLI::Range(1, 100000));
    add_mayaflow(rss, command);
    add_small(rss, command);
    add_timeout(rss, command);

    auto* all =
        app.add_subcommand("all", "lag, throughput, processes (fan-out, then chain) and rss in order, at their default sizes");
    add_through_executor(all, command);
    add_mayaflow(all, command);
    add_small(all, command);
    add_timeout(all, command);

    CLI11_PARSE(app, argc, argv);
    if (lag->parsed()) return run_lag(lag_options(command));
    if (throughput->parsed()) return run_throughput(throughput_options(command));
    if (processes->parsed()) return run_processes(processes_options(command));
    if (rss->parsed()) return run_rss(rss_options(command));
    return run_all(command);
}
