// SqliteStore's RunStore half: DAG runs and task instances.

#include <fmt/format.h>

#include <map>
#include <variant>

#include "engine/store/sqlite_store.h"
#include "engine/store/store_macros.h"
#include "engine/store/store_time.h"

namespace mayaflow {
namespace {

constexpr const char* kRunColumns =
    "id, dag_id, run_id, run_type, state, dag_version, logical_date, data_interval_start, data_interval_end, "
    "run_after, queued_at, start_date, end_date, conf, backfill_id, note, updated_at";

// The wall clock in microseconds since the epoch, in SQL: when a row last changed.
constexpr const char* kNowMicros = "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";

DagRunRow read_run(const sqlite::Statement& row) {
    DagRunRow run;
    run.pk = row.column_int(0);
    run.dag_id = row.column_text(1);
    run.run_id = row.column_text(2);
    run.run_type = row.column_text(3);
    run.state = parse_run_state(row.column_text(4)).value_or(RunState::failed);
    run.dag_version = static_cast<int>(row.column_int(5));
    run.logical_date = optional_instant(row, 6);
    run.data_interval_start = from_micros(row.column_int(7));
    run.data_interval_end = from_micros(row.column_int(8));
    run.run_after = from_micros(row.column_int(9));
    run.queued_at = from_micros(row.column_int(10));
    run.start_date = optional_instant(row, 11);
    run.end_date = optional_instant(row, 12);
    run.conf = nlohmann::json::parse(row.column_text(13), nullptr, false);
    if (!run.conf.is_object()) run.conf = nlohmann::json::object();
    if (!row.column_is_null(14)) run.backfill_id = row.column_int(14);
    if (!row.column_is_null(15)) run.note = row.column_text(15);
    run.updated_at = optional_instant(row, 16);
    return run;
}

Status write_task(sqlite::Statement& upsert, long long run_pk, const TaskInstanceRow& ti) {
    upsert.bind(1, static_cast<std::int64_t>(run_pk)).bind(2, ti.task_id).bind(3, to_string(ti.state));
    upsert.bind(4, ti.try_number).bind(5, ti.max_tries).bind(6, to_micros(ti.start_date)).bind(7, to_micros(ti.end_date));
    upsert.bind(8, to_micros(ti.next_try_at));
    upsert.bind(9, ti.pid ? std::optional<std::int64_t>(*ti.pid) : std::nullopt);
    upsert.bind(10, ti.start_ticks ? std::optional<std::int64_t>(*ti.start_ticks) : std::nullopt);
    upsert.bind(11, ti.boot_id);
    if (ti.result.is_null()) upsert.bind_null(12);
    else upsert.bind(12, ti.result.dump());
    upsert.bind(13, ti.message);
    upsert.bind(14, to_micros(ti.first_poke_at)).bind(15, ti.pokes);
    return upsert.run();
}

}  // namespace

Status SqliteStore::write_batch(StateBatch& batch) {
    if (batch.empty()) return Status::success();
    std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(db_);
    MAYAFLOW_TRY(transaction.begin());
    MAYAFLOW_PREPARE(upsert_task, db_,
                     "INSERT INTO task_instance (run_pk, task_id, state, try_number, max_tries, start_date, end_date, "
                     "next_try_at, pid, start_ticks, boot_id, result, message, first_poke_at, pokes) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                     "ON CONFLICT (run_pk, task_id) DO UPDATE SET state = excluded.state, "
                     "try_number = excluded.try_number, max_tries = excluded.max_tries, "
                     "start_date = excluded.start_date, end_date = excluded.end_date, "
                     "next_try_at = excluded.next_try_at, pid = excluded.pid, start_ticks = excluded.start_ticks, "
                     "boot_id = excluded.boot_id, result = excluded.result, message = excluded.message, "
                     "first_poke_at = excluded.first_poke_at, pokes = excluded.pokes");
    if (!batch.new_runs.empty()) {
        MAYAFLOW_PREPARE(insert_run, db_,
                         fmt::format("INSERT INTO dag_run (id, dag_id, run_id, run_type, state, dag_version, logical_date, "
                                     "data_interval_start, data_interval_end, run_after, queued_at, start_date, "
                                     "end_date, conf, backfill_id, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,{})",
                                     kNowMicros));
        for (const DagRunRow* run : batch.new_runs) {
            insert_run.bind(1, static_cast<std::int64_t>(run->pk));
            insert_run.bind(2, run->dag_id).bind(3, run->run_id).bind(4, run->run_type).bind(5, to_string(run->state));
            insert_run.bind(6, run->dag_version).bind(7, to_micros(run->logical_date));
            insert_run.bind(8, to_micros(run->data_interval_start)).bind(9, to_micros(run->data_interval_end));
            insert_run.bind(10, to_micros(run->run_after)).bind(11, to_micros(run->queued_at));
            insert_run.bind(12, to_micros(run->start_date)).bind(13, to_micros(run->end_date)).bind(14, run->conf.dump());
            insert_run.bind(15, run->backfill_id ? std::optional<std::int64_t>(*run->backfill_id) : std::nullopt);
            MAYAFLOW_TRY(insert_run.run());
            for (const auto& ti : run->task_instances) MAYAFLOW_TRY(write_task(upsert_task, run->pk, ti));
        }
    }
    if (!batch.run_changes.empty()) {
        MAYAFLOW_PREPARE(update_run, db_,
                         "UPDATE dag_run SET state = ?, start_date = COALESCE(?, start_date), end_date = ?, "
                         "run_type = COALESCE(?, run_type), backfill_id = COALESCE(?, backfill_id), " +
                             fmt::format("dag_version = COALESCE(?, dag_version), updated_at = {} WHERE id = ?", kNowMicros));
        for (const auto& change : batch.run_changes) {
            update_run.bind(1, to_string(change.state)).bind(2, to_micros(change.start_date));
            update_run.bind(3, to_micros(change.end_date));
            if (change.run_type) update_run.bind(4, *change.run_type);
            else update_run.bind_null(4);
            update_run.bind(5, change.backfill_id ? std::optional<std::int64_t>(*change.backfill_id) : std::nullopt);
            update_run.bind(6, change.dag_version);
            update_run.bind(7, static_cast<std::int64_t>(change.run_pk));
            MAYAFLOW_TRY(update_run.run());
        }
    }
    for (const auto& change : batch.task_changes) MAYAFLOW_TRY(write_task(upsert_task, change.run_pk, change.row));
    for (const auto& backfill : batch.backfills) MAYAFLOW_TRY(write_backfill(backfill));
    if (!batch.task_costs.empty()) {
        MAYAFLOW_PREPARE(cost_row, db_,
                         "INSERT OR REPLACE INTO task_cost (run_pk, task_id, try_number, job_id, bytes_processed, "
                         "bytes_billed, slot_ms, cache_hit, rows_written, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)");
        for (const auto& row : batch.task_costs) {
            cost_row.bind(1, static_cast<std::int64_t>(row.run_pk)).bind(2, row.task_id).bind(3, row.try_number);
            cost_row.bind(4, row.cost.job_id).bind(5, static_cast<std::int64_t>(row.cost.bytes_processed));
            cost_row.bind(6, static_cast<std::int64_t>(row.cost.bytes_billed));
            cost_row.bind(7, static_cast<std::int64_t>(row.cost.slot_ms)).bind(8, row.cost.cache_hit ? 1 : 0);
            cost_row.bind(9, row.cost.rows_written ? std::optional<std::int64_t>(*row.cost.rows_written) : std::nullopt);
            cost_row.bind(10, to_micros(row.recorded_at));
            MAYAFLOW_TRY(cost_row.run());
        }
    }
    MAYAFLOW_TRY(append_state_event(batch));
    // Last, so that nothing written above for a deleted run or DAG (a backfill completed by the
    // deletion, a try's cost) outlives it.
    for (long long run_pk : batch.deleted_runs) MAYAFLOW_TRY(delete_run_rows(run_pk));
    for (const auto& dag_id : batch.deleted_dags) MAYAFLOW_TRY(delete_dag_rows(dag_id));
    if (!batch.command_answers.empty()) {
        MAYAFLOW_PREPARE(answer, db_, "UPDATE command SET state = ?, result = ? WHERE id = ?");
        for (const auto& command : batch.command_answers) {
            answer.bind(1, command.ok ? "done" : "failed").bind(2, command.result.dump());
            answer.bind(3, static_cast<std::int64_t>(command.id));
            MAYAFLOW_TRY(answer.run());
        }
    }
    return transaction.commit();
}

Result<std::vector<TaskCostTotal>> SqliteStore::task_cost_totals(const std::string& dag_id, Instant from, Instant to) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     "SELECT c.task_id, date(c.recorded_at / 1000000, 'unixepoch') AS day, COUNT(*), "
                     "SUM(c.bytes_processed), SUM(c.bytes_billed), SUM(c.slot_ms), SUM(c.cache_hit), "
                     "COALESCE(SUM(c.rows_written), 0) FROM task_cost c JOIN dag_run r ON r.id = c.run_pk "
                     "WHERE r.dag_id = ? AND c.recorded_at >= ? AND c.recorded_at < ? "
                     "GROUP BY c.task_id, day ORDER BY day, c.task_id");
    query.bind(1, dag_id).bind(2, to_micros(from)).bind(3, to_micros(to));
    std::vector<TaskCostTotal> totals;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        totals.push_back(TaskCostTotal{.task_id = query.column_text(0),
                                       .day = query.column_text(1),
                                       .tries = query.column_int(2),
                                       .bytes_processed = query.column_int(3),
                                       .bytes_billed = query.column_int(4),
                                       .slot_ms = query.column_int(5),
                                       .cache_hits = query.column_int(6),
                                       .rows_written = query.column_int(7)});
    }
    return totals;
}

