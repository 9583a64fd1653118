// What the scheduler does when a decision would collide or cannot be committed: ids reserved for
// other run types, a second run for a logical date, commits that fail (the turn is dropped, the
// state reloaded, the others go on), commands answered only once committed, and the loop that
// gives up after failing turns instead of looping for ever.

#include <catch2/catch.hpp>

#include <fstream>
#include <future>

#include "scheduler/command_pump.h"
#include "scheduler/scheduler_loop.h"
#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::at;
using testing::Harness;

const char* kDaily = R"(
dag_id: daily
schedule: "@daily"
start_date: 2024-02-27
catchup: true
max_active_runs: 1
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
)";

const char* kOther = R"(
dag_id: other
schedule: "@hourly"
start_date: 2024-02-29T20:00:00Z
catchup: true
tasks:
  - task_id: x
    operator: bash
    bash_command: "true"
)";

void finish_all(Harness& h, TaskOutcome outcome = TaskOutcome::success) {
    while (!h.executor.launched.empty()) {
        while (!h.executor.launched.empty()) h.finish_next(outcome);
        h.turn();
    }
}

std::vector<std::string> run_ids(Harness& h, const std::string& dag_id) {
    std::vector<std::string> ids;
    for (const auto& run : h.runs(dag_id)) ids.push_back(run.run_id);
    std::sort(ids.begin(), ids.end());
    return ids;
}

CommandRecord command_of(Harness& h, long long id) {
    auto command = h.store->find_command(id);
    REQUIRE(command);
    REQUIRE(*command);
    return **command;
}

}  // namespace

TEST_CASE("a manual run cannot take a reserved or an existing run id, and the scheduler goes on", "[scheduler_commit]") {
    Harness h;
    h.clock.set(at("2024-02-28T12:00:00Z"));
    auto dag = h.add_dag(kDaily);
    h.turn();  // scheduled__2024-02-27 runs
    REQUIRE(h.runs("daily").size() == 1);

    // The id the scheduler will give its next run, and ids of the other reserved kinds.
    for (const char* id : {"scheduled__2024-02-28T00:00:00+00:00", "backfill__2024-02-28T00:00:00+00:00",
                           "dataset_triggered__x", "asset_triggered__x"}) {
        INFO(id);
        auto refused = h.core->trigger(TriggerRequest{.dag_id = "daily", .run_id = std::string(id)});
        REQUIRE_FALSE(refused);
        CHECK_THAT(refused.error().message, Catch::Contains("is reserved for"));
    }
    auto bad = h.core->trigger(TriggerRequest{.dag_id = "daily", .run_id = std::string("has space")});
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("not allowed"));

    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "daily", .run_id = std::string("mine"),
                                           .logical_date = at("2024-01-10T00:00:00Z")}));
    auto again = h.core->trigger(TriggerRequest{.dag_id = "daily", .run_id = std::string("mine"),
                                                .logical_date = at("2024-01-11T00:00:00Z")});
    REQUIRE_FALSE(again);
    CHECK_THAT(again.error().message, Catch::Contains("already has a run 'mine'"));
    h.turn();
    // After a restart the id is found in the store.
    h.restart();
    h.core->set_dag(dag, h.version, false);
    REQUIRE(h.core->recover());
    auto stored = h.core->trigger(TriggerRequest{.dag_id = "daily", .run_id = std::string("mine"),
                                                 .logical_date = at("2024-01-12T00:00:00Z")});
    REQUIRE_FALSE(stored);
    CHECK_THAT(stored.error().message, Catch::Contains("already has a run 'mine'"));

    // The days go on: every turn commits, and each logical date has one run.
    for (int day = 29; day <= 31; ++day) {
        finish_all(h);
        h.clock.set(at(day <= 29 ? fmt::format("2024-02-{}T12:00:00Z", day) : fmt::format("2024-03-0{}T12:00:00Z", day - 29)));
        h.turn();
    }
    finish_all(h);
    CHECK(run_ids(h, "daily") == std::vector<std::string>{"mine", "scheduled__2024-02-27T00:00:00+00:00",
                                                          "scheduled__2024-02-28T00:00:00+00:00",
                                                          "scheduled__2024-02-29T00:00:00+00:00",
                                                          "scheduled__2024-03-01T00:00:00+00:00"});
}

