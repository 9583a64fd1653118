// SqliteStore's backfill records and pools.

#include <fmt/format.h>

#include "engine/store/sqlite_store.h"
#include "engine/store/store_macros.h"
#include "engine/store/store_time.h"

namespace mayaflow {
namespace {

constexpr const char* kBackfillColumns =
    "id, dag_id, from_date, to_date, run_backwards, reprocess_behavior, max_active_runs, dag_run_conf, is_paused, "
    "created_at, completed_at";

BackfillRow read_backfill(const sqlite::Statement& row) {
    BackfillRow backfill;
    backfill.id = row.column_int(0);
    backfill.dag_id = row.column_text(1);
    backfill.from_date = from_micros(row.column_int(2));
    backfill.to_date = from_micros(row.column_int(3));
    backfill.run_backwards = row.column_int(4) != 0;
    backfill.reprocess_behavior = parse_reprocess_behavior(row.column_text(5)).value_or(ReprocessBehavior::none);
    backfill.max_active_runs = static_cast<int>(row.column_int(6));
    backfill.dag_run_conf = nlohmann::json::parse(row.column_text(7), nullptr, false);
    if (!backfill.dag_run_conf.is_object()) backfill.dag_run_conf = nlohmann::json::object();
    backfill.is_paused = row.column_int(8) != 0;
    backfill.created_at = from_micros(row.column_int(9));
    if (!row.column_is_null(10)) backfill.completed_at = from_micros(row.column_int(10));
    return backfill;
}

}  // namespace

std::string_view to_string(ReprocessBehavior behavior) {
    switch (behavior) {
        case ReprocessBehavior::none: return "none";
        case ReprocessBehavior::failed: return "failed";
        case ReprocessBehavior::completed: return "completed";
    }
    return "none";
}

std::optional<ReprocessBehavior> parse_reprocess_behavior(std::string_view text) {
    if (text == "none") return ReprocessBehavior::none;
    if (text == "failed") return ReprocessBehavior::failed;
    if (text == "completed") return ReprocessBehavior::completed;
    return std::nullopt;
}

Status SqliteStore::write_backfill(const BackfillRow& backfill) {
    MAYAFLOW_PREPARE(upsert, db_,
                     fmt::format("INSERT OR REPLACE INTO backfill ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", kBackfillColumns));
    upsert.bind(1, static_cast<std::int64_t>(backfill.id)).bind(2, backfill.dag_id);
    upsert.bind(3, to_micros(backfill.from_date)).bind(4, to_micros(backfill.to_date));
    upsert.bind(5, backfill.run_backwards ? 1 : 0).bind(6, to_string(backfill.reprocess_behavior));
    upsert.bind(7, backfill.max_active_runs).bind(8, backfill.dag_run_conf.dump());
    upsert.bind(9, backfill.is_paused ? 1 : 0).bind(10, to_micros(backfill.created_at));
    upsert.bind(11, backfill.completed_at ? std::optional<std::int64_t>(to_micros(*backfill.completed_at)) : std::nullopt);
    return upsert.run();
}

Result<long long> SqliteStore::next_backfill_id() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT COALESCE(MAX(id), 0) + 1 FROM backfill");
    auto row = query.step();
    if (!row) return row.error();
    return static_cast<long long>(query.column_int(0));
}

Result<std::vector<BackfillRow>> SqliteStore::list_backfills(std::optional<std::string> dag_id, bool only_active) {
    std::lock_guard lock(mutex_);
    std::string sql = fmt::format("SELECT {} FROM backfill WHERE 1 = 1", kBackfillColumns);
    if (dag_id) sql += " AND dag_id = ?1";
    if (only_active) sql += " AND completed_at IS NULL";
    sql += " ORDER BY id DESC";
    MAYAFLOW_PREPARE(query, db_, sql);
    if (dag_id) query.bind(1, *dag_id);
    std::vector<BackfillRow> backfills;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        backfills.push_back(read_backfill(query));
    }
    return backfills;
}

Result<std::optional<BackfillRow>> SqliteStore::find_backfill(long long id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, fmt::format("SELECT {} FROM backfill WHERE id = ?", kBackfillColumns));
    query.bind(1, static_cast<std::int64_t>(id));
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<BackfillRow>();
    return std::optional<BackfillRow>(read_backfill(query));
}

Result<std::vector<PoolRecord>> SqliteStore::list_pools() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT name, slots, description FROM pool ORDER BY name");
    std::vector<PoolRecord> pools;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        pools.push_back(PoolRecord{query.column_text(0), static_cast<int>(query.column_int(1)), query.column_text(2)});
    }
    return pools;
}

Status SqliteStore::set_pool(const PoolRecord& pool) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(upsert, db_,
                     "INSERT INTO pool (name, slots, description) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                     "slots = excluded.slots, description = excluded.description");
    upsert.bind(1, pool.name).bind(2, pool.slots).bind(3, pool.description);
    return upsert.run();
}

Status SqliteStore::delete_pool(const std::string& name) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(remove, db_, "DELETE FROM pool WHERE name = ?");
    remove.bind(1, name);
    MAYAFLOW_TRY(remove.run());
    if (db_.changes() == 0) return make_error("there is no pool '{}'; `mayaflow pools list` lists them", name);
    return Status::success();
}

}  // namespace mayaflow
