#pragma once
// Test harness for SchedulerCore: a real SQLite store in a temp folder, a ManualClock, and an
// executor that runs nothing, so a test decides when and how each try ends.

#include <catch2/catch.hpp>

#include <deque>
#include <filesystem>

#include <unistd.h>

#include "engine/dagfile/dag_loader.h"
#include "engine/model/dag_json.h"
#include "engine/store/sqlite_store.h"
#include "engine/time/iso8601.h"
#include "operators/operator_registry.h"
#include "scheduler/scheduler_core.h"

namespace mayaflow::testing {

// Executor that runs nothing: the test decides when and how each try ends.
class FakeExecutor : public Executor {
  public:
    void set_report_sink(ReportSink) override {}
    void submit(TaskLaunch launch) override { launched.push_back(std::move(launch)); }
    void cancel(const TryKey& key) override { cancelled.push_back(key); }
    // The last `unstarted` tries of `launched` have not been taken by a worker: withdrawn from there.
    std::vector<TryKey> withdraw_unstarted() override {
        std::vector<TryKey> keys;
        for (; unstarted > 0 && !launched.empty(); --unstarted) {
            keys.push_back(launched.back().key);
            launched.pop_back();
        }
        return keys;
    }
    size_t unstarted = 0;
    std::deque<TaskLaunch> launched;
    std::vector<TryKey> cancelled;
};

inline Instant at(const std::string& text) { return *parse_datetime(text, TimeZone::utc()); }

// A RunStore that passes everything to the real store, except that it can fail commits: the
// `fail_commit_number`-th call of write_batch from now, or every call while `fail_every_commit`.
// A failed commit writes nothing (the transaction is never begun), as a rolled-back one.
class FaultyRunStore : public RunStore {
  public:
    explicit FaultyRunStore(SqliteStore& store) : store_(store) {}
    int commits = 0;  // write_batch calls so far
    std::optional<int> fail_commit_number;
    bool fail_every_commit = false;
    bool fail_loads = false;  // load_unfinished_runs fails (a reload after a failed commit)
    void fail_nth_commit_from_now(int n) { fail_commit_number = commits + n; }

    Status write_batch(StateBatch& batch) override {
        ++commits;
        if (fail_every_commit || (fail_commit_number && commits == *fail_commit_number)) {
            return make_error("injected failure of commit {}", commits);
        }
        return store_.write_batch(batch);
    }
    Result<long long> next_run_pk() override { return store_.next_run_pk(); }
    Result<std::vector<DagRunRow>> load_unfinished_runs() override {
        if (fail_loads) return make_error("injected failure to load the unfinished runs");
        return store_.load_unfinished_runs();
    }
    Result<std::optional<std::pair<Instant, Instant>>> latest_automated_interval(const std::string& dag_id) override {
        return store_.latest_automated_interval(dag_id);
    }
    Result<std::optional<DagRunRow>> find_conflicting_run(const std::string& dag_id, const std::string& run_id,
                                                          std::optional<Instant> logical_date) override {
        return store_.find_conflicting_run(dag_id, run_id, logical_date);
    }
    Result<std::vector<DagRunRow>> list_runs(const RunFilter& filter) override { return store_.list_runs(filter); }
    Result<std::optional<DagRunRow>> find_run(const std::string& dag_id, const std::string& run_id,
                                              bool with_tasks) override {
        return store_.find_run(dag_id, run_id, with_tasks);
    }
    Result<std::optional<PreviousTaskInstance>> previous_task_instance(const std::string& dag_id, Instant logical_date,
                                                                       const std::string& task_id,
                                                                       bool exclude_manual) override {
        return store_.previous_task_instance(dag_id, logical_date, task_id, exclude_manual);
    }
    Result<long long> next_backfill_id() override { return store_.next_backfill_id(); }
    Result<std::vector<PoolRecord>> list_pools() override { return store_.list_pools(); }
    Status set_pool(const PoolRecord& pool) override { return store_.set_pool(pool); }
    Status delete_pool(const std::string& name) override { return store_.delete_pool(name); }
    Result<std::vector<BackfillRow>> list_backfills(std::optional<std::string> dag_id, bool only_active) override {
        return store_.list_backfills(std::move(dag_id), only_active);
    }
    Result<std::optional<BackfillRow>> find_backfill(long long id) override { return store_.find_backfill(id); }
    Result<std::optional<std::string>> dag_version_json(const std::string& dag_id, int version) override {
        return store_.dag_version_json(dag_id, version);
    }
    Result<std::vector<TaskCostTotal>> task_cost_totals(const std::string& dag_id, Instant from, Instant to) override {
        return store_.task_cost_totals(dag_id, from, to);
    }
    Result<RunPage> query_runs(const RunQuery& query) override { return store_.query_runs(query); }
    Result<TaskInstancePage> query_task_instances(const TaskInstanceQuery& query) override {
        return store_.query_task_instances(query);
    }
    Result<std::vector<TaskTryRow>> list_task_tries(const std::string& dag_id, const std::string& run_id,
                                                    const std::string& task_id) override {
        return store_.list_task_tries(dag_id, run_id, task_id);
    }
    Result<std::vector<RunStateCount>> count_runs_by_state(const std::vector<std::string>& dag_ids) override {
        return store_.count_runs_by_state(dag_ids);
    }
    Result<bool> set_run_note(const std::string& dag_id, const std::string& run_id,
                              const std::optional<std::string>& note) override {
        return store_.set_run_note(dag_id, run_id, note);
    }
    Result<bool> set_task_note(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                               const std::optional<std::string>& note) override {
        return store_.set_task_note(dag_id, run_id, task_id, note);
    }
    Result<std::vector<DagCostTotal>> dag_cost_totals(Instant from, Instant to) override {
        return store_.dag_cost_totals(from, to);
    }
    Result<TaskCostPage> costliest_tries(const TaskCostQuery& query) override { return store_.costliest_tries(query); }

