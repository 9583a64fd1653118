// Deferred tries (Airflow's deferrable operators): a try that waits on remote work without a worker
// gives back its place in parallelism and max_active_tasks, keeps its pool slots, and shows as
// `deferred` until it ends.

#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
using namespace mayaflow::testing;

namespace {

constexpr const char* kWide = R"(
dag_id: wide
max_active_tasks: 3
tasks:
  - task_id: "t{{ item }}"
    for_each: [1, 2, 3, 4, 5, 6, 7, 8]
    operator: empty
)";

void make_core(Harness& h, int parallelism) {
    h.core = std::make_unique<SchedulerCore>(h.clock, *h.faulty, h.executor,
                                             SchedulerOptions{.parallelism = parallelism,
                                                              .logs_folder = h.folder / "logs",
                                                              .finish_empty_in_scheduler = false});
}

void defer(Harness& h, const TaskLaunch& launch) {
    h.core->on_report(TaskReport{TaskReport::Kind::deferred, launch.key, {}, {}});
}

}  // namespace

TEST_CASE("a deferred try frees its place in parallelism for the next task", "[scheduler_deferred]") {
    Harness h;
    make_core(h, 2);
    h.add_dag("dag_id: flat\ntasks:\n  - task_id: \"t{{ item }}\"\n    for_each: [1, 2, 3, 4, 5]\n"
              "    operator: empty\n");
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "flat"}));
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);
    defer(h, h.executor.launched[0]);
    defer(h, h.executor.launched[0]);  // a second report of the same try frees nothing more
    h.turn();
    REQUIRE(h.executor.launched.size() == 3);
    CHECK(h.core->running_tries() == 3);
    CHECK(h.core->deferred_tries() == 1);
    auto pk = h.core->active_run_pks("flat").at(0);
    CHECK(h.core->task_state(pk, h.launched_task(0)) == TaskState::deferred);

    // The deferred try ends: no place is given back twice, so still only two run undeferred.
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(h.executor.launched.size() == 2);
    CHECK(h.core->deferred_tries() == 0);
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(h.executor.launched.size() == 2);
}

TEST_CASE("deferred tries do not count against max_active_tasks, but keep their pool slots", "[scheduler_deferred]") {
    Harness h;
    h.core->set_pool("narrow", 4);
    h.add_dag(std::string(kWide) + "    pool: narrow\n");
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "wide"}));
    h.turn();
    REQUIRE(h.executor.launched.size() == 3);  // max_active_tasks
    for (const auto& launch : h.executor.launched) defer(h, launch);
    h.turn();
    // max_active_tasks would allow three more; the pool (four slots, three held) one.
    CHECK(h.executor.launched.size() == 4);
    h.finish_next(TaskOutcome::success);  // a deferred try ends: its pool slot comes back
    h.turn();
    CHECK(h.executor.launched.size() == 4);
}

TEST_CASE("clearing or marking a deferred task gives back only what it held", "[scheduler_deferred]") {
    Harness h;
    make_core(h, 2);
    h.add_dag(kWide);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "wide"});
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);
    defer(h, h.executor.launched[0]);
    h.turn();
    REQUIRE(h.executor.launched.size() == 3);
    const std::string deferred_task = h.launched_task(0);
    const TryKey deferred_key = h.executor.launched[0].key;

    SECTION("cleared") {
        auto cleared = h.core->clear(ClearRequest{.dag_id = "wide", .run_id = run_id, .task_ids = {deferred_task}});
        REQUIRE(cleared);
        CHECK(cleared->restarted == std::vector<std::string>{deferred_task});
    }
    SECTION("marked success") {
        REQUIRE(h.core->mark_task("wide", run_id, deferred_task, TaskState::success));
    }
    CHECK(h.executor.cancelled == std::vector<TryKey>{deferred_key});
    CHECK(h.core->deferred_tries() == 0);
    // Its late report changes nothing, and two undeferred tries still hold parallelism.
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(h.core->running_tries() == 2);
    CHECK(h.executor.launched.size() == 2);
}

