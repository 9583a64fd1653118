// Generates N DAG files (default 1,000 files × 20 tasks, most from a for_each) and measures how
// fast the loader parses and validates them: files/s, ms per file and peak RSS. Prints figures;
// asserts nothing about time.

#include <fmt/format.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "engine/dagfile/dag_folder.h"
#include "operators/operator_registry.h"

namespace fs = std::filesystem;
using namespace mayaflow;

namespace {

void write_dag(const fs::path& path, int index, int tasks) {
    std::ofstream out(path);
    out << fmt::format(R"(description: generated DAG {0}
schedule: "{1} {2} * * *"
timezone: Asia/Tokyo
start_date: 2024-01-01
catchup: false
tags: [bench]
params: {{project: bench-{0}}}
default_args:
  retries: 2
  retry_delay: 1m
tasks:
  - task_id: start
    operator: empty
  - task_id: "load_{{{{ item }}}}"
    operator: bash
    depends_on: [start]
    for_each: [)",
                       index, index % 60, index % 24);
    for (int i = 0; i < tasks - 2; ++i) out << (i ? ", " : "") << "table_" << i;
    out << R"(]
    bash_command: "echo load {{ item }} for {{ ds }} into {{ params.project }}.raw.{{ item }}"
    execution_timeout: 10m
  - task_id: done
    operator: empty
    depends_on: ["load_*"]
)";
}

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Measures DAG file parsing"};
    int files = 1000;
    int tasks = 20;
    int threads = 1;
    app.add_option("--files", files, "How many DAG files")->check(CLI::Range(1, 100000));
    app.add_option("--tasks", tasks, "Tasks per DAG (at least 3)")->check(CLI::Range(3, 10000));
    app.add_option("--threads", threads, "Parser threads")->check(CLI::Range(1, 64));
    CLI11_PARSE(app, argc, argv);

    fs::path folder = fs::temp_directory_path() / fmt::format("mayaflow-bench-parse-{}", getpid());
    fs::create_directories(folder);
    for (int i = 0; i < files; ++i) write_dag(folder / fmt::format("dag_{:05}.yaml", i), i, tasks);
    long rss_before = peak_rss_kib();

    auto paths = list_dag_files(folder);
    std::atomic<size_t> next{0}, loaded{0}, total_tasks{0};
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (size_t i = next++; i < paths.size(); i = next++) {
                auto result = load_dag_file(paths[i], DagLoadOptions{&builtin_operators(), folder});
                if (result.dag) {
                    ++loaded;
                    total_tasks += result.dag->tasks.size();
                }
            }
        });
    }
    for (auto& worker : workers) worker.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fs::remove_all(folder);

    fmt::print("parse_dags: {} files x {} tasks, {} thread{}\n", files, tasks, threads, threads == 1 ? "" : "s");
    fmt::print("  loaded:        {} DAGs, {} tasks ({} failed)\n", loaded.load(), total_tasks.load(),
               paths.size() - loaded.load());
    fmt::print("  total:         {:.3f} s\n", seconds);
    fmt::print("  files/s:       {:.0f}\n", paths.size() / seconds);
    fmt::print("  ms per file:   {:.3f}\n", seconds * 1000.0 / paths.size());
    fmt::print("  peak RSS:      {:.1f} MiB (before parsing: {:.1f} MiB)\n", peak_rss_kib() / 1024.0,
               rss_before / 1024.0);
    return loaded.load() == paths.size() ? 0 : 1;
}
