// SqliteStore's ConnectionStore: the connection and variable tables (migrations/0004_connections.sql).

#include "engine/store/sqlite_store.h"
#include "engine/store/store_macros.h"

#include <fmt/ranges.h>

#include <algorithm>

namespace mayaflow {
namespace {

constexpr const char* kConnectionColumns =
    "conn_id, conn_type, description, host, schema, login, password, port, extra";

std::optional<std::string> optional_text(const sqlite::Statement& row, int column) {
    if (row.column_is_null(column)) return std::nullopt;
    return row.column_text(column);
}

ConnectionRow read_connection(const sqlite::Statement& row) {
    ConnectionRow connection;
    connection.conn_id = row.column_text(0);
    connection.conn_type = row.column_text(1);
    connection.description = optional_text(row, 2);
    connection.host = optional_text(row, 3);
    connection.schema = optional_text(row, 4);
    connection.login = optional_text(row, 5);
    connection.sealed_password = optional_text(row, 6);
    if (!row.column_is_null(7)) connection.port = static_cast<int>(row.column_int(7));
    connection.sealed_extra = optional_text(row, 8);
    return connection;
}

VariableRow read_variable(const sqlite::Statement& row) {
    return VariableRow{row.column_text(0), row.column_text(1), optional_text(row, 2)};
}

}  // namespace

Result<std::vector<ConnectionRow>> SqliteStore::list_connections() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     fmt::format("SELECT {} FROM connection ORDER BY conn_id", kConnectionColumns));
    std::vector<ConnectionRow> rows;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        rows.push_back(read_connection(query));
    }
    return rows;
}

Result<std::optional<ConnectionRow>> SqliteStore::find_connection(const std::string& conn_id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     fmt::format("SELECT {} FROM connection WHERE conn_id = ?", kConnectionColumns));
    query.bind(1, conn_id);
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<ConnectionRow>();
    return std::optional<ConnectionRow>(read_connection(query));
}

// The key the stored secrets are sealed with must be one `keys` know: a keyring read before a
// rotation committed does not, and what it sealed could not be opened once the old key is gone.
// The first write records its sealing key.
Status SqliteStore::check_sealing_key(const SealingKeys& keys) {
    std::optional<std::string> recorded;
    {
        MAYAFLOW_PREPARE(query, db_, "SELECT sealing_key_id FROM secrets_state WHERE id = 1");
        auto row = query.step();
        if (!row) return row.error();
        if (*row && !query.column_is_null(0)) recorded = query.column_text(0);
    }
    if (!recorded) {
        MAYAFLOW_PREPARE(record, db_, "UPDATE secrets_state SET sealing_key_id = ? WHERE id = 1");
        record.bind(1, keys.sealing);
        return record.run();
    }
    if (std::find(keys.known.begin(), keys.known.end(), *recorded) != keys.known.end())
        return Status::success();
    return make_error(
        "{} while this command ran: the database's secrets are now sealed with key {}, which this process's "
        "key{} ({}) do{} not include; nothing was written. Run the command again (a running daemon must be "
        "restarted to read the new key)",
        kSecretKeyRotated, *recorded, keys.known.size() == 1 ? "" : "s", fmt::join(keys.known, ", "),
        keys.known.size() == 1 ? "es" : "");
}

Result<std::int64_t> SqliteStore::secrets_version() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT version FROM secrets_state WHERE id = 1");
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return make_error("the database has no secrets_state row (migration 0006)");
    return query.column_int(0);
}

Result<std::vector<bool>> SqliteStore::put_connections(const std::vector<ConnectionRow>& rows,
                                                       bool replace_existing, const SealingKeys& keys) {
    std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(db_);
    MAYAFLOW_TRY(transaction.begin());
    MAYAFLOW_TRY(check_sealing_key(keys));
    std::string sql =
        fmt::format("INSERT INTO connection ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (conn_id) ",
                    kConnectionColumns);
    sql += replace_existing
               ? "DO UPDATE SET conn_type = excluded.conn_type, description = excluded.description, "
                 "host = excluded.host, schema = excluded.schema, login = excluded.login, "
                 "password = excluded.password, port = excluded.port, extra = excluded.extra"
               : "DO NOTHING";
    std::vector<bool> written;
    for (const auto& row : rows) {
        MAYAFLOW_PREPARE(insert, db_, sql);
        insert.bind(1, row.conn_id).bind(2, row.conn_type).bind(3, row.description).bind(4, row.host);
        insert.bind(5, row.schema).bind(6, row.login).bind(7, row.sealed_password).bind(8, row.port);
        insert.bind(9, row.sealed_extra);
        MAYAFLOW_TRY(insert.run());
        written.push_back(db_.changes() > 0);
    }
    MAYAFLOW_TRY(transaction.commit());
    return written;
}

