// Commands that change runs (`dags trigger|pause|unpause`, `tasks clear`) go to the scheduler through
// the command queue; commands that read runs (`dags list-runs`, `tasks state|logs`) read the store.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

#include "cli/cli_dates.h"
#include "cli/cli_support.h"
#include "cli/command_checks.h"
#include "engine/connections/python_json.h"
#include "engine/model/log_path.h"
#include "engine/model/run_id.h"
#include "engine/util/utf8.h"
#include "engine/time/iso8601.h"

namespace mayaflow::cli {
namespace {

std::string iso_or_empty(const std::optional<Instant>& instant) {
    return instant ? format_iso8601(*instant, TimeZone::utc()) : "";
}

void list_runs(const std::string& dag_id, const std::optional<std::string>& state, OutputFormat format, int limit) {
    require_known_dag(dag_id);
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    RunFilter filter{.dag_id = dag_id, .limit = static_cast<size_t>(limit)};
    if (state) {
        filter.state = parse_run_state(*state);
        if (!filter.state) throw CommandFailed{"--state must be queued, running, success or failed"};
    }
    auto runs = store->list_runs(filter);
    if (!runs) throw CommandFailed{runs.error().message};
    std::vector<std::vector<std::string>> rows;
    for (const auto& run : *runs) {
        rows.push_back({run.dag_id, run.run_id, std::string(to_string(run.state)), iso_or_empty(run.logical_date),
                        iso_or_empty(run.start_date), iso_or_empty(run.end_date), run.run_type,
                        format_iso8601(run.data_interval_start, TimeZone::utc()),
                        format_iso8601(run.data_interval_end, TimeZone::utc())});
    }
    print_table({"dag_id", "run_id", "state", "logical_date", "start_date", "end_date", "run_type",
                 "data_interval_start", "data_interval_end"},
                rows, format);
}

const TaskInstanceRow& find_task_row(const DagRunRow& run, const std::string& task_id) {
    for (const auto& ti : run.task_instances) {
        if (ti.task_id == task_id) return ti;
    }
    throw CommandFailed{fmt::format("run '{}' has no task '{}'", run.run_id, task_id)};
}

DagRunRow find_run_or_fail(SqliteStore& store, const std::string& dag_id, const std::string& run_id) {
    auto run = store.find_run(dag_id, run_id, true);
    if (!run) throw CommandFailed{run.error().message};
    if (!*run) {
        throw CommandFailed{fmt::format("DAG '{}' has no run '{}'; `mayaflow dags list-runs {}` lists them", dag_id,
                                        run_id, dag_id)};
    }
    return std::move(**run);
}

// A run named as Airflow's commands name it (execution_date_or_run_id): its run id, or else its
// logical date (read as every command reads a date: docs/cli.md, "Dates").
DagRunRow find_run_by_id_or_date(SqliteStore& store, const std::string& dag_id, const std::string& text) {
    auto run = store.find_run(dag_id, text, true);
    if (!run) throw CommandFailed{run.error().message};
    if (*run) return std::move(**run);
    std::optional<Instant> date;
    try {
        date = read_cli_date(text, "logical date", recorded_time_zone(dag_id));
    } catch (const CommandFailed&) {
    }
    if (date) {
        auto at = store.find_conflicting_run(dag_id, "", *date);
        if (!at) throw CommandFailed{at.error().message};
        if (*at) {
            auto full = store.find_run(dag_id, (*at)->run_id, true);
            if (!full) throw CommandFailed{full.error().message};
            if (*full) return std::move(**full);
        }
    }
    throw CommandFailed{fmt::format("DAG '{}' has no run with run id or logical date '{}'; `mayaflow dags list-runs {}` "
                                    "lists them",
                                    escape_invalid_utf8(dag_id), escape_invalid_utf8(text), escape_invalid_utf8(dag_id))};
}

// `tasks states-for-dag-run`: Airflow's columns, one row per task instance.
void states_for_dag_run(const std::string& dag_id, const std::string& run, OutputFormat format) {
    require_known_dag(dag_id);
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto found = find_run_by_id_or_date(*store, dag_id, run);
    Listing listing{{"dag_id", "run_id", "logical_date", "task_id", "state", "try_number", "start_date", "end_date"}, {}};
    for (const auto& ti : found.task_instances) {
        listing.add({found.dag_id, found.run_id, iso_or_empty(found.logical_date), ti.task_id,
                     std::string(to_string(ti.state)), ti.try_number, iso_or_empty(ti.start_date),
                     iso_or_empty(ti.end_date)});
    }
    print_listing(listing, format);
}

// --conf: a JSON object in UTF-8 text. Bytes that are not UTF-8 are a usage error (exit 2), as for
// every argument; text that is no JSON object is a failure that says what is expected.
nlohmann::json read_conf_option(const std::string& text) {
    if (auto bad = first_invalid_utf8(text)) {
        throw CommandFailed{fmt::format("--conf is not UTF-8 text (byte 0x{:02x} at offset {}); conf must be a JSON "
                                        "object in UTF-8",
                                        static_cast<unsigned char>(text[*bad]), *bad),
                            2};
    }
    if (Status shallow = pyjson::check_nesting(text); !shallow) throw CommandFailed{"--conf: " + shallow.error().message};
    auto conf = nlohmann::json::parse(text, nullptr, false);
    if (!conf.is_object()) {
        throw CommandFailed{"--conf must be a JSON object, e.g. '{\"table\": \"sales\"}'"};
    }
    return conf;
}

}  // namespace

void register_run_commands(CLI::App& app) {
    auto* dags = app.get_subcommand("dags");
    auto* tasks = app.get_subcommand("tasks");

    static std::string trigger_dag;
    static std::optional<std::string> trigger_conf, trigger_date, trigger_run_id;
    auto* trigger = dags->add_subcommand("trigger", "Start a run of a DAG now");
    trigger->add_option("dag_id", trigger_dag, "The DAG")->required();
    trigger->add_option("-c,--conf", trigger_conf, "The run's conf as a JSON object (dag_run.conf)");
    trigger->add_option("-l,--logical-date", trigger_date, "The run's logical date (default: now; without an offset: in the DAG's time zone)");
    trigger->add_option("-r,--run-id", trigger_run_id, "The run's id (default: manual__<logical date>)");
    trigger->callback([] {
        nlohmann::json payload = {{"dag_id", trigger_dag}};
        if (trigger_conf) payload["conf"] = read_conf_option(*trigger_conf);
        require_dag_takes_runs(trigger_dag);
        if (trigger_date) {
            TimeZone zone = recorded_time_zone(trigger_dag);
            Instant date = read_cli_date(*trigger_date, "--logical-date", zone);
            echo_resolved_date("--logical-date", *trigger_date, date, zone);
            payload["logical_date"] = format_iso8601(date, TimeZone::utc());
        }
        if (trigger_run_id) {
            auto checked = check_run_id(*trigger_run_id, RunIdUse::manual);
            if (!checked) throw CommandFailed{"--run-id: " + checked.error().message};
            payload["run_id"] = *trigger_run_id;
        }
        // The logical date is fixed when the command is typed, not when a scheduler takes it.
        if (!payload.contains("logical_date")) payload["logical_date"] = format_iso8601(now_instant(), TimeZone::utc());
        Instant logical_date = *parse_datetime(payload["logical_date"].get<std::string>(), TimeZone::utc());
        require_no_run_like(trigger_dag, trigger_run_id.value_or("manual__" + format_iso8601(logical_date, TimeZone::utc())),
                            logical_date);
        auto answer = send_command("trigger", payload);
        if (answer) std::cout << "Created run " << answer->value("run_id", "") << " of DAG " << trigger_dag << "\n";
    });

    for (bool paused : {true, false}) {
        static std::string pause_dag[2];
        auto* command = dags->add_subcommand(paused ? "pause" : "unpause",
                                             paused ? "Pause a DAG: no new runs start" : "Resume a paused DAG");
        command->add_option("dag_id", pause_dag[paused], "The DAG")->required();
        command->callback([paused] {
            require_known_dag(pause_dag[paused]);
            auto answer = send_command(paused ? "pause" : "unpause", {{"dag_id", pause_dag[paused]}});
            if (answer) std::cout << "DAG " << pause_dag[paused] << (paused ? " paused\n" : " unpaused\n");
        });
    }

    static std::string runs_dag;
    static std::optional<std::string> runs_state;
    static OutputFormat runs_format = OutputFormat::table;
    static int runs_limit = 50;
    auto* runs = dags->add_subcommand("list-runs", "List a DAG's runs, newest first");
    runs->add_option("dag_id", runs_dag, "The DAG")->required();
    runs->add_option("--state", runs_state, "Only runs in this state");
    runs->add_option("--limit", runs_limit, "How many")->check(CLI::Range(1, 100000));
    add_output_option(*runs, runs_format);
    runs->callback([] { list_runs(runs_dag, runs_state, runs_format, runs_limit); });

    static std::string states_dag, states_run;
    static OutputFormat states_format = OutputFormat::table;
    auto* states = tasks->add_subcommand("states-for-dag-run", "Print the state of every task instance of a run");
    states->add_option("dag_id", states_dag, "The DAG")->required();
    states->add_option("execution_date_or_run_id", states_run, "The run: its run id or its logical date")->required();
    add_output_option(*states, states_format);
    states->callback([] { states_for_dag_run(states_dag, states_run, states_format); });

    static std::string run_state_dag, run_state_run;
    auto* run_state = dags->add_subcommand("state", "Print a DAG run's state");
    run_state->add_option("dag_id", run_state_dag, "The DAG")->required();
    run_state->add_option("execution_date_or_run_id", run_state_run, "The run: its run id or its logical date")->required();
    run_state->callback([] {
        require_known_dag(run_state_dag);
        auto settings = settings_or_fail();
        auto store = open_store_or_fail(settings, true);
        auto run = find_run_by_id_or_date(*store, run_state_dag, run_state_run);
        std::cout << to_string(run.state);
        // As Airflow's `dags state`: the conf after the state when the run has one.
        if (!run.conf.empty()) std::cout << ", " << dump_json(run.conf);
        std::cout << "\n";
    });

    static std::string clear_dag, clear_run;
    static std::vector<std::string> clear_tasks;
    static bool only_failed = false, downstream = false, upstream = false, keep_run_version = false;
    auto* clear = tasks->add_subcommand("clear", "Clear task instances of a run so that they run again");
    clear->add_option("dag_id", clear_dag, "The DAG")->required();
    clear->add_option("run_id", clear_run, "The run")->required();
    clear->add_option("-t,--task-ids", clear_tasks, "Tasks to clear (default: all)");
    clear->add_flag("-f,--only-failed", only_failed, "Only failed and upstream_failed tasks");
    clear->add_flag("-d,--downstream", downstream, "Also the tasks downstream");
    clear->add_flag("-u,--upstream", upstream, "Also the tasks upstream");
    clear->add_flag("--keep-run-version", keep_run_version,
                    "Run the cleared tasks with the DAG version the run had, not the newest (Airflow 3's "
                    "run_on_latest_version: false)");
    clear->callback([] {
        require_run(clear_dag, clear_run);
        auto answer = send_command("clear", {{"dag_id", clear_dag}, {"run_id", clear_run}, {"task_ids", clear_tasks},
                                             {"only_failed", only_failed}, {"include_downstream", downstream},
                                             {"include_upstream", upstream},
                                             {"run_on_latest_version", !keep_run_version}});
        if (!answer) return;
        int cleared = answer->value("cleared", 0);
        std::cout << "Cleared " << cleared << " task instance(s)";
        if (cleared > 0) {
            std::cout << fmt::format("; they run with DAG version {} ({})", answer->value("dag_version", 0),
                                     answer->value("version_note", std::string()));
        }
        std::cout << "\n";
        auto restarted = answer->value("restarted", std::vector<std::string>{});
        if (!restarted.empty()) {
            std::string names;
            for (const auto& name : restarted) names += (names.empty() ? "" : ", ") + name;
            std::cout << fmt::format("{} of them {} running ({}): the try was ended and the task runs again\n",
                                     restarted.size(), restarted.size() == 1 ? "was" : "were", names);
        }
        if (cleared == 0) {
            std::cout << (only_failed ? "Nothing to clear: no task of the run matched that is failed or upstream_failed\n"
                                      : "Nothing to clear: no task of the run matched\n");
        }
    });

    static std::string mark_dag, mark_run, mark_task, mark_state;
    auto* mark = tasks->add_subcommand("mark", "Set a task instance's state by hand (success, failed or skipped)");
    mark->add_option("dag_id", mark_dag, "The DAG")->required();
    mark->add_option("run_id", mark_run, "The run")->required();
    mark->add_option("task_id", mark_task, "The task")->required();
    mark->add_option("state", mark_state, "success, failed or skipped")->required();
    mark->callback([] {
        auto state = parse_task_state(mark_state);
        if (!state || (*state != TaskState::success && *state != TaskState::failed && *state != TaskState::skipped)) {
            throw CommandFailed{fmt::format("a task can be marked success, failed or skipped, not '{}'", mark_state)};
        }
        auto run = require_run(mark_dag, mark_run);
        find_task_row(run, mark_task);
        auto answer = send_command("mark", {{"dag_id", mark_dag}, {"run_id", mark_run}, {"task_id", mark_task},
                                            {"state", mark_state}});
        if (!answer) return;
        std::cout << "Marked " << mark_task << " " << mark_state;
        if (int cleared = answer->value("cleared_downstream", 0); cleared > 0) {
            std::cout << fmt::format("; cleared {} failed or upstream_failed task(s) downstream, which run again",
                                     cleared);
        }
        std::cout << "\n";
    });

    static std::string state_dag, state_run, state_task;
    auto* state = tasks->add_subcommand("state", "Print a task instance's state");
    state->add_option("dag_id", state_dag, "The DAG")->required();
    state->add_option("run_id", state_run, "The run")->required();
    state->add_option("task_id", state_task, "The task")->required();
    state->callback([] {
        auto settings = settings_or_fail();
        auto store = open_store_or_fail(settings, true);
        auto run = find_run_or_fail(*store, state_dag, state_run);
        std::cout << to_string(find_task_row(run, state_task).state) << "\n";
    });

    static std::string logs_dag, logs_run, logs_task;
    static std::optional<int> logs_try;
    auto* logs = tasks->add_subcommand("logs", "Print a task instance's log (the latest try by default)");
    logs->add_option("dag_id", logs_dag, "The DAG")->required();
    logs->add_option("run_id", logs_run, "The run")->required();
    logs->add_option("task_id", logs_task, "The task")->required();
    logs->add_option("--try", logs_try, "Which try")->check(CLI::Range(1, 100000));
    logs->callback([] {
        auto settings = settings_or_fail();
        auto store = open_store_or_fail(settings, true);
        auto run = find_run_or_fail(*store, logs_dag, logs_run);
        const auto& ti = find_task_row(run, logs_task);
        int try_number = logs_try.value_or(ti.try_number);
        if (try_number < 1) throw CommandFailed{fmt::format("task '{}' has not run yet ({})", logs_task, to_string(ti.state))};
        auto path = task_log_path(settings.logs_folder, logs_dag, logs_run, logs_task, try_number);
        std::ifstream in(path);
        if (!in) throw CommandFailed{fmt::format("no log at {}", path.string())};
        std::cout << in.rdbuf();
    });
}

}  // namespace mayaflow::cli
