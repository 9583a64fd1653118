// The API's commands on whole runs and DAGs: a run's state set by hand (Airflow's
// set_dag_run_state_to_*), a run deleted, a DAG whose file is gone deleted, and the dry runs of
// clear and mark that list what would change without changing it.

#include <catch2/catch.hpp>

#include "scheduler/command_handler.h"
#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::Harness;

const char* kThree = R"(
dag_id: three
tasks:
  - task_id: first
    operator: bash
    bash_command: "true"
  - task_id: second
    operator: bash
    bash_command: "true"
    depends_on: [first]
  - task_id: third
    operator: bash
    bash_command: "true"
    depends_on: [second]
)";

std::map<std::string, TaskState> states(Harness& h, const std::string& run_id) {
    auto run = h.store->find_run("three", run_id, true);
    REQUIRE(run);
    REQUIRE(*run);
    std::map<std::string, TaskState> found;
    for (const auto& ti : (*run)->task_instances) found[ti.task_id] = ti.state;
    return found;
}

RunState run_state(Harness& h, const std::string& run_id) { return (*h.store->find_run("three", run_id, false))->state; }

// A run whose first task is running.
std::string running_run(Harness& h) {
    auto run_id = h.core->trigger(TriggerRequest{.dag_id = "three"});
    REQUIRE(run_id);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    h.core->on_report(TaskReport{TaskReport::Kind::started, h.executor.launched.front().key, {}, {}});
    h.turn();
    return *run_id;
}

}  // namespace

TEST_CASE("setting a running run success marks every task success and ends the running try", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree);
    auto run_id = running_run(h);
    TryKey running = h.executor.launched.front().key;
    auto changed = h.core->set_run_state("three", run_id, RunState::success);
    REQUIRE(changed);
    CHECK(changed->size() == 3);
    h.turn();
    CHECK(run_state(h, run_id) == RunState::success);
    for (auto [task, state] : states(h, run_id)) CHECK(state == TaskState::success);
    REQUIRE(h.executor.cancelled.size() == 1);
    CHECK(h.executor.cancelled[0] == running);
    CHECK(h.core->running_tries() == 1);  // until the ended try reports
    h.finish_next(TaskOutcome::failed, "terminated");
    h.turn();
    CHECK(run_state(h, run_id) == RunState::success);
    CHECK(h.core->active_run_count() == 0);
}

TEST_CASE("setting a running run failed fails the running task and skips the others", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree);
    auto run_id = running_run(h);
    auto changed = h.core->set_run_state("three", run_id, RunState::failed);
    REQUIRE(changed);
    h.turn();
    CHECK(run_state(h, run_id) == RunState::failed);
    auto found = states(h, run_id);
    CHECK(found["first"] == TaskState::failed);
    CHECK(found["second"] == TaskState::skipped);
    CHECK(found["third"] == TaskState::skipped);
    // The DAG's run slot is free again: a new trigger starts at once.
    auto next = h.core->trigger(TriggerRequest{.dag_id = "three", .logical_date = testing::at("2024-03-02T00:00:00Z")});
    REQUIRE(next);
    h.turn();
    CHECK(run_state(h, *next) == RunState::running);
}

TEST_CASE("a finished run set to queued runs again; a running one cannot be queued", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree);
    auto run_id = running_run(h);
    auto refused = h.core->set_run_state("three", run_id, RunState::queued);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("already running"));
    REQUIRE(h.core->set_run_state("three", run_id, RunState::failed));
    h.turn();
    h.finish_next(TaskOutcome::failed);
    h.turn();
    auto queued = h.core->set_run_state("three", run_id, RunState::queued);
    REQUIRE(queued);
    CHECK(queued->empty());
    // The run starts in the next turn; its tasks are as they were (finished), so it decides at once
    // by its leaves, as Airflow does: the leaf was skipped, so the run is a success this time.
    h.turn();
    CHECK(run_state(h, run_id) == RunState::success);
    auto unknown = h.core->set_run_state("three", "no_such_run", RunState::success);
    REQUIRE_FALSE(unknown);
}

