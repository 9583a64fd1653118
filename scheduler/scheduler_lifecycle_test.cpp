// The scheduler core's rules about whole runs and tries: empty tasks ending in the scheduler,
// dagrun_timeout, deadlocks, clearing finished runs, and ending tries at shutdown.

#include <catch2/catch.hpp>

#include "engine/store/sqlite.h"
#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::at;
using testing::Harness;

DagRunRow stored_run(Harness& h, const std::string& dag_id, const std::string& run_id) {
    auto run = h.store->find_run(dag_id, run_id, true);
    REQUIRE(run);
    REQUIRE(*run);
    return **run;
}

const TaskInstanceRow& task_row(const DagRunRow& run, const std::string& task_id) {
    for (const auto& ti : run.task_instances) {
        if (ti.task_id == task_id) return ti;
    }
    FAIL("no task " << task_id);
    throw;
}

}  // namespace

// b waits for a, which a test then marks removed.
constexpr const char* kStuckDag = R"(
dag_id: stuck
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
  - task_id: b
    operator: bash
    bash_command: "true"
    depends_on: [a]
)";

// A long task and a short one, for shutdown tests.
constexpr const char* kDrainingDag = R"(
dag_id: draining
tasks:
  - task_id: a
    operator: bash
    bash_command: "sleep 100"
  - task_id: b
    operator: bash
    bash_command: "true"
)";

TEST_CASE("empty tasks succeed in the scheduler without a slot, and other operators still go to the executor",
          "[scheduler_lifecycle]") {
    Harness h;
    h.empty_in_scheduler = true;
    h.restart();
    h.add_dag(R"(
dag_id: shortcut
tasks:
  - task_id: start
    operator: empty
  - task_id: work
    operator: bash
    bash_command: "true"
    depends_on: [start]
  - task_id: end
    operator: empty
    depends_on: [work]
)");
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "shortcut"});
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.launched_task() == "work");
    auto run = stored_run(h, "shortcut", run_id);
    CHECK(task_row(run, "start").state == TaskState::success);
    CHECK(task_row(run, "start").try_number == 1);
    h.finish_next(TaskOutcome::success);
    h.turn();
    run = stored_run(h, "shortcut", run_id);
    CHECK(task_row(run, "end").state == TaskState::success);
    CHECK(run.state == RunState::success);
}

TEST_CASE("a chain of ten thousand empty tasks ends in one turn without deep recursion", "[scheduler_lifecycle]") {
    Harness h;
    h.empty_in_scheduler = true;
    h.restart();
    std::string yaml = "dag_id: long_chain\ntasks:\n  - task_id: t0\n    operator: empty\n";
    for (int i = 1; i < 10000; ++i) {
        yaml += fmt::format("  - task_id: t{}\n    operator: empty\n    depends_on: [t{}]\n", i, i - 1);
    }
    h.add_dag(yaml);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "long_chain"});
    h.turn();
    CHECK(stored_run(h, "long_chain", run_id).state == RunState::success);
}

TEST_CASE("dagrun_timeout fails the run, skips its unfinished tasks and ends running tries", "[scheduler_lifecycle]") {
    Harness h;
    h.add_dag(R"(
dag_id: slow
dagrun_timeout: 30m
tasks:
  - task_id: a
    operator: bash
    bash_command: "sleep 3600"
  - task_id: b
    operator: bash
    bash_command: "true"
    depends_on: [a]
)");
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "slow"});
    auto wake = h.core->run_turn();
    REQUIRE(wake);
    REQUIRE(*wake);
    CHECK(**wake == at("2024-03-01T00:30:00Z"));  // the scheduler wakes for the timeout
    REQUIRE(h.executor.launched.size() == 1);
    h.clock.advance(std::chrono::minutes(29));
    h.turn();
    CHECK(stored_run(h, "slow", run_id).state == RunState::running);
    h.clock.advance(std::chrono::minutes(1));
    h.turn();
    auto run = stored_run(h, "slow", run_id);
    CHECK(run.state == RunState::failed);
    CHECK(task_row(run, "a").state == TaskState::skipped);
    CHECK(task_row(run, "b").state == TaskState::skipped);
    CHECK(task_row(run, "b").message == "skipped: the run passed its dagrun_timeout of 30m");
    REQUIRE(h.executor.cancelled.size() == 1);
    CHECK(h.executor.cancelled[0] == h.executor.launched[0].key);
    // The cancelled try's report changes nothing, and its slot was given back.
    h.finish_next(TaskOutcome::failed);
    h.turn();
    CHECK(stored_run(h, "slow", run_id).state == RunState::failed);
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "slow", .run_id = "again"}));
    h.turn();
    CHECK(h.executor.launched.size() == 1);
}

