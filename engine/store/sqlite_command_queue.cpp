// SqliteStore's CommandQueue half: the command table.

#include "engine/store/sqlite_store.h"
#include "engine/store/store_macros.h"

namespace mayaflow {
namespace {

CommandRecord read_command(const sqlite::Statement& row) {
    CommandRecord record;
    record.id = row.column_int(0);
    record.kind = row.column_text(1);
    record.payload = nlohmann::json::parse(row.column_text(2), nullptr, false);
    record.state = row.column_text(3);
    if (!row.column_is_null(4)) record.result = nlohmann::json::parse(row.column_text(4), nullptr, false);
    return record;
}

}  // namespace

Result<long long> SqliteStore::enqueue_command(const std::string& kind, const nlohmann::json& payload) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(insert, db_, "INSERT INTO command (kind, payload, created_at) VALUES (?, ?, ?)");
    insert.bind(1, kind).bind(2, payload.dump()).bind(3, static_cast<std::int64_t>(now_instant().time_since_epoch().count()));
    MAYAFLOW_TRY(insert.run());
    return static_cast<long long>(db_.last_insert_rowid());
}

Result<std::vector<CommandRecord>> SqliteStore::pending_commands() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT id, kind, payload, state, result FROM command WHERE state = 'pending' ORDER BY id");
    std::vector<CommandRecord> records;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        records.push_back(read_command(query));
    }
    return records;
}

Status SqliteStore::finish_command(long long id, bool ok, const nlohmann::json& result) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(update, db_, "UPDATE command SET state = ?, result = ? WHERE id = ?");
    update.bind(1, ok ? "done" : "failed").bind(2, result.dump()).bind(3, static_cast<std::int64_t>(id));
    return update.run();
}

Result<std::optional<CommandRecord>> SqliteStore::find_command(long long id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT id, kind, payload, state, result FROM command WHERE id = ?");
    query.bind(1, static_cast<std::int64_t>(id));
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<CommandRecord>();
    return std::optional<CommandRecord>(read_command(query));
}

}  // namespace mayaflow