Result<std::vector<DagCostTotal>> SqliteStore::dag_cost_totals(Instant from, Instant to) {
    std::lock_guard lock(mutex_);
    // task_cost_by_time picks the tries of the range; each finds its run by the run's primary key.
    MAYAFLOW_PREPARE(query, db_,
                     "SELECT r.dag_id, date(c.recorded_at / 1000000, 'unixepoch') AS day, COUNT(*), "
                     "SUM(c.job_id != ''), SUM(c.bytes_processed), SUM(c.bytes_billed), SUM(c.slot_ms), "
                     "SUM(c.cache_hit), COALESCE(SUM(c.rows_written), 0) FROM task_cost c "
                     "JOIN dag_run r ON r.id = c.run_pk WHERE c.recorded_at >= ? AND c.recorded_at < ? "
                     "GROUP BY r.dag_id, day ORDER BY day, r.dag_id");
    query.bind(1, to_micros(from)).bind(2, to_micros(to));
    std::vector<DagCostTotal> totals;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        totals.push_back(DagCostTotal{.dag_id = query.column_text(0),
                                      .day = query.column_text(1),
                                      .tries = query.column_int(2),
                                      .jobs = query.column_int(3),
                                      .bytes_processed = query.column_int(4),
                                      .bytes_billed = query.column_int(5),
                                      .slot_ms = query.column_int(6),
                                      .cache_hits = query.column_int(7),
                                      .rows_written = query.column_int(8)});
    }
    return totals;
}

