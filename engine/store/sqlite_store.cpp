#include "engine/store/sqlite_store.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

#include "engine/store/migrations.h"
#include "engine/store/store_macros.h"
#include "engine/store/store_time.h"

namespace mayaflow {
namespace {

DagRecord read_dag_row(const sqlite::Statement& row) {
    DagRecord record;
    record.dag_id = row.column_text(0);
    record.fileloc = row.column_text(1);
    record.is_paused = row.column_int(2) != 0;
    record.is_active = row.column_int(3) != 0;
    record.description = row.column_text(4);
    record.owners = row.column_text(5);
    auto tags = nlohmann::json::parse(row.column_text(6), nullptr, false);
    if (tags.is_array()) {
        for (const auto& tag : tags) {
            if (tag.is_string()) record.tags.push_back(tag.get<std::string>());
        }
    }
    if (!row.column_is_null(7)) record.schedule = row.column_text(7);
    record.timezone = row.column_text(8);
    record.latest_version = static_cast<int>(row.column_int(9));
    record.last_parsed_time = from_micros(row.column_int(10));
    return record;
}

constexpr const char* kDagColumns =
    "dag_id, fileloc, is_paused, is_active, description, owners, tags, schedule, timezone, latest_version, "
    "last_parsed_time";

// The newest versions of a DAG kept even when no run uses them: enough to compare recent edits,
// few enough that a file saved many times a second does not fill the disk.
constexpr int kUnusedDagVersionsKept = 10;

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const StoreOptions& options) {
    std::error_code ec;
    if (!options.read_only && options.path.has_parent_path()) {
        std::filesystem::create_directories(options.path.parent_path(), ec);
        if (ec) return make_error("cannot create the folder for the database {}: {}", options.path.string(), ec.message());
    }
    if (options.read_only && !std::filesystem::exists(options.path)) {
        return make_error("no mayaflow database at {}: start `mayaflow standalone` (or run `mayaflow db migrate`) first, "
                          "or set MAYAFLOW_HOME to the folder that holds mayaflow.db",
                          options.path.string());
    }
    auto db = sqlite::Database::open(options.path, options.read_only ? sqlite::Database::Mode::read_only
                                                                     : sqlite::Database::Mode::read_write);
    if (!db) return db.error();
    std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(*db)));
    if (!options.read_only) {
        auto status = store->db_.exec(fmt::format("PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA foreign_keys=ON; PRAGMA cache_size=-1024;",
                                                  options.durability == Durability::full ? "FULL" : "NORMAL"));
        // The first statement is where a file that is not a database (or is damaged) shows.
        if (!status) {
            const std::string& why = status.error().message;
            const bool damaged = why.find("not a database") != std::string::npos ||
                                 why.find("malformed") != std::string::npos;
            return make_error("cannot use the database {}: {}{}", options.path.string(), why,
                              damaged ? "; restore it from a backup (docs/operations.md), or move it away to start "
                                        "with an empty one"
                                      : "");
        }
        if (options.migrate) {
            auto migrated = store->migrate();
            if (!migrated) return migrated.error();
        }
    }
    return store;
}

namespace {

// The versions recorded in schema_migrations.
Result<std::set<int>> applied_migrations(sqlite::Database& db) {
    MAYAFLOW_PREPARE(query, db, "SELECT version FROM schema_migrations");
    std::set<int> versions;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) return versions;
        versions.insert(static_cast<int>(query.column_int(0)));
    }
}

// A first migration under load (several commands at once on a new database, each waiting for the
// one before) may take longer than a statement's usual wait.
constexpr std::chrono::milliseconds kMigrationBusyTimeout{60000};

}  // namespace

