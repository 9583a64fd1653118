#pragma once
// What the CLI's commands share: settings, opening the store, finding a DAG, printing tables.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/settings.h"
#include "engine/model/dag.h"
#include "engine/store/sqlite_store.h"

namespace mayaflow::cli {

// Thrown by a command to end with a message on stderr and an exit code.
struct CommandFailed {
    std::string message;
    int exit_code = 1;
};

Settings settings_or_fail();
// The store as a CLI command opens it: refused while a scheduler runs on a database whose -wal or
// -shm file is missing.
std::unique_ptr<SqliteStore> open_store_or_fail(const Settings& settings, bool read_only);
// The store as the daemon opens it, holding the scheduler lock.
std::unique_ptr<SqliteStore> open_store_for_daemon(const Settings& settings);

// Loads a DAG by id: from the files in `subdir` when given, else from the file the daemon
// recorded for it, else from the configured DAG folder.
Dag load_dag_or_fail(const std::string& dag_id, const std::optional<std::string>& subdir);

// Hands a command to the scheduler through the command queue and waits for its answer; without a
// running scheduler the command waits in the queue (nullopt, with a note on stderr).
std::optional<nlohmann::json> send_command(const std::string& kind, const nlohmann::json& payload);

enum class OutputFormat { table, json, plain };
void add_output_option(CLI::App& command, OutputFormat& format);
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 OutputFormat format);

void register_dags_commands(CLI::App& app);
void register_tasks_commands(CLI::App& app);
void register_schedule_commands(CLI::App& app);
void register_db_commands(CLI::App& app);
void register_standalone_command(CLI::App& app);  // standalone, scheduler and webserver
void register_run_commands(CLI::App& app);         // after dags and tasks
void register_backfill_commands(CLI::App& app);    // after dags
void register_pool_commands(CLI::App& app);
void register_connections_commands(CLI::App& app);  // connections …, rotate-secret-key
void register_variables_commands(CLI::App& app);
void register_stats_commands(CLI::App& app);  // after tasks

}  // namespace mayaflow::cli