Result<TaskCostPage> SqliteStore::costliest_tries(const TaskCostQuery& filter) {
    std::lock_guard lock(mutex_);
    // ?1 NULL: every DAG.
    constexpr const char* kWhere = "WHERE c.recorded_at >= ?2 AND c.recorded_at < ?3 AND (?1 IS NULL OR r.dag_id = ?1)";
    TaskCostPage page;
    {
        MAYAFLOW_PREPARE(count, db_,
                         fmt::format("SELECT COUNT(*) FROM task_cost c JOIN dag_run r ON r.id = c.run_pk {}", kWhere));
        count.bind(1, filter.dag_id).bind(2, to_micros(filter.from)).bind(3, to_micros(filter.to));
        auto row = count.step();
        if (!row) return row.error();
        page.total = count.column_int(0);
    }
    MAYAFLOW_PREPARE(query, db_,
                     fmt::format("SELECT r.dag_id, r.run_id, c.task_id, c.try_number, c.job_id, c.bytes_processed, "
                                 "c.bytes_billed, c.slot_ms, c.cache_hit, c.rows_written, c.recorded_at "
                                 "FROM task_cost c JOIN dag_run r ON r.id = c.run_pk {} "
                                 "ORDER BY c.bytes_billed DESC, c.slot_ms DESC, c.recorded_at DESC LIMIT ?4 OFFSET ?5",
                                 kWhere));
    query.bind(1, filter.dag_id).bind(2, to_micros(filter.from)).bind(3, to_micros(filter.to));
    query.bind(4, static_cast<std::int64_t>(filter.limit)).bind(5, static_cast<std::int64_t>(filter.offset));
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        TryCost entry;
        entry.dag_id = query.column_text(0);
        entry.run_id = query.column_text(1);
        entry.task_id = query.column_text(2);
        entry.try_number = static_cast<int>(query.column_int(3));
        entry.cost.job_id = query.column_text(4);
        entry.cost.bytes_processed = query.column_int(5);
        entry.cost.bytes_billed = query.column_int(6);
        entry.cost.slot_ms = query.column_int(7);
        entry.cost.cache_hit = query.column_int(8) != 0;
        if (!query.column_is_null(9)) entry.cost.rows_written = query.column_int(9);
        entry.recorded_at = from_micros(query.column_int(10));
        page.tries.push_back(std::move(entry));
    }
    return page;
}

