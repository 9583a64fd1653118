// `mayaflow tasks …`: list a DAG's tasks; render a task's templated fields for a logical date.

#include <fmt/format.h>

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_dates.h"
#include "cli/cli_support.h"
#include "cli/secrets_cli.h"
#include "engine/connections/python_json.h"
#include "engine/connections/secret_masker.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/template/airflow_context.h"
#include "engine/template/template.h"
#include "engine/time/iso8601.h"
#include "engine/time/timetable.h"
#include "engine/util/utf8.h"
#include "operators/operator.h"
#include "operators/operator_registry.h"
#include "scheduler/task_run_info.h"

namespace mayaflow::cli {
namespace {

// What the database knows of the DAG's runs at `logical_date`: its run there, and the latest
// successful run before it (for prev_*_success).
struct StoredRuns {
    std::optional<DagRunRow> at_date;
    std::optional<DagRunRow> previous_success;
};

StoredRuns stored_runs_at(const std::string& dag_id, Instant logical_date) {
    StoredRuns stored;
    auto settings = settings_or_fail();
    if (!std::filesystem::exists(settings.database)) return stored;
    auto store = open_store_or_fail(settings, true);
    // No run id is empty: only the logical date can match.
    auto found = store->find_conflicting_run(dag_id, "", logical_date);
    if (found && *found) stored.at_date = std::move(**found);
    DagRunRow probe;
    probe.dag_id = dag_id;
    probe.logical_date = logical_date;
    auto previous = previous_successful_run(*store, probe);
    if (previous) stored.previous_success = std::move(*previous);
    return stored;
}

// The run a CLI command renders or runs a task in, as Airflow's `tasks test` and `tasks render` make
// it: the DAG's run at that logical date when the database has one (its run id, type, interval and
// conf), otherwise the run `dags trigger -l` would create — a manual run with the data interval
// Airflow infers for it (infer_manual_data_interval). Its facts are built as the scheduler builds
// a try's (scheduler/task_run_info.h).
tmpl::RunInfo cli_run_info(const Dag& dag, const Task& task, Instant logical_date, const std::optional<std::string>& conf) {
    StoredRuns stored = stored_runs_at(dag.dag_id, logical_date);
    DagRunRow run;
    if (stored.at_date) {
        run = std::move(*stored.at_date);
    } else {
        run.dag_id = dag.dag_id;
        run.run_type = "manual";
        run.run_id = "manual__" + format_iso8601(logical_date, TimeZone::utc());
        run.logical_date = logical_date;
        DataInterval interval = infer_manual_data_interval(dag.schedule, dag.timezone, logical_date);
        run.data_interval_start = interval.start;
        run.data_interval_end = interval.end;
        run.start_date = now_instant();
        run.conf = nlohmann::json::object();
    }
    if (conf) {
        if (Status shallow = pyjson::check_nesting(*conf); !shallow)
            throw CommandFailed{"--conf: " + shallow.error().message};
        run.conf = nlohmann::json::parse(*conf, nullptr, false);
        if (!run.conf.is_object()) throw CommandFailed{"--conf must be a JSON object, e.g. '{\"table\": \"sales\"}'"};
    }
    tmpl::RunInfo info = task_run_info(run, dag, task, 1);
    set_previous_success(info, stored.previous_success);
    return info;
}

// The connections and variables a task's templates read, from where the daemon's tasks read them, and
// the masker that hides what they hold in what the command prints.
class CliTaskSecrets {
  public:
    CliTaskSecrets() {
        try {
            secrets_ = std::make_unique<Secrets>(open_secrets(false));
        } catch (const CommandFailed& failed) {
            std::cerr << "warning: stored connections and variables cannot be read (" << failed.message
                      << "); only the environment's are used\n";
            secrets_ = std::make_unique<Secrets>(Secrets{{}, nullptr, nullptr, EnvironmentSecrets(process_environment())});
        }
        lookup_ = std::make_unique<SecretsLookup>(secrets_->environment, secrets_->repository.get(), &masker_);
        if (Status registered = lookup_->register_every_secret(); !registered) {
            std::cerr << "warning: " << registered.error().message << "\n";
        }
    }
    void connect(tmpl::RunInfo& run) { read_secrets_through(run, *lookup_); }
    const SecretMasker& masker() const { return masker_; }
    ConnectionSource* connections() { return lookup_.get(); }