Result<bool> SqliteStore::delete_connection(const std::string& conn_id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(remove, db_, "DELETE FROM connection WHERE conn_id = ?");
    remove.bind(1, conn_id);
    MAYAFLOW_TRY(remove.run());
    return db_.changes() > 0;
}

Result<std::vector<VariableRow>> SqliteStore::list_variables() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT key, val, description FROM variable ORDER BY key");
    std::vector<VariableRow> rows;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        rows.push_back(read_variable(query));
    }
    return rows;
}

Result<std::optional<VariableRow>> SqliteStore::find_variable(const std::string& key) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT key, val, description FROM variable WHERE key = ?");
    query.bind(1, key);
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<VariableRow>();
    return std::optional<VariableRow>(read_variable(query));
}

Status SqliteStore::put_variables(const std::vector<VariableRow>& rows, const SealingKeys& keys) {
    std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(db_);
    MAYAFLOW_TRY(transaction.begin());
    MAYAFLOW_TRY(check_sealing_key(keys));
    for (const auto& row : rows) {
        MAYAFLOW_PREPARE(upsert, db_,
                         "INSERT INTO variable (key, val, description) VALUES (?, ?, ?) ON CONFLICT (key) "
                         "DO UPDATE SET val = excluded.val, description = excluded.description");
        upsert.bind(1, row.key).bind(2, row.sealed_value).bind(3, row.description);
        MAYAFLOW_TRY(upsert.run());
    }
    return transaction.commit();
}

Result<bool> SqliteStore::delete_variable(const std::string& key) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(remove, db_, "DELETE FROM variable WHERE key = ?");
    remove.bind(1, key);
    MAYAFLOW_TRY(remove.run());
    return db_.changes() > 0;
}

Result<int> SqliteStore::reseal_secrets(const Resealer& reseal, const SealingKeys& keys) {
    std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(db_);
    MAYAFLOW_TRY(transaction.begin());
    MAYAFLOW_TRY(check_sealing_key(keys));
    struct Target {
        const char* table;
        const char* name_column;
        const char* value_column;
    };
    int rewritten = 0;
    for (auto target : {Target{"connection", "conn_id", "password"}, Target{"connection", "conn_id", "extra"},
                        Target{"variable", "key", "val"}}) {
        std::vector<std::pair<std::string, std::string>> values;
        {
            MAYAFLOW_PREPARE(query, db_,
                             fmt::format("SELECT {0}, {1} FROM {2} WHERE {1} IS NOT NULL", target.name_column,
                                         target.value_column, target.table));
            while (true) {
                auto row = query.step();
                if (!row) return row.error();
                if (!*row) break;
                values.emplace_back(query.column_text(0), query.column_text(1));
            }
        }
        for (const auto& [name, sealed] : values) {
            auto resealed = reseal(sealed_value_context(target.table, name, target.value_column), sealed);
            if (!resealed) {
                return make_error("{} '{}', {}: {}", target.table, name, target.value_column,
                                  resealed.error().message);
            }
            MAYAFLOW_PREPARE(update, db_,
                             fmt::format("UPDATE {} SET {} = ? WHERE {} = ?", target.table,
                                         target.value_column, target.name_column));
            update.bind(1, *resealed).bind(2, name);
            MAYAFLOW_TRY(update.run());
            ++rewritten;
        }
    }
    {
        MAYAFLOW_PREPARE(record, db_, "UPDATE secrets_state SET sealing_key_id = ? WHERE id = 1");
        record.bind(1, keys.sealing);
        MAYAFLOW_TRY(record.run());
    }
    MAYAFLOW_TRY(transaction.commit());
    return rewritten;
}

}  // namespace mayaflow
