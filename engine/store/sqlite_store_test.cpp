#include "engine/store/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "engine/store/migrations.h"

using namespace mayaflow;

namespace {

struct TempFolder {
    std::filesystem::path path;
    TempFolder() {
        char pattern[] = "/tmp/mayaflow_store_test_XXXXXX";
        path = ::mkdtemp(pattern);
    }
    ~TempFolder() { std::filesystem::remove_all(path); }
};

Dag dag_with_hash(const std::string& hash) {
    Dag dag;
    dag.dag_id = "edited";
    dag.source_hash = hash;
    return dag;
}

std::vector<int> stored_versions(const std::filesystem::path& database) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(database.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* query = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT version_number FROM dag_version WHERE dag_id = 'edited' ORDER BY 1", -1,
                               &query, nullptr) == SQLITE_OK);
    std::vector<int> versions;
    while (sqlite3_step(query) == SQLITE_ROW) versions.push_back(sqlite3_column_int(query, 0));
    sqlite3_finalize(query);
    sqlite3_close(db);
    return versions;
}

void add_run_using_version(const std::filesystem::path& database, int version) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(database.c_str(), &db) == SQLITE_OK);
    auto sql = "INSERT INTO dag_run (dag_id, run_id, run_type, state, dag_version, run_after, queued_at) "
               "VALUES ('edited', 'manual__" + std::to_string(version) + "', 'manual', 'success', " +
               std::to_string(version) + ", 0, 0)";
    REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

}  // namespace

TEST_CASE("versions of a DAG that no run uses are pruned past the newest ten", "[store][versions]") {
    TempFolder folder;
    auto database = folder.path / "mayaflow.db";
    auto store = SqliteStore::open(StoreOptions{.path = database});
    REQUIRE(store);
    auto save = [&](int edit) {
        REQUIRE((*store)->record_dag_file_parsed("/dags/edited.yaml", dag_with_hash("hash" + std::to_string(edit)),
                                                 "{}", Instant{}));
    };
    for (int edit = 1; edit <= 5; ++edit) save(edit);
    add_run_using_version(database, 3);
    for (int edit = 6; edit <= 40; ++edit) save(edit);
    // An unchanged file makes no version.
    save(40);

    std::vector<int> expected = {3};
    for (int version = 31; version <= 40; ++version) expected.push_back(version);
    CHECK(stored_versions(database) == expected);
    auto latest = (*store)->latest_dag_version("edited");
    REQUIRE(latest);
    REQUIRE(*latest);
    CHECK((*latest)->version_number == 40);
}

TEST_CASE("a migration missing below the newest applied one is applied; a newer database is refused",
          "[store][migrations]") {
    TempFolder folder;
    const auto path = folder.path / "gap.db";
    REQUIRE(SqliteStore::open(StoreOptions{.path = path}));
    const int newest = embedded_migrations().back().version;
    auto exec = [&](const char* sql) {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        char* error = nullptr;
        const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
        INFO((error ? error : ""));
        sqlite3_free(error);
        sqlite3_close(db);
        REQUIRE(rc == SQLITE_OK);
    };
    // As a database migrated by a build that lacked 0007: its table and its record are not there.
    exec("DROP TABLE task_cost; DELETE FROM schema_migrations WHERE version = 7");
    auto reopened = SqliteStore::open(StoreOptions{.path = path});
    REQUIRE(reopened);
    auto totals = (*reopened)->task_cost_totals("any", Instant{}, now_instant());
    CHECK(totals);  // the table is back
    CHECK(*(*reopened)->schema_version() == newest);
    reopened->reset();

    exec(fmt::format("INSERT INTO schema_migrations VALUES ({}, 'future', 0)", newest + 1).c_str());
    auto refused = SqliteStore::open(StoreOptions{.path = path});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("newer than this mayaflow knows"));
}
