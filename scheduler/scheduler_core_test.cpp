#include "scheduler/scheduler_core.h"

#include <catch2/catch.hpp>

#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::at;
using testing::Harness;

const char* kChain = R"(
dag_id: chain
schedule: "@daily"
start_date: 2024-02-25
catchup: true
max_active_runs: 2
tasks:
  - task_id: a
    operator: empty
  - task_id: b
    operator: empty
    depends_on: [a]
)";

}  // namespace

TEST_CASE("catchup creates one run per missed interval oldest first within max_active_runs", "[scheduler]") {
    Harness h;
    h.add_dag(kChain);
    h.turn();
    auto runs = h.runs("chain");
    REQUIRE(runs.size() == 2);  // max_active_runs
    // Oldest first: the first interval is [02-25, 02-26).
    CHECK(runs.back().run_id == "scheduled__2024-02-25T00:00:00+00:00");
    CHECK(runs.back().data_interval_end == at("2024-02-26T00:00:00Z"));
    REQUIRE(h.executor.launched.size() == 2);
    CHECK(h.launched_task(0) == "a");
    // Finishing both tasks of the first run frees a slot for the next interval.
    while (!h.executor.launched.empty()) {
        h.finish_next(TaskOutcome::success);
        h.turn();
    }
    runs = h.runs("chain");
    // 02-25 .. 02-29 are complete intervals at 03-01 00:00: five runs, all succeeded.
    REQUIRE(runs.size() == 5);
    for (const auto& run : runs) CHECK(run.state == RunState::success);
    CHECK(runs.front().run_id == "scheduled__2024-02-29T00:00:00+00:00");
    // The next run is due when the next interval ends.
    auto next = h.core->run_turn();
    REQUIRE(next);
    REQUIRE(*next);
    CHECK(**next == at("2024-03-02T00:00:00Z"));
}

TEST_CASE("a failed try is retried after its delay and a final failure fails the run", "[scheduler]") {
    Harness h;
    h.add_dag(R"(
dag_id: retry
tasks:
  - task_id: a
    operator: bash
    bash_command: "false"
    retries: 1
    retry_delay: 5m
  - task_id: b
    operator: empty
    depends_on: [a]
  - task_id: c
    operator: empty
    depends_on: [a]
    trigger_rule: all_failed
)");
    auto run_id = h.core->trigger(TriggerRequest{.dag_id = "retry", .conf = {{"x", 1}}});
    REQUIRE(run_id);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].key.try_number == 1);
    CHECK(h.executor.launched[0].run_info.conf["x"] == 1);
    h.finish_next(TaskOutcome::failed, "exit code 1");
    h.turn();
    auto pk = h.core->active_run_pks("retry").at(0);
    CHECK(h.core->task_state(pk, "a") == TaskState::up_for_retry);
    CHECK(h.executor.launched.empty());
    h.clock.advance(std::chrono::minutes(4));
    h.turn();
    CHECK(h.executor.launched.empty());
    h.clock.advance(std::chrono::minutes(2));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].key.try_number == 2);
    h.finish_next(TaskOutcome::failed, "exit code 1");
    h.turn();
    CHECK(h.core->task_state(pk, "b") == TaskState::upstream_failed);
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.launched_task() == "c");
    h.finish_next(TaskOutcome::success);
    h.turn();
    auto run = h.store->find_run("retry", *run_id, true);
    REQUIRE(run);
    REQUIRE(*run);
    CHECK((*run)->state == RunState::failed);  // leaf b is upstream_failed
}

TEST_CASE("clearing a failed task runs it again and the run can succeed", "[scheduler]") {
    Harness h;
    h.add_dag("dag_id: clearme\ntasks:\n  - task_id: a\n    operator: empty\n  - task_id: b\n    operator: empty\n    depends_on: [a]\n");
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "clearme"});
    h.turn();
    h.finish_next(TaskOutcome::failed);
    h.turn();
    CHECK((*h.store->find_run("clearme", run_id, false))->state == RunState::failed);
    auto cleared = h.core->clear(ClearRequest{"clearme", run_id, {"a"}, true, true, false});
    REQUIRE(cleared);
    CHECK(cleared->cleared == 2);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].key.try_number == 2);
    h.finish_next(TaskOutcome::success);
    h.turn();
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK((*h.store->find_run("clearme", run_id, false))->state == RunState::success);
}