Status SqliteStore::migrate() {
    std::lock_guard lock(mutex_);
    db_.set_busy_timeout(kMigrationBusyTimeout);
    struct RestoreTimeout {
        sqlite::Database& db;
        ~RestoreTimeout() { db.set_busy_timeout(sqlite::Database::kDefaultBusyTimeout); }
    } restore{db_};
    MAYAFLOW_TRY(db_.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at INTEGER NOT NULL)"));
    const auto& migrations = embedded_migrations();
    auto missing = [&](const std::set<int>& applied) {
        std::vector<const Migration*> pending;
        for (const auto& migration : migrations) {
            if (!applied.count(migration.version)) pending.push_back(&migration);
        }
        return pending;
    };
    auto applied = applied_migrations(db_);
    if (!applied) return applied.error();
    if (!migrations.empty() && !applied->empty() && *applied->rbegin() > migrations.back().version) {
        return make_error("the database {} has schema version {}, newer than this mayaflow knows ({}); "
                          "use a newer mayaflow binary",
                          db_.path().string(), *applied->rbegin(), migrations.back().version);
    }
    if (missing(*applied).empty()) return Status::success();  // no write lock taken
    // Every pending migration in one transaction, under the write lock: another process opening the
    // same new database at the same time waits once for all of them, then finds them applied. A
    // version missing below the newest applied one (a database migrated by a build that lacked it)
    // is applied too.
    sqlite::Transaction transaction(db_);
    MAYAFLOW_TRY(transaction.begin());
    applied = applied_migrations(db_);  // read again under the lock
    if (!applied) return applied.error();
    for (const Migration* migration : missing(*applied)) {
        auto done = db_.exec(migration->sql);
        if (!done) return make_error("migration {} failed: {}", migration->name, done.error().message);
        MAYAFLOW_PREPARE(record, db_, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
        record.bind(1, migration->version).bind(2, migration->name).bind(3, to_micros(now_instant()));
        MAYAFLOW_TRY(record.run());
    }
    return transaction.commit();
}

Result<int> SqliteStore::schema_version() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    auto row = query.step();
    if (!row) return row.error();
    return static_cast<int>(query.column_int(0));
}

Result<std::string> SqliteStore::integrity_check() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "PRAGMA integrity_check");
    std::string result;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        if (!result.empty()) result += '\n';
        result += query.column_text(0);
    }
    return result;
}

Status SqliteStore::record_dag_file_parsed(const std::string& filename, const Dag& dag, const std::string& serialized,
                                           Instant now, const std::vector<std::string>& warnings) {
    std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(db_);
    MAYAFLOW_TRY(transaction.begin());
    {
        MAYAFLOW_PREPARE(clear, db_, "DELETE FROM import_error WHERE filename = ?");
        clear.bind(1, filename);
        MAYAFLOW_TRY(clear.run());
    }
    int latest_version = 0;
    std::string latest_hash;
    {
        MAYAFLOW_PREPARE(query, db_,
                         "SELECT v.version_number, v.source_hash FROM dag d JOIN dag_version v "
                         "ON v.dag_id = d.dag_id AND v.version_number = d.latest_version WHERE d.dag_id = ?");
        query.bind(1, dag.dag_id);
        auto row = query.step();
        if (!row) return row.error();
        if (*row) {
            latest_version = static_cast<int>(query.column_int(0));
            latest_hash = query.column_text(1);
        }
    }
    nlohmann::json tags = dag.tags;
    std::optional<std::string> schedule;
    if (dag.schedule.kind() != Schedule::Kind::none) schedule = dag.schedule.text();
    int version = latest_version;
    if (latest_version == 0 || latest_hash != dag.source_hash) version = latest_version + 1;
    {
        MAYAFLOW_PREPARE(upsert, db_,
                         "INSERT INTO dag (dag_id, fileloc, is_paused, is_active, description, owners, tags, schedule, "
                         "timezone, latest_version, last_parsed_time) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (dag_id) DO UPDATE SET fileloc = excluded.fileloc, is_active = 1, "
                         "description = excluded.description, owners = excluded.owners, tags = excluded.tags, "
                         "schedule = excluded.schedule, timezone = excluded.timezone, "
                         "latest_version = excluded.latest_version, last_parsed_time = excluded.last_parsed_time");
        upsert.bind(1, dag.dag_id).bind(2, filename).bind(3, dag.is_paused_upon_creation).bind(4, dag.description);
        upsert.bind(5, dag.owner).bind(6, tags.dump()).bind(7, schedule).bind(8, dag.timezone.name());
        upsert.bind(9, version).bind(10, to_micros(now));
        MAYAFLOW_TRY(upsert.run());
    }
    if (version != latest_version) {
        MAYAFLOW_PREPARE(insert, db_,
                         "INSERT INTO dag_version (dag_id, version_number, source_hash, serialized, created_at) "
                         "VALUES (?, ?, ?, ?, ?)");
        insert.bind(1, dag.dag_id).bind(2, version).bind(3, dag.source_hash).bind(4, serialized).bind(5, to_micros(now));
        MAYAFLOW_TRY(insert.run());
        // Retention: a version no run uses is kept only while it is among the newest few, so a file
        // saved over and over does not fill the disk.
        MAYAFLOW_PREPARE(prune, db_,
                         "DELETE FROM dag_version WHERE dag_id = ? AND version_number <= ? AND NOT EXISTS "
                         "(SELECT 1 FROM dag_run r WHERE r.dag_id = dag_version.dag_id "
                         "AND r.dag_version = dag_version.version_number)");
        prune.bind(1, dag.dag_id).bind(2, version - kUnusedDagVersionsKept);
        MAYAFLOW_TRY(prune.run());
    }
    {
        // The warnings of this parse replace those of the previous one.
        MAYAFLOW_PREPARE(clear, db_, "DELETE FROM dag_warning WHERE dag_id = ?");
        clear.bind(1, dag.dag_id);
        MAYAFLOW_TRY(clear.run());
    }
    for (const auto& message : warnings) {
        MAYAFLOW_PREPARE(insert, db_,
                         "INSERT INTO dag_warning (dag_id, warning_type, message, timestamp) VALUES (?, 'dag_file', ?, ?)");
        insert.bind(1, dag.dag_id).bind(2, message).bind(3, to_micros(now));
        MAYAFLOW_TRY(insert.run());
    }
    {
        // A DAG the file used to define under another dag_id is gone from it.
        MAYAFLOW_PREPARE(orphans, db_, "UPDATE dag SET is_active = 0 WHERE fileloc = ? AND dag_id != ? AND is_active = 1");
        orphans.bind(1, filename).bind(2, dag.dag_id);
        MAYAFLOW_TRY(orphans.run());
    }
    return transaction.commit();
}

