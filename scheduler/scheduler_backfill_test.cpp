// Backfills through the scheduler core: the plan, reprocess behaviours, their own max_active_runs,
// running backwards, pause, resume, cancel, and a restart in the middle.

#include <catch2/catch.hpp>

#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::at;
using testing::Harness;

const char* kDaily = R"(
dag_id: daily
schedule: "@daily"
start_date: 2023-12-01
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
)";

BackfillRequest january(int from_day, int to_day) {
    BackfillRequest request;
    request.dag_id = "daily";
    request.from_date = at(fmt::format("2024-01-{:02}T00:00:00Z", from_day));
    request.to_date = at(fmt::format("2024-01-{:02}T00:00:00Z", to_day));
    request.max_active_runs = 2;
    return request;
}

std::vector<std::string> launched_runs(Harness& h) {
    std::vector<std::string> ids;
    for (const auto& launch : h.executor.launched) ids.push_back(launch.run_info.run_id);
    return ids;
}

void finish_all(Harness& h, TaskOutcome outcome) {
    while (!h.executor.launched.empty()) {
        while (!h.executor.launched.empty()) h.finish_next(outcome);
        h.turn();
    }
}

DagRunRow run_of(Harness& h, const std::string& run_id) {
    auto run = h.store->find_run("daily", run_id, true);
    REQUIRE(run);
    REQUIRE(*run);
    return **run;
}

}  // namespace

TEST_CASE("a backfill queues one run per logical date and runs them oldest first under its own limit",
          "[scheduler_backfill]") {
    Harness h;
    h.add_dag(kDaily, /*paused=*/true);  // backfill runs go on while the DAG itself is paused
    auto outcome = h.core->create_backfill(january(1, 5));
    REQUIRE(outcome);
    CHECK(outcome->backfill.id == 1);
    REQUIRE(outcome->plan.runs.size() == 5);
    CHECK(outcome->plan.skipped.empty());
    CHECK(outcome->plan.runs[0].run_id == "backfill__2024-01-01T00:00:00+00:00");
    h.turn();
    CHECK(launched_runs(h) == std::vector<std::string>{"backfill__2024-01-01T00:00:00+00:00",
                                                        "backfill__2024-01-02T00:00:00+00:00"});
    auto run = run_of(h, "backfill__2024-01-03T00:00:00+00:00");
    CHECK(run.state == RunState::queued);
    CHECK(run.run_type == "backfill");
    CHECK(run.backfill_id == 1);
    CHECK(run.data_interval_start == at("2024-01-03T00:00:00Z"));
    CHECK(run.data_interval_end == at("2024-01-04T00:00:00Z"));
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(launched_runs(h) == std::vector<std::string>{"backfill__2024-01-02T00:00:00+00:00",
                                                        "backfill__2024-01-03T00:00:00+00:00"});
    finish_all(h, TaskOutcome::success);
    auto backfill = h.store->find_backfill(1);
    REQUIRE(backfill);
    REQUIRE(*backfill);
    CHECK((*backfill)->completed_at.has_value());
    CHECK(h.runs("daily").size() == 5);
    // A second backfill over the same dates finds every run there.
    auto again = h.core->create_backfill(january(1, 5));
    REQUIRE(again);
    CHECK(again->backfill.id == 0);
    CHECK(again->plan.runs.empty());
    REQUIRE(again->plan.skipped.size() == 5);
    CHECK(again->plan.skipped[0].reason == "run backfill__2024-01-01T00:00:00+00:00 exists (success)");
}