TEST_CASE("a deferred report after the try's end is ignored", "[scheduler_deferred]") {
    Harness h;
    make_core(h, 1);
    h.add_dag(kWide);
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "wide"}));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    TaskLaunch ended = h.finish_next(TaskOutcome::success);
    defer(h, ended);  // the executor's report raced the operator's end
    h.turn();
    CHECK(h.core->deferred_tries() == 0);
    CHECK(h.executor.launched.size() == 1);  // parallelism 1 still holds
}

TEST_CASE("a failed commit keeps deferred tries deferred when the state is read back", "[scheduler_deferred]") {
    Harness h;
    make_core(h, 2);
    h.add_dag(kWide);
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "wide"}));
    h.turn();
    defer(h, h.executor.launched[0]);
    h.turn();
    REQUIRE(h.executor.launched.size() == 3);
    h.faulty->fail_nth_commit_from_now(1);
    REQUIRE_FALSE(h.core->run_turn());
    h.turn();
    CHECK(h.executor.launched.size() == 3);  // nothing new: two undeferred tries hold parallelism
    CHECK(h.core->deferred_tries() == 1);
    h.finish_next(TaskOutcome::success);  // the deferred one
    h.turn();
    CHECK(h.executor.launched.size() == 2);
}

}  // namespace mayaflow

namespace mayaflow {
using namespace mayaflow::testing;

TEST_CASE("a deferred state lost with a failed commit is said again when the state is read back",
          "[scheduler_deferred]") {
    Harness h;
    h.add_dag(kWide);
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "wide"}));
    h.turn();
    REQUIRE_FALSE(h.executor.launched.empty());
    const TaskLaunch first = h.executor.launched.front();
    const std::string task = h.launched_task(0);
    h.core->on_report(TaskReport{TaskReport::Kind::deferred, first.key, {}, {}});
    h.faulty->fail_nth_commit_from_now(1);  // the turn that records `deferred`
    REQUIRE_FALSE(h.core->run_turn());
    h.turn();
    auto pk = h.core->active_run_pks("wide").at(0);
    CHECK(h.core->task_state(pk, task) == TaskState::deferred);
    CHECK(h.core->deferred_tries() == 1);
    // A started report after the deferred one does not hide it.
    h.core->on_report(TaskReport{TaskReport::Kind::started, first.key, {}, {}});
    CHECK(h.core->task_state(pk, task) == TaskState::deferred);
}

}  // namespace mayaflow

namespace mayaflow {
using namespace mayaflow::testing;

TEST_CASE("a graceful stop leaves deferred tries deferred, and the next scheduler follows them again",
          "[scheduler_deferred]") {
    Harness h;
    h.add_dag(kWide);
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "wide"}));
    h.turn();
    REQUIRE(h.executor.launched.size() == 3);
    const TaskLaunch first = h.executor.launched[0];
    const TaskLaunch second = h.executor.launched[1];
    h.core->on_report(TaskReport{TaskReport::Kind::deferred, first.key, {}, {}});
    h.core->on_report(TaskReport{TaskReport::Kind::deferred, second.key, {}, {}});
    h.turn();
    REQUIRE(h.executor.launched.size() == 5);  // two more in the places the deferred ones gave back
    h.executor.launched.pop_front();
    h.executor.launched.pop_front();

    h.core->start_draining();
    h.core->interrupt_running_tries();
    // Only the three undeferred tries are ended; the deferred ones' remote work goes on.
    REQUIRE(h.executor.cancelled.size() == 3);
    for (const auto& key : h.executor.cancelled) {
        CHECK_FALSE(key == first.key);
        CHECK_FALSE(key == second.key);
    }
    while (!h.executor.launched.empty()) h.finish_next(TaskOutcome::failed, "killed");
    h.turn();
    CHECK(h.core->running_tries() == 2);
    CHECK(h.core->deferred_tries() == 2);
    const auto pk = first.key.run_pk;
    const std::string first_task = first.dag->tasks[first.key.task_index].task_id;
    const std::string second_task = second.dag->tasks[second.key.task_index].task_id;

    h.restart();
    h.add_dag(kWide);
    REQUIRE(h.core->recover());
    CHECK(h.core->task_state(pk, first_task) == TaskState::deferred);
    h.turn();
    int followed = 0;
    for (const auto& launch : h.executor.launched) {
        if (launch.key == first.key || launch.key == second.key) {
            ++followed;
            CHECK(launch.resume.has_value());  // the same try, resumed: its operator re-attaches
        }
    }
    REQUIRE(followed == 2);
    h.core->on_report(TaskReport{TaskReport::Kind::deferred, first.key, {}, {}});
    h.core->on_report(TaskReport{TaskReport::Kind::deferred, second.key, {}, {}});
    h.turn();
    CHECK(h.core->deferred_tries() == 2);
    CHECK(h.core->task_state(pk, second_task) == TaskState::deferred);
}

}  // namespace mayaflow

