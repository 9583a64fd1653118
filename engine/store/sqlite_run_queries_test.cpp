// The API's queries of runs and task instances: filters, orders and pages done in SQL, counted
// before the page, values bound (never pasted into the statement), notes, and deletions.

#include <catch2/catch.hpp>

#include <unistd.h>

#include "engine/store/sqlite_store.h"

namespace mayaflow {
namespace {

struct QueryDatabase {
    std::filesystem::path folder = std::filesystem::temp_directory_path() /
                                   ("mayaflow-run-queries-test-" + std::to_string(::getpid()));
    std::unique_ptr<SqliteStore> store;
    std::vector<std::unique_ptr<DagRunRow>> rows;
    QueryDatabase() {
        std::filesystem::remove_all(folder);
        std::filesystem::create_directories(folder);
        auto opened = SqliteStore::open(StoreOptions{.path = folder / "test.db"});
        REQUIRE(opened);
        store = std::move(*opened);
    }
    ~QueryDatabase() { std::filesystem::remove_all(folder); }

    // Run `pk` of `dag_id` on day `day`, with tasks a (success, 2 s) and b (in `b_state`).
    void add(long long pk, const std::string& dag_id, int day, RunState state, TaskState b_state = TaskState::none) {
        auto run = std::make_unique<DagRunRow>();
        run->pk = pk;
        run->dag_id = dag_id;
        run->run_id = "run_" + std::to_string(pk);
        run->run_type = pk % 2 ? "manual" : "scheduled";
        run->state = state;
        Instant date = Instant(Duration(static_cast<std::int64_t>(day) * 86'400'000'000LL));
        run->logical_date = date;
        run->data_interval_start = date;
        run->data_interval_end = date;
        run->start_date = date;
        TaskInstanceRow a;
        a.task_id = "a";
        a.state = TaskState::success;
        a.start_date = date;
        a.end_date = date + std::chrono::seconds(2);
        TaskInstanceRow b;
        b.task_id = "b";
        b.state = b_state;
        run->task_instances = {a, b};
        StateBatch batch;
        batch.new_runs.push_back(run.get());
        REQUIRE(store->write_batch(batch));
        rows.push_back(std::move(run));
    }

    std::vector<long long> pks(const RunQuery& query) {
        auto page = store->query_runs(query);
        REQUIRE(page);
        std::vector<long long> found;
        for (const auto& run : page->runs) found.push_back(run.pk);
        return found;
    }
};

Instant day(int n) { return Instant(Duration(static_cast<std::int64_t>(n) * 86'400'000'000LL)); }

}  // namespace

TEST_CASE("runs: filters, orders, pages and the total before the page", "[run_store][api_queries]") {
    QueryDatabase db;
    db.add(1, "x", 1, RunState::success);
    db.add(2, "x", 2, RunState::failed);
    db.add(3, "y", 3, RunState::running);
    db.add(4, "x", 4, RunState::running);

    CHECK(db.pks(RunQuery{}) == std::vector<long long>{1, 2, 3, 4});
    CHECK(db.pks(RunQuery{.dag_ids = {"x"}}) == std::vector<long long>{1, 2, 4});
    CHECK(db.pks(RunQuery{.states = {RunState::running, RunState::failed}}) == std::vector<long long>{2, 3, 4});
    CHECK(db.pks(RunQuery{.run_types = {"scheduled"}}) == std::vector<long long>{2, 4});
    CHECK(db.pks(RunQuery{.logical_date = {day(2), day(3)}}) == std::vector<long long>{2, 3});
    CHECK(db.pks(RunQuery{.start_date = {day(4), std::nullopt}}) == std::vector<long long>{4});
    CHECK(db.pks(RunQuery{.order_by = "logical_date", .descending = true}) == std::vector<long long>{4, 3, 2, 1});
    CHECK(db.pks(RunQuery{.order_by = "dag_id"}) == std::vector<long long>{1, 2, 4, 3});
    CHECK(db.pks(RunQuery{.order_by = "id; DROP TABLE dag_run"}) == std::vector<long long>{1, 2, 3, 4});
    auto page = db.store->query_runs(RunQuery{.limit = 2, .offset = 1});
    REQUIRE(page);
    CHECK(page->total_entries == 4);
    REQUIRE(page->runs.size() == 2);
    CHECK(page->runs[0].pk == 2);
    // Quotes and wildcards are values, not SQL.
    CHECK(db.pks(RunQuery{.dag_ids = {"x' OR '1'='1"}}).empty());
    CHECK(db.pks(RunQuery{.dag_ids = {"%"}}).empty());
    CHECK(db.pks(RunQuery{.run_types = {"_"}}).empty());
    CHECK(db.pks(RunQuery{}).size() == 4);
}

TEST_CASE("task instances: filters, durations, pairs of DAG and task, order, notes", "[run_store][api_queries]") {
    QueryDatabase db;
    db.add(1, "x", 1, RunState::running, TaskState::failed);
    db.add(2, "y", 2, RunState::running, TaskState::queued);
    auto query = [&](TaskInstanceQuery q) {
        auto page = db.store->query_task_instances(q);
        REQUIRE(page);
        std::vector<std::string> found;
        for (const auto& row : page->task_instances) found.push_back(row.run_id + "." + row.ti.task_id);
        return found;
    };
    CHECK(query({}) == std::vector<std::string>{"run_1.a", "run_1.b", "run_2.a", "run_2.b"});
    CHECK(query({.dag_ids = {"y"}}) == std::vector<std::string>{"run_2.a", "run_2.b"});
    CHECK(query({.run_ids = {"run_1"}, .task_ids = {"b"}}) == std::vector<std::string>{"run_1.b"});
    CHECK(query({.states = {TaskState::failed, TaskState::queued}}) == std::vector<std::string>{"run_1.b", "run_2.b"});
    CHECK(query({.only_tasks = std::vector<std::pair<std::string, std::string>>{{"x", "a"}, {"y", "b"}}}) ==
          std::vector<std::string>{"run_1.a", "run_2.b"});
    CHECK(query({.only_tasks = std::vector<std::pair<std::string, std::string>>{}}).empty());
    CHECK(query({.logical_date = {day(2), std::nullopt}}) == std::vector<std::string>{"run_2.a", "run_2.b"});
    CHECK(query({.duration_gte = 1.5}) == std::vector<std::string>{"run_1.a", "run_2.a"});
    CHECK(query({.duration_lte = 1.0}).empty());
    CHECK(query({.order_by = "task_id", .descending = true, .limit = 2}) ==
          std::vector<std::string>{"run_2.b", "run_1.b"});
    CHECK(query({.task_ids = {"' OR 1=1 --"}}).empty());
    auto page = db.store->query_task_instances({.limit = 1, .offset = 3});
    REQUIRE(page);
    CHECK(page->total_entries == 4);

    REQUIRE(*db.store->set_task_note("x", "run_1", "b", std::string("why it failed")));
    CHECK_FALSE(*db.store->set_task_note("x", "run_1", "nope", std::string("x")));
    auto noted = db.store->query_task_instances({.run_ids = {"run_1"}, .task_ids = {"b"}});
    REQUIRE(noted);
    CHECK(noted->task_instances.at(0).note == "why it failed");
    REQUIRE(*db.store->set_run_note("x", "run_1", std::string("rerun after fix")));
    CHECK(*db.store->set_run_note("x", "run_1", std::nullopt));
    CHECK_FALSE(*db.store->set_run_note("x", "nope", std::nullopt));
    auto run = db.store->find_run("x", "run_1", false);
    REQUIRE(run);
    CHECK_FALSE((*run)->note);
    CHECK((*run)->updated_at);
}

TEST_CASE("a batch deletes runs and DAGs with what belongs to them", "[run_store][api_queries]") {
    QueryDatabase db;
    db.add(1, "x", 1, RunState::success);
    db.add(2, "x", 2, RunState::success);
    db.add(3, "y", 3, RunState::success);
    StateBatch batch;
    batch.deleted_runs = {1};
    batch.deleted_dags = {"y"};
    REQUIRE(db.store->write_batch(batch));
    CHECK(db.pks(RunQuery{}) == std::vector<long long>{2});
    auto tis = db.store->query_task_instances({});
    REQUIRE(tis);
    CHECK(tis->total_entries == 2);
}

}  // namespace mayaflow