TEST_CASE("the scheduler creates no second run for a logical date that has one, whatever its type",
          "[scheduler_commit]") {
    Harness h;
    h.clock.set(at("2024-03-01T12:00:00Z"));
    auto dag = h.add_dag(kDaily);
    finish_all(h);
    h.turn();
    finish_all(h);
    // 02-27 .. 02-29 ran as scheduled runs.
    REQUIRE(h.runs("daily").size() == 3);

    SECTION("a backfill that reprocesses a scheduled run relabels it; a restart does not make it again") {
        BackfillRequest request{.dag_id = "daily", .from_date = at("2024-02-28T00:00:00Z"),
                                .to_date = at("2024-02-29T00:00:00Z"),
                                .reprocess_behavior = ReprocessBehavior::completed};
        auto outcome = h.core->create_backfill(request);
        REQUIRE(outcome);
        CHECK(outcome->plan.runs.size() == 2);
        h.turn();
        finish_all(h);
        auto relabelled = *h.store->find_run("daily", "scheduled__2024-02-29T00:00:00+00:00", false);
        REQUIRE(relabelled);
        CHECK(relabelled->run_type == "backfill");
        h.restart();
        h.core->set_dag(dag, h.version, false);
        REQUIRE(h.core->recover());
        h.clock.set(at("2024-03-02T12:00:00Z"));
        h.turn();
        finish_all(h);
        CHECK(run_ids(h, "daily") == std::vector<std::string>{"scheduled__2024-02-27T00:00:00+00:00",
                                                              "scheduled__2024-02-28T00:00:00+00:00",
                                                              "scheduled__2024-02-29T00:00:00+00:00",
                                                              "scheduled__2024-03-01T00:00:00+00:00"});
    }
    SECTION("a manual run at the next fire time's logical date takes that date: the timetable moves past it") {
        REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "daily", .run_id = std::string("by_hand"),
                                               .logical_date = at("2024-03-01T00:00:00Z")}));
        h.turn();
        finish_all(h);
        h.clock.set(at("2024-03-03T12:00:00Z"));
        h.turn();
        finish_all(h);
        h.turn();
        finish_all(h);
        CHECK(run_ids(h, "daily") == std::vector<std::string>{"by_hand", "scheduled__2024-02-27T00:00:00+00:00",
                                                              "scheduled__2024-02-28T00:00:00+00:00",
                                                              "scheduled__2024-02-29T00:00:00+00:00",
                                                              "scheduled__2024-03-02T00:00:00+00:00"});
    }
    SECTION("a backfill run beyond the scheduled ones moves the timetable after a restart, as Airflow") {
        BackfillRequest request{.dag_id = "daily", .from_date = at("2024-03-01T00:00:00Z"),
                                .to_date = at("2024-03-01T00:00:00Z")};
        h.clock.set(at("2024-03-02T00:30:00Z"));
        REQUIRE(h.core->create_backfill(request));
        h.turn();
        finish_all(h);
        h.restart();
        h.core->set_dag(dag, h.version, false);
        REQUIRE(h.core->recover());
        h.clock.set(at("2024-03-03T00:30:00Z"));
        h.turn();
        finish_all(h);
        CHECK(run_ids(h, "daily") == std::vector<std::string>{"backfill__2024-03-01T00:00:00+00:00",
                                                              "scheduled__2024-02-27T00:00:00+00:00",
                                                              "scheduled__2024-02-28T00:00:00+00:00",
                                                              "scheduled__2024-02-29T00:00:00+00:00",
                                                              "scheduled__2024-03-02T00:00:00+00:00"});
    }
}

