#pragma once
// A thin RAII layer over SQLite: a Database connection and prepared Statements with typed binds
// and columns. Errors are Results that carry SQLite's own message and the statement that failed.

#include <cstdint>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>

#include "engine/util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mayaflow::sqlite {

class Statement {
  public:
    Statement() = default;
    Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, bool value) { return bind(index, static_cast<std::int64_t>(value ? 1 : 0)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind_null(int index);
    template <class T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    // true: a row is ready; false: done. Errors carry SQLite's message.
    Result<bool> step();
    // Runs to completion, ignoring rows.
    Status run();
    void reset();

    std::int64_t column_int(int index) const;
    double column_double(int index) const;
    std::string column_text(int index) const;
    bool column_is_null(int index) const;

  private:
    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
};

class Database {
  public:
    enum class Mode { read_write, read_only };

    static Result<Database> open(const std::filesystem::path& path, Mode mode);
    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    Result<Statement> prepare(std::string_view sql);
    // The connection's own prepared copy of `sql`, made on first use and kept: the scheduler runs
    // the same few statements thousands of times a second. Use it through a StatementUse, which
    // resets it after (an unreset statement would hold a read snapshot open).
    Result<Statement*> prepare_cached(std::string_view sql);
    // Runs one or more statements that return no rows. A busy answer that came before the busy timeout
    // ran out (SQLite answers some lock conflicts at once, without waiting: a WAL being opened or
    // removed by another process as it starts or ends) is tried again every 20 ms until it has.
    Status exec(std::string_view sql);
    std::int64_t last_insert_rowid() const;
    int changes() const;
    const std::filesystem::path& path() const { return path_; }
    // How long a statement waits for another connection's lock before it fails as busy.
    void set_busy_timeout(std::chrono::milliseconds timeout);
    static constexpr std::chrono::milliseconds kDefaultBusyTimeout{5000};

  private:
    Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
    sqlite3* db_ = nullptr;
    std::filesystem::path path_;
    std::chrono::milliseconds busy_timeout_ = kDefaultBusyTimeout;
    std::unique_ptr<std::unordered_map<std::string, Statement>> cache_ =
        std::make_unique<std::unordered_map<std::string, Statement>>();
};

// Resets a cached statement when the scope that uses it ends.
class StatementUse {
  public:
    explicit StatementUse(Statement* statement) : statement_(statement) {}
    StatementUse(const StatementUse&) = delete;
    StatementUse& operator=(const StatementUse&) = delete;
    ~StatementUse() {
        if (statement_) statement_->reset();
    }

  private:
    Statement* statement_;
};

// Runs a function inside BEGIN IMMEDIATE … COMMIT, rolling back when it fails.
class Transaction {
  public:
    explicit Transaction(Database& db) : db_(db) {}
    Status begin() { return db_.exec("BEGIN IMMEDIATE"); }
    Status commit();
    ~Transaction();

  private:
    Database& db_;
    bool open_ = true;
};

}  // namespace mayaflow::sqlite
