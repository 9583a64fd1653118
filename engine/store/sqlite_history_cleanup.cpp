// SqliteStore::clean_history: `db clean`, Airflow's retention, in short transactions.

#include <fmt/format.h>

#include <algorithm>

#include "engine/store/sqlite_store.h"
#include "engine/store/store_macros.h"
#include "engine/store/store_time.h"

namespace mayaflow {
namespace {

// The runs that may go: finished before the moment, and none of those history_cleanup.h keeps.
// ?1 is the moment (microseconds), ?2 how many (-1: all).
constexpr const char* kCleanableRuns =
    "WITH dags(dag_id) AS (SELECT DISTINCT dag_id FROM dag_run), "
    "kept(id) AS ("
    "  SELECT MAX(id) FROM dag_run GROUP BY dag_id "
    "  UNION SELECT (SELECT x.id FROM dag_run x WHERE x.dag_id = d.dag_id "
    "                ORDER BY x.logical_date IS NULL, x.logical_date DESC, x.id DESC LIMIT 1) FROM dags d "
    "  UNION SELECT (SELECT x.id FROM dag_run x WHERE x.dag_id = d.dag_id AND x.run_type IN ('scheduled', 'backfill') "
    "                AND x.logical_date IS NOT NULL ORDER BY x.logical_date DESC, x.id DESC LIMIT 1) FROM dags d) "
    "SELECT r.id, r.dag_id, r.run_id FROM dag_run r "
    "WHERE r.state IN ('success', 'failed') AND r.end_date IS NOT NULL AND r.end_date < ?1 "
    "AND r.id NOT IN (SELECT id FROM kept WHERE id IS NOT NULL) "
    "AND (r.backfill_id IS NULL OR r.backfill_id NOT IN (SELECT id FROM backfill WHERE completed_at IS NULL)) "
    "AND r.dag_id NOT IN (SELECT json_extract(payload, '$.dag_id') FROM command WHERE state = 'pending' "
    "                     AND json_valid(payload) AND json_extract(payload, '$.dag_id') IS NOT NULL) "
    "ORDER BY r.id LIMIT ?2";

// Cost rows recorded before ?1 of finished runs (when runs are kept: `--tables task_cost`).
constexpr const char* kCleanableCosts =
    "FROM task_cost WHERE recorded_at < ?1 AND run_pk IN (SELECT id FROM dag_run WHERE state IN ('success', 'failed'))";

// Commands the scheduler has answered, queued before ?1.
constexpr const char* kCleanableCommands = "FROM command WHERE state IN ('done', 'failed') AND created_at < ?1";

bool wanted(const CleanupRequest& request, const std::string& table) {
    return request.tables.empty() || request.tables.contains(table);
}

void add_count(CleanupResult& result, const std::string& table, long long rows) {
    for (auto& [name, count] : result.rows) {
        if (name == table) {
            count += rows;
            return;
        }
    }
}

std::string archive_table(const CleanupRequest& request, const std::string& table) {
    return fmt::format("_mayaflow_deleted__{}__{}", table, request.archive_suffix);
}

}  // namespace

Result<CleanupResult> SqliteStore::clean_history(const CleanupRequest& request) {
    for (const auto& table : request.tables) {
        if (std::find(kCleanableTables.begin(), kCleanableTables.end(), table) == kCleanableTables.end()) {
            return make_error("db clean: no table '{}'; the tables are dag_run, task_instance, task_cost, command", table);
        }
    }
    // The suffix becomes part of a table name, which no parameter can bind.
    if (request.archive && (request.archive_suffix.empty() ||
                            !std::all_of(request.archive_suffix.begin(), request.archive_suffix.end(),
                                         [](char c) { return (c >= '0' && c <= '9') || c == '_' || c == 'T'; }))) {
        return make_error("db clean: the archive suffix must be digits, 'T' and '_'");
    }
    CleanupResult result;
    for (const auto& table : kCleanableTables) result.rows.emplace_back(table, 0);
    std::lock_guard lock(mutex_);

    auto count = [&](const std::string& sql, std::int64_t before) -> Result<long long> {
        auto statement = db_.prepare(sql);
        if (!statement) return statement.error();
        statement->bind(1, before);
        if (sql.find("?2") != std::string::npos) statement->bind(2, std::int64_t{-1});
        auto row = statement->step();
        if (!row) return row.error();
        return static_cast<long long>(statement->column_int(0));
    };
    // Copies the rows `where` picks into the archive (when asked), deletes them, and counts them.
    auto archive_and_delete = [&](const std::string& table, const std::string& from_where,
                                  std::int64_t before) -> Status {
        if (request.archive) {
            const std::string archive = archive_table(request, table);
            MAYAFLOW_TRY(db_.exec(fmt::format("CREATE TABLE IF NOT EXISTS \"{}\" AS SELECT * FROM {} WHERE 0", archive, table)));
            auto copy = db_.prepare(fmt::format("INSERT INTO \"{}\" SELECT * {}", archive, from_where));
            if (!copy) return copy.error();
            if (from_where.find("?1") != std::string::npos) copy->bind(1, before);
            MAYAFLOW_TRY(copy->run());
            if (std::find(result.archive_tables.begin(), result.archive_tables.end(), archive) == result.archive_tables.end()) {
                result.archive_tables.push_back(archive);
            }
        }
        auto remove = db_.prepare("DELETE " + from_where);
        if (!remove) return remove.error();
        if (from_where.find("?1") != std::string::npos) remove->bind(1, before);
        MAYAFLOW_TRY(remove->run());
        add_count(result, table, db_.changes());
        return Status::success();
    };

    const std::int64_t before = to_micros(request.before);
    const long long batch = static_cast<long long>(std::max<std::size_t>(request.batch_size, 1));

    if (wanted(request, "dag_run")) {
        if (request.dry_run) {
            auto runs = db_.prepare(kCleanableRuns);
            if (!runs) return runs.error();
            runs->bind(1, before).bind(2, std::int64_t{-1});
            while (true) {
                auto row = runs->step();
                if (!row) return row.error();
                if (!*row) break;
                result.runs.push_back({runs->column_text(1), runs->column_text(2)});
                add_count(result, "dag_run", 1);
            }
            const std::string picked = fmt::format("run_pk IN (SELECT id FROM ({}))", kCleanableRuns);
            auto tasks = count("SELECT COUNT(*) FROM task_instance WHERE " + picked, before);
            if (!tasks) return tasks.error();
            add_count(result, "task_instance", *tasks);
            auto costs = count("SELECT COUNT(*) FROM task_cost WHERE " + picked, before);
            if (!costs) return costs.error();
            add_count(result, "task_cost", *costs);
        } else {
            // One transaction per batch: the scheduler's next commit waits for one batch at most.
            while (true) {
                sqlite::Transaction transaction(db_);
                MAYAFLOW_TRY(transaction.begin());
                MAYAFLOW_TRY(db_.exec("CREATE TEMP TABLE IF NOT EXISTS mayaflow_clean_batch (id INTEGER PRIMARY KEY); "
                                      "DELETE FROM temp.mayaflow_clean_batch"));
                auto runs = db_.prepare(kCleanableRuns);
                if (!runs) return runs.error();
                runs->bind(1, before).bind(2, static_cast<std::int64_t>(batch));
                auto insert = db_.prepare("INSERT INTO temp.mayaflow_clean_batch (id) VALUES (?)");
                if (!insert) return insert.error();
                std::size_t taken = 0;
                while (true) {
                    auto row = runs->step();
                    if (!row) return row.error();
                    if (!*row) break;
                    result.runs.push_back({runs->column_text(1), runs->column_text(2)});
                    insert->bind(1, runs->column_int(0));
                    MAYAFLOW_TRY(insert->run());
                    insert->reset();
                    ++taken;
                }
                if (taken == 0) {
                    MAYAFLOW_TRY(transaction.commit());
                    break;
                }
                MAYAFLOW_TRY(archive_and_delete("task_instance",
                                                "FROM task_instance WHERE run_pk IN (SELECT id FROM temp.mayaflow_clean_batch)", 0));
                MAYAFLOW_TRY(archive_and_delete("task_cost",
                                                "FROM task_cost WHERE run_pk IN (SELECT id FROM temp.mayaflow_clean_batch)", 0));
                MAYAFLOW_TRY(archive_and_delete("dag_run", "FROM dag_run WHERE id IN (SELECT id FROM temp.mayaflow_clean_batch)", 0));
                MAYAFLOW_TRY(transaction.commit());
            }
        }
    }
    // Costs (when their runs stay) and commands, in batches too.
    auto clean_in_batches = [&](const std::string& table, const std::string& cleanable, const std::string& batch_where) -> Status {
        if (request.dry_run) {
            auto rows = count("SELECT COUNT(*) " + cleanable, before);
            if (!rows) return rows.error();
            add_count(result, table, *rows);
            return Status::success();
        }
        while (true) {
            sqlite::Transaction transaction(db_);
            MAYAFLOW_TRY(transaction.begin());
            long long before_batch = 0;
            for (const auto& [name, rows] : result.rows) {
                if (name == table) before_batch = rows;
            }
            MAYAFLOW_TRY(archive_and_delete(table, batch_where, before));
            MAYAFLOW_TRY(transaction.commit());
            long long after_batch = 0;
            for (const auto& [name, rows] : result.rows) {
                if (name == table) after_batch = rows;
            }
            if (after_batch == before_batch) return Status::success();
        }
    };
    if (wanted(request, "task_cost") && !wanted(request, "dag_run")) {
        MAYAFLOW_TRY(clean_in_batches(
            "task_cost", kCleanableCosts,
            fmt::format("FROM task_cost WHERE recorded_at < ?1 AND run_pk IN (SELECT DISTINCT run_pk {} LIMIT {})",
                        kCleanableCosts, batch)));
    }
    if (wanted(request, "command")) {
        MAYAFLOW_TRY(clean_in_batches(
            "command", kCleanableCommands,
            fmt::format("FROM command WHERE id IN (SELECT id {} ORDER BY id LIMIT {})", kCleanableCommands, batch)));
    }
    return result;
}

}  // namespace mayaflow