Result<long long> SqliteStore::next_run_pk() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT COALESCE(MAX(id), 0) + 1 FROM dag_run");
    auto row = query.step();
    if (!row) return row.error();
    return static_cast<long long>(query.column_int(0));
}

Result<std::vector<TaskInstanceRow>> SqliteStore::load_task_instances(long long run_pk) {
    MAYAFLOW_PREPARE(query, db_,
                     "SELECT task_id, state, try_number, max_tries, start_date, end_date, next_try_at, pid, "
                     "start_ticks, boot_id, result, message, first_poke_at, pokes FROM task_instance WHERE run_pk = ?");
    query.bind(1, static_cast<std::int64_t>(run_pk));
    std::vector<TaskInstanceRow> rows;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        TaskInstanceRow ti;
        ti.task_id = query.column_text(0);
        ti.state = parse_task_state(query.column_text(1)).value_or(TaskState::none);
        ti.try_number = static_cast<int>(query.column_int(2));
        ti.max_tries = static_cast<int>(query.column_int(3));
        ti.start_date = optional_instant(query, 4);
        ti.end_date = optional_instant(query, 5);
        ti.next_try_at = optional_instant(query, 6);
        if (!query.column_is_null(7)) ti.pid = query.column_int(7);
        if (!query.column_is_null(8)) ti.start_ticks = query.column_int(8);
        ti.boot_id = query.column_text(9);
        if (!query.column_is_null(10)) ti.result = nlohmann::json::parse(query.column_text(10), nullptr, false);
        if (ti.result.is_discarded()) ti.result = nullptr;
        ti.message = query.column_text(11);
        ti.first_poke_at = optional_instant(query, 12);
        ti.pokes = static_cast<int>(query.column_int(13));
        rows.push_back(std::move(ti));
    }
    return rows;
}

Result<std::vector<DagRunRow>> SqliteStore::load_unfinished_runs() {
    std::lock_guard lock(mutex_);
    std::vector<DagRunRow> runs;
    {
        MAYAFLOW_PREPARE(query, db_,
                         fmt::format("SELECT {} FROM dag_run WHERE state IN ('queued', 'running') ORDER BY id", kRunColumns));
        while (true) {
            auto row = query.step();
            if (!row) return row.error();
            if (!*row) break;
            runs.push_back(read_run(query));
        }
    }
    for (auto& run : runs) {
        auto tasks = load_task_instances(run.pk);
        if (!tasks) return tasks.error();
        run.task_instances = std::move(*tasks);
    }
    return runs;
}

Result<std::optional<std::pair<Instant, Instant>>> SqliteStore::latest_automated_interval(const std::string& dag_id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     "SELECT data_interval_start, data_interval_end FROM dag_run WHERE dag_id = ? AND "
                     "run_type IN ('scheduled', 'backfill') AND logical_date IS NOT NULL "
                     "ORDER BY logical_date DESC LIMIT 1");
    query.bind(1, dag_id);
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::pair<Instant, Instant>>();
    return std::optional<std::pair<Instant, Instant>>(
        std::pair{from_micros(query.column_int(0)), from_micros(query.column_int(1))});
}

Result<std::optional<DagRunRow>> SqliteStore::find_conflicting_run(const std::string& dag_id,
                                                                   const std::string& run_id,
                                                                   std::optional<Instant> logical_date) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     fmt::format("SELECT {} FROM dag_run WHERE dag_id = ?1 AND (run_id = ?2 OR logical_date = ?3) "
                                 "ORDER BY run_id = ?2 DESC LIMIT 1",
                                 kRunColumns));
    query.bind(1, dag_id).bind(2, run_id).bind(3, to_micros(logical_date));
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<DagRunRow>();
    return std::optional<DagRunRow>(read_run(query));
}