namespace mayaflow {
using namespace mayaflow::testing;

TEST_CASE("dagrun_timeout ends a deferred try, and its place is not given back twice", "[scheduler_deferred]") {
    Harness h;
    make_core(h, 1);
    h.add_dag(R"(
dag_id: slow_job
dagrun_timeout: 30m
tasks:
  - task_id: job
    operator: empty
)");
    h.add_dag("dag_id: other\ntasks:\n  - task_id: \"t{{ item }}\"\n    for_each: [1, 2]\n    operator: empty\n");
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "slow_job"});
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    const TaskLaunch job = h.executor.launched.front();
    defer(h, job);
    h.turn();
    h.clock.advance(std::chrono::minutes(30));
    h.turn();
    REQUIRE(h.executor.cancelled.size() == 1);
    CHECK(h.executor.cancelled[0] == job.key);  // its job is cancelled by the operator
    REQUIRE(h.runs("slow_job").size() == 1);
    CHECK(h.runs("slow_job")[0].state == RunState::failed);
    CHECK(h.runs("slow_job")[0].run_id == run_id);
    h.finish_next(TaskOutcome::failed);
    h.turn();
    CHECK(h.core->deferred_tries() == 0);
    CHECK(h.core->running_tries() == 0);
    // parallelism 1 still holds: the other DAG's two tasks run one at a time.
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "other"}));
    h.turn();
    CHECK(h.executor.launched.size() == 1);
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(h.executor.launched.size() == 1);
}

}  // namespace mayaflow

namespace mayaflow {
using namespace mayaflow::testing;

TEST_CASE("a deferred try marked while the daemon was down is followed again and then ended, so its job is "
          "cancelled",
          "[scheduler_deferred]") {
    Harness h;
    h.add_dag(kWide);
    auto run_id = *h.core->trigger(TriggerRequest{.dag_id = "wide"});
    h.turn();
    const TaskLaunch first = h.executor.launched.front();
    const std::string task = first.dag->tasks[first.key.task_index].task_id;
    h.core->on_report(TaskReport{TaskReport::Kind::deferred, first.key, {}, {}});
    h.turn();

    h.restart();
    h.add_dag(kWide);
    REQUIRE(h.core->recover());
    // The mark waiting in the queue is applied in the first turn, before the resumed try is handed over.
    REQUIRE(h.core->mark_task("wide", run_id, task, TaskState::success));
    CHECK(h.executor.cancelled.empty());
    h.turn();
    REQUIRE(h.executor.cancelled.size() == 1);
    CHECK(h.executor.cancelled[0] == first.key);
    bool handed_over = false;
    for (const auto& launch : h.executor.launched) handed_over = handed_over || launch.key == first.key;
    CHECK(handed_over);  // handed over first: the operator can only cancel the job it follows
    CHECK(h.core->task_state(first.key.run_pk, task) == TaskState::success);
}

}  // namespace mayaflow