TEST_CASE("a restarted scheduler picks up unfinished runs from the store", "[scheduler]") {
    Harness h;
    auto dag = h.add_dag(kChain);
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);
    h.finish_next(TaskOutcome::success);
    h.turn();
    // The scheduler dies here: the try of b and the second run's a were queued, never started.
    h.restart();
    h.core->set_dag(dag, h.version, false);
    REQUIRE(h.core->recover());
    h.turn();
    // Nothing that succeeded runs again; the queued tries go again as the same try.
    REQUIRE(h.executor.launched.size() == 2);
    for (const auto& launch : h.executor.launched) CHECK(launch.key.try_number == 1);
    while (!h.executor.launched.empty()) {
        h.finish_next(TaskOutcome::success);
        h.turn();
    }
    auto runs = h.runs("chain");
    REQUIRE(runs.size() == 5);
    for (const auto& run : runs) CHECK(run.state == RunState::success);
}

TEST_CASE("a year of hourly catchup is simulated quickly", "[scheduler]") {
    Harness h;
    h.clock.set(at("2024-01-01T00:00:00Z"));
    h.add_dag(R"(
dag_id: hourly
schedule: "@hourly"
start_date: 2023-01-01
catchup: true
max_active_runs: 16
tasks:
  - task_id: a
    operator: empty
)");
    h.turn();
    size_t finished = 0;
    while (!h.executor.launched.empty()) {
        while (!h.executor.launched.empty()) {
            h.finish_next(TaskOutcome::success);
            ++finished;
        }
        h.turn();
    }
    CHECK(finished == 8760);
    CHECK(h.runs("hourly").size() == 8760);
}

TEST_CASE("paused DAGs create no runs and manual runs wait for unpause", "[scheduler]") {
    Harness h;
    h.add_dag(kChain, /*paused=*/true);
    h.turn();
    CHECK(h.runs("chain").empty());
    auto run_id = h.core->trigger(TriggerRequest{.dag_id = "chain", .logical_date = at("2024-01-05T00:00:00Z")});
    REQUIRE(run_id);
    CHECK(*run_id == "manual__2024-01-05T00:00:00+00:00");
    h.turn();
    CHECK(h.executor.launched.empty());
    CHECK(h.runs("chain").at(0).state == RunState::queued);
    REQUIRE(h.core->set_paused("chain", false));
    h.turn();
    CHECK_FALSE(h.executor.launched.empty());
    CHECK_FALSE(h.core->trigger(TriggerRequest{.dag_id = "chain", .logical_date = at("2024-01-05T00:00:00Z")}));
    CHECK_FALSE(h.core->trigger(TriggerRequest{.dag_id = "nope"}));
}

}  // namespace mayaflow

namespace mayaflow {

TEST_CASE("a downstream try sees its upstream results for xcom_pull", "[scheduler]") {
    Harness h;
    h.add_dag("dag_id: xcom\ntasks:\n  - task_id: a\n    operator: empty\n  - task_id: b\n    operator: empty\n    depends_on: [a]\n");
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "xcom"}));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    TaskLaunch launch = std::move(h.executor.launched.front());
    h.executor.launched.pop_front();
    OperatorResult result;
    result.outcome = TaskOutcome::success;
    result.value = "gs://bucket/file.csv";
    h.core->on_report(TaskReport{TaskReport::Kind::finished, launch.key, {}, result});
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    auto pulled = h.executor.launched[0].run_info.task_result("a");
    REQUIRE(pulled);
    CHECK(*pulled == "gs://bucket/file.csv");
    CHECK_FALSE(h.executor.launched[0].run_info.task_result("b"));
}

TEST_CASE("a run's tries see the DAG's last successful run before it (prev_*_success)", "[scheduler]") {
    Harness h;
    h.add_dag(kChain);
    h.turn();
    // The first two runs have no successful run before them.
    REQUIRE(h.executor.launched.size() == 2);
    for (const auto& launch : h.executor.launched) {
        CHECK_FALSE(launch.run_info.prev_data_interval_start_success);
        CHECK_FALSE(launch.run_info.prev_start_date_success);
    }
    while (!h.executor.launched.empty()) {
        h.finish_next(TaskOutcome::success);
        h.turn();
    }
    REQUIRE(h.runs("chain").size() == 5);
    // Cleared, the newest run (02-29) runs again and sees 02-28's interval, the latest success before it.
    auto cleared = h.core->clear(ClearRequest{"chain", "scheduled__2024-02-29T00:00:00+00:00", {"a"}, false, false, false});
    REQUIRE(cleared);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    const auto& info = h.executor.launched.front().run_info;
    REQUIRE(info.prev_data_interval_start_success);
    CHECK(*info.prev_data_interval_start_success == at("2024-02-28T00:00:00Z"));
    CHECK(*info.prev_data_interval_end_success == at("2024-02-29T00:00:00Z"));
    CHECK(info.prev_start_date_success);
    CHECK(info.prev_end_date_success);
}

}  // namespace mayaflow
