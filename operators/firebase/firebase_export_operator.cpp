#include "operators/firebase/firebase_export_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "engine/connections/python_json.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/util/text.h"
#include "operators/async_try.h"
#include "operators/firebase/firebase_database.h"
#include "operators/firebase/firebase_export_data.h"
#include "operators/firebase/firebase_export_writer.h"
#include "operators/gcp/bigquery_query_operator.h"
#include "operators/gcp/gcp_services.h"
#include "operators/shell_process.h"

namespace mayaflow::firebase {
namespace {

constexpr long long kMaxRowsCap = 10'000'000;
constexpr long long kMaxChunkSize = 100'000;
constexpr long long kRestWriteLimit = 256LL * 1024 * 1024;  // Firebase's largest REST write
constexpr std::size_t kChunkBytes = 4 * 1024 * 1024;         // well under the SDKs' 16 MB

std::optional<ParamProblem> in_range(const nlohmann::json& value, long long low, long long high) {
    if (value.is_number_integer() && value.get<long long>() >= low && value.get<long long>() <= high) {
        return std::nullopt;
    }
    return ParamProblem{.message = fmt::format("must be from {} to {}, got {}", low, high, value.dump())};
}

std::string root_path_problem() {
    return "is the database's root: a put there would replace the whole database and a patch would mix the rows "
           "with its top-level keys; name a path below it, e.g. /reports/{{ ds_nodash }}";
}

std::optional<ParamProblem> check_path(const nlohmann::json& value) {
    if (!value.is_string()) return std::nullopt;
    const std::string& path = value.get_ref<const std::string&>();
    if (path.find("{{") != std::string::npos || path.find("{%") != std::string::npos) return std::nullopt;
    auto segments = split_database_path(path);
    if (!segments) return ParamProblem{.message = segments.error().message};
    if (segments->empty()) return ParamProblem{.message = root_path_problem()};
    return std::nullopt;
}

}  // namespace

OperatorSpec firebase_export_operator_spec() {
    OperatorSpec spec;
    spec.name = "firebase_export";
    spec.description =
        "Writes rows (from a BigQuery query or an upstream task's result) to a Firebase Realtime Database path as "
        "{key: {other columns}}, with PUT or PATCH, in chunks, keys checked against Firebase's rules.";
    spec.params = gcp::gcp_common_params();
    spec.exactly_one_of = {{"sql", "rows_from", "rows"}};
    auto add = [&spec](ParamSpec param) { spec.params.push_back(std::move(param)); };
    add({.name = "sql", .type = ParamType::string, .templated = true, .template_ext = {".sql"},
         .help = "The GoogleSQL query whose rows are exported, or a .sql file beside the DAG file"});
    add({.name = "query_params", .type = ParamType::any, .templated = true,
         .help = "Named parameters (@name in the query), as bigquery_query takes them"});
    add({.name = "maximum_bytes_billed", .type = ParamType::integer,
         .help = "BigQuery fails the job, at no cost, when it would bill more bytes than this"});
    add({.name = "max_rows", .type = ParamType::integer, .default_value = 1'000'000,
         .check = [](const nlohmann::json& v) { return in_range(v, 1, kMaxRowsCap); },
         .help = "The most rows a query may give; more fails the task before anything is written"});
    add({.name = "rows_from", .type = ParamType::string, .templated = true,
         .help = "The task whose result holds the rows: a list of objects, or {rows: [...]} as bigquery_query's"});
    add({.name = "rows", .type = ParamType::any, .templated = true,
         .help = "The rows themselves: a list, or a template rendering JSON, e.g. "
                 "\"{{ ti.xcom_pull(task_ids='q')['rows'] | tojson }}\""});
    add({.name = "key_column", .type = ParamType::string, .required = true, .templated = true,
         .help = "The column whose value is each row's key under path"});
    add({.name = "path", .type = ParamType::string, .required = true, .templated = true, .check = check_path,
         .help = "Where the rows go, e.g. /reports/{{ ds_nodash }}"});
    add({.name = "write_mode", .type = ParamType::string, .default_value = "put", .allowed_values = {"put", "patch"},
         .help = "put replaces what is at path; patch replaces only the keys written"});
    add({.name = "invalid_keys", .type = ParamType::string, .default_value = "fail",
         .allowed_values = {"fail", "sanitize", "skip"},
         .help = "A key Firebase refuses: fail the task, sanitize it (percent-encoding; the mapping goes to the "
                 "log), or skip its row"});
    add({.name = "chunk_size", .type = ParamType::integer, .default_value = 500,
         .check = [](const nlohmann::json& v) { return in_range(v, 1, kMaxChunkSize); },
         .help = "Rows per write (a chunk is also kept under 4 MB)"});
    add({.name = "max_write_bytes", .type = ParamType::integer, .default_value = 16 * 1024 * 1024,
         .check = [](const nlohmann::json& v) { return in_range(v, 1024, kRestWriteLimit); },
         .help = "The largest single write; a put of a bigger export is published in chunks (not atomic)"});
    add({.name = "firebase_conn_id", .type = ParamType::string, .templated = true,
         .default_value = std::string(kDefaultFirebaseConnId),
         .help = "A firebase connection (database URL, database secret) or a google_cloud_platform one"});
    add({.name = "database_url", .type = ParamType::string, .templated = true,
         .help = "https://<database>.firebaseio.com (default: the connection's)"});
    add({.name = "non_finite_floats", .type = ParamType::string, .default_value = "string",
         .allowed_values = {"string", "drop", "fail"},
         .help = "FLOAT64 NaN and ±Infinity: written as \"NaN\"/\"Infinity\"/\"-Infinity\", left out, or failing"});
    add({.name = "numeric_as", .type = ParamType::string, .default_value = "string",
         .allowed_values = {"string", "number"},
         .help = "NUMERIC and BIGNUMERIC: exact text, or JSON numbers (doubles)"});
    add({.name = "allow_empty", .type = ParamType::boolean, .default_value = false,
         .help = "Whether no rows may replace the path with nothing (put) rather than fail the task"});
    return spec;
}

// One try's export: what it writes where, and its log while the try runs.
struct FirebaseExportOperator::Export {
    std::mutex mutex;
    const TaskRun* run = nullptr;  // null once the try has ended
    bool stop = false;
    std::shared_ptr<FirebaseDatabase> database;
    std::vector<std::string> path;
    ExportOptions options;
    ValueOptions values;
    bool put = true;
    bool allow_empty = false;
    std::size_t chunk_size = 500;
    std::size_t max_write_bytes = 16 * 1024 * 1024;
    long long max_rows = 1'000'000;
    int try_number = 1;

