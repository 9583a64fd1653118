// The run store's rules that the database itself keeps: one run per logical date of a DAG (with
// the migration that makes older databases follow it), and the conflict lookup the scheduler uses.

#include <catch2/catch.hpp>

#include <unistd.h>

#include "engine/store/migrations.h"
#include "engine/store/sqlite_store.h"

namespace mayaflow {
namespace {

struct TempDatabase {
    std::filesystem::path folder = std::filesystem::temp_directory_path() /
                                   ("mayaflow-run-store-test-" + std::to_string(::getpid()));
    std::filesystem::path path = folder / "test.db";
    TempDatabase() {
        std::filesystem::remove_all(folder);
        std::filesystem::create_directories(folder);
    }
    ~TempDatabase() { std::filesystem::remove_all(folder); }
};

constexpr std::int64_t kDay = 86'400'000'000;  // microseconds

DagRunRow run_row(long long pk, const std::string& run_id, std::optional<std::int64_t> logical_micros) {
    DagRunRow run;
    run.pk = pk;
    run.dag_id = "d";
    run.run_id = run_id;
    run.run_type = "manual";
    run.state = RunState::success;
    if (logical_micros) run.logical_date = Instant(Duration(*logical_micros));
    return run;
}

Status insert(SqliteStore& store, const DagRunRow& run) {
    StateBatch batch;
    batch.new_runs.push_back(&run);
    return store.write_batch(batch);
}

}  // namespace

TEST_CASE("a DAG has one run per logical date; runs without one are not limited", "[run_store]") {
    TempDatabase db;
    auto store = SqliteStore::open(StoreOptions{.path = db.path});
    REQUIRE(store);
    REQUIRE(insert(**store, run_row(1, "first", 10 * kDay)));
    auto second = insert(**store, run_row(2, "second", 10 * kDay));
    REQUIRE_FALSE(second);
    CHECK_THAT(second.error().message, Catch::Contains("UNIQUE"));
    REQUIRE(insert(**store, run_row(3, "other_day", 11 * kDay)));
    REQUIRE(insert(**store, run_row(4, "no_date_1", std::nullopt)));
    REQUIRE(insert(**store, run_row(5, "no_date_2", std::nullopt)));

    auto by_date = (*store)->find_conflicting_run("d", "new", Instant(Duration(10 * kDay)));
    REQUIRE(by_date);
    REQUIRE(*by_date);
    CHECK((*by_date)->run_id == "first");
    auto by_id = (*store)->find_conflicting_run("d", "other_day", Instant(Duration(10 * kDay)));
    REQUIRE(*by_id);
    CHECK((*by_id)->run_id == "other_day");  // the same id wins over the same date
    CHECK_FALSE(*(*store)->find_conflicting_run("d", "new", Instant(Duration(12 * kDay))));
    CHECK_FALSE(*(*store)->find_conflicting_run("d", "new", std::nullopt));
    CHECK_FALSE(*(*store)->find_conflicting_run("e", "first", Instant(Duration(10 * kDay))));
}

TEST_CASE("the migration to one run per logical date moves later duplicates by a microsecond each", "[run_store]") {
    TempDatabase db;
    {
        // A database as mayaflow left it before migration 3, with three runs at one date.
        auto raw = sqlite::Database::open(db.path, sqlite::Database::Mode::read_write);
        REQUIRE(raw);
        REQUIRE(raw->exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                          "applied_at INTEGER NOT NULL)"));
        for (const auto& migration : embedded_migrations()) {
            if (migration.version > 2) break;
            REQUIRE(raw->exec(migration.sql));
            REQUIRE(raw->exec(fmt::format("INSERT INTO schema_migrations VALUES ({}, '{}', 0)", migration.version,
                                          migration.name)));
        }
        for (auto [id, run_id, date] : {std::tuple{1, "scheduled__x", 10 * kDay}, std::tuple{2, "manual__x", 10 * kDay},
                                        std::tuple{3, "again", 10 * kDay}, std::tuple{4, "other", 11 * kDay}}) {
            REQUIRE(raw->exec(fmt::format("INSERT INTO dag_run (id, dag_id, run_id, run_type, state, dag_version, "
                                          "logical_date, run_after, queued_at) VALUES ({}, 'd', '{}', 'manual', "
                                          "'success', 1, {}, 0, 0)",
                                          id, run_id, date)));
        }
        REQUIRE(raw->exec("INSERT INTO dag_run (id, dag_id, run_id, run_type, state, dag_version, logical_date, "
                          "run_after, queued_at) VALUES (5, 'e', 'scheduled__x', 'scheduled', 'success', 1, "
                          "864000000000, 0, 0)"));
    }
    auto store = SqliteStore::open(StoreOptions{.path = db.path});
    REQUIRE(store);
    auto dates = [&](const std::string& dag_id) {
        std::map<std::string, std::int64_t> found;
        auto runs = (*store)->list_runs(RunFilter{.dag_id = dag_id});
        REQUIRE(runs);
        for (const auto& run : *runs) found[run.run_id] = run.logical_date->time_since_epoch().count();
        return found;
    };
    CHECK(dates("d") == std::map<std::string, std::int64_t>{{"scheduled__x", 10 * kDay},
                                                             {"manual__x", 10 * kDay + 1},
                                                             {"again", 10 * kDay + 2},
                                                             {"other", 11 * kDay}});
    CHECK(dates("e") == std::map<std::string, std::int64_t>{{"scheduled__x", 10 * kDay}});
    CHECK_FALSE(insert(**store, run_row(6, "late", 11 * kDay)));
}

}  // namespace mayaflow