TEST_CASE("a run whose remaining tasks can never run fails as deadlocked instead of running for ever",
          "[scheduler_lifecycle]") {
    Harness h;
    h.add_dag(kStuckDag);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "stuck"});
    h.turn();
    // The store says `a` was removed (a task instance of a task the run's version no longer has
    // work for): `b`'s all_success can never hold nor fail.
    {
        auto db = sqlite::Database::open(h.folder / "test.db", sqlite::Database::Mode::read_write);
        REQUIRE(db);
        REQUIRE(db->exec("UPDATE task_instance SET state = 'removed' WHERE task_id = 'a'"));
    }
    h.restart();
    h.add_dag(kStuckDag);
    REQUIRE(h.core->recover());
    h.turn();
    CHECK(h.executor.launched.empty());
    auto run = stored_run(h, "stuck", run_id);
    CHECK(run.state == RunState::failed);
    CHECK(task_row(run, "b").state == TaskState::none);
}

TEST_CASE("clearing a task of a finished run queues the run again under max_active_runs", "[scheduler_lifecycle]") {
    Harness h;
    h.add_dag(R"(
dag_id: one_at_a_time
max_active_runs: 1
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
)");
    auto first = *h.core->trigger(TriggerRequest{.dag_id = "one_at_a_time", .run_id = "first"});
    h.turn();
    h.finish_next(TaskOutcome::failed);
    h.turn();
    // A logical date is unique per DAG: the second run is an hour later.
    auto second = *h.core->trigger(TriggerRequest{.dag_id = "one_at_a_time", .run_id = "second",
                                                  .logical_date = at("2024-03-01T01:00:00Z")});
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    REQUIRE(h.core->clear(ClearRequest{"one_at_a_time", first, {}, true}));
    h.turn();
    CHECK(stored_run(h, "one_at_a_time", first).state == RunState::queued);
    CHECK(h.executor.launched.size() == 1);  // the second run holds the only slot
    h.finish_next(TaskOutcome::success);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].run_info.run_id == "first");
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(stored_run(h, "one_at_a_time", first).state == RunState::success);
    CHECK(stored_run(h, "one_at_a_time", second).state == RunState::success);
    // Marking a task of a finished run changes the run's state to follow its leaves.
    REQUIRE(h.core->mark_task("one_at_a_time", "first", "a", TaskState::failed));
    h.turn();
    CHECK(stored_run(h, "one_at_a_time", first).state == RunState::failed);
}

TEST_CASE("at shutdown no new tries start, and ended tries go again without using a retry", "[scheduler_lifecycle]") {
    Harness h;
    h.add_dag(kDrainingDag);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "draining"});
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "draining", .run_id = "later",
                                           .logical_date = at("2024-03-01T01:00:00Z")}));
    h.core->start_draining();
    h.turn();
    CHECK(h.executor.launched.empty());  // draining: nothing starts
    h.restart();
    h.add_dag(kDrainingDag);
    REQUIRE(h.core->recover());
    h.turn();
    REQUIRE(h.executor.launched.size() == 4);
    h.core->start_draining();
    h.finish_next(TaskOutcome::success);  // a try that ends in the grace period counts as it ends
    h.turn();
    CHECK(h.core->running_tries() == 3);
    h.core->interrupt_running_tries();
    CHECK(h.executor.cancelled.size() == 3);
    while (!h.executor.launched.empty()) h.finish_next(TaskOutcome::failed, "killed");
    h.turn();
    CHECK(h.core->running_tries() == 0);
    auto run = stored_run(h, "draining", run_id);
    auto later = stored_run(h, "draining", "later");
    CHECK(run.state == RunState::running);
    int interrupted = 0;
    for (const auto* stored : {&run, &later}) {
        for (const auto& ti : stored->task_instances) {
            // Due again at once, so scheduled; the draining scheduler starts nothing.
            if (ti.state != TaskState::scheduled) continue;
            ++interrupted;
            CHECK(ti.max_tries == 2);  // no retries in the DAG: the interruption gave one more try
            CHECK(ti.message == "interrupted by the scheduler's shutdown; it runs again when the scheduler starts");
        }
    }
    CHECK(interrupted == 3);
    // After a restart the interrupted tries run again at once.
    h.restart();
    h.add_dag(kDrainingDag);
    REQUIRE(h.core->recover());
    h.turn();
    CHECK(h.executor.launched.size() == 3);
    for (const auto& launch : h.executor.launched) CHECK(launch.key.try_number == 2);
}

}  // namespace mayaflow