Result<std::vector<DagRunRow>> SqliteStore::list_runs(const RunFilter& filter) {
    std::lock_guard lock(mutex_);
    std::string sql = fmt::format("SELECT {} FROM dag_run WHERE 1 = 1", kRunColumns);
    if (filter.dag_id) sql += " AND dag_id = ?1";
    if (filter.state) sql += " AND state = ?2";
    if (filter.logical_from) sql += " AND logical_date >= ?4";
    if (filter.logical_to) sql += " AND logical_date <= ?5";
    if (filter.backfill_id) sql += " AND backfill_id = ?6";
    sql += " ORDER BY COALESCE(logical_date, run_after) DESC, id DESC LIMIT ?3";
    MAYAFLOW_PREPARE(query, db_, sql);
    if (filter.dag_id) query.bind(1, *filter.dag_id);
    if (filter.state) query.bind(2, to_string(*filter.state));
    query.bind(3, static_cast<std::int64_t>(filter.limit));
    if (filter.logical_from) query.bind(4, to_micros(*filter.logical_from));
    if (filter.logical_to) query.bind(5, to_micros(*filter.logical_to));
    if (filter.backfill_id) query.bind(6, static_cast<std::int64_t>(*filter.backfill_id));
    std::vector<DagRunRow> runs;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        runs.push_back(read_run(query));
    }
    return runs;
}

Result<std::optional<DagRunRow>> SqliteStore::find_run(const std::string& dag_id, const std::string& run_id,
                                                       bool with_tasks) {
    std::lock_guard lock(mutex_);
    DagRunRow run;
    {
        MAYAFLOW_PREPARE(query, db_, fmt::format("SELECT {} FROM dag_run WHERE dag_id = ? AND run_id = ?", kRunColumns));
        query.bind(1, dag_id).bind(2, run_id);
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) return std::optional<DagRunRow>();
        run = read_run(query);
    }
    if (with_tasks) {
        auto tasks = load_task_instances(run.pk);
        if (!tasks) return tasks.error();
        run.task_instances = std::move(*tasks);
    }
    return std::optional<DagRunRow>(std::move(run));
}

Result<std::optional<PreviousTaskInstance>> SqliteStore::previous_task_instance(const std::string& dag_id,
                                                                                Instant logical_date,
                                                                                const std::string& task_id,
                                                                                bool exclude_manual) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     fmt::format("SELECT r.id, r.logical_date, t.state FROM dag_run r LEFT JOIN task_instance t "
                                 "ON t.run_pk = r.id AND t.task_id = ?3 WHERE r.dag_id = ?1 AND r.logical_date < ?2 {} "
                                 "ORDER BY r.logical_date DESC LIMIT 1",
                                 exclude_manual ? "AND r.run_type != 'manual'" : ""));
    query.bind(1, dag_id).bind(2, to_micros(logical_date)).bind(3, task_id);
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<PreviousTaskInstance>();
    PreviousTaskInstance previous;
    previous.run_pk = query.column_int(0);
    previous.logical_date = from_micros(query.column_int(1));
    if (!query.column_is_null(2)) previous.state = parse_task_state(query.column_text(2));
    return std::optional<PreviousTaskInstance>(previous);
}

Result<std::optional<std::string>> SqliteStore::dag_version_json(const std::string& dag_id, int version) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT serialized FROM dag_version WHERE dag_id = ? AND version_number = ?");
    query.bind(1, dag_id).bind(2, version);
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(query.column_text(0));
}

Status SqliteStore::delete_run_rows(long long run_pk) {
    for (const char* sql : {"DELETE FROM task_cost WHERE run_pk = ?", "DELETE FROM task_instance WHERE run_pk = ?",
                            "DELETE FROM dag_run WHERE id = ?"}) {
        MAYAFLOW_PREPARE(statement, db_, sql);
        statement.bind(1, static_cast<std::int64_t>(run_pk));
        MAYAFLOW_TRY(statement.run());
    }
    return Status::success();
}