TEST_CASE("a queued run set success leaves the queue and frees its place", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree, /*paused=*/true);  // a paused DAG's triggered runs wait in the queue
    auto run_id = h.core->trigger(TriggerRequest{.dag_id = "three"});
    REQUIRE(run_id);
    h.turn();
    CHECK(run_state(h, *run_id) == RunState::queued);
    REQUIRE(h.core->set_run_state("three", *run_id, RunState::success));
    h.turn();
    CHECK(run_state(h, *run_id) == RunState::success);
    REQUIRE(h.core->set_paused("three", false));
    h.turn();
    CHECK(h.executor.launched.empty());
    CHECK(h.core->active_run_count() == 0);
}

TEST_CASE("deleting a run removes it and its task instances; its running try is ended", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree);
    auto run_id = running_run(h);
    TaskLaunch launch = h.executor.launched.front();
    REQUIRE(h.core->delete_run("three", run_id));
    h.turn();
    CHECK_FALSE(*h.store->find_run("three", run_id, false));
    auto tis = h.store->query_task_instances(TaskInstanceQuery{.dag_ids = {"three"}});
    REQUIRE(tis);
    CHECK(tis->total_entries == 0);
    CHECK(h.executor.cancelled.size() == 1);
    // The ended try's late report changes nothing, and the DAG takes new runs.
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(h.core->active_run_count() == 0);
    auto next = h.core->trigger(TriggerRequest{.dag_id = "three", .run_id = run_id});
    REQUIRE(next);  // the run id is free again
    h.turn();
    CHECK(run_state(h, run_id) == RunState::running);
    auto missing = h.core->delete_run("three", "no_such_run");
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error().message, Catch::StartsWith("no run"));
}

TEST_CASE("deleting a finished run that is not in memory", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree);
    auto run_id = running_run(h);
    REQUIRE(h.core->set_run_state("three", run_id, RunState::success));
    h.turn();
    h.restart();
    REQUIRE(h.core->recover());
    REQUIRE(h.core->delete_run("three", run_id));
    h.turn();
    CHECK_FALSE(*h.store->find_run("three", run_id, false));
}

TEST_CASE("a DAG is deleted only when its file is gone, with everything it had", "[scheduler_run_commands]") {
    Harness h;
    auto dag = h.add_dag(kThree);
    auto run_id = running_run(h);
    auto refused = apply_command(*h.core, *h.store, *h.store, "delete_dag", {{"dag_id", "three"}});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("remove the file first"));

    REQUIRE(h.store->record_dag_file_deleted(dag->fileloc));
    h.core->remove_dag("three");
    auto deleted = apply_command(*h.core, *h.store, *h.store, "delete_dag", {{"dag_id", "three"}});
    REQUIRE(deleted);
    h.turn();
    CHECK_FALSE(*h.store->find_dag("three"));
    CHECK_FALSE(*h.store->find_run("three", run_id, false));
    CHECK_FALSE(*h.store->dag_version_json("three", 1));
    CHECK(h.executor.cancelled.size() == 1);
    CHECK(h.core->active_run_count() == 0);
    auto again = apply_command(*h.core, *h.store, *h.store, "delete_dag", {{"dag_id", "three"}});
    REQUIRE_FALSE(again);
    CHECK_THAT(again.error().message, Catch::StartsWith("no DAG"));
}

