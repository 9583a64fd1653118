#include "scheduler/run_state.h"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace mayaflow {
namespace {

Task make_task(std::string id, std::vector<std::string> upstream) {
    Task task;
    task.task_id = std::move(id);
    task.upstream = std::move(upstream);
    return task;
}

// extract → transform → load (a leaf), and extract → audit (a leaf); notify hangs below transform
// as an all_done or one_failed task would.
Dag etl_dag() {
    Dag dag;
    dag.dag_id = "etl";
    dag.tasks = {make_task("extract", {}), make_task("transform", {"extract"}),
                 make_task("load", {"transform"}), make_task("audit", {"extract"}),
                 make_task("notify", {"transform"})};
    dag.index_tasks();
    return dag;
}

std::string text_of(std::optional<RunState> state) {
    return state ? std::string(to_string(*state)) : std::string("still running");
}

TEST_CASE("run state follows the leaf tasks once every task is finished", "[run_state]") {
    using enum TaskState;
    struct Case {
        std::vector<TaskState> states;  // extract, transform, load, audit, notify
        const char* expected;
    };
    const std::vector<Case> cases = {
        {{success, success, success, success, success}, "success"},
        {{success, success, skipped, success, skipped}, "success"},
        {{skipped, skipped, skipped, skipped, skipped}, "success"},
        // A failure that a leaf handled (notify ran, load was skipped) does not fail the run.
        {{success, failed, skipped, success, success}, "success"},
        {{failed, upstream_failed, upstream_failed, upstream_failed, success}, "failed"},
        {{success, success, failed, success, success}, "failed"},
        {{success, success, success, upstream_failed, success}, "failed"},
        {{success, success, success, success, failed}, "failed"},
        // Removed leaves are left out; the others decide.
        {{success, success, success, removed, success}, "success"},
        {{success, success, failed, removed, removed}, "failed"},
        {{failed, success, removed, removed, removed}, "success"},
        {{removed, removed, removed, removed, removed}, "success"},
        // Anything unfinished: still running, even when a leaf already failed.
        {{none, none, none, none, none}, "still running"},
        {{success, success, failed, success, running}, "still running"},
        {{success, success, success, success, queued}, "still running"},
        {{success, success, success, success, scheduled}, "still running"},
        {{success, success, success, success, up_for_retry}, "still running"},
        {{success, success, success, up_for_reschedule, success}, "still running"},
        {{failed, none, none, none, none}, "still running"},
    };
    const Dag dag = etl_dag();
    for (const Case& c : cases) {
        std::string states;
        for (TaskState s : c.states) states += std::string(to_string(s)) + " ";
        INFO(states);
        CHECK(text_of(decide_run_state(dag, c.states)) == c.expected);
    }
}

TEST_CASE("run state of a single task and of an empty DAG", "[run_state]") {
    Dag one;
    one.tasks = {make_task("only", {})};
    CHECK(decide_run_state(one, {TaskState::success}) == RunState::success);
    CHECK(decide_run_state(one, {TaskState::skipped}) == RunState::success);
    CHECK(decide_run_state(one, {TaskState::failed}) == RunState::failed);
    CHECK(decide_run_state(one, {TaskState::up_for_retry}) == std::nullopt);
    CHECK(decide_run_state(Dag{}, {}) == RunState::success);
}

TEST_CASE("run state refuses states that do not match the tasks", "[run_state]") {
    CHECK_THROWS_AS(decide_run_state(etl_dag(), {TaskState::success}), std::invalid_argument);
}

}  // namespace
}  // namespace mayaflow