Status SqliteStore::delete_dag_rows(const std::string& dag_id) {
    for (const char* sql : {"DELETE FROM task_cost WHERE run_pk IN (SELECT id FROM dag_run WHERE dag_id = ?)",
                            "DELETE FROM task_instance WHERE run_pk IN (SELECT id FROM dag_run WHERE dag_id = ?)",
                            "DELETE FROM dag_run WHERE dag_id = ?", "DELETE FROM backfill WHERE dag_id = ?",
                            "DELETE FROM dag_warning WHERE dag_id = ?", "DELETE FROM dag_version WHERE dag_id = ?",
                            "DELETE FROM dag WHERE dag_id = ?"}) {
        MAYAFLOW_PREPARE(statement, db_, sql);
        statement.bind(1, dag_id);
        MAYAFLOW_TRY(statement.run());
    }
    return Status::success();
}

namespace {

// A WHERE clause built from the filters that were given, with its values bound in order: the
// values never become SQL text.
class Conditions {
  public:
    void add(std::string condition) { conditions_.push_back(std::move(condition)); }
    void value(std::int64_t v) { values_.emplace_back(v); }
    void value(std::string v) { values_.emplace_back(std::move(v)); }
    void value(double v) { values_.emplace_back(v); }

    // `column IN (?, ?, …)`; an empty list adds nothing.
    void in(const std::string& column, const std::vector<std::string>& items) {
        if (items.empty()) return;
        std::string placeholders;
        for (const auto& item : items) {
            placeholders += placeholders.empty() ? "?" : ", ?";
            value(item);
        }
        add(fmt::format("{} IN ({})", column, placeholders));
    }
    void range(const std::string& column, const InstantRange& range) {
        if (range.gte) {
            add(column + " >= ?");
            value(to_micros(*range.gte));
        }
        if (range.lte) {
            add(column + " <= ?");
            value(to_micros(*range.lte));
        }
    }
    std::string where() const {
        std::string out;
        for (const auto& condition : conditions_) out += (out.empty() ? " WHERE " : " AND ") + condition;
        return out;
    }
    // Binds the values from index 1; returns the next free index.
    int bind(sqlite::Statement& statement) const {
        int index = 1;
        for (const auto& v : values_) {
            std::visit([&](const auto& x) { statement.bind(index, x); }, v);
            ++index;
        }
        return index;
    }

  private:
    std::vector<std::string> conditions_;
    std::vector<std::variant<std::int64_t, std::string, double>> values_;
};

template <typename T>
std::vector<std::string> names_of(const std::vector<T>& states) {
    std::vector<std::string> names;
    for (auto state : states) names.emplace_back(to_string(state));
    return names;
}

// The SQL of an order the API asked for: only names from this fixed list reach the statement.
std::string order_clause(const std::map<std::string, std::string>& columns, const std::string& field, bool descending,
                         const std::string& fallback, const std::string& tie_breaker) {
    auto it = columns.find(field);
    const std::string& column = it == columns.end() ? fallback : it->second;
    const char* direction = descending ? "DESC" : "ASC";
    std::string clause = fmt::format(" ORDER BY {} {}", column, direction);
    if (column != tie_breaker) clause += fmt::format(", {} {}", tie_breaker, direction);
    return clause;
}

Result<long long> count_of(sqlite::Database& db, const std::string& sql, const Conditions& conditions) {
    auto statement = db.prepare(sql);
    if (!statement) return statement.error();
    conditions.bind(*statement);
    auto row = statement->step();
    if (!row) return row.error();
    return static_cast<long long>(statement->column_int(0));
}

}  // namespace

Result<RunPage> SqliteStore::query_runs(const RunQuery& query) {
    std::lock_guard lock(mutex_);
    Conditions conditions;
    conditions.in("dag_id", query.dag_ids);
    conditions.in("state", names_of(query.states));
    conditions.in("run_type", query.run_types);
    conditions.range("logical_date", query.logical_date);
    conditions.range("start_date", query.start_date);
    conditions.range("end_date", query.end_date);
    conditions.range("updated_at", query.updated_at);
    RunPage page;
    auto total = count_of(db_, "SELECT COUNT(*) FROM dag_run" + conditions.where(), conditions);
    if (!total) return total.error();
    page.total_entries = *total;
    static const std::map<std::string, std::string> columns = {
        {"id", "id"},           {"dag_id", "dag_id"},         {"run_id", "run_id"},         {"state", "state"},
        {"logical_date", "logical_date"}, {"start_date", "start_date"}, {"end_date", "end_date"},
        {"updated_at", "updated_at"}, {"run_type", "run_type"}, {"queued_at", "queued_at"}};
    std::string sql = fmt::format("SELECT {} FROM dag_run{}{} LIMIT ? OFFSET ?", kRunColumns, conditions.where(),
                                  order_clause(columns, query.order_by, query.descending, "id", "id"));
    auto statement = db_.prepare(sql);
    if (!statement) return statement.error();
    int next = conditions.bind(*statement);
    statement->bind(next, static_cast<std::int64_t>(query.limit)).bind(next + 1, static_cast<std::int64_t>(query.offset));
    while (true) {
        auto row = statement->step();
        if (!row) return row.error();
        if (!*row) break;
        page.runs.push_back(read_run(*statement));
    }
    return page;
}

