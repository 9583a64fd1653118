#include "operators/gcp/bigquery_job_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <mutex>

#include "engine/connections/secrets_lookup.h"
#include "engine/time/duration_text.h"
#include "engine/util/hash.h"
#include "engine/util/text.h"
#include "operators/async_try.h"
#include "operators/gcp/bigquery_rows.h"
#include "operators/gcp/gcp_services.h"
#include "operators/shell_process.h"

namespace mayaflow::gcp {
namespace {

// BigQuery's limit on a GoogleSQL query's text, comments and white space included.
constexpr size_t kMaxQueryCharacters = 1024 * 1000;

// Characters, not bytes: UTF-8 continuation bytes are not counted.
size_t character_count(std::string_view text) {
    return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

}  // namespace

Status check_query_length(const nlohmann::json& configuration) {
    const nlohmann::json* query = nullptr;
    if (configuration.contains("query") && configuration["query"].is_object() &&
        configuration["query"].contains("query") && configuration["query"]["query"].is_string()) {
        query = &configuration["query"]["query"];
    }
    if (!query) return Status::success();
    const size_t characters = character_count(query->get_ref<const std::string&>());
    if (characters <= kMaxQueryCharacters) return Status::success();
    return make_error("the query has {} characters; BigQuery takes at most {} (1024.00K), comments and white space "
                      "included: move data into a table and join it instead of writing it into the query",
                      characters, kMaxQueryCharacters);
}

namespace {

nlohmann::json member(const nlohmann::json& object, const char* name) {
    return object.is_object() && object.contains(name) ? object[name] : nlohmann::json();
}

// The label every job carries with the try that inserted it (label values: at most 63 of
// [a-z0-9_-]), so a try knows its own job from an earlier try's under the same id.
constexpr const char* kTryLabel = "mayaflow_try";

std::string try_label(std::string_view dag_id, std::string_view run_id, std::string_view task_id, int try_number) {
    ContentHash hash;
    hash.add(dag_id);
    hash.add(run_id);
    hash.add(task_id);
    hash.add(std::to_string(try_number));
    return hash.hex();
}

// force_rerun: false — a job found under the id is followed when it is this try's own (a lost
// answer, a restart), or an earlier try's in one of `reattach_states`; otherwise the try fails with
// Airflow's words.
BigQueryJob::Adopt earlier_job_check(std::string try_mark, std::vector<std::string> reattach_states) {
    return [try_mark = std::move(try_mark), reattach_states = std::move(reattach_states)](const nlohmann::json& job) {
        const nlohmann::json labels = member(member(job, "configuration"), "labels");
        if (member(labels, kTryLabel) == try_mark) return std::string();
        const nlohmann::json state = member(member(job, "status"), "state");
        const std::string state_text = state.is_string() ? state.get<std::string>() : "an unknown";
        if (std::find(reattach_states.begin(), reattach_states.end(), state_text) != reattach_states.end()) {
            return std::string();
        }
        const nlohmann::json reference = member(job, "jobReference");
        const nlohmann::json id = member(reference, "jobId");
        return fmt::format("Job with id: {} already exists and is in {} state. If you want to force rerun it consider "
                           "setting `force_rerun: true`. Or, if you want to reattach in this scenario add {} to "
                           "`reattach_states`",
                           id.is_string() ? id.get<std::string>() : "(unknown)", state_text, state_text);
    };
}

// BigQuery's rule for label keys: 1 to 63 characters, lowercase letters (international ones too),
// digits, '_' and '-', starting with a letter. Checked at load, where Google would refuse the job.
std::optional<ParamProblem> check_label_keys(const nlohmann::json& labels) {
    if (!labels.is_object()) return std::nullopt;
    for (const auto& [key, value] : labels.items()) {
        const auto first = static_cast<unsigned char>(key.empty() ? 0 : key[0]);
        bool fine = !key.empty() && key.size() <= 63 && (first >= 0x80 || (first >= 'a' && first <= 'z'));
        for (unsigned char c : key) {
            if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) fine = false;
        }
        if (!fine) {
            return ParamProblem{.path = {key},
                                .message = fmt::format("label key {} is not one BigQuery takes: 1 to 63 lowercase "
                                                       "letters, digits, '_' and '-', starting with a letter",
                                                       quote_name(key))};
        }
    }
    return std::nullopt;
}

// BigQuery's rule for label values: at most 63 characters of lowercase letters (international ones
// too), digits, '_' and '-', or empty. Checked once rendered, before any job: "" when fine.
std::string label_value_problem(const std::string& key, const nlohmann::json& value) {
    if (!value.is_string()) return fmt::format("label {} must be a string, not {}", quote_name(key), value.type_name());
    const std::string& text = value.get_ref<const std::string&>();
    size_t characters = 0;
    bool fine = true;
    for (unsigned char c : text) {
        if ((c & 0xC0) != 0x80) ++characters;  // a UTF-8 sequence's first byte
        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) fine = false;
    }
    if (fine && characters <= 63) return "";
    return fmt::format("label {} has the value {}, which BigQuery would refuse: at most 63 lowercase letters, digits, "
                       "'_' and '-'",
                       quote_name(key), quote_name(text.size() > 80 ? text.substr(0, 80) + "..." : text));
}

}  // namespace