Status SqliteStore::record_dag_file_failed(const std::string& filename, const std::string& errors, Instant now) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(upsert, db_,
                     "INSERT INTO import_error (filename, timestamp, stack_trace) VALUES (?, ?, ?) "
                     "ON CONFLICT (filename) DO UPDATE SET timestamp = excluded.timestamp, "
                     "stack_trace = excluded.stack_trace");
    upsert.bind(1, filename).bind(2, to_micros(now)).bind(3, errors);
    return upsert.run();
}

Status SqliteStore::record_dag_file_deleted(const std::string& filename) {
    std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(db_);
    MAYAFLOW_TRY(transaction.begin());
    {
        MAYAFLOW_PREPARE(clear, db_, "DELETE FROM import_error WHERE filename = ?");
        clear.bind(1, filename);
        MAYAFLOW_TRY(clear.run());
    }
    {
        // Airflow deactivates a DAG whose file is gone; its pause state stays the one its users chose.
        MAYAFLOW_PREPARE(deactivate, db_, "UPDATE dag SET is_active = 0 WHERE fileloc = ?");
        deactivate.bind(1, filename);
        MAYAFLOW_TRY(deactivate.run());
    }
    return transaction.commit();
}

Result<std::vector<DagRecord>> SqliteStore::list_dags(bool include_inactive) {
    std::lock_guard lock(mutex_);
    std::string sql = fmt::format("SELECT {} FROM dag {} ORDER BY dag_id", kDagColumns,
                                  include_inactive ? "" : "WHERE is_active = 1");
    MAYAFLOW_PREPARE(query, db_, sql);
    std::vector<DagRecord> records;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        records.push_back(read_dag_row(query));
    }
    return records;
}

Result<std::optional<DagRecord>> SqliteStore::find_dag(const std::string& dag_id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, fmt::format("SELECT {} FROM dag WHERE dag_id = ?", kDagColumns));
    query.bind(1, dag_id);
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<DagRecord>();
    return std::optional<DagRecord>(read_dag_row(query));
}

Result<std::optional<DagVersionRecord>> SqliteStore::latest_dag_version(const std::string& dag_id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     "SELECT v.dag_id, v.version_number, v.source_hash, v.serialized, v.created_at FROM dag d "
                     "JOIN dag_version v ON v.dag_id = d.dag_id AND v.version_number = d.latest_version "
                     "WHERE d.dag_id = ?");
    query.bind(1, dag_id);
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<DagVersionRecord>();
    DagVersionRecord record{query.column_text(0), static_cast<int>(query.column_int(1)), query.column_text(2),
                            query.column_text(3), from_micros(query.column_int(4))};
    return std::optional<DagVersionRecord>(std::move(record));
}