TEST_CASE("a commit that fails drops the turn, reloads the state, and the next turn redoes it", "[scheduler_commit]") {
    Harness h;
    h.clock.set(at("2024-02-29T22:30:00Z"));
    h.add_dag(kDaily);
    h.add_dag(kOther);
    h.turn();
    // daily's 02-27 run and other's 20:00 and 21:00 runs: three tries with the executor.
    REQUIRE(h.executor.launched.size() == 3);

    SECTION("decisions of the failed turn are not acted on, then made again") {
        for (const auto& launch : h.executor.launched) {  // the tries have started: their logs exist
            std::filesystem::create_directories(launch.log_file.parent_path());
            std::ofstream(launch.log_file) << "started\n";
        }
        h.finish_next(TaskOutcome::success);  // daily 02-27 ends: the next daily run is due
        h.faulty->fail_nth_commit_from_now(1);
        auto failed = h.core->run_turn();
        REQUIRE_FALSE(failed);
        CHECK_THAT(failed.error().message, Catch::Contains("injected failure"));
        CHECK(h.executor.launched.size() == 2);  // nothing new was handed over
        CHECK(h.core->running_tries() == 2);
        h.turn();
        // The try that finished in the dropped turn is handed over again to be resumed (a real
        // executor reads how it ended from its exit file); the next daily run starts once.
        std::vector<std::string> resumed;
        for (const auto& launch : h.executor.launched) {
            if (launch.resume) resumed.push_back(launch.run_info.run_id);
        }
        CHECK(resumed == std::vector<std::string>{"scheduled__2024-02-27T00:00:00+00:00"});
        finish_all(h);
        h.turn();
        finish_all(h);
        // 02-27 and 02-28 (02-29's interval has not ended at 22:30): one run each.
        CHECK(run_ids(h, "daily") == std::vector<std::string>{"scheduled__2024-02-27T00:00:00+00:00",
                                                              "scheduled__2024-02-28T00:00:00+00:00"});
        CHECK(h.runs("other").size() == 2);
        for (const auto& run : h.runs("daily")) CHECK(run.state == RunState::success);
    }
    SECTION("tries still with the executor are neither started again nor lost") {
        h.faulty->fail_nth_commit_from_now(1);
        REQUIRE_FALSE(h.core->run_turn());
        h.turn();
        CHECK(h.executor.launched.size() == 3);
        for (const auto& launch : h.executor.launched) CHECK_FALSE(launch.resume);
        CHECK(h.core->running_tries() == 3);
        finish_all(h);
        for (const auto& run : h.runs("other")) CHECK(run.state == RunState::success);
    }
    SECTION("a reload that fails too is done before the next turn") {
        h.faulty->fail_nth_commit_from_now(1);
        h.faulty->fail_loads = true;
        REQUIRE_FALSE(h.core->run_turn());
        auto reload = h.core->run_turn();
        REQUIRE_FALSE(reload);
        CHECK_THAT(reload.error().message, Catch::Contains("injected failure to load"));
        h.faulty->fail_loads = false;
        h.turn();
        CHECK(h.executor.launched.size() == 3);
        finish_all(h);
        for (const auto& run : h.runs("other")) CHECK(run.state == RunState::success);
    }
}

TEST_CASE("a command is answered only with its committed effects; one that cannot be committed fails alone",
          "[scheduler_commit]") {
    Harness h;
    h.clock.set(at("2024-02-29T22:30:00Z"));
    h.add_dag(kDaily);
    h.add_dag(kOther);
    h.turn();
    CommandPump pump(*h.store, *h.faulty, *h.store);

    auto first = h.store->enqueue_command("trigger", {{"dag_id", "daily"}, {"run_id", "one"},
                                                      {"logical_date", "2024-01-01T00:00:00Z"}});
    REQUIRE(first);
    h.faulty->fail_nth_commit_from_now(1);
    pump.pump(*h.core);
    auto failed = command_of(h, *first);
    CHECK(failed.state == "failed");
    CHECK_THAT(failed.result["error"].get<std::string>(), Catch::Contains("injected failure"));
    CHECK_FALSE(*h.store->find_run("daily", "one", false));
    // The rest goes on, and the same command sent again is committed with its answer.
    h.turn();
    auto second = h.store->enqueue_command("trigger", {{"dag_id", "daily"}, {"run_id", "one"},
                                                       {"logical_date", "2024-01-01T00:00:00Z"}});
    REQUIRE(second);
    pump.pump(*h.core);
    auto done = command_of(h, *second);
    CHECK(done.state == "done");
    CHECK(done.result["run_id"] == "one");
    CHECK(*h.store->find_run("daily", "one", false));
    // A refused command is answered at once, with what was wrong.
    auto refused = h.store->enqueue_command("trigger", {{"dag_id", "daily"}, {"run_id", "scheduled__x"}});
    REQUIRE(refused);
    pump.pump(*h.core);
    CHECK(command_of(h, *refused).state == "failed");
    finish_all(h);
    for (const auto& run : h.runs("other")) CHECK(run.state == RunState::success);
}

TEST_CASE("the loop stops turning after failing turns in a row, and still answers calls", "[scheduler_commit]") {
    Harness h;
    h.clock.set(at("2024-02-29T22:30:00Z"));
    h.add_dag(kOther);
    h.faulty->fail_every_commit = true;
    SchedulerLoop loop(*h.core, h.executor);
    loop.set_failure_policy(3, std::chrono::milliseconds(1));
    std::promise<std::string> fatal;
    loop.set_fatal_hook([&fatal](const std::string& message) { fatal.set_value(message); });
    loop.start();
    loop.post([](SchedulerCore&) {});
    auto message = fatal.get_future().get();
    CHECK_THAT(message, Catch::Contains("3 turns in a row could not commit"));
    CHECK_THAT(message, Catch::Contains("injected failure"));
    CHECK(loop.fatal_error() == message);
    int commits = h.faulty->commits;
    CHECK(loop.call<int>([](SchedulerCore& core) { return core.running_tries(); }) == 0);
    loop.stop();
    CHECK(h.faulty->commits == commits);  // no turn after it stopped
    CHECK(h.executor.launched.empty());
}

}  // namespace mayaflow
