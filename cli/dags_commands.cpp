// `mayaflow dags …`: list DAGs and import errors, validate files, preview a DAG's next runs.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <set>

#include "cli/cli_support.h"
#include "engine/dagfile/dag_folder.h"
#include "engine/dagfile/dag_loader.h"
#include "engine/time/iso8601.h"
#include "engine/time/timetable.h"
#include "engine/util/utf8.h"
#include "operators/operator_registry.h"

namespace mayaflow::cli {
namespace {

void list_dags(OutputFormat format, bool include_inactive) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto dags = store->list_dags(include_inactive);
    if (!dags) throw CommandFailed{dags.error().message};
    std::vector<std::vector<std::string>> rows;
    for (const auto& dag : *dags) {
        rows.push_back({dag.dag_id, dag.fileloc, dag.owners, dag.is_paused ? "True" : "False",
                        dag.schedule.value_or("None"), std::to_string(dag.latest_version)});
    }
    print_table({"dag_id", "fileloc", "owners", "is_paused", "schedule", "version"}, rows, format);
}

void list_import_errors(OutputFormat format) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto errors = store->list_import_errors();
    if (!errors) throw CommandFailed{errors.error().message};
    if (format == OutputFormat::table) {
        if (errors->empty()) {
            std::cout << "No data found\n";
            return;
        }
        for (const auto& error : *errors) std::cout << error.stack_trace << "\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& error : *errors) rows.push_back({error.filename, error.stack_trace});
    print_table({"filepath", "error"}, rows, format);
}

// Warnings about DAGs that load (Airflow's DAG warnings): `list-import-errors` points here.
void list_warnings(const std::string& dag_id, OutputFormat format) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto warnings = store->list_dag_warnings(dag_id);
    if (!warnings) throw CommandFailed{warnings.error().message};
    if (format == OutputFormat::table) {
        if (warnings->empty()) {
            std::cout << "No data found\n";
            return;
        }
        for (const auto& warning : *warnings) std::cout << warning.dag_id << ": " << warning.message << "\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& warning : *warnings) rows.push_back({warning.dag_id, warning.warning_type, warning.message});
    print_table({"dag_id", "warning_type", "message"}, rows, format);
}

// Airflow's `dags details`: the DAG's properties, one row each in a table (property_name,
// property_value), one object in json and yaml.
void dag_details(const std::string& dag_id, OutputFormat format) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto record = store->find_dag(dag_id);
    if (!record) throw CommandFailed{record.error().message};
    if (!*record) {
        throw CommandFailed{fmt::format("no DAG with dag_id '{}': `mayaflow dags list` shows the DAGs",
                                        escape_invalid_utf8(dag_id))};
    }
    const DagRecord& dag = **record;
    pyjson::Json tags = pyjson::Json::array();
    for (const auto& tag : dag.tags) tags.push_back(tag);
    pyjson::Json details = {{"dag_id", dag.dag_id},
                            {"fileloc", dag.fileloc},
                            {"owners", dag.owners},
                            {"description", dag.description},
                            {"is_paused", dag.is_paused},
                            {"is_active", dag.is_active},
                            {"tags", tags},
                            {"schedule_interval", dag.schedule ? pyjson::Json(*dag.schedule) : pyjson::Json()},
                            {"timezone", dag.timezone},
                            {"latest_version", dag.latest_version},
                            {"last_parsed_time", format_iso8601(dag.last_parsed_time, TimeZone::utc())}};
    if (format == OutputFormat::table || format == OutputFormat::plain) {
        Listing listing{{"property_name", "property_value"}, {}};
        for (auto it = details.begin(); it != details.end(); ++it) listing.add({it.key(), it.value()});
        print_listing(listing, format);
        return;
    }
    print_listing(listing_of_records({details}), format);
}

// After the import errors: how many DAGs that load have warnings, on stderr.
void mention_warnings() {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto warnings = store->list_dag_warnings("");
    if (!warnings || warnings->empty()) return;
    std::set<std::string> dags;
    for (const auto& warning : *warnings) dags.insert(warning.dag_id);
    std::cerr << fmt::format("note: {} warning(s) about {} DAG(s) that load: `mayaflow dags list-warnings`\n",
                             warnings->size(), dags.size());
}

