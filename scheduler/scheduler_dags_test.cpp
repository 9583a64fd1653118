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
