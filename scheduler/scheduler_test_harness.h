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

struct Harness {
    std::filesystem::path folder;
    std::unique_ptr<SqliteStore> store;
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
        restart();
    }
    ~Harness() { std::filesystem::remove_all(folder); }

    void restart() {
        executor.launched.clear();
        core = std::make_unique<SchedulerCore>(clock, *store, executor,
                                               SchedulerOptions{.parallelism = 32,
                                                                .logs_folder = folder / "logs",
                                                                .finish_empty_in_scheduler = empty_in_scheduler});
    }

    std::shared_ptr<const Dag> add_dag(const std::string& yaml, bool paused = false) {
        auto result = load_dag_text(yaml, folder / "dag.yaml", DagLoadOptions{&builtin_operators(), folder});
        INFO(format_errors(result.errors));
        REQUIRE(result.dag);
        auto dag = std::make_shared<const Dag>(std::move(*result.dag));
        REQUIRE(store->record_dag_file_parsed((folder / "dag.yaml").string(), *dag, to_json(*dag).dump(), clock.now()));
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
