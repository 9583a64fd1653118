#include "web/api/dag_version_cache.h"

#include <catch2/catch.hpp>

#include "engine/model/dag_json.h"
#include "engine/util/utf8.h"
#include "tests/web/api_fixture.h"

namespace mayaflow {
namespace {

Dag dag_of(const std::string& dag_id, const std::string& task_id, const std::string& pool) {
    Dag dag;
    dag.dag_id = dag_id;
    Task task;
    task.task_id = task_id;
    task.operator_name = "bash";
    task.pool = pool;
    dag.tasks.push_back(task);
    return dag;
}

void store_version(testing::ApiFixture& fixture, Dag dag) {
    dag.fileloc = "/dags/" + dag.dag_id + ".yaml";
    dag.source_hash = dag.tasks.front().task_id;
    dag.index_tasks();
    REQUIRE(fixture.store->record_dag_file_parsed(dag.fileloc, dag, dump_json(to_json(dag)), now_instant()));
}

}  // namespace

TEST_CASE("DagVersionCache parses a version once and never serves a deleted DAG's tasks for its successor",
          "[web][dag_version_cache]") {
    testing::ApiFixture fixture;
    DagVersionCache cache;
    store_version(fixture, dag_of("d", "old_task", "old_pool"));
    auto first = cache.find(*fixture.store, "d", 1);
    REQUIRE(first);
    CHECK(first->dag->find_task("old_task"));
    CHECK(cache.find(*fixture.store, "d", 1) == first);
    CHECK(cache.parses() == 1);
    CHECK_FALSE(cache.find(*fixture.store, "d", 7));

    // The DAG is deleted and defined again: its version 1 is another text now.
    StateBatch deletion;
    deletion.deleted_dags = {"d"};
    REQUIRE(fixture.store->write_batch(deletion));
    store_version(fixture, dag_of("d", "new_task", "new_pool"));
    auto again = cache.find(*fixture.store, "d", 1);
    REQUIRE(again);
    CHECK(again->dag->find_task("new_task"));
    CHECK_FALSE(again->dag->find_task("old_task"));
    CHECK(again->dag->tasks.front().pool == "new_pool");
}

TEST_CASE("DagVersionCache keeps at most kCapacity versions", "[web][dag_version_cache]") {
    testing::ApiFixture fixture;
    DagVersionCache cache;
    for (std::size_t i = 0; i <= DagVersionCache::kCapacity; ++i) {
        store_version(fixture, dag_of("d" + std::to_string(i), "t", "default_pool"));
        REQUIRE(cache.find(*fixture.store, "d" + std::to_string(i), 1));
    }
    const auto parsed = cache.parses();
    CHECK(parsed == DagVersionCache::kCapacity + 1);
    // The newest are kept; the first one went out and is parsed again.
    REQUIRE(cache.find(*fixture.store, "d" + std::to_string(DagVersionCache::kCapacity), 1));
    CHECK(cache.parses() == parsed);
    REQUIRE(cache.find(*fixture.store, "d0", 1));
    CHECK(cache.parses() == parsed + 1);
}

}  // namespace mayaflow