void validate(const std::vector<std::string>& paths, const std::optional<std::string>& dags_folder) {
    size_t files = 0;
    size_t failed = 0;
    for (const auto& path : paths) {
        std::vector<std::filesystem::path> targets;
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) {
            auto listing = list_dag_folder(path);
            if (!listing) {
                std::cerr << escape_invalid_utf8(path) << ": " << listing.error().message << "\n";
                ++files;
                ++failed;
                continue;
            }
            for (const auto& problem : listing->problems) std::cerr << "error: " << problem << "\n";
            for (const auto& skipped : listing->skipped) std::cerr << "warning: " << skipped << "\n";
            failed += listing->problems.size();
            files += listing->problems.size();
            if (listing->files.empty() && listing->problems.empty()) {
                std::cerr << fmt::format("{}: no DAG files in this folder (DAG files end in .yaml or .yml; names "
                                         "starting with '_' or '.' and those in .mayaflowignore are skipped)\n",
                                         escape_invalid_utf8(path));
                ++files;
                ++failed;
            }
            targets = std::move(listing->files);
        } else if (std::filesystem::exists(path, ec)) {
            targets.push_back(path);
        } else {
            std::cerr << escape_invalid_utf8(path) << ": no such file or folder\n";
            ++files;
            ++failed;
            continue;
        }
        for (const auto& file : targets) {
            ++files;
            std::filesystem::path root;
            if (dags_folder) root = *dags_folder;
            else if (std::filesystem::is_directory(path)) root = path;
            else root = std::filesystem::absolute(file).parent_path();
            auto result = load_dag_file(file, DagLoadOptions{&builtin_operators(), root});
            for (const auto& warning : result.warnings) std::cerr << "warning: " << warning.to_string() << "\n";
            if (!result.dag) {
                std::cerr << format_errors(result.errors) << "\n";
                ++failed;
                continue;
            }
            std::cout << fmt::format("{}: ok: DAG '{}' with {} task{}\n", file.string(), result.dag->dag_id,
                                     result.dag->tasks.size(), result.dag->tasks.size() == 1 ? "" : "s");
        }
    }
    if (failed > 0) {
        throw CommandFailed{fmt::format("{} of {} DAG file{} failed validation", failed, files, files == 1 ? "" : "s")};
    }
}

// The next runs as the scheduler will create them: after the DAG's latest automated run (scheduled
// or backfill), skipping logical dates that already have a run.
void next_execution(const std::string& dag_id, int count, const std::optional<std::string>& subdir, bool with_intervals,
                    std::optional<OutputFormat> format) {
    Listing listing{{"logical_date", "data_interval_start", "data_interval_end", "run_after"}, {}};
    Dag dag = load_dag_or_fail(dag_id, subdir);
    auto settings = settings_or_fail();
    std::unique_ptr<SqliteStore> store;
    if (std::filesystem::exists(settings.database)) store = open_store_or_fail(settings, true);
    if (store && !subdir) {
        auto record = store->find_dag(dag_id);
        if (record && *record && (*record)->is_paused) {
            std::cerr << "note: DAG '" << dag_id << "' is paused: these runs happen only after it is unpaused\n";
        }
    }
    if (dag.schedule.kind() == Schedule::Kind::none) {
        std::cerr << "DAG '" << dag_id << "' has no schedule: it runs only when triggered\n";
        return;
    }
    TimeRestriction restriction{dag.start_date, dag.end_date, dag.catchup};
    std::optional<DataInterval> last;
    if (store) {
        auto latest = store->latest_automated_interval(dag_id);
        if (!latest) throw CommandFailed{latest.error().message};
        if (*latest) last = DataInterval{(*latest)->first, (*latest)->second};
    }
    Instant now = now_instant();
    int printed = 0;
    for (int i = 0; i < count;) {
        auto info = next_dagrun_info(dag.schedule, dag.timezone, last, restriction, now);
        if (!info) break;
        if (last && info->interval.start <= last->start) break;  // the timetable must move forward
        if (store) {
            auto taken = store->find_conflicting_run(dag_id, "", info->logical_date);
            if (!taken) throw CommandFailed{taken.error().message};
            if (*taken) {  // a manual run has this date: the scheduler moves past it too
                last = info->interval;
                if (dag.schedule.kind() == Schedule::Kind::once) break;
                continue;
            }
        }
        ++i;
        ++printed;
        if (format) {
            listing.add({format_iso8601(info->logical_date, dag.timezone), format_iso8601(info->interval.start, dag.timezone),
                         format_iso8601(info->interval.end, dag.timezone), format_iso8601(info->run_after, dag.timezone)});
        } else if (with_intervals) {
            std::cout << fmt::format("{}\t{}\t{}\t{}\n", format_iso8601(info->logical_date, dag.timezone),
                                     format_iso8601(info->interval.start, dag.timezone),
                                     format_iso8601(info->interval.end, dag.timezone),
                                     format_iso8601(info->run_after, dag.timezone));
        } else {
            std::cout << format_iso8601(info->logical_date, dag.timezone) << "\n";
        }
        last = info->interval;
        if (dag.schedule.kind() == Schedule::Kind::once) break;
    }
    if (format && printed > 0) print_listing(listing, *format);
    if (printed == 0) {
        throw CommandFailed{fmt::format("DAG '{}' has no run to come: its schedule does not fire again before its "
                                        "end_date or the end of 9999",
                                        dag_id)};
    }
    if (printed < count) std::cerr << fmt::format("note: only {} of {} runs are still to come\n", printed, count);
}

}  // namespace

