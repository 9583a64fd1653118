#pragma once
// bigquery_query: the short form of a BigQuery query job that most DAGs need — `sql` inline or a
// .sql file beside the DAG, rendered; an optional destination table (with a partition decorator);
// named, typed query parameters; a byte cap. GoogleSQL always (useLegacySql: false is sent). The
// first rows of the result (max_result_rows, 100 by default) become the task's result, for
// downstream templates (`{{ ti.xcom_pull(task_ids='q')['rows'][0]['n'] }}`).

#include "operators/gcp/bigquery_job_operator.h"

namespace mayaflow::gcp {

OperatorSpec bigquery_query_operator_spec();

// query_params as BigQuery's queryParameters: a list of them is taken as written (Airflow's form);
// a mapping of name → value is typed from the value (5 → INT64, 1.5 → FLOAT64, true → BOOL, text →
// STRING, a list → ARRAY of its items' type) or given as {type: DATE, value: "2024-01-01"}.
Result<nlohmann::json> bigquery_query_parameters(const nlohmann::json& query_params);

// The task's query_params, when it has some, into a query configuration (parameterMode NAMED).
Status add_query_parameters(const nlohmann::json& params, nlohmann::json& query);

class BigQueryQueryOperator : public BigQueryJobOperator {
  public:
    using BigQueryJobOperator::BigQueryJobOperator;

  protected:
    const OperatorSpec& spec() const override;
    Result<JobPlan> plan(const nlohmann::json& params, const GcpConnection& connection, GoogleApi& api) const override;
    void on_succeeded(Finished finished, std::function<void(Result<nlohmann::json>)> done) const override;
};

}  // namespace mayaflow::gcp
