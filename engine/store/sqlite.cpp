#include "engine/store/sqlite.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace mayaflow::sqlite {

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        if (stmt_) sqlite3_finalize(stmt_);
        db_ = other.db_;
        stmt_ = other.stmt_;
        other.stmt_ = nullptr;
    }
    return *this;
}

Statement::~Statement() {
    if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
}

Result<bool> Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return make_error("database error: {} (in: {})", sqlite3_errmsg(db_), sqlite3_sql(stmt_));
}

Status Statement::run() {
    while (true) {
        auto row = step();
        if (!row) return row.error();
        if (!*row) break;
    }
    reset();
    return Status::success();
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }
bool Statement::column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

std::string Statement::column_text(int index) const {
    const unsigned char* text = sqlite3_column_text(stmt_, index);
    if (!text) return {};
    return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, index)));
}

Result<Database> Database::open(const std::filesystem::path& path, Mode mode) {
    sqlite3* db = nullptr;
    int flags = mode == Mode::read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        if (db) sqlite3_close(db);
        return make_error("cannot open database {}: {}", path.string(), message);
    }
    sqlite3_busy_timeout(db, static_cast<int>(kDefaultBusyTimeout.count()));
    sqlite3_extended_result_codes(db, 1);
    return Database(db, path);
}

Database::Database(Database&& other) noexcept
    : db_(other.db_), path_(std::move(other.path_)), busy_timeout_(other.busy_timeout_), cache_(std::move(other.cache_)) {
    other.db_ = nullptr;
    other.cache_ = std::make_unique<std::unordered_map<std::string, Statement>>();
}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        cache_->clear();  // the statements go before their connection
        if (db_) sqlite3_close_v2(db_);
        db_ = other.db_;
        path_ = std::move(other.path_);
        busy_timeout_ = other.busy_timeout_;
        cache_ = std::move(other.cache_);
        other.db_ = nullptr;
        other.cache_ = std::make_unique<std::unordered_map<std::string, Statement>>();
    }
    return *this;
}

Database::~Database() {
    cache_->clear();
    if (db_) sqlite3_close_v2(db_);
}

Result<Statement*> Database::prepare_cached(std::string_view sql) {
    auto found = cache_->find(std::string(sql));
    if (found != cache_->end()) {
        found->second.reset();
        return &found->second;
    }
    auto prepared = prepare(sql);
    if (!prepared) return prepared.error();
    return &cache_->emplace(std::string(sql), std::move(*prepared)).first->second;
}

Result<Statement> Database::prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return make_error("database error: {} (in: {})", sqlite3_errmsg(db_), sql);
    return Statement(db_, stmt);
}

Status Database::exec(std::string_view sql) {
    char* message = nullptr;
    std::string text(sql);
    const auto started = std::chrono::steady_clock::now();
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    while ((rc & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() - started < busy_timeout_) {
        sqlite3_free(message);
        message = nullptr;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    }
    if (rc != SQLITE_OK) {
        std::string error = message ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        // The statement too (its start), as prepare() says it: "locked" alone does not say at which step.
        std::string_view statement = sql.substr(0, std::min<size_t>(sql.size(), 60));
        return make_error("database error: {} (in: {}{})", error, statement, sql.size() > 60 ? "…" : "");
    }
    return Status::success();
}

void Database::set_busy_timeout(std::chrono::milliseconds timeout) {
    busy_timeout_ = timeout;
    sqlite3_busy_timeout(db_, static_cast<int>(timeout.count()));
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

Status Transaction::commit() {
    open_ = false;
    return db_.exec("COMMIT");
}

Transaction::~Transaction() {
    if (open_) (void)db_.exec("ROLLBACK");
}

}  // namespace mayaflow::sqlite