void register_dags_commands(CLI::App& app) {
    auto* dags = app.add_subcommand("dags", "Manage and inspect DAGs");
    dags->require_subcommand(1);

    static OutputFormat list_format = OutputFormat::table;
    static bool include_inactive = false;
    auto* list = dags->add_subcommand("list", "List the DAGs the daemon has loaded");
    add_output_option(*list, list_format);
    list->add_flag("--include-inactive", include_inactive, "Also list DAGs whose file is gone");
    list->callback([] { list_dags(list_format, include_inactive); });

    static OutputFormat errors_format = OutputFormat::table;
    auto* errors = dags->add_subcommand("list-import-errors", "List the DAG files that failed to load, and why");
    add_output_option(*errors, errors_format);
    errors->callback([] {
        list_import_errors(errors_format);
        mention_warnings();
    });

    static std::string warnings_dag;
    static OutputFormat warnings_format = OutputFormat::table;
    auto* warnings = dags->add_subcommand(
        "list-warnings", "List warnings about DAGs that load (cron fields Airflow and crontab read differently, "
                         "template names Airflow 3 removed)");
    warnings->add_option("-d,--dag-id", warnings_dag, "Only this DAG's warnings");
    add_output_option(*warnings, warnings_format);
    warnings->callback([] { list_warnings(warnings_dag, warnings_format); });

    static std::vector<std::string> validate_paths;
    static std::optional<std::string> validate_root;
    auto* validate_command = dags->add_subcommand(
        "validate", "Check DAG files without a daemon (exit 0 when all load; errors on stderr)");
    validate_command->add_option("paths", validate_paths, "DAG files or folders")->required();
    validate_command->add_option("--dags-folder", validate_root,
                                 "The DAG folder included files must stay inside (default: the file's folder)");
    validate_command->callback([] { validate(validate_paths, validate_root); });

    static std::string next_dag;
    static int next_count = 1;
    static std::optional<std::string> next_subdir;
    static bool next_intervals = false;
    auto* next = dags->add_subcommand("next-execution", "Print the logical dates of a DAG's next runs");
    next->add_option("dag_id", next_dag, "The DAG")->required();
    next->add_option("-n,--num-executions", next_count, "How many runs")->check(CLI::Range(1, 100000));
    next->add_option("-S,--subdir", next_subdir, "Load the DAG from this folder instead of the daemon's");
    next->add_flag("--with-intervals", next_intervals,
                   "Print logical date, data interval start and end, and when the run starts");
    static OutputFormat next_format = OutputFormat::table;
    static CLI::Option* next_output = add_output_option(*next, next_format);
    next_output->description("Output format: table, json, yaml or plain (default: one logical date a line)");
    next->callback([] {
        next_execution(next_dag, next_count, next_subdir, next_intervals,
                       next_output->count() ? std::optional(next_format) : std::nullopt);
    });

    static std::string details_dag;
    static OutputFormat details_format = OutputFormat::table;
    auto* details = dags->add_subcommand("details", "Print a DAG's properties");
    details->add_option("dag_id", details_dag, "The DAG")->required();
    add_output_option(*details, details_format);
    details->callback([] { dag_details(details_dag, details_format); });
}

}  // namespace mayaflow::cli