Result<TaskInstancePage> SqliteStore::query_task_instances(const TaskInstanceQuery& query) {
    std::lock_guard lock(mutex_);
    Conditions conditions;
    conditions.in("r.dag_id", query.dag_ids);
    conditions.in("r.run_id", query.run_ids);
    conditions.in("t.task_id", query.task_ids);
    conditions.in("t.state", names_of(query.states));
    if (query.only_tasks) {
        if (query.only_tasks->empty()) {
            conditions.add("0 = 1");
        } else {
            std::string pairs;
            for (const auto& [dag_id, task_id] : *query.only_tasks) {
                pairs += pairs.empty() ? "(?, ?)" : ", (?, ?)";
                conditions.value(dag_id);
                conditions.value(task_id);
            }
            conditions.add(fmt::format("(r.dag_id, t.task_id) IN (VALUES {})", pairs));
        }
    }
    conditions.range("r.logical_date", query.logical_date);
    conditions.range("t.start_date", query.start_date);
    conditions.range("t.end_date", query.end_date);
    const std::string duration = "((t.end_date - t.start_date) / 1000000.0)";
    if (query.duration_gte) {
        conditions.add(duration + " >= ?");
        conditions.value(*query.duration_gte);
    }
    if (query.duration_lte) {
        conditions.add(duration + " <= ?");
        conditions.value(*query.duration_lte);
    }
    const std::string from = " FROM task_instance t JOIN dag_run r ON r.id = t.run_pk";
    TaskInstancePage page;
    // Every task instance has its run (a foreign key), so the join changes the count only when a
    // condition reads the run: without one, the count walks one index of task_instance instead of
    // looking up a run per task instance (a million lookups: 0.9 s, against 0.05 s).
    const bool reads_run = !query.dag_ids.empty() || !query.run_ids.empty() || query.only_tasks ||
                           query.logical_date.gte || query.logical_date.lte;
    auto total = count_of(db_, "SELECT COUNT(*)" + (reads_run ? from : std::string(" FROM task_instance t")) +
                                   conditions.where(),
                          conditions);
    if (!total) return total.error();
    page.total_entries = *total;
    static const std::map<std::string, std::string> columns = {
        {"run", "t.run_pk"},     {"task_id", "t.task_id"},       {"state", "t.state"},
        {"start_date", "t.start_date"}, {"end_date", "t.end_date"}, {"duration", duration},
        {"try_number", "t.try_number"}, {"logical_date", "r.logical_date"}, {"dag_id", "r.dag_id"},
        {"run_id", "r.run_id"}};
    // By run as t.run_pk (= r.id): with the task id after it, that is task_instance's key, which
    // its state and task indexes end with too, so a page in this order (the default) is read in
    // index order instead of sorting every match (10,000 failed tries: 160 ms → 1 ms).
    std::string order = order_clause(columns, query.order_by, query.descending, "t.run_pk", "t.run_pk");
    order += query.descending ? ", t.task_id DESC" : ", t.task_id ASC";
    std::string sql = fmt::format(
        "SELECT r.dag_id, r.run_id, r.logical_date, r.dag_version, t.task_id, t.state, t.try_number, t.max_tries, "
        "t.start_date, t.end_date, t.next_try_at, t.pid, t.message, t.note{}{}{} LIMIT ? OFFSET ?",
        from, conditions.where(), order);
    auto statement = db_.prepare(sql);
    if (!statement) return statement.error();
    int next = conditions.bind(*statement);
    statement->bind(next, static_cast<std::int64_t>(query.limit)).bind(next + 1, static_cast<std::int64_t>(query.offset));
    while (true) {
        auto row = statement->step();
        if (!row) return row.error();
        if (!*row) break;
        const auto& q = *statement;
        TaskInstanceListRow item;
        item.dag_id = q.column_text(0);
        item.run_id = q.column_text(1);
        item.logical_date = optional_instant(q, 2);
        item.dag_version = static_cast<int>(q.column_int(3));
        item.ti.task_id = q.column_text(4);
        item.ti.state = parse_task_state(q.column_text(5)).value_or(TaskState::none);
        item.ti.try_number = static_cast<int>(q.column_int(6));
        item.ti.max_tries = static_cast<int>(q.column_int(7));
        item.ti.start_date = optional_instant(q, 8);
        item.ti.end_date = optional_instant(q, 9);
        item.ti.next_try_at = optional_instant(q, 10);
        if (!q.column_is_null(11)) item.ti.pid = q.column_int(11);
        item.ti.message = q.column_text(12);
        if (!q.column_is_null(13)) item.note = q.column_text(13);
        page.task_instances.push_back(std::move(item));
    }
    return page;
}