TEST_CASE("a dry run of clear lists the tasks and changes nothing", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree);
    auto run_id = running_run(h);
    h.finish_next(TaskOutcome::success);
    h.turn();
    h.finish_next(TaskOutcome::failed);
    h.turn();
    h.turn();
    REQUIRE(run_state(h, run_id) == RunState::failed);
    auto before = states(h, run_id);
    auto answer = apply_command(*h.core, *h.store, *h.store, "clear",
                                {{"dag_id", "three"}, {"run_id", run_id}, {"dry_run", true}});
    REQUIRE(answer);
    CHECK((*answer)["task_ids"] == nlohmann::json({"first", "second", "third"}));
    h.turn();
    CHECK(states(h, run_id) == before);
    CHECK(run_state(h, run_id) == RunState::failed);
    CHECK(h.core->active_run_count() == 0);

    auto failed_only = apply_command(*h.core, *h.store, *h.store, "clear",
                                     {{"dag_id", "three"}, {"run_id", run_id}, {"only_failed", true}});
    REQUIRE(failed_only);
    CHECK((*failed_only)["task_ids"] == nlohmann::json({"second", "third"}));
    h.turn();
    CHECK(run_state(h, run_id) == RunState::running);
}

TEST_CASE("mark_tasks marks what is not yet in the state; its dry run only lists it", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree);
    auto run_id = running_run(h);
    nlohmann::json payload = {{"dag_id", "three"},
                              {"state", "success"},
                              {"dry_run", true},
                              {"targets", {{{"run_id", run_id}, {"task_ids", {"first", "second"}}}}}};
    auto dry = apply_command(*h.core, *h.store, *h.store, "mark_tasks", payload);
    REQUIRE(dry);
    CHECK((*dry)["task_instances"].size() == 2);
    h.turn();
    CHECK(states(h, run_id)["first"] == TaskState::running);

    payload["dry_run"] = false;
    auto marked = apply_command(*h.core, *h.store, *h.store, "mark_tasks", payload);
    REQUIRE(marked);
    h.turn();
    CHECK(states(h, run_id)["first"] == TaskState::success);
    CHECK(states(h, run_id)["second"] == TaskState::success);

    payload["targets"][0]["task_ids"] = {"first", "nope"};
    auto unknown = apply_command(*h.core, *h.store, *h.store, "mark_tasks", payload);
    REQUIRE_FALSE(unknown);
    CHECK_THAT(unknown.error().message, Catch::StartsWith("no task 'nope'"));
    payload["state"] = "running";
    CHECK_FALSE(apply_command(*h.core, *h.store, *h.store, "mark_tasks", payload));
}

TEST_CASE("set_run_state and delete_run through the command handler", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree);
    auto run_id = running_run(h);
    CHECK_FALSE(apply_command(*h.core, *h.store, *h.store, "set_run_state",
                              {{"dag_id", "three"}, {"run_id", run_id}, {"state", "running"}}));
    auto set = apply_command(*h.core, *h.store, *h.store, "set_run_state",
                             {{"dag_id", "three"}, {"run_id", run_id}, {"state", "failed"}});
    REQUIRE(set);
    CHECK((*set)["task_ids"].size() == 3);
    h.turn();
    auto deleted = apply_command(*h.core, *h.store, *h.store, "delete_run", {{"dag_id", "three"}, {"run_id", run_id}});
    REQUIRE(deleted);
    h.turn();
    CHECK_FALSE(*h.store->find_run("three", run_id, false));
}

TEST_CASE("a trigger's logical date stays within 0002-01-01 and 9998-12-31", "[scheduler_run_commands]") {
    Harness h;
    h.add_dag(kThree);
    for (const char* date : {"9999-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-12-31T00:00:00Z"}) {
        auto refused = h.core->trigger(TriggerRequest{.dag_id = "three", .logical_date = testing::at(date)});
        REQUIRE_FALSE(refused);
        CHECK_THAT(refused.error().message, Catch::Contains("is out of range: runs take logical dates from 0002-01-01 "
                                                            "to 9998-12-31"));
    }
    CHECK(h.core->trigger(TriggerRequest{.dag_id = "three", .logical_date = testing::at("9998-12-31T00:00:00Z")}));
    CHECK(h.core->trigger(TriggerRequest{.dag_id = "three", .logical_date = testing::at("0002-01-01T00:00:00Z")}));
}

}  // namespace mayaflow