  private:
    SqliteStore& store_;
};

struct Harness {
    std::filesystem::path folder;
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<FaultyRunStore> faulty;  // what the core writes through
    ManualClock clock{at("2024-03-01T00:00:00Z")};
    FakeExecutor executor;
    std::unique_ptr<SchedulerCore> core;
    int version = 0;
    // Off here, so that tests decide how `empty` tries end too; tests of the shortcut turn it on.
    bool empty_in_scheduler = false;

    Harness() {
        folder = std::filesystem::temp_directory_path() /
                 ("mayaflow-core-test-" + std::to_string(::getpid()) + "-" +
                  std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        std::filesystem::remove_all(folder);
        std::filesystem::create_directories(folder);
        auto opened = SqliteStore::open(StoreOptions{.path = folder / "test.db"});
        REQUIRE(opened);
        store = std::move(*opened);
        faulty = std::make_unique<FaultyRunStore>(*store);
        restart();
    }
    ~Harness() { std::filesystem::remove_all(folder); }

    void restart() {
        executor.launched.clear();
        core = std::make_unique<SchedulerCore>(clock, *faulty, executor,
                                               SchedulerOptions{.parallelism = 32,
                                                                .logs_folder = folder / "logs",
                                                                .finish_empty_in_scheduler = empty_in_scheduler});
    }

    // `file`: the DAG file's name in the folder; by default one file per dag_id.
    std::shared_ptr<const Dag> add_dag(const std::string& yaml, bool paused = false, std::string file = "") {
        auto path = folder / "dag.yaml";
        auto result = load_dag_text(yaml, path, DagLoadOptions{&builtin_operators(), folder});
        INFO(format_errors(result.errors));
        REQUIRE(result.dag);
        if (file.empty()) file = result.dag->dag_id + ".yaml";
        result.dag->fileloc = (folder / file).string();
        auto dag = std::make_shared<const Dag>(std::move(*result.dag));
        REQUIRE(store->record_dag_file_parsed(dag->fileloc, *dag, to_json(*dag).dump(), clock.now()));
        auto record = store->find_dag(dag->dag_id);
        version = (*record)->latest_version;
        core->set_dag(dag, version, paused);
        return dag;
    }

    void turn() { REQUIRE(core->run_turn()); }

    // Finishes the oldest launched try with an outcome.
    TaskLaunch finish_next(TaskOutcome outcome, std::string message = "") {
        REQUIRE_FALSE(executor.launched.empty());
        TaskLaunch launch = std::move(executor.launched.front());
        executor.launched.pop_front();
        OperatorResult result;
        result.outcome = outcome;
        result.message = std::move(message);
        core->on_report(TaskReport{TaskReport::Kind::finished, launch.key, {}, result});
        return launch;
    }

    std::string launched_task(size_t i = 0) const {
        const auto& launch = executor.launched.at(i);
        return launch.dag->tasks[launch.key.task_index].task_id;
    }

    std::vector<DagRunRow> runs(const std::string& dag_id) {
        auto listed = store->list_runs(RunFilter{.dag_id = dag_id, .limit = 100000});
        REQUIRE(listed);
        return *listed;
    }
};

}  // namespace mayaflow::testing