TEST_CASE("reprocess behaviour decides which finished runs a backfill runs again", "[scheduler_backfill]") {
    Harness h;
    h.add_dag(kDaily, true);
    REQUIRE(h.core->create_backfill(january(1, 3)));
    h.turn();
    h.finish_next(TaskOutcome::success);  // 01-01
    h.finish_next(TaskOutcome::failed);   // 01-02
    h.turn();
    finish_all(h, TaskOutcome::success);  // 01-03
    CHECK(run_of(h, "backfill__2024-01-02T00:00:00+00:00").state == RunState::failed);

    SECTION("none leaves every finished run alone") {
        auto outcome = h.core->create_backfill(january(1, 4));
        REQUIRE(outcome);
        REQUIRE(outcome->plan.runs.size() == 1);
        CHECK(outcome->plan.runs[0].run_id == "backfill__2024-01-04T00:00:00+00:00");
        CHECK(outcome->plan.skipped.size() == 3);
    }
    SECTION("failed runs the failed run again, cleared, as a run of the new backfill") {
        auto request = january(1, 3);
        request.reprocess_behavior = ReprocessBehavior::failed;
        auto outcome = h.core->create_backfill(request);
        REQUIRE(outcome);
        REQUIRE(outcome->plan.runs.size() == 1);
        CHECK(outcome->plan.runs[0].existing_pk.has_value());
        CHECK(outcome->plan.skipped.at(0).reason ==
              "run backfill__2024-01-01T00:00:00+00:00 succeeded (--reprocess-behavior completed runs it again)");
        h.turn();
        REQUIRE(h.executor.launched.size() == 1);
        CHECK(h.executor.launched[0].run_info.run_id == "backfill__2024-01-02T00:00:00+00:00");
        CHECK(h.executor.launched[0].key.try_number == 2);  // the failed try is kept; this is the next
        h.finish_next(TaskOutcome::success);
        h.turn();
        auto run = run_of(h, "backfill__2024-01-02T00:00:00+00:00");
        CHECK(run.state == RunState::success);
        CHECK(run.backfill_id == outcome->backfill.id);
        CHECK(h.runs("daily").size() == 3);
    }
    SECTION("completed runs every finished run again") {
        auto request = january(1, 3);
        request.reprocess_behavior = ReprocessBehavior::completed;
        auto outcome = h.core->create_backfill(request);
        REQUIRE(outcome);
        CHECK(outcome->plan.runs.size() == 3);
        CHECK(outcome->plan.skipped.empty());
    }
}

TEST_CASE("a backfill refuses what Airflow refuses", "[scheduler_backfill]") {
    Harness h;
    h.add_dag(kDaily);
    auto backwards = january(5, 1);
    CHECK_FALSE(h.core->create_backfill(backwards));  // from after to
    auto unknown = january(1, 2);
    unknown.dag_id = "nope";
    CHECK_FALSE(h.core->create_backfill(unknown));
    REQUIRE(h.core->create_backfill(january(1, 2)));
    auto second = h.core->create_backfill(january(10, 12));
    REQUIRE_FALSE(second);
    CHECK(second.error().message.find("already has backfill 1 under way") != std::string::npos);

    Harness past;
    past.add_dag(R"(
dag_id: past
schedule: "@daily"
start_date: 2024-01-01
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
    depends_on_past: true
)");
    BackfillRequest request = january(1, 3);
    request.dag_id = "past";
    request.run_backwards = true;
    auto refused = past.core->create_backfill(request);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("cannot run backwards: task 'a' has depends_on_past") != std::string::npos);

    Harness manual;
    manual.add_dag("dag_id: manual\ntasks:\n  - task_id: a\n    operator: empty\n");
    request.dag_id = "manual";
    request.run_backwards = false;
    auto no_schedule = manual.core->create_backfill(request);
    REQUIRE_FALSE(no_schedule);
    CHECK(no_schedule.error().message.find("has no schedule") != std::string::npos);
}

TEST_CASE("a backfill run backwards starts with the newest date", "[scheduler_backfill]") {
    Harness h;
    h.add_dag(kDaily, true);
    auto request = january(1, 4);
    request.run_backwards = true;
    request.max_active_runs = 1;
    REQUIRE(h.core->create_backfill(request));
    std::vector<std::string> order;
    h.turn();
    while (!h.executor.launched.empty()) {
        order.push_back(h.executor.launched.front().run_info.run_id);
        h.finish_next(TaskOutcome::success);
        h.turn();
    }
    CHECK(order == std::vector<std::string>{"backfill__2024-01-04T00:00:00+00:00", "backfill__2024-01-03T00:00:00+00:00",
                                            "backfill__2024-01-02T00:00:00+00:00", "backfill__2024-01-01T00:00:00+00:00"});
}

