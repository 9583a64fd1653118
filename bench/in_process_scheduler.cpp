#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include <unistd.h>

#include "bench/scheduler_bench.h"
#include "engine/dagfile/dag_loader.h"
#include "engine/model/dag_json.h"
#include "operators/operator_registry.h"

namespace mayaflow::bench {

namespace fs = std::filesystem;

BenchFolder::BenchFolder(const std::string& scenario)
    : path_(fs::temp_directory_path() / fmt::format("mayaflow-bench-{}-{}", scenario, ::getpid())) {
    fs::remove_all(path_);
    fs::create_directories(path_);
}

BenchFolder::~BenchFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

Result<std::unique_ptr<InProcessScheduler>> InProcessScheduler::open(const InProcessOptions& options) {
    std::unique_ptr<InProcessScheduler> scheduler(new InProcessScheduler());
    scheduler->options_ = options;
    fs::path database = options.folder / "mayaflow.db";
    auto store = SqliteStore::open(StoreOptions{.path = database});
    if (!store) return store.error();
    scheduler->store_ = std::move(*store);
    auto reader = SqliteStore::open(StoreOptions{.path = database, .read_only = true});
    if (!reader) return reader.error();
    scheduler->reader_ = std::move(*reader);

    // The daemon starts task processes through its supervisor, the mayaflow binary beside bench/.
    fs::path program = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "mayaflow";
    if (fs::exists(program)) {
        auto supervisor = TaskSupervisor::start(program);
        if (!supervisor) return supervisor.error();
        scheduler->supervisor_ = std::move(*supervisor);
    } else {
        fmt::print(stderr, "note: no {}; task processes start without the task supervisor\n", program.string());
    }
    scheduler->executor_ = std::make_unique<ThreadPoolExecutor>(builtin_operators(), options.parallelism,
                                                                scheduler->supervisor_.get());
    SchedulerOptions core_options{.parallelism = options.parallelism,
                                  .queue_ahead = options.parallelism,
                                  .logs_folder = options.folder / "logs",
                                  .pools = {{"default_pool", std::max(128, options.parallelism)}},
                                  .finish_empty_in_scheduler = options.finish_empty_in_scheduler};
    scheduler->counter_ = std::make_unique<CountingExecutor>(*scheduler->executor_);
    scheduler->core_ = std::make_unique<SchedulerCore>(scheduler->clock_, *scheduler->store_,
                                                       *scheduler->counter_, core_options);
    scheduler->loop_ = std::make_unique<SchedulerLoop>(*scheduler->core_, *scheduler->counter_);
    return scheduler;
}

InProcessScheduler::~InProcessScheduler() {
    stop();
}

void InProcessScheduler::stop() {
    if (stopped_) return;
    stopped_ = true;
    // The loop first, so that no new try is handed over; then the workers, which report to the loop.
    loop_->stop();
    executor_->shutdown();
}

Result<std::shared_ptr<const Dag>> InProcessScheduler::add_dag(const std::string& yaml,
                                                               const std::string& dag_id) {
    fs::path file = options_.folder / "dags" / (dag_id + ".yaml");
    auto loaded = load_dag_text(yaml, file, DagLoadOptions{&builtin_operators(), file.parent_path()});
    if (!loaded.dag)
        return make_error("the generated DAG {} does not load:\n{}", dag_id, format_errors(loaded.errors));
    auto dag = std::make_shared<const Dag>(std::move(*loaded.dag));
    Status recorded = store_->record_dag_file_parsed(file.string(), *dag, to_json(*dag).dump(), clock_.now());
    if (!recorded) return recorded.error();
    auto record = store_->find_dag(dag->dag_id);
    if (!record) return record.error();
    if (!*record) return make_error("DAG {} is not in the store after it was recorded", dag->dag_id);
    core_->set_dag(dag, (*record)->latest_version, false);
    return dag;
}

void InProcessScheduler::start() {
    loop_->start();
}

Result<Instant> InProcessScheduler::trigger_all(const std::vector<std::string>& dag_ids) {
    Instant posted = now_instant();
    auto errors = loop_->call<std::vector<std::string>>([&dag_ids](SchedulerCore& core) {
        std::vector<std::string> failed;
        for (const auto& dag_id : dag_ids) {
            auto run_id = core.trigger(TriggerRequest{.dag_id = dag_id});
            if (!run_id) failed.push_back(run_id.error().message);
        }
        return failed;
    });
    if (!errors.empty())
        return make_error("{} of {} triggers failed; the first: {}", errors.size(), dag_ids.size(),
                          errors[0]);
    return posted;
}

Result<bool> InProcessScheduler::wait_for_finished_runs(size_t count, Duration timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        auto runs = reader_->list_runs(RunFilter{.limit = count + 100});
        if (!runs) return runs.error();
        auto finished = std::count_if(runs->begin(), runs->end(), [](const DagRunRow& run) {
            return run.state == RunState::success || run.state == RunState::failed;
        });
        if (static_cast<size_t>(finished) >= count) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

Result<std::vector<DagRunRow>> InProcessScheduler::runs_with_tasks() {
    auto runs = reader_->list_runs(RunFilter{.limit = 1'000'000});
    if (!runs) return runs.error();
    std::vector<DagRunRow> loaded;
    for (const auto& run : *runs) {
        auto found = reader_->find_run(run.dag_id, run.run_id, true);
        if (!found) return found.error();
        if (*found) loaded.push_back(std::move(**found));
    }
    return loaded;
}

std::optional<InProcessSetup> scheduler_with(const BenchFolder& folder, int parallelism,
                                             bool through_executor,
                                             const std::vector<std::pair<std::string, std::string>>& dags) {
    auto scheduler = InProcessScheduler::open(InProcessOptions{
        .folder = folder.path(), .parallelism = parallelism, .finish_empty_in_scheduler = !through_executor});
    if (!scheduler) {
        fmt::print(stderr, "cannot set up the scheduler: {}\n", scheduler.error().message);
        return std::nullopt;
    }
    InProcessSetup setup{std::move(*scheduler), {}};
    for (const auto& [dag_id, yaml] : dags) {
        auto added = setup.scheduler->add_dag(yaml, dag_id);
        if (!added) {
            fmt::print(stderr, "cannot add DAG {}: {}\n", dag_id, added.error().message);
            return std::nullopt;
        }
        setup.dags[dag_id] = *added;
    }
    return setup;
}

std::optional<FinishedRuns> trigger_and_wait(InProcessScheduler& scheduler,
                                             const std::vector<std::string>& dag_ids, int timeout_seconds) {
    scheduler.start();
    auto triggered = scheduler.trigger_all(dag_ids);
    if (!triggered) {
        fmt::print(stderr, "cannot trigger the runs: {}\n", triggered.error().message);
        return std::nullopt;
    }
    auto finished = scheduler.wait_for_finished_runs(dag_ids.size(), std::chrono::seconds(timeout_seconds));
    if (!finished || !*finished) {
        fmt::print(stderr, "the runs did not all finish within {} s{}\n", timeout_seconds,
                   finished ? "" : ": " + finished.error().message);
        return std::nullopt;
    }
    scheduler.stop();
    auto runs = scheduler.runs_with_tasks();
    if (!runs) {
        fmt::print(stderr, "cannot read the runs back: {}\n", runs.error().message);
        return std::nullopt;
    }
    return FinishedRuns{*triggered, std::move(*runs)};
}

std::string linear_dag_yaml(const std::string& dag_id, int tasks, const std::string& operator_name) {
    std::string yaml = fmt::format("dag_id: {}\nschedule: null\ntasks:\n", dag_id);
    for (int i = 0; i < tasks; ++i) {
        yaml += fmt::format("  - task_id: t{}\n    operator: {}\n", i, operator_name);
        if (operator_name == "bash") yaml += "    bash_command: \"true\"\n";
        if (i > 0) yaml += fmt::format("    depends_on: [t{}]\n", i - 1);
    }
    return yaml;
}

std::string fan_out_dag_yaml(const std::string& dag_id, int middle, const std::string& operator_name) {
    // A for_each makes at most 10,000 tasks, so larger fan-outs take several blocks.
    constexpr int kPerBlock = 10'000;
    std::string command = operator_name == "bash" ? "    bash_command: \"true\"\n" : "";
    std::string yaml = fmt::format(
        "dag_id: {}\nschedule: null\nmax_active_tasks: {}\ntasks:\n"
        "  - task_id: root\n    operator: {}\n{}",
        dag_id, std::min(1'000'000, middle + 2), operator_name, command);
    for (int block = 0; block * kPerBlock < middle; ++block) {
        yaml += fmt::format(
            "  - task_id: \"mid_{}_{{{{ item }}}}\"\n    operator: {}\n{}    depends_on: [root]\n"
            "    for_each: [",
            block, operator_name, command);
        int end = std::min(middle, (block + 1) * kPerBlock);
        for (int i = block * kPerBlock; i < end; ++i)
            yaml += fmt::format("{}{}", i == block * kPerBlock ? "" : ", ", i);
        yaml += "]\n";
    }
    yaml += fmt::format("  - task_id: sink\n    operator: {}\n{}    depends_on: [\"mid_*\"]\n", operator_name,
                        command);
    return yaml;
}

std::string chain_dag_yaml(const std::string& dag_id, int length) {
    std::string yaml = fmt::format("dag_id: {}\nschedule: null\ntasks:\n", dag_id);
    for (int i = 0; i < length; ++i) {
        yaml += fmt::format("  - task_id: t{}\n    operator: bash\n    bash_command: \"true\"\n", i);
        if (i > 0) yaml += fmt::format("    depends_on: [t{}]\n", i - 1);
    }
    return yaml;
}

double seconds_between(Instant from, Instant to) {
    return std::chrono::duration<double>(to - from).count();
}

std::string mode_name(bool through_executor) {
    return through_executor ? "through the executor (finish_empty_in_scheduler=false)"
                            : "empty tasks finish in the scheduler (finish_empty_in_scheduler=true)";
}

}  // namespace mayaflow::bench