long long bigquery_int64(const nlohmann::json& object, const char* name) {
    if (!object.is_object()) return 0;
    auto it = object.find(name);
    if (it == object.end()) return 0;
    if (it->is_number_integer()) return it->get<long long>();
    if (!it->is_string()) return 0;
    const std::string& text = it->get_ref<const std::string&>();
    long long value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

void add_table_layout(const nlohmann::json& params, nlohmann::json& configuration) {
    if (params.contains("time_partitioning") && !params["time_partitioning"].is_null()) {
        configuration["timePartitioning"] = params["time_partitioning"];
    }
    if (params.contains("cluster_fields") && !params["cluster_fields"].empty()) {
        configuration["clustering"] = {{"fields", params["cluster_fields"]}};
    }
}

Result<BigQueryJobOperator::JobPlan> BigQueryJobOperator::plan_in_project(const nlohmann::json& params,
                                                                          const GcpConnection& connection) {
    JobPlan plan;
    plan.project = params.value("project_id", std::string());
    if (plan.project.empty()) plan.project = connection.project;
    if (plan.project.empty()) {
        return make_error("no project to run the job in: set project_id, or the extra 'project' of connection '{}'",
                          connection.conn_id);
    }
    plan.location = params.value("location", std::string());
    return plan;
}

std::vector<ParamSpec> gcp_common_params() {
    return {
        ParamSpec{.name = "gcp_conn_id",
                  .type = ParamType::string,
                  .templated = true,
                  .default_value = std::string(kDefaultGcpConnId),
                  .help = "The google_cloud_platform connection to use"},
        ParamSpec{.name = "project_id",
                  .type = ParamType::string,
                  .templated = true,
                  .help = "The project the job runs in (default: the connection's project)"},
        ParamSpec{.name = "location",
                  .type = ParamType::string,
                  .templated = true,
                  .help = "Where the job runs: US, EU, asia-northeast1 … (default: where its datasets are)"},
        ParamSpec{.name = "labels",
                  .type = ParamType::string_map,
                  .templated = true,
                  .check = check_label_keys,
                  .help = "Labels put on the job"},
    };
}

Result<GcpConnection> gcp_connection_of(const TaskRun& run, const nlohmann::json& params) {
    const std::string conn_id = params.value("gcp_conn_id", std::string(kDefaultGcpConnId));
    if (!run.connections) return make_error("no connections are available to read '{}'", conn_id);
    auto connection = run.connections->find_connection(conn_id);
    if (!connection) return connection.error();
    if (!*connection) {
        std::string upper = conn_id;
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return make_error("The conn_id `{}` isn't defined: add it with `mayaflow connections add {} "
                          "--conn-type google_cloud_platform …` or AIRFLOW_CONN_{}",
                          conn_id, conn_id, upper);
    }
    return read_gcp_connection(**connection, run.base_environment);
}

BigQueryJobCost read_job_cost(const nlohmann::json& job) {
    BigQueryJobCost cost;
    const nlohmann::json id = member(member(job, "jobReference"), "jobId");
    if (id.is_string()) cost.job_id = id.get<std::string>();
    const nlohmann::json statistics = member(job, "statistics");
    const nlohmann::json query = member(statistics, "query");
    const nlohmann::json load = member(statistics, "load");
    cost.bytes_processed = bigquery_int64(statistics, "totalBytesProcessed");
    if (cost.bytes_processed == 0) cost.bytes_processed = bigquery_int64(query, "totalBytesProcessed");
    cost.bytes_billed = bigquery_int64(query, "totalBytesBilled");
    cost.slot_ms = bigquery_int64(statistics, "totalSlotMs");
    if (cost.slot_ms == 0) cost.slot_ms = bigquery_int64(query, "totalSlotMs");
    const nlohmann::json cache_hit = member(query, "cacheHit");
    cost.cache_hit = cache_hit.is_boolean() && cache_hit.get<bool>();
    if (load.is_object()) cost.rows_written = bigquery_int64(load, "outputRows");
    if (query.is_object() && query.contains("numDmlAffectedRows")) cost.rows_written = bigquery_int64(query, "numDmlAffectedRows");
    return cost;
}

struct BigQueryJobOperator::State : AsyncTry {
    std::shared_ptr<BigQueryJob> job;
    std::optional<WorkCost> cost;  // once the job has ended, as BigQuery reported it

  protected:
    void release() override { job.reset(); }  // the job's callbacks hold this state: let go of it
    void on_finish(OperatorResult& result) override { result.cost = cost; }
};

void BigQueryJobOperator::cancel() {
    auto state = state_;
    if (!state) return;
    if (!state->cancel()) return;
    std::shared_ptr<BigQueryJob> job;
    {
        std::lock_guard lock(state->mutex);
        job = state->job;
    }
    // Never ends the try on this thread (the executor holds its lock): the job's cancel answers on
    // the I/O thread, and a try with no job yet ends there too.
    if (job) {
        job->cancel();
    } else {
        GcpServices& services = services_ ? *services_ : GcpServices::shared();
        services.http().run_after(Duration::zero(), [state] { state->finish(state->stopped_result()); });
    }
}

void BigQueryJobOperator::detach() {
    auto state = state_;
    if (!state || !state->detach()) return;
    std::shared_ptr<BigQueryJob> job;
    {
        std::lock_guard lock(state->mutex);
        job = state->job;
    }
    if (job) {
        job->stop_following();
        state->log(fmt::format("the daemon is stopping: BigQuery job {} goes on, and is followed again when the daemon "
                               "starts",
                               job->job_id()));
    }
    // Ended on the I/O thread, never on this one (the executor holds its lock).
    GcpServices& services = services_ ? *services_ : GcpServices::shared();
    services.http().run_after(Duration::zero(), [state] { state->finish(state->stopped_result()); });
}

void BigQueryJobOperator::on_succeeded(Finished finished, std::function<void(Result<nlohmann::json>)> done) const {
    const BigQueryJobCost cost = read_job_cost(finished.job);
    nlohmann::json value = {{"job_id", finished.job_id},
                            {"bytes_processed", cost.bytes_processed},
                            {"bytes_billed", cost.bytes_billed}};
    if (cost.rows_written) value["rows_written"] = *cost.rows_written;
    done(value);
}

namespace {

// The pages of one getQueryResults read: rows are gathered until max_rows, the result's end, or a
// page that is broken.
struct ResultPages {
    std::string url;  // without pageToken
    std::string job_id;
    long long max_rows = 0;
    GoogleApi api;
    BigQueryJobOperator::QueryResults results;
    std::function<void(Result<BigQueryJobOperator::QueryResults>)> done;
    int pages = 0;
};

constexpr int kMaxResultPages = 1000;  // a page holds one row at least: max_rows (≤ 10,000) bounds it sooner

void read_result_page(std::shared_ptr<ResultPages> read, const std::string& page_token) {
    std::string url = read->url;
    if (!page_token.empty()) url += "&pageToken=" + url_encode(page_token);
    GoogleApi api = read->api;
    api.call("GET", url, std::nullopt, "getQueryResults of BigQuery job " + read->job_id, [read](ApiAnswer answer) {
        if (!answer.ok()) return read->done(make_error("{}", answer.error));
        const nlohmann::json& body = answer.body;
        if (body.contains("jobComplete") && body["jobComplete"] == false) {
            return read->done(make_error("getQueryResults of BigQuery job {} answered that the job is not complete, "
                                         "although jobs.get said DONE; the task's next try reads the result again",
                                         read->job_id));
        }
        auto& results = read->results;
        if (++read->pages == 1) {
            results.schema = body.value("schema", nlohmann::json());
            results.total_rows = bigquery_int64(body, "totalRows");
        }
        auto rows = decode_bigquery_rows(results.schema, body.value("rows", nlohmann::json()));
        if (!rows) return read->done(make_error("the result of the query: {}", rows.error().message));
        for (auto& row : *rows) {
            if (static_cast<long long>(results.rows.size()) >= read->max_rows) break;
            results.rows.push_back(std::move(row));
        }
        const long long expected = std::min(results.total_rows, read->max_rows);
        const long long have = static_cast<long long>(results.rows.size());
        if (have >= expected) return read->done(std::move(results));
        // BigQuery ends a page early when it is large (about 10 MB): the rest comes with pageToken.
        const std::string next = body.contains("pageToken") && body["pageToken"].is_string()
                                     ? body["pageToken"].get<std::string>()
                                     : std::string();
        if (next.empty() || rows->empty() || read->pages >= kMaxResultPages) {
            // N rows said, fewer sent and no way to the rest: a broken answer, not a smaller result
            // (a check must not pass on it).
            return read->done(make_error("getQueryResults of BigQuery job {} sent {} rows of a result of {} rows "
                                         "(asked for {}) and no page token for the rest; the answer is incomplete",
                                         read->job_id, have, results.total_rows, read->max_rows));
        }
        read_result_page(read, next);
    });
}

}  // namespace

void BigQueryJobOperator::read_query_results(const Finished& finished, long long max_rows,
                                             std::function<void(Result<QueryResults>)> done) {
    auto read = std::make_shared<ResultPages>(ResultPages{
        .url = fmt::format("{}/bigquery/v2/projects/{}/queries/{}?maxResults={}&timeoutMs=10000"
                           "&formatOptions.useInt64Timestamp=true",
                           finished.base_url, url_encode(finished.plan.project), url_encode(finished.job_id), max_rows),
        .job_id = finished.job_id,
        .max_rows = max_rows,
        .api = finished.api,
        .results = {},
        .done = std::move(done)});
    if (!finished.plan.location.empty()) read->url += "&location=" + url_encode(finished.plan.location);
    read_result_page(std::move(read), "");
}

void BigQueryJobOperator::run_followup_query(const Finished& finished, const std::string& suffix, const std::string& sql,
                                             long long max_rows, std::function<void(Result<QueryResults>)> done) {
    nlohmann::json configuration = {{"query", {{"query", sql}, {"useLegacySql", false}}}};
    if (finished.plan.configuration.contains("labels")) configuration["labels"] = finished.plan.configuration["labels"];
    Finished followup = finished;
    followup.job_id = finished.job_id.substr(0, 1000) + "_" + suffix;
    auto job = std::make_shared<BigQueryJob>(finished.api, finished.base_url, finished.plan.project,
                                             finished.plan.location, followup.job_id, configuration,
                                             [](const std::string&) {});
    job->start([followup = std::move(followup), max_rows, done = std::move(done)](BigQueryJobEnd end) mutable {
        if (end.outcome != BigQueryJobEnd::Outcome::succeeded) return done(make_error("{}", end.error));
        read_query_results(followup, max_rows, std::move(done));
    });
}

void BigQueryJobOperator::start(const TaskRun& run, Done done) {
    auto state = std::make_shared<State>();
    state->run = &run;
    state->done = std::move(done);
    state_ = state;
    GcpServices& services = services_ ? *services_ : GcpServices::shared();

    auto params = render_templated_params(spec(), run.task, make_task_context(run));
    if (!params) return state->fail(params.error().message);
    auto gcp = gcp_connection_of(run, *params);
    if (!gcp) return state->fail(gcp.error().message);
    GoogleApi api = services.api_for(*gcp);
    auto plan = this->plan(*params, *gcp, api);
    if (!plan) return state->fail(plan.error().message);
    if (auto too_long = check_query_length(plan->configuration); !too_long) return state->fail(too_long.error().message);
    if (params->contains("labels") && (*params)["labels"].is_object() && !(*params)["labels"].empty()) {
        // Added to the configuration's own (bigquery_insert_job's), the task's winning on the same key.
        for (const auto& [key, value] : (*params)["labels"].items()) {
            if (std::string problem = label_value_problem(key, value); !problem.empty()) return state->fail(problem);
            plan->configuration["labels"][key] = value;
        }
    }

    const auto& info = run.run_info;
    const Instant logical_date = info.logical_date.value_or(info.data_interval_start);
    std::string salt = plan->salt + "|" + info.run_id;
    // `tasks test`: a job of its own each time — unless force_rerun: false asks for one job per
    // configuration, which then finds the earlier test's job as a later try would.
    const std::string fresh =
        run.fresh_remote_work ? std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) : "";
    if (plan->job_per_try) salt += "|" + fresh;
    const std::string job_id = bigquery_job_id(
        plan->job_id_prefix.empty() ? fmt::format("mayaflow_{}_{}", info.dag_id, run.task.task_id) : plan->job_id_prefix,
        logical_date, plan->job_per_try ? std::optional<int>(run.try_number) : std::nullopt, plan->configuration, salt);
    // The try's mark on its job: a job found under the id is this try's own when it carries it.
    const std::string try_mark = try_label(info.dag_id, info.run_id + fresh, run.task.task_id, run.try_number);
    plan->configuration["labels"][kTryLabel] = try_mark;
    const std::string base_url = gcp->endpoints.bigquery;
    state->log(fmt::format("BigQuery job {} in project {}{} ({}): {}", job_id, plan->project,
                           plan->location.empty() ? "" : ", location " + plan->location, api.tokens().describe(),
                           bigquery_console_link(plan->project, plan->location.empty() ? "US" : plan->location, job_id)));

    if (run.execution_timeout) {
        state->timeout = *run.execution_timeout;
        Duration left = *run.execution_timeout;
        if (try_started_at_ && *try_started_at_ != Instant{}) {
            const auto now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
            left = std::max(Duration::zero(), left - (now - *try_started_at_));
        }
        services.http().run_after(left, [state] {
            if (!state->time_out()) return;
            std::shared_ptr<BigQueryJob> job;
            {
                std::lock_guard lock(state->mutex);
                job = state->job;
            }
            if (job) job->cancel();
            else state->finish(state->stopped_result());
        });
    }

    auto run_job = [this, state, api, base_url, plan = *plan, job_id, try_mark, params = *params]() mutable {
        if (state->stopping()) return state->finish(state->stopped_result());
        auto job = std::make_shared<BigQueryJob>(api, base_url, plan.project, plan.location, job_id, plan.configuration,
                                                 [state](const std::string& line) { state->log(line); });
        if (!plan.job_per_try) job->set_adopt_check(earlier_job_check(try_mark, plan.reattach_states));
        {
            std::lock_guard lock(state->mutex);
            state->job = job;
        }
        job->start([this, state, api, base_url, plan, job_id, params](BigQueryJobEnd end) mutable {
            using Outcome = BigQueryJobEnd::Outcome;
            if (end.job.is_object()) {
                const BigQueryJobCost cost = read_job_cost(end.job);
                {
                    std::lock_guard lock(state->mutex);
                    state->cost = cost;
                }
                state->log(fmt::format("BigQuery job {} {}: processed {} bytes, billed {} bytes, {} slot ms{}{}",
                                       job_id,
                                       end.outcome == Outcome::succeeded   ? "done"
                                       : end.outcome == Outcome::cancelled ? "cancelled"
                                                                           : "failed",
                                       cost.bytes_processed, cost.bytes_billed, cost.slot_ms,
                                       cost.cache_hit ? ", from the cache" : "",
                                       cost.rows_written ? fmt::format(", {} rows written", *cost.rows_written) : ""));
            }
            if (end.outcome == Outcome::cancelled) return state->finish(state->stopped_result());
            if (end.outcome == Outcome::failed) return state->fail(end.error);
            on_succeeded(Finished{api, base_url, plan, job_id, end.job, params}, [state](Result<nlohmann::json> value) {
                if (!value) return state->fail(value.error().message);
                state->finish(OperatorResult{.outcome = TaskOutcome::success, .value = std::move(*value)});
            });
        });
    };

    if (!plan->estimate_cap) return run_job();
    // A dry run first: BigQuery says how many bytes the job would process, and costs nothing.
    nlohmann::json configuration = plan->configuration;
    configuration["dryRun"] = true;
    nlohmann::json reference = {{"projectId", plan->project}};
    if (!plan->location.empty()) reference["location"] = plan->location;
    const long long cap = *plan->estimate_cap;
    api.call("POST", fmt::format("{}/bigquery/v2/projects/{}/jobs", base_url, url_encode(plan->project)),
             nlohmann::json{{"jobReference", reference}, {"configuration", configuration}},
             "the dry run of BigQuery job " + job_id,
             [state, cap, run_job = std::move(run_job)](ApiAnswer answer) mutable {
                 if (!answer.ok()) return state->fail(answer.error);
                 const long long bytes = read_job_cost(answer.body).bytes_processed;
                 state->log(fmt::format("dry run: the job would process {} bytes (the cap is {})", bytes, cap));
                 if (bytes > cap) {
                     return state->fail(fmt::format("the job would process {} bytes, more than maximum_bytes_billed "
                                                    "({}); it was not run (raise the cap, or narrow the query)",
                                                    bytes, cap));
                 }
                 run_job();
             });
}

}  // namespace mayaflow::gcp
