// DAGs coming and going under the scheduler: a file that now defines another dag_id retires the
// old one (Airflow's inactive DAG), pausing and unpausing a DAG with runs under way.

#include <catch2/catch.hpp>

#include "scheduler/command_handler.h"
#include "scheduler/dag_activity.h"
#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::at;
using testing::Harness;

std::string hourly(const std::string& dag_id) {
    return fmt::format(R"(
dag_id: {}
schedule: "@hourly"
start_date: 2024-02-29T20:00:00Z
catchup: true
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
)",
                       dag_id);
}

void finish_all(Harness& h) {
    while (!h.executor.launched.empty()) {
        while (!h.executor.launched.empty()) h.finish_next(TaskOutcome::success);
        h.turn();
    }
}

}  // namespace

TEST_CASE("a file that now defines another dag_id retires the old one", "[scheduler_dags]") {
    Harness h;
    h.clock.set(at("2024-02-29T21:30:00Z"));
    h.add_dag(hourly("old_name"), false, "sales.yaml");
    h.add_dag(hourly("neighbour"), false, "neighbour.yaml");
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);  // old_name 20:00 and neighbour 20:00

    h.add_dag(hourly("new_name"), false, "sales.yaml");  // the same file, renamed
    auto refused = h.core->trigger(TriggerRequest{.dag_id = "old_name"});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("DAG 'old_name' is not active: its file"));
    CHECK_THAT(refused.error().message, Catch::Contains("sales.yaml now defines 'new_name'"));
    auto backfill = h.core->create_backfill(BackfillRequest{.dag_id = "old_name", .from_date = at("2024-02-01T00:00:00Z"),
                                                            .to_date = at("2024-02-02T00:00:00Z")});
    REQUIRE_FALSE(backfill);
    CHECK_THAT(backfill.error().message, Catch::Contains("not active"));

    // Through the command handler the store says the same, also for a DAG no longer in memory.
    auto answer = apply_command(*h.core, *h.store, *h.store, "trigger", {{"dag_id", "old_name"}});
    REQUIRE_FALSE(answer);
    CHECK_THAT(answer.error().message, Catch::Contains("now defines 'new_name'"));
    CHECK_FALSE(check_dag_takes_runs(*h.store, "old_name"));
    CHECK(check_dag_takes_runs(*h.store, "new_name"));
    auto listed = h.store->list_dags(false);
    REQUIRE(listed);
    for (const auto& dag : *listed) CHECK(dag.dag_id != "old_name");

    // The old DAG's run under way finishes; it gets no new run, while the others go on.
    h.clock.set(at("2024-02-29T23:30:00Z"));
    h.turn();
    finish_all(h);
    CHECK(h.runs("old_name").size() == 1);
    CHECK(h.runs("old_name").at(0).state == RunState::success);
    CHECK(h.runs("new_name").size() == 3);   // 20:00, 21:00, 22:00
    CHECK(h.runs("neighbour").size() == 3);

    // Renamed back, it is active again and goes on from its own last run.
    h.add_dag(hourly("old_name"), false, "sales.yaml");
    CHECK_FALSE(h.core->trigger(TriggerRequest{.dag_id = "new_name"}));
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "old_name", .logical_date = at("2024-01-01T00:00:00Z")}));
    h.turn();
    finish_all(h);
    CHECK(h.runs("old_name").size() == 4);  // 20:00, the manual run, 21:00, 22:00
}

TEST_CASE("a DAG whose file is gone takes no triggers and says why", "[scheduler_dags]") {
    Harness h;
    h.add_dag(hourly("gone"), false, "gone.yaml");
    h.core->remove_dag("gone");
    auto refused = h.core->trigger(TriggerRequest{.dag_id = "gone"});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("DAG 'gone' is not active: its file"));
    CHECK_THAT(refused.error().message, Catch::Contains("gone.yaml is gone"));
    REQUIRE(h.store->record_dag_file_deleted((h.folder / "gone.yaml").string()));
    auto stored = check_dag_takes_runs(*h.store, "gone");
    REQUIRE_FALSE(stored);
    CHECK_THAT(stored.error().message, Catch::Contains("is gone or no longer defines it"));
    auto unknown = check_dag_takes_runs(*h.store, "never_was");
    REQUIRE_FALSE(unknown);
    CHECK_THAT(unknown.error().message, Catch::Contains("no DAG with dag_id 'never_was'"));
}

}  // namespace mayaflow

