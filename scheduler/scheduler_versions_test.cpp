// Which DAG version a run that runs again uses: clearing (and a backfill's reprocessing) moves the
// run to the DAG's newest version by default, as Airflow does for a folder that is not a versioned
// bundle ("fix it, then clear it"); keeping the run's version is the option.

#include <catch2/catch.hpp>

#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::at;
using testing::Harness;

const char* kFirst = R"(
dag_id: fixme
schedule: "@daily"
start_date: 2024-02-28
tasks:
  - task_id: a
    operator: bash
    bash_command: "exit 1  # version 1"
  - task_id: b
    operator: bash
    bash_command: "true"
    depends_on: [a]
)";

// The fix: a's command changes, b is gone, c is new.
const char* kFixed = R"(
dag_id: fixme
schedule: "@daily"
start_date: 2024-02-28
tasks:
  - task_id: a
    operator: bash
    bash_command: "echo fixed  # version 2"
    retries: 2
  - task_id: c
    operator: bash
    bash_command: "true"
    depends_on: [a]
)";

std::string command_of(const TaskLaunch& launch) {
    return launch.dag->tasks[launch.key.task_index].params.value("bash_command", "");
}

DagRunRow stored(Harness& h, const std::string& run_id) {
    auto run = h.store->find_run("fixme", run_id, true);
    REQUIRE(run);
    REQUIRE(*run);
    return **run;
}

std::map<std::string, TaskState> states(const DagRunRow& run) {
    std::map<std::string, TaskState> found;
    for (const auto& ti : run.task_instances) found[ti.task_id] = ti.state;
    return found;
}

// A failed run of version 1, then the fixed file loaded as version 2.
std::string failed_run_then_fix(Harness& h) {
    h.clock.set(at("2024-02-29T06:00:00Z"));
    h.add_dag(kFirst);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    h.finish_next(TaskOutcome::failed);
    h.turn();
    std::string run_id = "scheduled__2024-02-28T00:00:00+00:00";
    REQUIRE(stored(h, run_id).state == RunState::failed);
    h.add_dag(kFixed);
    REQUIRE(h.version == 2);
    return run_id;
}

}  // namespace

TEST_CASE("clearing runs the cleared tasks with the DAG's newest version by default", "[scheduler_versions]") {
    Harness h;
    auto run_id = failed_run_then_fix(h);
    auto cleared = h.core->clear(ClearRequest{.dag_id = "fixme", .run_id = run_id, .only_failed = true});
    REQUIRE(cleared);
    CHECK(cleared->cleared == 1);
    CHECK(cleared->dag_version == 2);
    CHECK(cleared->version_note == "the newest; the run had version 1");
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(command_of(h.executor.launched[0]) == "echo fixed  # version 2");
    CHECK(h.executor.launched[0].key.try_number == 2);  // the failed try is kept in the history
    auto run = stored(h, run_id);
    CHECK(run.dag_version == 2);
    // b is not in version 2: removed; c is new and waits for a.
    CHECK(states(run) == std::map<std::string, TaskState>{
                             {"a", TaskState::queued}, {"b", TaskState::removed}, {"c", TaskState::none}});
    h.finish_next(TaskOutcome::success);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.launched_task() == "c");
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(stored(h, run_id).state == RunState::success);
}

TEST_CASE("clearing with run_on_latest_version off keeps the run's version", "[scheduler_versions]") {
    Harness h;
    auto run_id = failed_run_then_fix(h);
    auto cleared = h.core->clear(
        ClearRequest{.dag_id = "fixme", .run_id = run_id, .task_ids = {"a"}, .run_on_latest_version = false});
    REQUIRE(cleared);
    CHECK(cleared->dag_version == 1);
    CHECK(cleared->version_note == "the run's own; --keep-run-version");
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(command_of(h.executor.launched[0]) == "exit 1  # version 1");
    CHECK(stored(h, run_id).dag_version == 1);
    // A task that only the newest version has cannot be cleared in the run's own.
    auto unknown = h.core->clear(
        ClearRequest{.dag_id = "fixme", .run_id = run_id, .task_ids = {"c"}, .run_on_latest_version = false});
    REQUIRE_FALSE(unknown);
    CHECK_THAT(unknown.error().message, Catch::Contains("has no task 'c' (in version 1"));
}

TEST_CASE("a clear that clears nothing leaves the run's version alone", "[scheduler_versions]") {
    Harness h;
    h.clock.set(at("2024-02-29T06:00:00Z"));
    h.add_dag(kFirst);
    h.turn();
    h.finish_next(TaskOutcome::success);
    h.turn();
    h.finish_next(TaskOutcome::success);
    h.turn();
    std::string run_id = "scheduled__2024-02-28T00:00:00+00:00";
    REQUIRE(stored(h, run_id).state == RunState::success);
    h.add_dag(kFixed);
    auto cleared = h.core->clear(ClearRequest{.dag_id = "fixme", .run_id = run_id, .only_failed = true});
    REQUIRE(cleared);
    CHECK(cleared->cleared == 0);
    h.turn();
    auto run = stored(h, run_id);
    CHECK(run.dag_version == 1);
    CHECK(run.state == RunState::success);
    CHECK(states(run).count("b") == 1);
    CHECK(states(run).at("b") == TaskState::success);
}

TEST_CASE("a run with tries under way keeps its version when cleared, and says why", "[scheduler_versions]") {
    Harness h;
    h.clock.set(at("2024-02-29T06:00:00Z"));
    h.add_dag(R"(
dag_id: fixme
tasks:
  - task_id: a
    operator: bash
    bash_command: "exit 1"
  - task_id: slow
    operator: bash
    bash_command: "sleep 100"
)");
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "fixme"});
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);
    h.finish_next(TaskOutcome::failed);  // a fails; slow still runs
    h.turn();
    h.add_dag(R"(
dag_id: fixme
tasks:
  - task_id: a
    operator: bash
    bash_command: "echo fixed"
  - task_id: slow
    operator: bash
    bash_command: "sleep 100"
)");
    auto cleared = h.core->clear(ClearRequest{.dag_id = "fixme", .run_id = run_id, .task_ids = {"a"}});
    REQUIRE(cleared);
    CHECK(cleared->dag_version == 1);
    CHECK_THAT(cleared->version_note, Catch::Contains("tries of the run are under way"));
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);
    CHECK(command_of(h.executor.launched[1]) == "exit 1");
}

TEST_CASE("a backfill that runs finished runs again moves them to the newest version unless asked not to",
          "[scheduler_versions]") {
    for (bool latest : {true, false}) {
        INFO("run_on_latest_version " << latest);
        Harness h;
        auto run_id = failed_run_then_fix(h);
        BackfillRequest request{.dag_id = "fixme", .from_date = at("2024-02-28T00:00:00Z"),
                                .to_date = at("2024-02-28T00:00:00Z"),
                                .reprocess_behavior = ReprocessBehavior::failed,
                                .run_on_latest_version = latest};
        auto outcome = h.core->create_backfill(request);
        REQUIRE(outcome);
        REQUIRE(outcome->plan.runs.size() == 1);
        h.turn();
        REQUIRE(h.executor.launched.size() == 1);
        CHECK(command_of(h.executor.launched[0]) == (latest ? "echo fixed  # version 2" : "exit 1  # version 1"));
        CHECK(stored(h, run_id).dag_version == (latest ? 2 : 1));
    }
}

}  // namespace mayaflow