Result<std::vector<TaskTryRow>> SqliteStore::list_task_tries(const std::string& dag_id, const std::string& run_id,
                                                             const std::string& task_id) {
    std::lock_guard lock(mutex_);
    // Up to the task's try number: a try taken back before it started may have left a row above it.
    MAYAFLOW_PREPARE(select, db_,
                     "SELECT y.try_number, y.state, y.max_tries, y.start_date, y.end_date, y.pid FROM task_try y "
                     "JOIN dag_run r ON r.id = y.run_pk "
                     "JOIN task_instance t ON t.run_pk = y.run_pk AND t.task_id = y.task_id "
                     "WHERE r.dag_id = ? AND r.run_id = ? AND y.task_id = ? AND y.try_number <= t.try_number "
                     "ORDER BY y.try_number");
    select.bind(1, dag_id).bind(2, run_id).bind(3, task_id);
    std::vector<TaskTryRow> tries;
    while (true) {
        auto row = select.step();
        if (!row) return row.error();
        if (!*row) break;
        TaskTryRow item;
        item.try_number = static_cast<int>(select.column_int(0));
        item.state = parse_task_state(select.column_text(1)).value_or(TaskState::none);
        item.max_tries = static_cast<int>(select.column_int(2));
        item.start_date = optional_instant(select, 3);
        item.end_date = optional_instant(select, 4);
        if (!select.column_is_null(5)) item.pid = select.column_int(5);
        tries.push_back(std::move(item));
    }
    return tries;
}

Result<std::vector<RunStateCount>> SqliteStore::count_runs_by_state(const std::vector<std::string>& dag_ids) {
    std::vector<RunStateCount> counts;
    if (dag_ids.empty()) return counts;
    std::lock_guard lock(mutex_);
    Conditions conditions;
    conditions.in("dag_id", dag_ids);
    // Read from the (dag_id, state, logical_date) index alone, one group per DAG and state.
    auto statement =
        db_.prepare("SELECT dag_id, state, COUNT(*) FROM dag_run" + conditions.where() + " GROUP BY dag_id, state");
    if (!statement) return statement.error();
    conditions.bind(*statement);
    while (true) {
        auto row = statement->step();
        if (!row) return row.error();
        if (!*row) break;
        auto state = parse_run_state(statement->column_text(1));
        if (!state) continue;
        counts.push_back(RunStateCount{statement->column_text(0), *state, statement->column_int(2)});
    }
    return counts;
}

Result<bool> SqliteStore::set_run_note(const std::string& dag_id, const std::string& run_id,
                                       const std::optional<std::string>& note) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(update, db_,
                     fmt::format("UPDATE dag_run SET note = ?, updated_at = {} WHERE dag_id = ? AND run_id = ?",
                                 kNowMicros));
    update.bind(1, note).bind(2, dag_id).bind(3, run_id);
    MAYAFLOW_TRY(update.run());
    return db_.changes() > 0;
}

Result<bool> SqliteStore::set_task_note(const std::string& dag_id, const std::string& run_id,
                                        const std::string& task_id, const std::optional<std::string>& note) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(update, db_,
                     "UPDATE task_instance SET note = ? WHERE task_id = ? AND run_pk = "
                     "(SELECT id FROM dag_run WHERE dag_id = ? AND run_id = ?)");
    update.bind(1, note).bind(2, task_id).bind(3, dag_id).bind(4, run_id);
    MAYAFLOW_TRY(update.run());
    return db_.changes() > 0;
}

}  // namespace mayaflow
