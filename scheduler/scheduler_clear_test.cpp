// Clearing a task that is under way: as Airflow, its try is ended and the task runs again, and the
// clear says so.

#include <catch2/catch.hpp>

#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::Harness;

const char* kTwo = R"(
dag_id: two
tasks:
  - task_id: slow
    operator: bash
    bash_command: "sleep 100"
    retries: 0
  - task_id: after
    operator: bash
    bash_command: "true"
    depends_on: [slow]
)";

}  // namespace

TEST_CASE("clearing a running task ends its try and runs it again", "[scheduler_clear]") {
    Harness h;
    h.add_dag(kTwo);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "two"});
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    TaskLaunch first = h.executor.launched.front();
    h.executor.launched.pop_front();
    h.core->on_report(TaskReport{TaskReport::Kind::started, first.key, {}, {}});

    auto cleared = h.core->clear(ClearRequest{.dag_id = "two", .run_id = run_id, .task_ids = {"slow"}});
    REQUIRE(cleared);
    CHECK(cleared->cleared == 1);
    CHECK(cleared->restarted == std::vector<std::string>{"slow"});
    REQUIRE(h.executor.cancelled.size() == 1);
    CHECK(h.executor.cancelled[0] == first.key);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].key.try_number == 2);
    // The ended try reports later; that report changes nothing.
    OperatorResult ended;
    ended.outcome = TaskOutcome::failed;
    ended.message = "terminated";
    h.core->on_report(TaskReport{TaskReport::Kind::finished, first.key, {}, ended});
    h.turn();
    CHECK(h.core->task_state(h.runs("two").at(0).pk, "slow") == TaskState::queued);
    CHECK(h.core->running_tries() == 1);
    h.finish_next(TaskOutcome::success);
    h.turn();
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK((*h.store->find_run("two", run_id, false))->state == RunState::success);
}

TEST_CASE("clearing only failed tasks leaves a running one alone", "[scheduler_clear]") {
    Harness h;
    h.add_dag(kTwo);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "two"});
    h.turn();
    auto cleared = h.core->clear(ClearRequest{.dag_id = "two", .run_id = run_id, .only_failed = true});
    REQUIRE(cleared);
    CHECK(cleared->cleared == 0);
    CHECK(cleared->restarted.empty());
    CHECK(h.executor.cancelled.empty());
}

}  // namespace mayaflow
