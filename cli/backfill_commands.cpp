// `mayaflow dags backfill` starts a backfill (or, with --dry-run, prints what it would do);
// `mayaflow backfills list|pause|resume|cancel` look after the backfill records.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/cli_dates.h"
#include "cli/cli_support.h"
#include "cli/command_checks.h"
#include "engine/connections/python_json.h"
#include "engine/model/dag_json.h"
#include "engine/time/iso8601.h"
#include "scheduler/backfill_plan.h"

namespace mayaflow::cli {
namespace {

struct BackfillOptions {
    std::string dag_id;
    std::string from_date;
    std::string to_date;
    std::string reprocess_behavior = "none";
    int max_active_runs = 10;
    bool run_backwards = false;
    bool dry_run = false;
    bool keep_run_version = false;
    std::optional<std::string> conf;
};

nlohmann::json request_payload(const BackfillOptions& options) {
    TimeZone zone = recorded_time_zone(options.dag_id);
    Instant from = read_cli_date(options.from_date, "--from", zone);
    Instant to = read_cli_date(options.to_date, "--to", zone);
    echo_resolved_date("--from", options.from_date, from, zone);
    echo_resolved_date("--to", options.to_date, to, zone);
    nlohmann::json payload = {{"dag_id", options.dag_id},
                              {"from_date", format_iso8601(from, TimeZone::utc())},
                              {"to_date", format_iso8601(to, TimeZone::utc())},
                              {"reprocess_behavior", options.reprocess_behavior},
                              {"max_active_runs", options.max_active_runs},
                              {"run_backwards", options.run_backwards},
                              {"dry_run", options.dry_run},
                              {"run_on_latest_version", !options.keep_run_version}};
    if (options.conf) {
        if (Status shallow = pyjson::check_nesting(*options.conf); !shallow)
            throw CommandFailed{"--conf: " + shallow.error().message};
        auto conf = nlohmann::json::parse(*options.conf, nullptr, false);
        if (!conf.is_object()) throw CommandFailed{"--conf must be a JSON object, e.g. '{\"table\": \"sales\"}'"};
        payload["dag_run_conf"] = conf;
    }
    return payload;
}

void print_plan(const nlohmann::json& plan) {
    for (const auto& run : plan["runs"]) {
        std::cout << fmt::format("  {:<44} {}  {}\n", run["run_id"].get<std::string>(),
                                 run["logical_date"].get<std::string>(), run["rerun"].get<bool>() ? "run again" : "new");
    }
    for (const auto& date : plan["skipped"]) {
        std::cout << fmt::format("  left alone: {}  {}\n", date["logical_date"].get<std::string>(),
                                 date["reason"].get<std::string>());
    }
}

// A dry run reads the store and plans here, so it works with or without a running scheduler.
void dry_run(const BackfillOptions& options) {
    auto request = backfill_request_from_json(request_payload(options));
    if (!request) throw CommandFailed{request.error().message};
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto version = store->latest_dag_version(options.dag_id);
    if (!version) throw CommandFailed{version.error().message};
    if (!*version) {
        throw CommandFailed{fmt::format("no DAG '{}' in {}; is the scheduler loading the DAG folder? "
                                        "`mayaflow dags list` shows what it has",
                                        options.dag_id, settings.database.string())};
    }
    auto plan = plan_backfill_from_store(*store, *store, *request, now_instant());
    if (!plan) throw CommandFailed{plan.error().message};
    std::cout << fmt::format("Dry run: a backfill of DAG {} would queue {} run(s) and leave {} date(s) alone\n",
                             options.dag_id, plan->runs.size(), plan->skipped.size());
    print_plan(plan_to_json(*plan));
}

void create(const BackfillOptions& options) {
    require_dag_takes_runs(options.dag_id);
    if (options.dry_run) return dry_run(options);
    auto answer = send_command("backfill", request_payload(options));
    if (!answer) return;
    const auto& backfill = (*answer)["backfill"];
    if (backfill.value("id", 0LL) == 0) {
        std::cerr << fmt::format("Nothing to backfill for DAG {}: no logical date in the range needs a run\n",
                                 options.dag_id);
        print_plan(*answer);
        throw CommandFailed{"", 1};
    }
    std::cout << fmt::format("Backfill {} of DAG {}: {} run(s) queued, at most {} at a time; {} date(s) left alone\n",
                             backfill["id"].get<long long>(), options.dag_id, (*answer)["runs"].size(),
                             backfill["max_active_runs"].get<int>(), (*answer)["skipped"].size());
    print_plan(*answer);
    bool reruns = false;
    for (const auto& run : (*answer)["runs"]) reruns = reruns || run.value("rerun", false);
    if (reruns) {
        std::cout << (options.keep_run_version ? "Runs run again keep the DAG version they had (--keep-run-version)\n"
                                               : "Runs run again use the DAG's newest version (--keep-run-version "
                                                 "keeps theirs)\n");
    }
}

std::string run_counts(SqliteStore& store, long long backfill_id) {
    auto runs = store.list_runs(RunFilter{.backfill_id = backfill_id, .limit = kMaxBackfillRuns * 4});
    if (!runs) return "?";
    std::map<std::string, int> counts;
    for (const auto& run : *runs) ++counts[std::string(to_string(run.state))];
    std::string text;
    for (const auto& [state, count] : counts) text += fmt::format("{}{} {}", text.empty() ? "" : ", ", count, state);
    return text.empty() ? "none" : text;
}

void list(const std::optional<std::string>& dag_id, OutputFormat format) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto backfills = store->list_backfills(dag_id, false);
    if (!backfills) throw CommandFailed{backfills.error().message};
    std::vector<std::vector<std::string>> rows;
    for (const auto& backfill : *backfills) {
        auto json = backfill_to_json(backfill);
        std::string state = backfill.completed_at ? "completed" : backfill.is_paused ? "paused" : "running";
        rows.push_back({std::to_string(backfill.id), backfill.dag_id, json["from_date"].get<std::string>(),
                        json["to_date"].get<std::string>(), std::string(to_string(backfill.reprocess_behavior)),
                        std::to_string(backfill.max_active_runs), backfill.run_backwards ? "yes" : "no", state,
                        run_counts(*store, backfill.id)});
    }
    print_table({"id", "dag_id", "from", "to", "reprocess", "max_active_runs", "backwards", "state", "runs"}, rows,
                format);
}

}  // namespace

