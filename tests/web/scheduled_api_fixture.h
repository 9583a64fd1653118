#pragma once
// An ApiFixture whose commands to the scheduler are answered by a real SchedulerCore over the same
// database, synchronously: the router's wake_scheduler pumps the command queue through the core,
// as the daemon's scheduler loop does between two turns. Its executor runs nothing: a test decides
// when and how each try ends (finish), and runs the scheduler's turns itself (turn).

#include <catch2/catch.hpp>

#include "engine/dagfile/dag_loader.h"
#include "engine/model/dag_json.h"
#include "engine/time/iso8601.h"
#include "operators/operator_registry.h"
#include "scheduler/command_pump.h"
#include "scheduler/scheduler_core.h"
#include "scheduler/scheduler_test_harness.h"
#include "tests/web/api_fixture.h"

namespace mayaflow::testing {

struct ScheduledApiFixture : ApiFixture {
    ManualClock clock{at("2024-03-01T00:00:00Z")};
    FakeExecutor executor;
    std::unique_ptr<SchedulerCore> core;
    std::unique_ptr<CommandPump> pump;

    explicit ScheduledApiFixture(Role role = Role::admin) : ApiFixture(role) {
        core = std::make_unique<SchedulerCore>(clock, *store, executor,
                                               SchedulerOptions{.parallelism = 32,
                                                                .logs_folder = folder / "logs",
                                                                .finish_empty_in_scheduler = false});
        REQUIRE(core->recover());
        pump = std::make_unique<CommandPump>(*store, *store, *store);
        context->wake_scheduler = [this] { pump->pump(*core); };
        as(role);
    }

    // Loads the DAG as the DAG processor would: its version stored, the scheduler told.
    std::shared_ptr<const Dag> add_dag(const std::string& yaml, bool paused = false) {
        std::filesystem::create_directories(folder / "dags");
        auto path = folder / "dags" / "dag.yaml";
        auto result = load_dag_text(yaml, path, DagLoadOptions{&builtin_operators(), folder / "dags"});
        INFO(format_errors(result.errors));
        REQUIRE(result.dag);
        result.dag->fileloc = (folder / "dags" / (result.dag->dag_id + ".yaml")).string();
        auto dag = std::make_shared<const Dag>(std::move(*result.dag));
        REQUIRE(store->record_dag_file_parsed(dag->fileloc, *dag, to_json(*dag).dump(), clock.now()));
        if (paused) REQUIRE(store->set_paused(dag->dag_id, true));
        auto record = store->find_dag(dag->dag_id);
        core->set_dag(dag, (*record)->latest_version, paused);
        return dag;
    }

    void turn() { REQUIRE(core->run_turn()); }

    // Ends the launched try of `task_id` (the oldest one when empty) with `outcome`, and turns.
    void finish(const std::string& task_id, TaskOutcome outcome) {
        for (size_t i = 0; i < executor.launched.size(); ++i) {
            const auto& launch = executor.launched[i];
            if (!task_id.empty() && launch.dag->tasks[launch.key.task_index].task_id != task_id) continue;
            TaskLaunch taken = std::move(executor.launched[i]);
            executor.launched.erase(executor.launched.begin() + static_cast<long>(i));
            OperatorResult result;
            result.outcome = outcome;
            core->on_report(TaskReport{TaskReport::Kind::finished, taken.key, {}, result});
            turn();
            return;
        }
        FAIL("no try of " << task_id << " was launched");
    }

    // Triggers a run through the core (not the API) at a logical date, and starts it.
    std::string trigger(const std::string& dag_id, const std::string& logical_date, const std::string& run_id = "") {
        TriggerRequest request{.dag_id = dag_id, .logical_date = at(logical_date)};
        if (!run_id.empty()) request.run_id = run_id;
        auto created = core->trigger(request);
        REQUIRE(created);
        turn();
        return *created;
    }
};

}  // namespace mayaflow::testing