namespace mayaflow {

TEST_CASE("pausing a DAG stops its running runs from queueing tasks; running tries finish; unpause resumes",
          "[scheduler_dags]") {
    Harness h;
    h.add_dag(R"(
dag_id: chain
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
  - task_id: b
    operator: bash
    bash_command: "true"
    depends_on: [a]
    retries: 1
    retry_delay: 1m
  - task_id: c
    operator: empty
    depends_on: [b]
)");
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "chain"});
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    REQUIRE(h.core->set_paused("chain", true));
    h.turn();
    CHECK(h.executor.cancelled.empty());  // the running try is left to finish
    h.finish_next(TaskOutcome::success);
    h.turn();
    h.turn();
    CHECK(h.executor.launched.empty());  // b is ready but not queued
    CHECK(h.core->task_state(h.runs("chain").at(0).pk, "b") == TaskState::scheduled);
    REQUIRE(h.core->set_paused("chain", false));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.launched_task() == "b");

    // A retry that comes due while the DAG is paused waits too.
    h.finish_next(TaskOutcome::failed);
    h.turn();
    REQUIRE(h.core->set_paused("chain", true));
    h.clock.advance(std::chrono::minutes(2));
    h.turn();
    CHECK(h.executor.launched.empty());
    // The pause also survives a reload of the state from the store.
    h.faulty->fail_nth_commit_from_now(1);
    CHECK_FALSE(h.core->run_turn());
    h.turn();
    CHECK(h.executor.launched.empty());
    REQUIRE(h.core->set_paused("chain", false));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].key.try_number == 2);
    h.finish_next(TaskOutcome::success);
    h.turn();
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK((*h.store->find_run("chain", run_id, false))->state == RunState::success);
}

TEST_CASE("an empty task of a paused DAG waits like any other, and ends at once after unpause", "[scheduler_dags]") {
    Harness h;
    h.empty_in_scheduler = true;  // as the daemon runs: empty tasks end in the scheduler
    h.restart();
    h.add_dag(R"(
dag_id: joins
tasks:
  - task_id: a
    operator: bash
    bash_command: "sleep 1"
  - task_id: join
    operator: empty
    depends_on: [a]
  - task_id: after
    operator: bash
    bash_command: "true"
    depends_on: [join]
)");
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "joins"});
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    REQUIRE(h.core->set_paused("joins", true));
    h.finish_next(TaskOutcome::success);
    h.turn();
    h.turn();
    const long long pk = h.runs("joins").at(0).pk;
    CHECK(h.core->task_state(pk, "join") == TaskState::scheduled);
    CHECK(h.core->task_state(pk, "after") == TaskState::none);
    CHECK(h.executor.launched.empty());
    REQUIRE(h.core->set_paused("joins", false));
    h.turn();
    h.turn();
    CHECK(h.core->task_state(pk, "join") == TaskState::success);
    REQUIRE(h.executor.launched.size() == 1);  // the empty task needed no executor
    CHECK(h.launched_task() == "after");
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK((*h.store->find_run("joins", run_id, false))->state == RunState::success);
}

TEST_CASE("a backfill's runs go on while their DAG is paused", "[scheduler_dags]") {
    Harness h;
    h.clock.set(at("2024-03-01T00:00:00Z"));
    h.add_dag(R"(
dag_id: daily
schedule: "@daily"
start_date: 2024-01-01
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
  - task_id: b
    operator: bash
    bash_command: "true"
    depends_on: [a]
)", /*paused=*/true);
    REQUIRE(h.core->create_backfill(BackfillRequest{.dag_id = "daily", .from_date = at("2024-01-01T00:00:00Z"),
                                                    .to_date = at("2024-01-01T00:00:00Z")}));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    h.finish_next(TaskOutcome::success);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.launched_task() == "b");
}

}  // namespace mayaflow

namespace mayaflow {

TEST_CASE("queued runs count against max_active_runs: a manual run goes next, not after the catchup",
          "[scheduler_dags]") {
    Harness h;
    h.clock.set(at("2024-03-01T00:30:00Z"));
    h.add_dag(R"(
dag_id: catching_up
schedule: "@daily"
start_date: 2024-02-15
catchup: true
max_active_runs: 1
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
)");
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].run_info.run_id == "scheduled__2024-02-15T00:00:00+00:00");
    auto manual = *h.core->trigger(TriggerRequest{.dag_id = "catching_up", .run_id = std::string("by_hand")});
    h.turn();
    CHECK(h.executor.launched.size() == 1);  // the limit holds
    std::vector<std::string> order;
    while (!h.executor.launched.empty()) {
        order.push_back(h.executor.launched[0].run_info.run_id);
        h.finish_next(TaskOutcome::success);
        h.turn();
    }
    REQUIRE(order.size() == 16);  // 15 missed intervals and the manual run
    CHECK(order[0] == "scheduled__2024-02-15T00:00:00+00:00");
    CHECK(order[1] == "by_hand");
    CHECK(order[2] == "scheduled__2024-02-16T00:00:00+00:00");
    CHECK(order[15] == "scheduled__2024-02-29T00:00:00+00:00");

    SECTION("with room for two, a queued run still takes one place") {
        // Nothing is left to catch up; two manual runs and a limit of 1: one at a time, in order.
        REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "catching_up", .run_id = std::string("m1"),
                                               .logical_date = at("2023-01-01T00:00:00Z")}));
        REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "catching_up", .run_id = std::string("m2"),
                                               .logical_date = at("2023-01-02T00:00:00Z")}));
        h.clock.set(at("2024-03-02T00:30:00Z"));  // and the 03-01 interval is due
        h.turn();
        std::vector<std::string> next;
        while (!h.executor.launched.empty()) {
            REQUIRE(h.executor.launched.size() == 1);
            next.push_back(h.executor.launched[0].run_info.run_id);
            h.finish_next(TaskOutcome::success);
            h.turn();
        }
        CHECK(next == std::vector<std::string>{"m1", "m2", "scheduled__2024-03-01T00:00:00+00:00"});
    }
    (void)manual;
}

}  // namespace mayaflow
