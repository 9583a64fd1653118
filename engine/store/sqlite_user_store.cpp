// SqliteStore's UserStore: users, their roles, API tokens and web sessions
// (migrations/0010_users.sql).

#include "engine/store/sqlite_store.h"
#include "engine/store/store_macros.h"
#include "engine/store/store_time.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace mayaflow {
namespace {

constexpr const char* kUserColumns =
    "id, username, email, first_name, last_name, password_hash, active, created_on, changed_on, last_login, "
    "login_count, failed_login_count";

UserRow read_user(const sqlite::Statement& row) {
    UserRow user;
    user.id = row.column_int(0);
    user.username = row.column_text(1);
    user.email = row.column_text(2);
    user.first_name = row.column_text(3);
    user.last_name = row.column_text(4);
    user.password_hash = row.column_text(5);
    user.active = row.column_int(6) != 0;
    user.created_on = from_micros(row.column_int(7));
    user.changed_on = from_micros(row.column_int(8));
    user.last_login = optional_instant(row, 9);
    user.login_count = row.column_int(10);
    user.failed_login_count = row.column_int(11);
    return user;
}

// Roles in the order of their power, whatever order they were granted in.
int role_rank(const std::string& role) {
    constexpr std::array kOrder = {"Viewer", "User", "Op", "Admin"};
    for (size_t i = 0; i < kOrder.size(); ++i) {
        if (role == kOrder[i]) return static_cast<int>(i);
    }
    return static_cast<int>(kOrder.size());
}

constexpr const char* kTokenColumns =
    "t.id, u.username, t.name, t.prefix, t.token_hash, t.created_on, t.expires_at, t.revoked, t.last_used";

ApiTokenRow read_token(const sqlite::Statement& row) {
    ApiTokenRow token;
    token.id = row.column_int(0);
    token.username = row.column_text(1);
    token.name = row.column_text(2);
    token.prefix = row.column_text(3);
    token.token_hash = row.column_text(4);
    token.created_on = from_micros(row.column_int(5));
    token.expires_at = optional_instant(row, 6);
    token.revoked = row.column_int(7) != 0;
    token.last_used = optional_instant(row, 8);
    return token;
}

}  // namespace

Result<std::vector<std::string>> SqliteStore::load_user_roles(long long user_id) {
    MAYAFLOW_PREPARE(query, db_, "SELECT role FROM user_roles WHERE user_id = ?");
    query.bind(1, static_cast<std::int64_t>(user_id));
    std::vector<std::string> roles;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        roles.push_back(query.column_text(0));
    }
    std::sort(roles.begin(), roles.end(),
              [](const std::string& a, const std::string& b) { return role_rank(a) < role_rank(b); });
    return roles;
}

Status SqliteStore::write_user_roles(long long user_id, const std::vector<std::string>& roles) {
    {
        MAYAFLOW_PREPARE(clear, db_, "DELETE FROM user_roles WHERE user_id = ?");
        clear.bind(1, static_cast<std::int64_t>(user_id));
        MAYAFLOW_TRY(clear.run());
    }
    for (const auto& role : roles) {
        MAYAFLOW_PREPARE(insert, db_, "INSERT OR IGNORE INTO user_roles (user_id, role) VALUES (?, ?)");
        insert.bind(1, static_cast<std::int64_t>(user_id)).bind(2, role);
        MAYAFLOW_TRY(insert.run());
    }
    return Status::success();
}

Result<std::optional<UserRow>> SqliteStore::find_user_locked(const std::string& username) {
    std::optional<UserRow> user;
    {
        MAYAFLOW_PREPARE(query, db_, fmt::format("SELECT {} FROM users WHERE username = ?", kUserColumns));
        query.bind(1, username);
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) return std::optional<UserRow>();
        user = read_user(query);
    }
    auto roles = load_user_roles(user->id);
    if (!roles) return roles.error();
    user->roles = std::move(*roles);
    return user;
}

Result<std::vector<UserRow>> SqliteStore::list_users() {
    std::lock_guard lock(mutex_);
    std::vector<UserRow> users;
    {
        MAYAFLOW_PREPARE(query, db_, fmt::format("SELECT {} FROM users ORDER BY username", kUserColumns));
        while (true) {
            auto row = query.step();
            if (!row) return row.error();
            if (!*row) break;
            users.push_back(read_user(query));
        }
    }
    for (auto& user : users) {
        auto roles = load_user_roles(user.id);
        if (!roles) return roles.error();
        user.roles = std::move(*roles);
    }
    return users;
}

