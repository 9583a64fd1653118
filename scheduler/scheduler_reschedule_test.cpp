// Sensors in reschedule mode, as Airflow's up_for_reschedule: between two pokes the try gives its
// slot and pool slot back, keeps its try number, and its timeout counts from its first poke — also
// across a restart of the scheduler. The pokes are a real SensorOperator over a scripted poker, on
// the harness's clock.

#include <catch2/catch.hpp>

#include "operators/gcp/gcs_sensors.h"
#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::Harness;

const char* kSensorDag = R"(
dag_id: wait
tasks:
  - task_id: sensor
    operator: gcs_object_sensor
    bucket: drop
    object: "incoming/{{ ds_nodash }}.csv"
    mode: reschedule
    poke_interval: 60s
    timeout: 5m
    retries: 3
    pool: narrow
  - task_id: other
    operator: bash
    bash_command: "true"
    pool: narrow
  - task_id: after
    operator: bash
    bash_command: "true"
    depends_on: [sensor]
)";

// Answers each poke with `found`; keeps the timers it is asked for (the try's execution timeout).
class ScriptedPoker : public Poker {
  public:
    bool found = false;
    std::string describe() const override { return "the scripted file"; }
    void poke(std::function<void(Result<PokeAnswer>)> done) override { done(PokeAnswer{.done = found}); }
    void run_after(Duration, std::function<void()>) override {}
};

class ScriptedSensor : public SensorOperator {
  public:
    ScriptedSensor(const Clock& clock, bool found) : clock_(clock), found_(found) {}

  protected:
    const OperatorSpec& spec() const override {
        static const OperatorSpec spec = gcp::gcs_object_sensor_spec();
        return spec;
    }
    Result<std::shared_ptr<Poker>> make_poker(const TaskRun&, const nlohmann::json&) override {
        auto poker = std::make_shared<ScriptedPoker>();
        poker->found = found_;
        return std::shared_ptr<Poker>(poker);
    }
    Instant now() const override { return clock_.now(); }

  private:
    const Clock& clock_;
    bool found_;
};

// Runs the oldest launched try as the sensor at the harness's time and reports how it ended.
OperatorResult poke_next(Harness& h, bool found, std::string soft_fail = "") {
    REQUIRE_FALSE(h.executor.launched.empty());
    TaskLaunch launch = std::move(h.executor.launched.front());
    h.executor.launched.pop_front();
    Task task = launch.dag->tasks[launch.key.task_index];
    REQUIRE(task.task_id == "sensor");
    if (!soft_fail.empty()) task.params["soft_fail"] = true;
    ScriptedSensor sensor(h.clock, found);
    OperatorResult result = sensor.execute(TaskRun{.task = task,
                                                   .run_info = launch.run_info,
                                                   .try_number = launch.key.try_number,
                                                   .log_file = launch.log_file,
                                                   .earlier_pokes = launch.earlier_pokes});
    h.core->on_report(TaskReport{TaskReport::Kind::finished, launch.key, {}, result});
    return result;
}

std::optional<TaskInstanceRow> stored_sensor(Harness& h, const std::string& run_id) {
    auto run = h.store->find_run("wait", run_id, true);
    REQUIRE(run);
    REQUIRE(*run);
    for (const auto& task : (*run)->task_instances) {
        if (task.task_id == "sensor") return task;
    }
    return std::nullopt;
}

struct SensorRun {
    Harness h;
    std::string run_id;
    long long pk = 0;

    SensorRun() {
        h.core->set_pool("narrow", 1);
        h.add_dag(kSensorDag);
        run_id = *h.core->trigger(TriggerRequest{.dag_id = "wait"});
        h.turn();
        pk = h.runs("wait").at(0).pk;
        // One slot in the pool: the sensor (the higher weight: a task downstream) goes first.
        REQUIRE(h.executor.launched.size() == 1);
        REQUIRE(h.launched_task() == "sensor");
    }
    // The first poke finds nothing; `other` runs in the slot given back, and ends.
    void reschedule_first_poke() {
        REQUIRE(poke_next(h, false).outcome == TaskOutcome::rescheduled);
        h.turn();
        h.finish_next(TaskOutcome::success);
        h.turn();
        REQUIRE(state() == TaskState::up_for_reschedule);
    }
    // While the run is under way (the core forgets finished runs).
    TaskState state() { return h.core->task_state(pk, "sensor").value(); }
};

}  // namespace

TEST_CASE("a rescheduled sensor gives its slot and pool slot back and keeps its try number",
          "[scheduler_reschedule]") {
    SensorRun s;
    Harness& h = s.h;
    const Instant first = h.clock.now();
    OperatorResult result = poke_next(h, false);
    REQUIRE(result.outcome == TaskOutcome::rescheduled);
    REQUIRE(result.reschedule);
    CHECK(result.reschedule->next_poke_at == first + std::chrono::seconds(60));
    h.turn();
    CHECK(s.state() == TaskState::up_for_reschedule);
    CHECK(h.core->running_tries() == 1);  // `other`, which now has the pool's one slot
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.launched_task() == "other");
    auto stored = stored_sensor(h, s.run_id);
    CHECK(stored->state == TaskState::up_for_reschedule);
    CHECK(stored->try_number == 1);
    CHECK(stored->first_poke_at == first);
    CHECK(stored->pokes == 1);
    CHECK(stored->next_try_at == first + std::chrono::seconds(60));

    h.finish_next(TaskOutcome::success);  // `other` frees the slot
    h.turn();
    CHECK(h.executor.launched.empty());  // the next poke is not due yet
    h.clock.advance(std::chrono::seconds(60));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    const TaskLaunch& again = h.executor.launched.front();
    CHECK(again.key.try_number == 1);
    REQUIRE(again.earlier_pokes);
    CHECK(again.earlier_pokes->first_poke_at == first);
    CHECK(again.earlier_pokes->pokes == 1);
    CHECK(stored_sensor(h, s.run_id)->start_date == first);  // as Airflow: the try started at its first poke

    CHECK(poke_next(h, true).outcome == TaskOutcome::success);
    h.turn();
    CHECK(s.state() == TaskState::success);
    stored = stored_sensor(h, s.run_id);
    CHECK(stored->try_number == 1);
    CHECK_FALSE(stored->first_poke_at);
    CHECK(stored->pokes == 0);
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.launched_task() == "after");
}