Result<std::vector<ImportErrorRecord>> SqliteStore::list_import_errors() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT id, filename, timestamp, stack_trace FROM import_error ORDER BY filename");
    std::vector<ImportErrorRecord> records;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        records.push_back(ImportErrorRecord{query.column_int(0), query.column_text(1), from_micros(query.column_int(2)),
                                            query.column_text(3)});
    }
    return records;
}

Result<std::string> SqliteStore::api_signing_key() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT key_hex FROM api_signing_key WHERE purpose = 'api_tokens'");
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return make_error("the database has no API signing key; run `mayaflow db migrate`");
    return query.column_text(0);
}

Status SqliteStore::record_scheduler_heartbeat(const SchedulerHeartbeat& heartbeat) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(upsert, db_,
                     "INSERT INTO scheduler_heartbeat (id, hostname, pid, started_at, latest_heartbeat) "
                     "VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, "
                     "pid = excluded.pid, started_at = excluded.started_at, latest_heartbeat = excluded.latest_heartbeat");
    upsert.bind(1, heartbeat.hostname)
        .bind(2, static_cast<std::int64_t>(heartbeat.pid))
        .bind(3, to_micros(heartbeat.started_at))
        .bind(4, to_micros(heartbeat.latest_heartbeat));
    return upsert.run();
}

Result<std::optional<SchedulerHeartbeat>> SqliteStore::latest_scheduler_heartbeat() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT hostname, pid, started_at, latest_heartbeat FROM scheduler_heartbeat WHERE id = 1");
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<SchedulerHeartbeat>();
    return std::optional<SchedulerHeartbeat>(SchedulerHeartbeat{query.column_text(0), query.column_int(1),
                                                                from_micros(query.column_int(2)),
                                                                from_micros(query.column_int(3))});
}

Result<StateCounts> SqliteStore::count_states() {
    std::lock_guard lock(mutex_);
    StateCounts counts;
    for (auto [table, out] : {std::pair{"dag_run", &counts.dag_runs}, std::pair{"task_instance", &counts.task_instances}}) {
        MAYAFLOW_PREPARE(query, db_, fmt::format("SELECT state, COUNT(*) FROM {} GROUP BY state ORDER BY state", table));
        while (true) {
            auto row = query.step();
            if (!row) return row.error();
            if (!*row) break;
            out->emplace_back(query.column_text(0), query.column_int(1));
        }
    }
    return counts;
}

Status SqliteStore::set_paused(const std::string& dag_id, bool paused) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(update, db_, "UPDATE dag SET is_paused = ? WHERE dag_id = ?");
    update.bind(1, paused).bind(2, dag_id);
    MAYAFLOW_TRY(update.run());
    if (db_.changes() == 0) return make_error("no DAG with dag_id '{}'", dag_id);
    return Status::success();
}

Result<std::vector<DagWarningRecord>> SqliteStore::list_dag_warnings(const std::string& dag_id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     "SELECT w.dag_id, w.warning_type, w.message, w.timestamp FROM dag_warning w "
                     "JOIN dag d ON d.dag_id = w.dag_id WHERE d.is_active = 1 AND (? = '' OR w.dag_id = ?) "
                     "ORDER BY w.dag_id, w.rowid");
    query.bind(1, dag_id).bind(2, dag_id);
    std::vector<DagWarningRecord> records;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        records.push_back(DagWarningRecord{query.column_text(0), query.column_text(1), query.column_text(2),
                                           from_micros(query.column_int(3))});
    }
    return records;
}

Result<std::vector<std::string>> migrate_database(const std::filesystem::path& path) {
    int before = 0;
    if (std::filesystem::exists(path)) {
        auto existing = SqliteStore::open(StoreOptions{.path = path, .migrate = false});
        if (!existing) return existing.error();
        auto version = (*existing)->schema_version();
        if (version) before = *version;  // a database without the table is at version 0
    }
    auto store = SqliteStore::open(StoreOptions{.path = path});
    if (!store) return store.error();
    std::vector<std::string> applied;
    for (const auto& migration : embedded_migrations()) {
        if (migration.version > before) applied.push_back(migration.name);
    }
    return applied;
}

}  // namespace mayaflow
