// The API's queries of runs and task instances: filters, orders and pages done in SQL, counted
// before the page, values bound (never pasted into the statement), notes, and deletions.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <map>

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

// Task b of run `pk` changed to `state` in try `try_number` (started at second `start`, ended at
// `end` when given).
void change_b(QueryDatabase& db, long long pk, TaskState state, int try_number, int start, std::optional<int> end) {
    TaskInstanceRow b;
    b.task_id = "b";
    b.state = state;
    b.try_number = try_number;
    b.max_tries = 3;
    b.start_date = Instant(std::chrono::seconds(start));
    if (end) b.end_date = Instant(std::chrono::seconds(*end));
    StateBatch batch;
    batch.task_changes.push_back(TaskInstanceChange{pk, b});
    REQUIRE(db.store->write_batch(batch));
}

std::vector<std::pair<int, TaskState>> tries_of(QueryDatabase& db, const std::string& run_id) {
    auto tries = db.store->list_task_tries("x", run_id, "b");
    REQUIRE(tries);
    std::vector<std::pair<int, TaskState>> found;
    for (const auto& t : *tries) found.emplace_back(t.try_number, t.state);
    return found;
}

TEST_CASE("every try of a task instance is kept as it started and ended", "[run_store][api_queries]") {
    QueryDatabase db;
    db.add(1, "x", 1, RunState::running);
    CHECK(tries_of(db, "run_1").empty());  // not started
    change_b(db, 1, TaskState::queued, 1, 100, std::nullopt);
    change_b(db, 1, TaskState::running, 1, 100, std::nullopt);
    change_b(db, 1, TaskState::up_for_retry, 1, 100, 130);
    change_b(db, 1, TaskState::scheduled, 1, 100, 130);  // waiting for try 2: try 1 stays as it ended
    CHECK(tries_of(db, "run_1") == std::vector<std::pair<int, TaskState>>{{1, TaskState::up_for_retry}});
    change_b(db, 1, TaskState::running, 2, 200, std::nullopt);
    change_b(db, 1, TaskState::failed, 2, 200, 205);
    // Cleared: back to none with its try number and start kept; the tries keep how they ended.
    change_b(db, 1, TaskState::none, 2, 200, std::nullopt);
    CHECK(tries_of(db, "run_1") ==
          std::vector<std::pair<int, TaskState>>{{1, TaskState::up_for_retry}, {2, TaskState::failed}});
    change_b(db, 1, TaskState::running, 3, 300, std::nullopt);
    change_b(db, 1, TaskState::success, 3, 300, 312);
    auto tries = db.store->list_task_tries("x", "run_1", "b");
    REQUIRE(tries);
    REQUIRE(tries->size() == 3);
    CHECK((*tries)[0].start_date == Instant(std::chrono::seconds(100)));
    CHECK((*tries)[0].end_date == Instant(std::chrono::seconds(130)));
    CHECK((*tries)[1].end_date == Instant(std::chrono::seconds(205)));
    CHECK((*tries)[2].state == TaskState::success);
    CHECK((*tries)[2].max_tries == 3);

    SECTION("a try taken back before it started is left out") {
        change_b(db, 1, TaskState::queued, 4, 400, std::nullopt);
        change_b(db, 1, TaskState::scheduled, 3, 300, 312);
        CHECK(tries_of(db, "run_1").size() == 3);
    }
    SECTION("another run's task, and unknown names, have none") {
        db.add(2, "x", 2, RunState::running);
        CHECK(tries_of(db, "run_2").empty());
        auto none = db.store->list_task_tries("x", "nope", "b");
        REQUIRE(none);
        CHECK(none->empty());
    }
    SECTION("deleting the run deletes its tries") {
        StateBatch batch;
        batch.deleted_runs = {1};
        REQUIRE(db.store->write_batch(batch));
        auto left = db.store->list_task_tries("x", "run_1", "b");
        REQUIRE(left);
        CHECK(left->empty());
    }
}

TEST_CASE("runs counted per DAG and state in one query", "[run_store][api_queries]") {
    QueryDatabase db;
    db.add(1, "x", 1, RunState::success);
    db.add(2, "x", 2, RunState::failed);
    db.add(3, "x", 3, RunState::success);
    db.add(4, "y", 4, RunState::running);
    db.add(5, "z", 5, RunState::queued);
    auto counts = db.store->count_runs_by_state({"x", "y", "nope"});
    REQUIRE(counts);
    std::map<std::pair<std::string, RunState>, long long> got;
    for (const auto& row : *counts) got[{row.dag_id, row.state}] = row.count;
    CHECK(got == std::map<std::pair<std::string, RunState>, long long>{
                     {{"x", RunState::success}, 2}, {{"x", RunState::failed}, 1}, {{"y", RunState::running}, 1}});
    auto empty = db.store->count_runs_by_state({});
    REQUIRE(empty);
    CHECK(empty->empty());
}

}  // namespace mayaflow
