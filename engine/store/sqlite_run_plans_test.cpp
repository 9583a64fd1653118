// How SQLite runs the API's lists in their usual orders: runs newest logical date first, filtered by
// state, for one DAG or all, from an index already in that order (migration 0015); task instances
// by run, in task_instance's key order. So the first page of 100,000 runs or a million task
// instances reads 100 rows instead of sorting every match. The plans are of the statements
// SqliteStore::query_runs and query_task_instances build (engine/store/sqlite_run_store.cpp).

#include <catch2/catch.hpp>

#include <unistd.h>

#include "engine/store/sqlite_store.h"

namespace mayaflow {
namespace {

struct PlannedDatabase {
    std::filesystem::path folder = std::filesystem::temp_directory_path() /
                                   ("mayaflow-run-plans-test-" + std::to_string(::getpid()));
    std::optional<sqlite::Database> db;
    PlannedDatabase() {
        std::filesystem::remove_all(folder);
        std::filesystem::create_directories(folder);
        REQUIRE(SqliteStore::open(StoreOptions{.path = folder / "test.db"}));  // migrated
        auto opened = sqlite::Database::open(folder / "test.db", sqlite::Database::Mode::read_only);
        REQUIRE(opened);
        db.emplace(std::move(*opened));
    }
    ~PlannedDatabase() {
        db.reset();
        std::filesystem::remove_all(folder);
    }

    // The plan's lines (EXPLAIN QUERY PLAN's detail column), one string.
    std::string plan(const std::string& sql) {
        auto statement = db->prepare("EXPLAIN QUERY PLAN " + sql);
        REQUIRE(statement);
        std::string lines;
        while (true) {
            auto row = statement->step();
            REQUIRE(row);
            if (!*row) return lines;
            lines += statement->column_text(3) + "\n";
        }
    }
};

}  // namespace

TEST_CASE("run lists newest first read an index in that order, not a sort", "[run_store][api_queries]") {
    PlannedDatabase db;
    const std::string select = "SELECT * FROM dag_run";
    const std::string newest_first = " ORDER BY logical_date DESC, id DESC LIMIT ? OFFSET ?";
    for (const std::string where : {" WHERE state IN (?)", " WHERE dag_id IN (?) AND state IN (?)", ""}) {
        INFO(where);
        auto plan = db.plan(select + where + newest_first);
        INFO(plan);
        CHECK(plan.find("TEMP B-TREE") == std::string::npos);
        CHECK(plan.find("USING INDEX") != std::string::npos);
    }
    // Task instances by run (the default order), filtered by state or not: task_instance's key
    // order, which its state index keeps too.
    for (const std::string where : {" WHERE t.state IN (?)", ""}) {
        auto plan = db.plan("SELECT r.dag_id, r.run_id, t.task_id, t.start_date FROM task_instance t JOIN dag_run r ON "
                            "r.id = t.run_pk" + where + " ORDER BY t.run_pk ASC, t.task_id ASC LIMIT ? OFFSET ?");
        INFO(plan);
        CHECK(plan.find("TEMP B-TREE") == std::string::npos);
    }
    // The count before the page reads an index only.
    for (const std::string where : {" WHERE state IN (?)", " WHERE dag_id IN (?) AND state IN (?)"}) {
        auto plan = db.plan("SELECT COUNT(*) FROM dag_run" + where);
        INFO(plan);
        CHECK(plan.find("COVERING INDEX") != std::string::npos);
    }
}

}  // namespace mayaflow