Result<long long> SqliteStore::count_users() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT count(*) FROM users");
    auto row = query.step();
    if (!row) return row.error();
    return static_cast<long long>(query.column_int(0));
}

Result<std::optional<UserRow>> SqliteStore::find_user(const std::string& username) {
    std::lock_guard lock(mutex_);
    return find_user_locked(username);
}

Result<bool> SqliteStore::create_user(const UserRow& user) {
    std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(db_);
    MAYAFLOW_TRY(transaction.begin());
    {
        MAYAFLOW_PREPARE(insert, db_,
                         "INSERT INTO users (username, email, first_name, last_name, password_hash, active, "
                         "created_on, changed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING");
        insert.bind(1, user.username).bind(2, user.email).bind(3, user.first_name).bind(4, user.last_name);
        insert.bind(5, user.password_hash).bind(6, user.active).bind(7, to_micros(user.created_on));
        insert.bind(8, to_micros(user.changed_on));
        MAYAFLOW_TRY(insert.run());
        if (db_.changes() == 0) return false;
    }
    MAYAFLOW_TRY(write_user_roles(db_.last_insert_rowid(), user.roles));
    MAYAFLOW_TRY(transaction.commit());
    return true;
}

Result<bool> SqliteStore::update_user(const std::string& username, const UserRow& user) {
    std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(db_);
    MAYAFLOW_TRY(transaction.begin());
    auto existing = find_user_locked(username);
    if (!existing) return existing.error();
    if (!*existing) return false;
    {
        MAYAFLOW_PREPARE(update, db_,
                         "UPDATE OR IGNORE users SET username = ?, email = ?, first_name = ?, last_name = ?, "
                         "password_hash = ?, active = ?, changed_on = ? WHERE id = ?");
        update.bind(1, user.username).bind(2, user.email).bind(3, user.first_name).bind(4, user.last_name);
        update.bind(5, user.password_hash).bind(6, user.active).bind(7, to_micros(user.changed_on));
        update.bind(8, static_cast<std::int64_t>((*existing)->id));
        MAYAFLOW_TRY(update.run());
        if (db_.changes() == 0) return false;  // the new username is another user's
    }
    if (user.roles != (*existing)->roles) MAYAFLOW_TRY(write_user_roles((*existing)->id, user.roles));
    if (!user.active || user.password_hash != (*existing)->password_hash) {
        // A new password or a deactivation ends the user's sessions.
        MAYAFLOW_PREPARE(end, db_, "DELETE FROM web_session WHERE user_id = ?");
        end.bind(1, static_cast<std::int64_t>((*existing)->id));
        MAYAFLOW_TRY(end.run());
    }
    MAYAFLOW_TRY(transaction.commit());
    return true;
}

Result<bool> SqliteStore::delete_user(const std::string& username) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(remove, db_, "DELETE FROM users WHERE username = ?");
    remove.bind(1, username);
    MAYAFLOW_TRY(remove.run());
    return db_.changes() > 0;
}

Status SqliteStore::record_login(const std::string& username, bool succeeded, Instant now) {
    std::lock_guard lock(mutex_);
    if (!succeeded) {
        MAYAFLOW_PREPARE(failed, db_, "UPDATE users SET failed_login_count = failed_login_count + 1 WHERE username = ?");
        failed.bind(1, username);
        return failed.run();
    }
    MAYAFLOW_PREPARE(success, db_,
                     "UPDATE users SET last_login = ?, login_count = login_count + 1, failed_login_count = 0 "
                     "WHERE username = ?");
    success.bind(1, to_micros(now)).bind(2, username);
    return success.run();
}

Result<long long> SqliteStore::create_token(const ApiTokenRow& token) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(insert, db_,
                     "INSERT INTO api_token (user_id, name, prefix, token_hash, created_on, expires_at) "
                     "SELECT id, ?, ?, ?, ?, ? FROM users WHERE username = ?");
    insert.bind(1, token.name).bind(2, token.prefix).bind(3, token.token_hash).bind(4, to_micros(token.created_on));
    insert.bind(5, to_micros(token.expires_at)).bind(6, token.username);
    MAYAFLOW_TRY(insert.run());
    if (db_.changes() == 0) return make_error("there is no user '{}' to give a token to", token.username);
    return static_cast<long long>(db_.last_insert_rowid());
}

