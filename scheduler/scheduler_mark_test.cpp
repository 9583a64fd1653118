// Marking a task by hand, as Airflow's set_task_instance_state: the state is set (a running try is
// ended), then the failed and upstream_failed tasks downstream are cleared so that they run, and a
// finished run runs again.

#include <catch2/catch.hpp>

#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::Harness;

const char* kPipeline = R"(
dag_id: pipeline
tasks:
  - task_id: extract
    operator: bash
    bash_command: "true"
  - task_id: load
    operator: bash
    bash_command: "true"
    depends_on: [extract]
  - task_id: report
    operator: bash
    bash_command: "true"
    depends_on: [load]
  - task_id: side
    operator: bash
    bash_command: "true"
)";

std::map<std::string, TaskState> states(Harness& h, const std::string& run_id) {
    auto run = h.store->find_run("pipeline", run_id, true);
    REQUIRE(run);
    REQUIRE(*run);
    std::map<std::string, TaskState> found;
    for (const auto& ti : (*run)->task_instances) found[ti.task_id] = ti.state;
    return found;
}

RunState run_state(Harness& h, const std::string& run_id) { return (*h.store->find_run("pipeline", run_id, false))->state; }

// Finishes the launched try of `task_id` with `outcome`.
void finish(Harness& h, const std::string& task_id, TaskOutcome outcome) {
    for (size_t i = 0; i < h.executor.launched.size(); ++i) {
        if (h.launched_task(i) != task_id) continue;
        std::swap(h.executor.launched[0], h.executor.launched[i]);
        h.finish_next(outcome);
        h.turn();
        return;
    }
    FAIL("no try of " << task_id << " was launched");
}

}  // namespace

TEST_CASE("marking a failed task success clears its failed downstream and the run runs again", "[scheduler_mark]") {
    Harness h;
    h.add_dag(kPipeline);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "pipeline"});
    h.turn();
    finish(h, "side", TaskOutcome::success);
    finish(h, "extract", TaskOutcome::failed);
    REQUIRE(run_state(h, run_id) == RunState::failed);
    CHECK(states(h, run_id)["report"] == TaskState::upstream_failed);

    auto cleared = h.core->mark_task("pipeline", run_id, "extract", TaskState::success);
    REQUIRE(cleared);
    CHECK(*cleared == 2);  // load and report; side stays success
    h.turn();
    CHECK(run_state(h, run_id) == RunState::running);
    CHECK(states(h, run_id) == std::map<std::string, TaskState>{{"extract", TaskState::success},
                                                                {"load", TaskState::queued},
                                                                {"report", TaskState::none},
                                                                {"side", TaskState::success}});
    finish(h, "load", TaskOutcome::success);
    finish(h, "report", TaskOutcome::success);
    CHECK(run_state(h, run_id) == RunState::success);
    CHECK(h.executor.launched.empty());  // extract and side did not run again
}

TEST_CASE("marking clears only the failed tasks below the marked one", "[scheduler_mark]") {
    Harness h;
    h.add_dag(kPipeline);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "pipeline"});
    h.turn();
    finish(h, "side", TaskOutcome::failed);
    finish(h, "extract", TaskOutcome::success);
    finish(h, "load", TaskOutcome::failed);
    REQUIRE(run_state(h, run_id) == RunState::failed);

    SECTION("a task in the middle") {
        REQUIRE(*h.core->mark_task("pipeline", run_id, "load", TaskState::success) == 1);
        h.turn();
        finish(h, "report", TaskOutcome::success);
        // side, not below load, stays failed, and it is a leaf: the run fails again, as in Airflow.
        CHECK(states(h, run_id)["side"] == TaskState::failed);
        CHECK(run_state(h, run_id) == RunState::failed);
    }
    SECTION("a task with nothing failed below it follows the leaves as before") {
        REQUIRE(*h.core->mark_task("pipeline", run_id, "side", TaskState::success) == 0);
        h.turn();
        CHECK(run_state(h, run_id) == RunState::failed);  // report is still upstream_failed
        REQUIRE(*h.core->mark_task("pipeline", run_id, "load", TaskState::skipped) == 1);
        h.turn();
        // report was cleared and is then skipped by its trigger rule when the run runs.
        CHECK(states(h, run_id)["report"] == TaskState::skipped);
        CHECK(run_state(h, run_id) == RunState::success);
    }
    SECTION("marking failed clears too: the downstream is decided again") {
        REQUIRE(*h.core->mark_task("pipeline", run_id, "extract", TaskState::failed) == 2);
        h.turn();
        CHECK(states(h, run_id)["load"] == TaskState::upstream_failed);
        CHECK(states(h, run_id)["report"] == TaskState::upstream_failed);
        CHECK(run_state(h, run_id) == RunState::failed);
        CHECK(h.executor.launched.empty());
    }
}

TEST_CASE("marking a task of a running run clears its failed downstream, which runs in that run",
          "[scheduler_mark]") {
    Harness h;
    h.add_dag(kPipeline);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "pipeline"});
    h.turn();
    finish(h, "extract", TaskOutcome::failed);  // side is still running
    REQUIRE(run_state(h, run_id) == RunState::running);
    REQUIRE(*h.core->mark_task("pipeline", run_id, "extract", TaskState::success) == 2);
    h.turn();
    CHECK(states(h, run_id)["load"] == TaskState::queued);
    finish(h, "side", TaskOutcome::success);
    finish(h, "load", TaskOutcome::success);
    finish(h, "report", TaskOutcome::success);
    CHECK(run_state(h, run_id) == RunState::success);
}

}  // namespace mayaflow