void register_backfill_commands(CLI::App& app) {
    auto* dags = app.get_subcommand("dags");
    static BackfillOptions options;
    auto* create_command = dags->add_subcommand(
        "backfill", "Create runs of a DAG for the logical dates between two dates, kept as a backfill record");
    create_command->add_option("dag_id", options.dag_id, "The DAG")->required();
    create_command->add_option("--from,--from-date", options.from_date, "The first logical date (without an offset: in the DAG's time zone)")
        ->required();
    create_command->add_option("--to,--to-date", options.to_date, "The last logical date, inclusive")->required();
    create_command
        ->add_option("--reprocess-behavior", options.reprocess_behavior,
                     "What to do with dates that already have a finished run: none (leave them), failed (run failed "
                     "ones again), completed (run every one again)")
        ->check(CLI::IsMember({"none", "failed", "completed"}));
    create_command->add_option("--max-active-runs", options.max_active_runs, "Runs of the backfill at a time (default 10)")
        ->check(CLI::Range(1, 10000));
    create_command->add_flag("--run-backwards", options.run_backwards, "Newest logical date first");
    create_command->add_flag("--dry-run", options.dry_run, "Print the runs it would create, create nothing");
    create_command->add_flag("--keep-run-version", options.keep_run_version,
                             "Runs run again keep the DAG version they had instead of the newest (Airflow 3's "
                             "--run-on-latest-version off)");
    create_command->add_option("-c,--conf", options.conf, "Every run's conf, as a JSON object");
    create_command->callback([] { create(options); });

    auto* backfills = app.add_subcommand("backfills", "List, pause, resume and cancel backfills");
    backfills->require_subcommand(1);
    static std::optional<std::string> list_dag;
    static OutputFormat list_format = OutputFormat::table;
    auto* list_command = backfills->add_subcommand("list", "List backfills, newest first");
    list_command->add_option("-d,--dag-id", list_dag, "Only this DAG's backfills");
    add_output_option(*list_command, list_format);
    list_command->callback([] { list(list_dag, list_format); });

    struct Change {
        const char* name;
        const char* kind;
        const char* help;
        const char* done;
    };
    static const Change changes[] = {
        {"pause", "backfill_pause", "Pause a backfill: no more of its runs start", "paused"},
        {"resume", "backfill_resume", "Resume a paused backfill", "resumed"},
        {"cancel", "backfill_cancel", "Cancel a backfill: its queued runs fail without running, running ones finish",
         "cancelled"},
    };
    static long long ids[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
        auto* command = backfills->add_subcommand(changes[i].name, changes[i].help);
        command->add_option("id", ids[i], "The backfill's id (`mayaflow backfills list`)")->required();
        command->callback([i] {
            require_backfill_under_way(ids[i]);
            auto answer = send_command(changes[i].kind, {{"id", ids[i]}});
            if (answer) std::cout << fmt::format("Backfill {} {}\n", ids[i], changes[i].done);
        });
    }
}

}  // namespace mayaflow::cli