Result<std::vector<ApiTokenRow>> SqliteStore::list_tokens(const std::optional<std::string>& username) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     fmt::format("SELECT {} FROM api_token t JOIN users u ON u.id = t.user_id "
                                 "WHERE ? IS NULL OR u.username = ? ORDER BY t.id",
                                 kTokenColumns));
    query.bind(1, username).bind(2, username);
    std::vector<ApiTokenRow> tokens;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        tokens.push_back(read_token(query));
    }
    return tokens;
}

Result<std::optional<ApiTokenRow>> SqliteStore::find_token(long long id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     fmt::format("SELECT {} FROM api_token t JOIN users u ON u.id = t.user_id WHERE t.id = ?",
                                 kTokenColumns));
    query.bind(1, static_cast<std::int64_t>(id));
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<ApiTokenRow>();
    return std::optional<ApiTokenRow>(read_token(query));
}

Result<std::optional<ApiTokenRow>> SqliteStore::find_token_by_hash(const std::string& token_hash) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     fmt::format("SELECT {} FROM api_token t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
                                 kTokenColumns));
    query.bind(1, token_hash);
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<ApiTokenRow>();
    return std::optional<ApiTokenRow>(read_token(query));
}

Result<bool> SqliteStore::revoke_token(long long id) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(update, db_, "UPDATE api_token SET revoked = 1 WHERE id = ?");
    update.bind(1, static_cast<std::int64_t>(id));
    MAYAFLOW_TRY(update.run());
    return db_.changes() > 0;
}

Status SqliteStore::record_token_use(long long id, Instant now) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(update, db_, "UPDATE api_token SET last_used = ? WHERE id = ?");
    update.bind(1, to_micros(now)).bind(2, static_cast<std::int64_t>(id));
    return update.run();
}

Status SqliteStore::create_session(const SessionRow& session) {
    std::lock_guard lock(mutex_);
    {
        // Ended sessions go when a new one starts, so the table never grows without bound.
        MAYAFLOW_PREPARE(sweep, db_, "DELETE FROM web_session WHERE expires_at <= ?");
        sweep.bind(1, to_micros(session.created_on));
        MAYAFLOW_TRY(sweep.run());
    }
    MAYAFLOW_PREPARE(insert, db_,
                     "INSERT INTO web_session (session_hash, user_id, csrf_token, created_on, expires_at) "
                     "SELECT ?, id, ?, ?, ? FROM users WHERE username = ?");
    insert.bind(1, session.session_hash).bind(2, session.csrf_token).bind(3, to_micros(session.created_on));
    insert.bind(4, to_micros(session.expires_at)).bind(5, session.username);
    MAYAFLOW_TRY(insert.run());
    if (db_.changes() == 0) return make_error("there is no user '{}' to open a session for", session.username);
    return Status::success();
}

Result<std::optional<SessionRow>> SqliteStore::find_session(const std::string& session_hash, Instant now) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     "SELECT s.session_hash, u.username, s.csrf_token, s.created_on, s.expires_at FROM web_session s "
                     "JOIN users u ON u.id = s.user_id WHERE s.session_hash = ?");
    query.bind(1, session_hash);
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return std::optional<SessionRow>();
    SessionRow session{query.column_text(0), query.column_text(1), query.column_text(2),
                       from_micros(query.column_int(3)), from_micros(query.column_int(4))};
    if (session.expires_at <= now) return std::optional<SessionRow>();
    return std::optional<SessionRow>(std::move(session));
}

Result<bool> SqliteStore::delete_session(const std::string& session_hash) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(remove, db_, "DELETE FROM web_session WHERE session_hash = ?");
    remove.bind(1, session_hash);
    MAYAFLOW_TRY(remove.run());
    return db_.changes() > 0;
}

Result<std::int64_t> SqliteStore::credentials_version() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT version FROM credentials_state WHERE id = 1");
    auto row = query.step();
    if (!row) return row.error();
    if (!*row) return make_error("the database has no credentials_state row (migration 0010)");
    return query.column_int(0);
}

}  // namespace mayaflow
