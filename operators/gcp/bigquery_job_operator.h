#pragma once
// The base of the operators that run one BigQuery job per try (bigquery_query, gcs_to_bigquery,
// bigquery_insert_job): it renders the task, reads its google_cloud_platform connection, asks the
// operator for the job's configuration, runs the job under the try's fixed job id (BigQueryJob:
// a restart or a lost answer re-attaches), writes the job id, the console link, BigQuery's errors
// and the job's cost into the try's log, honours the execution timeout and cancel() by cancelling
// the job, and holds no thread while the job runs.

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

#include "engine/model/operator_spec.h"
#include "operators/gcp/bigquery_job.h"
#include "operators/gcp/gcp_connection.h"
#include "operators/operator.h"

namespace mayaflow::gcp {

class GcpServices;

// The parameters every Google Cloud operator takes, as Airflow names them.
std::vector<ParamSpec> gcp_common_params();

// The google_cloud_platform connection the try's rendered `gcp_conn_id` names, read for its
// credentials and endpoints; an error says how to add a connection that is missing.
Result<GcpConnection> gcp_connection_of(const TaskRun& run, const nlohmann::json& params);

// A BigQuery int64 member (sent as a string, sometimes as a number); 0 when absent or unreadable.
long long bigquery_int64(const nlohmann::json& object, const char* name);

// The destination table's `time_partitioning` and `cluster_fields` parameters, as BigQuery's
// timePartitioning and clustering in a query or load configuration.
void add_table_layout(const nlohmann::json& params, nlohmann::json& configuration);

// The cost of a finished job as BigQuery reports it (statistics), for the log and the result.
using BigQueryJobCost = WorkCost;
BigQueryJobCost read_job_cost(const nlohmann::json& job);

// A query job's text over BigQuery's 1,024,000-character limit is refused before any job is sent.
Status check_query_length(const nlohmann::json& configuration);

class BigQueryJobOperator : public AsyncOperator {
  public:
    // `services`: null for the process's shared ones.
    explicit BigQueryJobOperator(GcpServices* services = nullptr) : services_(services) {}

    void start(const TaskRun& run, Done done) override;
    // The try's job id is fixed, so a try caught by a restart simply follows its job again; its
    // execution timeout counts from the try's start, not from the restart.
    void start_resume(const TaskRun& run, const StartedProcess& recorded, Done done) override {
        try_started_at_ = recorded.started_at;
        start(run, std::move(done));
    }
    void cancel() override;
    // Leaves the job running: the restarted daemon follows it under the same id.
    void detach() override;

    // What a finished query job gave back (read_query_results).
    struct QueryResults {
        nlohmann::json schema;  // {"fields": [...]}, in the columns' order
        nlohmann::json rows = nlohmann::json::array();  // [{column: value}]
        long long total_rows = 0;
    };

  protected:
    struct JobPlan {
        std::string project;
        std::string location;  // "" lets BigQuery choose (the dataset's)
        nlohmann::json configuration;
        // A dry run first, and no job when it would process more than this many bytes.
        std::optional<long long> estimate_cap;
        std::string salt;  // added to the job id's hash
        // bigquery_insert_job's job_id: the id's head instead of mayaflow_<dag>_<task>.
        std::string job_id_prefix;
        // false (force_rerun: false): the try number is left out of the id, so a later try with the
        // same configuration finds the job an earlier one ran; it follows it when the job's state is
        // in `reattach_states`, and fails otherwise (as Airflow). A try always follows its own job.
        bool job_per_try = true;
        std::vector<std::string> reattach_states;
    };
    virtual const OperatorSpec& spec() const = 0;
    // A plan with the job's project (project_id, else the connection's; an error when neither has
    // one) and location; the operator adds the configuration. The job's labels are added after.
    static Result<JobPlan> plan_in_project(const nlohmann::json& params, const GcpConnection& connection);
    // The job for these rendered parameters; an error fails the try before any job is sent. Runs on
    // the executor's thread, so it may call Google and wait (`api`: a schema file in Cloud Storage).
    virtual Result<JobPlan> plan(const nlohmann::json& params, const GcpConnection& connection,
                                 GoogleApi& api) const = 0;
    // The try's result once the job succeeded; the default is the job id and its cost. May call
    // BigQuery again (the query operator reads the first rows); calls `done` once.
    struct Finished {
        GoogleApi api;
        std::string base_url;
        JobPlan plan;
        std::string job_id;
        nlohmann::json job;
        nlohmann::json params;
    };
    virtual void on_succeeded(Finished finished, std::function<void(Result<nlohmann::json>)> done) const;

    // The first `max_rows` rows of a finished query job (getQueryResults), decoded (bigquery_rows.h).
    static void read_query_results(const Finished& finished, long long max_rows,
                                   std::function<void(Result<QueryResults>)> done);
    // One more GoogleSQL query job after the try's (its id: the try's + "_" + `suffix`, so a
    // restart re-attaches to it too), and its first `max_rows` rows.
    static void run_followup_query(const Finished& finished, const std::string& suffix, const std::string& sql,
                                   long long max_rows, std::function<void(Result<QueryResults>)> done);

  private:
    struct State;
    GcpServices* services_;
    std::shared_ptr<State> state_;
    std::optional<Instant> try_started_at_;  // of a resumed try
};

}  // namespace mayaflow::gcp