  private:
    std::unique_ptr<Secrets> secrets_;
    SecretMasker masker_;
    std::unique_ptr<SecretsLookup> lookup_;
};

void render(const std::string& dag_id, const std::string& task_id, const std::string& date,
            const std::optional<std::string>& subdir, const std::optional<std::string>& conf) {
    Dag dag = load_dag_or_fail(dag_id, subdir);
    const Task* task = dag.find_task(task_id);
    if (!task) throw CommandFailed{fmt::format("DAG '{}' has no task '{}'", dag_id, task_id)};
    Instant logical_date = read_cli_date(date, "LOGICAL_DATE", dag.timezone);
    echo_resolved_date("LOGICAL_DATE", date, logical_date, dag.timezone);

    tmpl::RunInfo run = cli_run_info(dag, *task, logical_date, conf);
    CliTaskSecrets secrets;
    secrets.connect(run);
    tmpl::Context context = tmpl::make_airflow_context(run);

    const OperatorSpec* spec = builtin_operators().find(task->operator_name);
    auto rendered = render_templated_params(*spec, *task, context);
    if (!rendered) {
        throw CommandFailed{fmt::format("cannot render task '{}' ({}): {}", task_id, task->operator_name,
                                        secrets.masker().mask(rendered.error().message))};
    }
    bool any = false;
    for (const auto& param : spec->params) {
        if (!param.templated || !rendered->contains(param.name)) continue;
        any = true;
        const auto& value = rendered->at(param.name);
        std::cout << "# ----------------------------------------------------------\n"
                  << "# property: " << param.name << "\n"
                  << "# ----------------------------------------------------------\n"
                  << secrets.masker().mask(value.is_string() ? value.get<std::string>() : dump_json(value, 2))
                  << "\n\n";
    }
    if (!any) std::cout << "# task '" << task_id << "' (" << task->operator_name << ") has no templated fields set\n";
}

// Runs one task now, outside the scheduler, and prints its log: what engineers use while writing a DAG.
void test_task(const std::string& dag_id, const std::string& task_id, const std::optional<std::string>& date,
               const std::optional<std::string>& subdir, const std::optional<std::string>& conf) {
    Dag dag = load_dag_or_fail(dag_id, subdir);
    const Task* task = dag.find_task(task_id);
    if (!task) throw CommandFailed{fmt::format("DAG '{}' has no task '{}'", dag_id, task_id)};
    Instant logical_date = now_instant();
    if (date) {
        logical_date = read_cli_date(*date, "LOGICAL_DATE", dag.timezone);
        echo_resolved_date("LOGICAL_DATE", *date, logical_date, dag.timezone);
    } else {
        echo_resolved_date("LOGICAL_DATE", "(now)", logical_date, dag.timezone);
    }
    tmpl::RunInfo run = cli_run_info(dag, *task, logical_date, conf);
    CliTaskSecrets secrets;
    secrets.connect(run);
    auto op = builtin_operators().create(task->operator_name);
    if (!op) throw CommandFailed{fmt::format("operator '{}' cannot run here", task->operator_name)};
    auto folder = std::filesystem::temp_directory_path() / fmt::format("mayaflow-test-{}", getpid());
    auto log = folder / "attempt=1.log";
    TaskRun task_run{.task = *task,
                     .run_info = run,
                     .try_number = 1,
                     .log_file = log,
                     .execution_timeout = task->execution_timeout,
                     .base_environment = daemon_environment(),
                     .connections = secrets.connections(),
                     .masker = &secrets.masker(),
                     .fresh_remote_work = true};
    OperatorResult result = op->execute(task_run);
    // The log of a try run here is printed once it has ended, masked as the daemon's task logs are.
    std::ifstream in(log);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    std::cout << secrets.masker().mask(text.str());
    std::error_code ec;
    std::filesystem::remove_all(folder, ec);
    std::cout << fmt::format("[mayaflow] task {} {}{}\n", task_id, to_string(result.outcome),
                             result.message.empty() ? "" : ": " + mask_secrets(task_run, result.message));
    if (!result.value.is_null()) {
        std::cout << "[mayaflow] result: " << secrets.masker().mask(dump_json(result.value)) << "\n";
    }
    if (result.outcome == TaskOutcome::failed) throw CommandFailed{"", 1};
}

// Without -o, today's lines (Airflow's `tasks list`); with it, a listing of each task's operator and
// upstream tasks.
void list_tasks(const std::string& dag_id, const std::optional<std::string>& subdir, bool tree,
                std::optional<OutputFormat> format) {
    Dag dag = load_dag_or_fail(dag_id, subdir);
    if (format) {
        Listing listing{{"task_id", "operator", "upstream_task_ids", "pool", "retries"}, {}};
        for (const auto& task : dag.tasks) {
            pyjson::Json upstream = pyjson::Json::array();
            for (const auto& up : task.upstream) upstream.push_back(up);
            listing.add({task.task_id, task.operator_name, upstream, task.pool, task.retry.retries});
        }
        print_listing(listing, *format);
        return;
    }
    for (const auto& task : dag.tasks) {
        if (tree && !task.upstream.empty()) {
            std::string upstream;
            for (const auto& up : task.upstream) upstream += (upstream.empty() ? "" : ", ") + up;
            std::cout << task.task_id << "  <- " << upstream << "\n";
        } else {
            std::cout << task.task_id << "\n";
        }
    }
}

}  // namespace

void register_tasks_commands(CLI::App& app) {
    auto* tasks = app.add_subcommand("tasks", "Inspect a DAG's tasks");
    tasks->require_subcommand(1);

    static std::string dag_id, task_id, date;
    static std::optional<std::string> subdir, conf;
    auto* render_command = tasks->add_subcommand("render", "Print every templated field of a task as it would run");
    render_command->add_option("dag_id", dag_id, "The DAG")->required();
    render_command->add_option("task_id", task_id, "The task")->required();
    render_command->add_option("logical_date", date,
                               "The run's logical date, e.g. 2024-03-01 or 2024-03-01T03:00:00+09:00 (without an "
                               "offset it is in the DAG's time zone)")
        ->required();
    render_command->add_option("-S,--subdir", subdir, "Load the DAG from this folder instead of the daemon's");
    render_command->add_option("-c,--conf", conf, "The run's conf as a JSON object (dag_run.conf)");
    render_command->callback([] { render(dag_id, task_id, date, subdir, conf); });

    static std::string test_dag, test_task_id;
    static std::optional<std::string> test_date, test_subdir, test_conf;
    auto* test = tasks->add_subcommand("test", "Run one task now, outside the scheduler, and print its log");
    test->add_option("dag_id", test_dag, "The DAG")->required();
    test->add_option("task_id", test_task_id, "The task")->required();
    test->add_option("logical_date", test_date, "The logical date (default: now)");
    test->add_option("-S,--subdir", test_subdir, "Load the DAG from this folder instead of the daemon's");
    test->add_option("-c,--conf", test_conf, "dag_run.conf as a JSON object");
    test->callback([] { test_task(test_dag, test_task_id, test_date, test_subdir, test_conf); });

    static std::string list_dag;
    static std::optional<std::string> list_subdir;
    static bool tree = false;
    auto* list = tasks->add_subcommand("list", "List a DAG's tasks in an order that runs upstream tasks first");
    list->add_option("dag_id", list_dag, "The DAG")->required();
    list->add_option("-S,--subdir", list_subdir, "Load the DAG from this folder instead of the daemon's");
    list->add_flag("-t,--tree", tree, "Show each task's upstream tasks");
    static OutputFormat list_format = OutputFormat::table;
    static CLI::Option* list_output = add_output_option(*list, list_format);
    list->callback([] {
        list_tasks(list_dag, list_subdir, tree, list_output->count() ? std::optional(list_format) : std::nullopt);
    });
}

}  // namespace mayaflow::cli