    void log(const std::string& line) {
        std::lock_guard lock(mutex);
        if (run) (void)append_log_line(*run, mask_secrets(*run, line));
    }
    void end() {
        std::lock_guard lock(mutex);
        run = nullptr;
        stop = true;
    }
    bool stopping() {
        std::lock_guard lock(mutex);
        return stop;
    }
    void request_stop() {
        std::lock_guard lock(mutex);
        stop = true;
    }
};

namespace {

using Export = FirebaseExportOperator::Export;

// The export of the try's parameters, before any row is read: connection, database, path, options.
Result<std::shared_ptr<Export>> prepare_export(const TaskRun& run, const nlohmann::json& params,
                                               gcp::GcpServices& services) {
    auto ex = std::make_shared<Export>();
    ex->run = &run;
    ex->try_number = run.try_number;
    auto path = split_database_path(params.value("path", std::string()));
    if (!path) return path.error();
    if (path->empty()) return make_error("path {}", root_path_problem());
    ex->path = std::move(*path);
    ex->options.key_column = params.value("key_column", std::string());
    if (ex->options.key_column.empty()) return make_error("key_column is empty");
    ex->options.invalid_keys = invalid_keys_from(params.value("invalid_keys", "fail")).value_or(InvalidKeys::fail);
    ex->options.path_depth = static_cast<int>(ex->path.size());
    const std::string non_finite = params.value("non_finite_floats", "string");
    ex->values.non_finite = non_finite == "drop"   ? ValueOptions::NonFinite::drop
                            : non_finite == "fail" ? ValueOptions::NonFinite::fail
                                                   : ValueOptions::NonFinite::string;
    ex->values.numeric_as_number = params.value("numeric_as", "string") == "number";
    ex->put = params.value("write_mode", "put") != "patch";
    ex->allow_empty = params.value("allow_empty", false);
    ex->chunk_size = static_cast<std::size_t>(std::clamp(params.value("chunk_size", 500LL), 1LL, kMaxChunkSize));
    ex->max_write_bytes = static_cast<std::size_t>(
        std::clamp(params.value("max_write_bytes", 16LL * 1024 * 1024), 1024LL, kRestWriteLimit));
    ex->max_rows = std::clamp(params.value("max_rows", 1'000'000LL), 1LL, kMaxRowsCap);

    const std::string conn_id = params.value("firebase_conn_id", std::string(kDefaultFirebaseConnId));
    if (!run.connections) return make_error("no connections are available to read '{}'", conn_id);
    auto connection = run.connections->find_connection(conn_id);
    if (!connection) return connection.error();
    if (!*connection) {
        return make_error("The conn_id `{}` isn't defined: add it with `mayaflow connections add {} --conn-type "
                          "firebase --conn-host https://<database>.firebaseio.com --conn-password <database secret>` "
                          "(or a google_cloud_platform connection with the extra database_url)",
                          conn_id, conn_id);
    }
    auto target = read_firebase_target(**connection, params.value("database_url", std::string()), run.base_environment);
    if (!target) return target.error();
    std::shared_ptr<gcp::AccessTokenSource> tokens;
    int retries = 5;
    if (target->gcp) {
        tokens = services.tokens_for(*target->gcp);
        retries = target->gcp->num_retries;
    }
    ex->database = std::make_shared<FirebaseDatabase>(services.http(retries), std::move(*target), tokens);
    return ex;
}

// The rows an upstream task's result holds: a list of rows, or {rows: [...]} (bigquery_query's),
// which must hold all of its total_rows.
Result<nlohmann::json> rows_of_result(const nlohmann::json& value, const std::string& where) {
    if (value.is_array()) return value;
    if (value.is_object() && value.contains("rows") && value["rows"].is_array()) {
        const auto& rows = value["rows"];
        if (value.contains("total_rows") && value["total_rows"].is_number_integer() &&
            value["total_rows"].get<long long>() > static_cast<long long>(rows.size())) {
            return make_error("{} holds {} of the query's {} rows (bigquery_query keeps max_result_rows of them): "
                              "give the query to this task as sql, which reads every row",
                              where, rows.size(), value["total_rows"].get<long long>());
        }
        return rows;
    }
    return make_error("{} is {}, not a list of rows or {{rows: [...]}}", where,
                      quote_for_message(value.dump(), 80));
}

// The try's rows when they come without a query.
Result<nlohmann::json> direct_rows(const TaskRun& run, const nlohmann::json& params) {
    const std::string from = params.value("rows_from", std::string());
    if (!from.empty()) {
        std::optional<nlohmann::json> value;
        if (run.run_info.task_result) value = run.run_info.task_result(from);
        if (!value || value->is_null()) {
            return make_error("rows_from: task {} has no result in this run (is it upstream of this task, and did "
                              "it succeed?)",
                              quote_name(from));
        }
        return rows_of_result(*value, fmt::format("the result of task {}", quote_name(from)));
    }
    nlohmann::json rows = params.value("rows", nlohmann::json());
    if (rows.is_string()) {
        auto parsed = pyjson::parse_or_discarded(rows.get<std::string>());
        if (parsed.is_discarded()) {
            return make_error("rows rendered to text that is not JSON: {} (render it with | tojson)",
                              quote_for_message(rows.get<std::string>(), 80));
        }
        rows = std::move(parsed);
    }
    return rows_of_result(rows, "rows");
}

// Keys the rows, checks them and writes them; `done` gets the try's result value.
void export_rows(std::shared_ptr<Export> ex, const nlohmann::json& rows,
                 std::function<void(Result<nlohmann::json>)> done) {
    auto tree = build_export_tree(rows, ex->options);
    if (!tree) return done(tree.error());
    for (const std::string& note : tree->notes) ex->log(note);
    const std::string shown = join_database_path(ex->path);
    const long long written = static_cast<long long>(tree->tree.size());
    if (written == 0 && !ex->allow_empty) {
        return done(make_error("no rows to write to {} ({} read, {} skipped, {} empty): nothing was written; "
                               "allow_empty: true lets an empty result {}",
                               shown, tree->rows_read, tree->rows_skipped, tree->rows_empty,
                               ex->put ? "replace the path with nothing" : "succeed"));
    }
    const std::size_t chunk_bytes = std::min(kChunkBytes, ex->max_write_bytes);
    ExportWrite plan{.path = ex->path,
                     .put = ex->put,
                     .chunks = split_into_chunks(tree->tree, ex->chunk_size, chunk_bytes),
                     .keys = tree_keys(tree->tree),
                     .max_write_bytes = ex->max_write_bytes,
                     .try_number = ex->try_number};
    for (std::size_t i = 0; i < plan.chunks.size(); ++i) {
        if (plan.chunks[i].size() > ex->max_write_bytes) {
            return done(make_error("a row of {} bytes is larger than max_write_bytes ({}); nothing was written",
                                   plan.chunks[i].size(), ex->max_write_bytes));
        }
    }
    ex->log(fmt::format("writing {} rows ({} read, {} skipped, {} sanitized, {} empty) to {} on {} with {}, in {} "
                        "chunk(s)",
                        written, tree->rows_read, tree->rows_skipped, tree->keys_sanitized, tree->rows_empty, shown,
                        ex->database->target().describe(), ex->put ? "put" : "patch", plan.chunks.size()));
    nlohmann::json summary = {{"path", shown},
                              {"rows_read", tree->rows_read},
                              {"rows_written", written},
                              {"rows_skipped", tree->rows_skipped},
                              {"rows_empty", tree->rows_empty},
                              {"keys_sanitized", tree->keys_sanitized}};
    write_export(
        ex->database, std::move(plan), [ex](const std::string& line) { ex->log(line); },
        [ex] { return ex->stopping(); },
        [ex, summary = std::move(summary), done](Result<nlohmann::json> writes) mutable {
            if (!writes) return done(writes.error());
            summary.update(*writes);
            ex->log(fmt::format("wrote {} rows to {} ({} writes, {} bytes; swap: {})", summary["rows_written"].dump(),
                                summary["path"].get<std::string>(), (*writes)["writes"].dump(),
                                (*writes)["bytes"].dump(), (*writes)["swap"].get<std::string>()));
            done(std::move(summary));
        });
}

}  // namespace

// A try whose rows come from an upstream task: no BigQuery job, only the writes.
struct FirebaseExportOperator::DirectTry : AsyncTry {};

FirebaseExportOperator::FirebaseExportOperator(gcp::GcpServices* services)
    : BigQueryJobOperator(services), services_(services) {}

FirebaseExportOperator::~FirebaseExportOperator() = default;

const OperatorSpec& FirebaseExportOperator::spec() const {
    static const OperatorSpec spec = firebase_export_operator_spec();
    return spec;
}

void FirebaseExportOperator::start(const TaskRun& run, Done done) {
    gcp::GcpServices& services = services_ ? *services_ : gcp::GcpServices::shared();
    auto fail_now = [&done](std::string message) {
        done(OperatorResult{.outcome = TaskOutcome::failed, .message = std::move(message)});
    };
    auto params = render_templated_params(spec(), run.task, make_task_context(run));
    if (!params) return fail_now(mask_secrets(run, params.error().message));
    const bool has_sql = !params->value("sql", std::string()).empty();
    const int sources = (has_sql ? 1 : 0) + (!params->value("rows_from", std::string()).empty() ? 1 : 0) +
                        (params->contains("rows") && !(*params)["rows"].is_null() ? 1 : 0);
    if (sources != 1) {
        return fail_now("firebase_export takes its rows from exactly one of sql, rows_from and rows");
    }
    auto ex = prepare_export(run, *params, services);
    if (!ex) return fail_now(mask_secrets(run, ex.error().message));
    export_ = *ex;

    if (has_sql) {
        return BigQueryJobOperator::start(run, [ex = *ex, done = std::move(done)](OperatorResult result) {
            ex->end();
            done(std::move(result));
        });
    }

    auto state = std::make_shared<DirectTry>();
    state->run = &run;
    state->done = [ex = *ex, done = std::move(done)](OperatorResult result) {
        ex->end();
        done(std::move(result));
    };
    direct_ = state;
    if (run.execution_timeout) {
        state->timeout = *run.execution_timeout;
        services.http().run_after(*run.execution_timeout, [state, ex = *ex] {
            ex->request_stop();
            if (state->time_out()) state->finish(state->stopped_result());
        });
    }
    auto rows = direct_rows(run, *params);
    if (!rows) return state->fail(rows.error().message);
    export_rows(*ex, *rows, [state](Result<nlohmann::json> value) {
        if (!value) return state->fail(value.error().message);
        state->finish(OperatorResult{.outcome = TaskOutcome::success, .value = std::move(*value)});
    });
}

void FirebaseExportOperator::cancel() {
    if (auto ex = export_) ex->request_stop();
    auto state = direct_;
    if (!state) return BigQueryJobOperator::cancel();
    if (!state->cancel()) return;
    // Never ends the try on this thread (the executor holds its lock).
    gcp::GcpServices& services = services_ ? *services_ : gcp::GcpServices::shared();
    services.http().run_after(Duration::zero(), [state] { state->finish(state->stopped_result()); });
}

void FirebaseExportOperator::detach() {
    // Writes are not remote work that goes on without the daemon: a stopping daemon ends them, and
    // the task's next try writes again (every write may be repeated).
    if (!direct_) return BigQueryJobOperator::detach();
    cancel();
}

Result<gcp::BigQueryJobOperator::JobPlan> FirebaseExportOperator::plan(const nlohmann::json& params,
                                                                       const gcp::GcpConnection& connection,
                                                                       gcp::GoogleApi&) const {
    auto planned = plan_in_project(params, connection);
    if (!planned) return planned.error();
    JobPlan plan = std::move(*planned);
    const std::string sql = params.value("sql", std::string());
    if (sql.find_first_not_of(" \t\r\n") == std::string::npos) return make_error("sql is empty");
    nlohmann::json query = {{"query", sql}, {"useLegacySql", false}};
    if (auto status = gcp::add_query_parameters(params, query); !status) return status.error();
    if (params.contains("maximum_bytes_billed") && params["maximum_bytes_billed"].is_number_integer()) {
        const long long cap = params["maximum_bytes_billed"].get<long long>();
        if (cap <= 0) return make_error("maximum_bytes_billed must be more than 0, got {}", cap);
        query["maximumBytesBilled"] = std::to_string(cap);
    }
    plan.configuration = {{"query", query}};
    plan.salt = "firebase_export";
    return plan;
}

void FirebaseExportOperator::on_succeeded(Finished finished, std::function<void(Result<nlohmann::json>)> done) const {
    auto ex = export_;
    BigQueryJobOperator::on_succeeded(finished, [finished, done, ex](Result<nlohmann::json> base) mutable {
        if (!base) return done(base);
        nlohmann::json job = std::move(*base);
        read_query_results(finished, ex->max_rows, [job, done, ex](Result<QueryResults> results) mutable {
            if (!results) return done(results.error());
            if (results->total_rows > ex->max_rows) {
                return done(make_error("the query gave {} rows, more than max_rows ({}); nothing was written",
                                       results->total_rows, ex->max_rows));
            }
            const nlohmann::json fields = results->schema.is_object()
                                              ? results->schema.value("fields", nlohmann::json::array())
                                              : nlohmann::json::array();
            for (std::size_t i = 0; i < results->rows.size(); ++i) {
                auto row = convert_bigquery_row(fields, std::move(results->rows[i]), ex->values,
                                                fmt::format("row {}", i + 1));
                if (!row) return done(row.error());
                results->rows[i] = std::move(*row);
            }
            export_rows(ex, results->rows, [job, done](Result<nlohmann::json> value) mutable {
                if (!value) return done(value.error());
                value->update(job);
                done(std::move(*value));
            });
        });
    });
}

}  // namespace mayaflow::firebase
