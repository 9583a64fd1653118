// `mayaflow db …`: create or upgrade the database, check its integrity, clean its history.

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "cli/cli_dates.h"
#include "cli/cli_support.h"
#include "cli/output_format.h"
#include "engine/model/log_path.h"
#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow::cli {
namespace {

struct CleanOptions {
    std::string before;
    std::string tables;
    bool dry_run = false;
    bool yes = false;
    bool skip_archive = false;
};

// `--tables dag_run,command`: names from kCleanableTables; a task instance goes with its run.
std::set<std::string> read_tables(const std::string& text) {
    std::set<std::string> tables;
    if (text.empty()) return tables;
    std::string rest = text;
    std::size_t start = 0;
    while (start <= rest.size()) {
        std::size_t comma = rest.find(',', start);
        std::string name = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto begin = name.find_first_not_of(' ');
        auto end = name.find_last_not_of(' ');
        name = begin == std::string::npos ? "" : name.substr(begin, end - begin + 1);
        if (!name.empty()) {
            if (std::find(kCleanableTables.begin(), kCleanableTables.end(), name) == kCleanableTables.end()) {
                throw CommandFailed{fmt::format("--tables: mayaflow has no table {} to clean; the tables are {}{}",
                                                quote_name(name), join(kCleanableTables), did_you_mean(name, kCleanableTables)),
                                    2};
            }
            tables.insert(name);
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (tables.empty()) throw CommandFailed{"--tables names no table; the tables are " + join(kCleanableTables), 2};
    if (tables.contains("task_instance") && !tables.contains("dag_run")) {
        throw CommandFailed{"--tables: task instances are deleted with their DAG run (a run without them would show no "
                            "tasks); name dag_run, which takes its task instances, costs and logs with it",
                            2};
    }
    return tables;
}

// Airflow's question, asked on a terminal only: without one, --yes must say it.
void confirm_or_fail(Instant before) {
    if (!::isatty(STDIN_FILENO)) {
        throw CommandFailed{"db clean deletes rows for good: give --yes to confirm (standard input is not a terminal to "
                            "ask on), or --dry-run to see what it would delete",
                            2};
    }
    std::cout << fmt::format(
                     "You have requested that we purge all data prior to {}.\nThis is irreversible.  Consider backing up "
                     "the tables first and / or doing a dry run with option --dry-run.\nEnter 'delete rows' (without "
                     "quotes) to proceed.\n",
                     format_iso8601(before, TimeZone::utc()))
              << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "delete rows") throw CommandFailed{"User did not confirm; exiting."};
}

std::filesystem::path run_log_folder(const Settings& settings, const CleanedRun& run) {
    return settings.logs_folder / log_folder_name("dag_id=", run.dag_id) / log_folder_name("run_id=", run.run_id);
}

void clean(const CleanOptions& options) {
    const Instant before = read_cli_date(options.before, "--clean-before-timestamp", TimeZone::utc());
    echo_resolved_date("--clean-before-timestamp", options.before, before, TimeZone::utc());
    CleanupRequest request{.before = before, .tables = read_tables(options.tables), .dry_run = options.dry_run,
                           .archive = !options.skip_archive};
    auto settings = settings_or_fail();
    if (!std::filesystem::exists(settings.database)) {
        throw CommandFailed{fmt::format("no mayaflow database at {}: nothing to clean", settings.database.string())};
    }
    if (!options.dry_run && !options.yes) confirm_or_fail(before);
    request.archive_suffix = format_iso8601(now_instant(), TimeZone::utc()).substr(0, 19);
    for (char& c : request.archive_suffix) {
        if (c == '-' || c == ':') c = '_';
    }
    request.archive_suffix.erase(std::remove(request.archive_suffix.begin(), request.archive_suffix.end(), '_'),
                                 request.archive_suffix.end());
    auto store = open_store_or_fail(settings, false);
    auto result = store->clean_history(request);
    if (!result) throw CommandFailed{result.error().message};

    // The runs' try logs (and what operators keep beside them) go after their rows are committed:
    // a log without a run is harmless, a run without its log is not.
    long long log_folders = 0;
    std::vector<std::string> log_errors;
    for (const auto& run : result->runs) {
        auto folder = run_log_folder(settings, run);
        std::error_code error;
        if (!std::filesystem::exists(folder, error)) continue;
        ++log_folders;
        if (options.dry_run) continue;
        std::filesystem::remove_all(folder, error);
        if (error) log_errors.push_back(fmt::format("{}: {}", escape_invalid_utf8(folder.string()), error.message()));
    }

    Listing listing{{"table", options.dry_run ? "rows to delete" : "rows deleted"}, {}};
    for (const auto& [table, rows] : result->rows) {
        if (request.tables.empty() || request.tables.contains(table) ||
            (request.tables.contains("dag_run") && (table == "task_instance" || table == "task_cost"))) {
            listing.add({table, rows});
        }
    }
    if (request.tables.empty() || request.tables.contains("dag_run")) listing.add({"logs (run folders)", log_folders});
    std::cout << fmt::format("{} older than {}{}:\n", options.dry_run ? "What db clean would delete" : "Deleted",
                             format_iso8601(before, TimeZone::utc()),
                             options.dry_run ? " (dry run: nothing was deleted)" : "");
    print_listing(listing, OutputFormat::table);
    if (!result->archive_tables.empty()) {
        std::cout << "The deleted rows are kept in " << join(result->archive_tables)
                  << " (drop them when no longer needed; --skip-archive keeps none)\n";
    }
    if (!log_errors.empty()) {
        throw CommandFailed{"the rows were deleted, but some logs could not be:\n" + join(log_errors, "\n")};
    }
}

}  // namespace

void register_db_commands(CLI::App& app) {
    auto* db = app.add_subcommand("db", "Manage mayaflow's database");
    db->require_subcommand(1);
    db->add_subcommand("migrate", "Create the database or apply pending migrations")->callback([] {
        auto settings = settings_or_fail();
        auto applied = migrate_database(settings.database);
        if (!applied) throw CommandFailed{applied.error().message};
        if (applied->empty()) {
            std::cout << "Database " << settings.database.string() << " is up to date\n";
        }
        for (const auto& name : *applied) std::cout << "Applied migration " << name << "\n";
    });
    db->add_subcommand("check", "Run SQLite's integrity check on the database")->callback([] {
        auto settings = settings_or_fail();
        auto store = open_store_or_fail(settings, true);
        auto result = store->integrity_check();
        if (!result) throw CommandFailed{result.error().message};
        if (*result != "ok") throw CommandFailed{"integrity check failed:\n" + *result};
        std::cout << "Database " << settings.database.string() << ": integrity check ok\n";
    });

    static CleanOptions clean_options;
    auto* clean_command = db->add_subcommand(
        "clean", "Delete finished DAG runs (with their task instances, costs and logs) and answered commands older "
                 "than a moment; the latest run of each DAG and unfinished runs are kept");
    clean_command
        ->add_option("--clean-before-timestamp", clean_options.before,
                     "Delete what is older than this (e.g. 2024-01-01 or 2024-01-01T00:00:00+09:00; UTC without an offset)")
        ->required();
    clean_command->add_option("--tables", clean_options.tables,
                              "Only these tables, comma-separated: dag_run, task_instance, task_cost, command (default: all)");
    clean_command->add_flag("--dry-run", clean_options.dry_run, "Print how many rows it would delete, delete nothing");
    clean_command->add_flag("-y,--yes", clean_options.yes, "Do not ask for confirmation");
    clean_command->add_flag("--skip-archive", clean_options.skip_archive,
                            "Do not keep the deleted rows in _mayaflow_deleted__<table>__<time> tables");
    clean_command->callback([] { clean(clean_options); });
}

}  // namespace mayaflow::cli