TEST_CASE("a paused backfill starts no runs; resumed it goes on; cancelled its queued runs fail",
          "[scheduler_backfill]") {
    Harness h;
    h.add_dag(kDaily, true);
    auto outcome = h.core->create_backfill(january(1, 6));
    REQUIRE(outcome);
    long long id = outcome->backfill.id;
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);
    REQUIRE(h.core->pause_backfill(id, true));
    h.finish_next(TaskOutcome::success);
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(h.executor.launched.empty());  // paused: nothing new starts
    CHECK((*h.store->find_backfill(id))->is_paused);
    REQUIRE(h.core->pause_backfill(id, false));
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);
    auto cancelled = h.core->cancel_backfill(id);
    REQUIRE(cancelled);
    CHECK(cancelled->completed_at.has_value());
    h.turn();
    // The two running runs finish; the two still queued failed without running.
    CHECK(run_of(h, "backfill__2024-01-05T00:00:00+00:00").state == RunState::failed);
    CHECK(run_of(h, "backfill__2024-01-06T00:00:00+00:00").state == RunState::failed);
    finish_all(h, TaskOutcome::success);
    CHECK(run_of(h, "backfill__2024-01-04T00:00:00+00:00").state == RunState::success);
    CHECK_FALSE(h.core->cancel_backfill(id));
    CHECK_FALSE(h.core->pause_backfill(id, true));
    CHECK_FALSE(h.core->pause_backfill(99, true));
}

TEST_CASE("a restarted scheduler goes on with a backfill in its order and limit", "[scheduler_backfill]") {
    Harness h;
    auto dag = h.add_dag(kDaily, true);
    auto request = january(1, 5);
    request.run_backwards = true;
    REQUIRE(h.core->create_backfill(request));
    h.turn();
    // Both runs start in one turn; within a turn the older run's task goes first.
    CHECK(launched_runs(h) == std::vector<std::string>{"backfill__2024-01-04T00:00:00+00:00",
                                                        "backfill__2024-01-05T00:00:00+00:00"});
    h.finish_next(TaskOutcome::success);  // 01-04
    h.turn();
    h.restart();
    h.core->set_dag(dag, h.version, true);
    REQUIRE(h.core->recover());
    h.turn();
    // 01-05 and 01-03 were with the executor and never started: they go again; 01-04 does not.
    std::vector<std::vector<std::string>> turns;
    while (!h.executor.launched.empty()) {
        turns.push_back(launched_runs(h));
        while (!h.executor.launched.empty()) h.finish_next(TaskOutcome::success);
        h.turn();
    }
    CHECK(turns == std::vector<std::vector<std::string>>{
                       {"backfill__2024-01-03T00:00:00+00:00", "backfill__2024-01-05T00:00:00+00:00"},
                       {"backfill__2024-01-01T00:00:00+00:00", "backfill__2024-01-02T00:00:00+00:00"}});
    CHECK((*h.store->find_backfill(1))->completed_at.has_value());
}

TEST_CASE("the backfill plan for a dry run lists new, rerun and skipped dates without writing", "[scheduler_backfill]") {
    Harness h;
    h.add_dag(kDaily, true);
    REQUIRE(h.core->create_backfill(january(2, 2)));
    h.turn();
    auto request = january(1, 3);
    request.dry_run = true;
    auto outcome = h.core->create_backfill(request);  // a dry run is allowed beside a running backfill
    REQUIRE(outcome);
    CHECK(outcome->backfill.id == 0);
    REQUIRE(outcome->plan.runs.size() == 2);
    REQUIRE(outcome->plan.skipped.size() == 1);
    CHECK(outcome->plan.skipped[0].reason == "run backfill__2024-01-02T00:00:00+00:00 is running");
    h.turn();
    CHECK(h.runs("daily").size() == 1);
    auto json = plan_to_json(outcome->plan);
    CHECK(json["runs"][0]["logical_date"] == "2024-01-01T00:00:00+00:00");
    CHECK(json["skipped"][0]["run_id"] == "backfill__2024-01-02T00:00:00+00:00");
}

}  // namespace mayaflow

namespace mayaflow {

TEST_CASE("a run of a cancelled backfill, cleared later, runs under the DAG's own limits", "[scheduler_backfill]") {
    // Airflow 3.2 leaves such a run queued for ever (apache/airflow#72337): its backfill stays paused.
    Harness h;
    h.add_dag(kDaily);
    auto outcome = h.core->create_backfill(january(1, 4));
    REQUIRE(outcome);
    h.turn();
    REQUIRE(h.core->cancel_backfill(outcome->backfill.id));
    h.turn();
    finish_all(h, TaskOutcome::success);
    CHECK(run_of(h, "backfill__2024-01-04T00:00:00+00:00").state == RunState::failed);
    REQUIRE(h.core->clear(ClearRequest{"daily", "backfill__2024-01-04T00:00:00+00:00"}));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    h.finish_next(TaskOutcome::success);
    h.turn();
    CHECK(run_of(h, "backfill__2024-01-04T00:00:00+00:00").state == RunState::success);
}

}  // namespace mayaflow
