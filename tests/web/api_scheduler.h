#pragma once
// A real SchedulerCore for the API's tests: it answers the commands a route sends (pool_set,
// backfill, …) at once, through the same command pump as the daemon's, over the fixture's store.
// Its executor runs nothing, so runs a command creates stay queued until a test finishes them.

#include "scheduler/command_pump.h"
#include "scheduler/scheduler_test_harness.h"
#include "tests/web/api_fixture.h"

namespace mayaflow::testing {

struct ApiScheduler {
    ApiFixture& fixture;
    ManualClock clock{now_instant()};
    FakeExecutor executor;
    std::unique_ptr<SchedulerCore> core;
    std::unique_ptr<CommandPump> pump;
    int commands_taken = 0;

    explicit ApiScheduler(ApiFixture& api) : fixture(api) {
        SchedulerOptions options{.parallelism = 32, .logs_folder = api.folder / "logs"};
        auto pools = api.store->list_pools();
        REQUIRE(pools);
        options.pools.clear();
        for (const auto& pool : *pools) options.pools[pool.name] = pool.slots;
        core = std::make_unique<SchedulerCore>(clock, *api.store, executor, options);
        pump = std::make_unique<CommandPump>(*api.store, *api.store, *api.store);
        api.context->wake_scheduler = [this] {
            ++commands_taken;
            pump->pump(*core);
        };
    }
    ~ApiScheduler() { fixture.context->wake_scheduler = nullptr; }

    // Loads a DAG from YAML into the store (as the DAG processor would) and into the scheduler.
    std::shared_ptr<const Dag> add_dag(const std::string& yaml) {
        auto path = fixture.folder / "dag.yaml";
        auto result = load_dag_text(yaml, path, DagLoadOptions{&builtin_operators(), fixture.folder});
        INFO(format_errors(result.errors));
        REQUIRE(result.dag);
        result.dag->fileloc = (fixture.folder / (result.dag->dag_id + ".yaml")).string();
        auto dag = std::make_shared<const Dag>(std::move(*result.dag));
        REQUIRE(fixture.store->record_dag_file_parsed(dag->fileloc, *dag, to_json(*dag).dump(), clock.now()));
        auto record = fixture.store->find_dag(dag->dag_id);
        REQUIRE(record);
        REQUIRE(*record);
        core->set_dag(dag, (*record)->latest_version, false);
        return dag;
    }

    void turn() { REQUIRE(core->run_turn()); }
};

}  // namespace mayaflow::testing
