#pragma once
// bigquery_insert_job, as Airflow's BigQueryInsertJobOperator: any BigQuery job (query, load, copy,
// extract) from a `configuration` mapping written as BigQuery's JobConfiguration, or a .json file
// beside the DAG. The configuration is checked against BigQuery's discovery document when the DAG
// loads, so a misspelled field is a DAG error with its file and line, not a failed run at 3 am.
//
// Job ids: `job_id` (templated) replaces the id's head. force_rerun (true by default, as Airflow)
// gives every try its own job; a restart of the daemon or a lost answer still re-attaches to the
// try's own job, which Airflow's random suffix cannot. force_rerun: false makes the id the same for
// every try of the same configuration and logical date: a later try that finds an earlier try's job
// follows it when its state is in `reattach_states`, and fails otherwise.

#include "operators/gcp/bigquery_job_operator.h"

namespace mayaflow::gcp {

OperatorSpec bigquery_insert_job_operator_spec();

// The configuration as sent: a mapping, or JSON text (a .json file's) read as one; checked against
// BigQuery's JobConfiguration schema. Text that is still a template passes (checked once rendered).
std::optional<ParamProblem> check_job_configuration(const nlohmann::json& configuration);

class BigQueryInsertJobOperator : public BigQueryJobOperator {
  public:
    using BigQueryJobOperator::BigQueryJobOperator;

  protected:
    const OperatorSpec& spec() const override;
    Result<JobPlan> plan(const nlohmann::json& params, const GcpConnection& connection, GoogleApi& api) const override;
};

}  // namespace mayaflow::gcp