namespace mayaflow {

TEST_CASE("pools, max_active_tasks and parallelism give slots, highest priority weight first",
          "[scheduler_lifecycle]") {
    Harness h;
    h.add_dag(R"(
dag_id: slots
max_active_tasks: 3
tasks:
  - task_id: "small_{{ item }}"
    for_each: [a, b, c]
    operator: bash
    bash_command: "true"
    pool: narrow
  - task_id: big
    operator: bash
    bash_command: "true"
    pool: narrow
    pool_slots: 2
    priority_weight: 10
  - task_id: free
    operator: bash
    bash_command: "true"
  - task_id: nowhere
    operator: bash
    bash_command: "true"
    pool: missing
)");
    h.core->set_pool("narrow", 2);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "slots"});
    h.turn();
    // `big` (weight 10) takes both slots of `narrow`; `free` runs in default_pool; `nowhere` fails.
    std::vector<std::string> launched;
    for (size_t i = 0; i < h.executor.launched.size(); ++i) launched.push_back(h.launched_task(i));
    CHECK(launched == std::vector<std::string>{"big", "free"});
    auto pk = h.core->active_run_pks("slots").at(0);
    CHECK(h.core->task_state(pk, "nowhere") == TaskState::failed);
    h.finish_next(TaskOutcome::success);  // big
    h.turn();
    // Two of the small tasks fit in `narrow`; max_active_tasks (3) counts `free`, still running.
    REQUIRE(h.executor.launched.size() == 3);
    CHECK(h.launched_task(1) == "small_a");
    CHECK(h.launched_task(2) == "small_b");
    h.core->set_pool("narrow", 5);
    h.turn();
    CHECK(h.executor.launched.size() == 3);  // max_active_tasks holds small_c back
    h.finish_next(TaskOutcome::success);     // free
    h.turn();
    REQUIRE(h.executor.launched.size() == 3);
    CHECK(h.launched_task(2) == "small_c");
    (void)run_id;
}

TEST_CASE("parallelism caps the tries running over all DAGs", "[scheduler_lifecycle]") {
    Harness h;
    h.core = std::make_unique<SchedulerCore>(h.clock, *h.store, h.executor,
                                             SchedulerOptions{.parallelism = 2, .logs_folder = h.folder / "logs",
                                                              .finish_empty_in_scheduler = false});
    h.add_dag("dag_id: wide\ntasks:\n  - task_id: \"t{{ item }}\"\n    for_each: [1, 2, 3, 4]\n    operator: empty\n");
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "wide"}));
    h.turn();
    CHECK(h.executor.launched.size() == 2);
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(h.executor.launched.size() == 2);
}

TEST_CASE("queue_ahead hands the executor tries beyond parallelism; a drain takes back those not started",
          "[scheduler_lifecycle]") {
    Harness h;
    h.core = std::make_unique<SchedulerCore>(
        h.clock, *h.store, h.executor,
        SchedulerOptions{.parallelism = 2, .queue_ahead = 2, .logs_folder = h.folder / "logs",
                         .finish_empty_in_scheduler = false});
    h.add_dag("dag_id: wide\ntasks:\n  - task_id: \"t{{ item }}\"\n    for_each: [1, 2, 3, 4, 5, 6]\n"
              "    operator: empty\n");
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "wide"});
    h.turn();
    CHECK(h.executor.launched.size() == 4);
    h.finish_next(TaskOutcome::success);
    h.turn();
    REQUIRE(h.executor.launched.size() == 4);
    CHECK(h.core->running_tries() == 4);

    // Two of the four are still in the executor's queue when the shutdown begins.
    h.executor.unstarted = 2;
    h.core->start_draining();
    h.turn();
    CHECK(h.core->running_tries() == 2);
    CHECK(h.executor.launched.size() == 2);
    auto run = stored_run(h, "wide", run_id);
    int scheduled = 0;
    for (const auto& ti : run.task_instances) {
        if (ti.state != TaskState::scheduled) continue;
        ++scheduled;
        CHECK(ti.try_number == 0);  // withdrawn before it started: no try used
        CHECK_FALSE(ti.start_date);
    }
    CHECK(scheduled == 3);  // the two withdrawn and the one never handed over
}

}  // namespace mayaflow

namespace mayaflow {

TEST_CASE("a task that needs more slots than its pool has waits, and its message says so", "[scheduler_lifecycle]") {
    Harness h;
    h.core->set_pool("small", 2);
    h.add_dag(R"(
dag_id: big
tasks:
  - task_id: huge
    operator: bash
    bash_command: "true"
    pool: small
    pool_slots: 5
  - task_id: fits
    operator: bash
    bash_command: "true"
    pool: small
    pool_slots: 2
)");
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "big"});
    h.turn();
    h.turn();
    // The other task of the pool is not held up by it.
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.launched_task() == "fits");
    auto huge = task_row(stored_run(h, "big", run_id), "huge");
    CHECK(huge.state == TaskState::scheduled);
    CHECK(huge.message ==
          "waiting: the task needs 5 slots of pool 'small', which has 2; it runs once the pool has enough "
          "(`mayaflow pools set small 5`)");
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(h.executor.launched.empty());
    // Made big enough, the pool lets it run, and the message goes.
    h.core->set_pool("small", 5);
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.launched_task() == "huge");
    CHECK(task_row(stored_run(h, "big", run_id), "huge").message.empty());
}

}  // namespace mayaflow