TEST_CASE("a sensor's timeout counts from its first poke, across reschedules and a restart",
          "[scheduler_reschedule]") {
    const bool soft_fail = GENERATE(false, true);
    SensorRun s;
    Harness& h = s.h;
    const Instant first = h.clock.now();
    REQUIRE(poke_next(h, false, soft_fail ? "soft" : "").outcome == TaskOutcome::rescheduled);
    h.turn();
    h.finish_next(TaskOutcome::success);  // `other`, in the slot the sensor gave back
    h.turn();
    for (int poke = 2; poke <= 5; ++poke) {
        h.clock.advance(std::chrono::seconds(60));
        if (poke == 3) {
            // The daemon dies while the sensor waits: it is still up_for_reschedule, poked at its time.
            h.restart();
            h.core->set_pool("narrow", 1);
            h.add_dag(kSensorDag);
            REQUIRE(h.core->recover());
            CHECK(s.state() == TaskState::up_for_reschedule);
        }
        h.turn();
        REQUIRE(h.executor.launched.size() == 1);
        REQUIRE(h.launched_task() == "sensor");
        CHECK(h.executor.launched.front().key.try_number == 1);
        CHECK(h.executor.launched.front().earlier_pokes->first_poke_at == first);
        CHECK(h.executor.launched.front().earlier_pokes->pokes == poke - 1);
        REQUIRE(poke_next(h, false, soft_fail ? "soft" : "").outcome == TaskOutcome::rescheduled);
        h.turn();
    }
    // Five minutes and a second after the first poke: the sensor has waited its timeout.
    h.clock.advance(std::chrono::seconds(61));
    h.turn();
    OperatorResult result = poke_next(h, false, soft_fail ? "soft" : "");
    h.turn();
    CHECK(result.message.find("timed out after 5m") != std::string::npos);
    if (soft_fail) {
        CHECK(result.outcome == TaskOutcome::skipped);
        CHECK(stored_sensor(h, s.run_id)->state == TaskState::skipped);
    } else {
        // As Airflow's AirflowSensorTimeout: failed at once, its three retries unused.
        CHECK(result.outcome == TaskOutcome::failed);
        CHECK_FALSE(result.retryable);
        CHECK(stored_sensor(h, s.run_id)->state == TaskState::failed);
    }
    auto stored = stored_sensor(h, s.run_id);
    CHECK(stored->try_number == 1);
    CHECK_FALSE(stored->first_poke_at);
}

TEST_CASE("clearing or marking a rescheduled sensor ends its try; its old poke time changes nothing",
          "[scheduler_reschedule]") {
    SensorRun s;
    Harness& h = s.h;
    s.reschedule_first_poke();

    SECTION("clear: the next try starts afresh") {
        auto cleared =
            h.core->clear(ClearRequest{.dag_id = "wait", .run_id = s.run_id, .task_ids = {"sensor"}});
        REQUIRE(cleared);
        CHECK(cleared->cleared == 1);
        CHECK(cleared->restarted.empty());  // nothing was running
        h.turn();
        REQUIRE(h.executor.launched.size() == 1);
        CHECK(h.executor.launched.front().key.try_number == 2);
        CHECK_FALSE(h.executor.launched.front().earlier_pokes);
        CHECK_FALSE(stored_sensor(h, s.run_id)->first_poke_at);
        // The first try's poke comes due: nothing more is launched.
        h.clock.advance(std::chrono::seconds(60));
        h.turn();
        CHECK(h.executor.launched.size() == 1);
        CHECK(s.state() == TaskState::queued);
    }
    SECTION("mark success: downstream runs, no poke follows") {
        REQUIRE(h.core->mark_task("wait", s.run_id, "sensor", TaskState::success));
        h.turn();
        CHECK(s.state() == TaskState::success);
        REQUIRE(h.executor.launched.size() == 1);
        CHECK(h.launched_task() == "after");
        CHECK(h.executor.cancelled.empty());  // no try was running
        h.clock.advance(std::chrono::seconds(60));
        h.turn();
        CHECK(h.executor.launched.size() == 1);
    }
}

TEST_CASE("a rescheduled sensor whose next poke was queued when the daemon died pokes again as the same try",
          "[scheduler_reschedule]") {
    SensorRun s;
    Harness& h = s.h;
    s.reschedule_first_poke();
    h.clock.advance(std::chrono::seconds(60));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(s.state() == TaskState::queued);
    h.restart();
    h.core->set_pool("narrow", 1);
    h.add_dag(kSensorDag);
    REQUIRE(h.core->recover());
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched.front().key.try_number == 1);
    REQUIRE(h.executor.launched.front().earlier_pokes);
    CHECK(h.executor.launched.front().earlier_pokes->pokes == 1);
    CHECK(poke_next(h, true).outcome == TaskOutcome::success);
    h.turn();
    CHECK(s.state() == TaskState::success);
}

}  // namespace mayaflow
