#pragma once
// The BigQuery data-quality checks, as Airflow's BigQuery*CheckOperators: each runs one query job per
// try (BigQueryJobOperator: fixed job id, cancel, cost, no thread held while waiting), reads the
// first row of its result and judges it; a failed check fails the try with a message that names the
// check and shows the offending values (the first ten).
//   bigquery_check         the task's `sql`; fails on no row, or a false value in the first row
//   bigquery_value_check   the task's `sql`; every value of the first row against pass_value ± tolerance
//   bigquery_column_check  column_mapping, unique, not_null, accepted_values over `table`
//   bigquery_table_check   checks (check_statement), min_rows, max_rows over `table`
// GoogleSQL always: use_legacy_sql must be false or absent.

#include "operators/gcp/bigquery_check_sql.h"
#include "operators/gcp/bigquery_job_operator.h"

namespace mayaflow::gcp {

OperatorSpec bigquery_check_operator_spec();
OperatorSpec bigquery_value_check_operator_spec();
OperatorSpec bigquery_column_check_operator_spec();
OperatorSpec bigquery_table_check_operator_spec();

// What the four share: the query job, the first row read back, the verdict.
class BigQueryCheckJobOperator : public BigQueryJobOperator {
  public:
    using BigQueryJobOperator::BigQueryJobOperator;

  protected:
    // The check's query for the rendered parameters; `project` is the job's (the default of tables).
    virtual Result<std::string> check_sql(const nlohmann::json& params, const std::string& project) const = 0;
    // The verdict on the query's first rows: an error is the failed check's message.
    virtual Status judge(const nlohmann::json& params, const std::string& project,
                         const QueryResults& results) const = 0;
    // When the verdict is a failure: a query of the rows that make it fail, to show the first ten of
    // them in the message (run as one more job); "" when there is none to run.
    virtual std::string failing_rows_sql(const nlohmann::json&, const std::string&, const QueryResults&) const {
        return "";
    }

    Result<JobPlan> plan(const nlohmann::json& params, const GcpConnection& connection, GoogleApi& api) const final;
    void on_succeeded(Finished finished, std::function<void(Result<nlohmann::json>)> done) const final;
};

class BigQueryCheckOperator : public BigQueryCheckJobOperator {
  public:
    using BigQueryCheckJobOperator::BigQueryCheckJobOperator;

  protected:
    const OperatorSpec& spec() const override;
    Result<std::string> check_sql(const nlohmann::json& params, const std::string& project) const override;
    Status judge(const nlohmann::json& params, const std::string& project, const QueryResults& results) const override;
};

class BigQueryValueCheckOperator : public BigQueryCheckOperator {
  public:
    using BigQueryCheckOperator::BigQueryCheckOperator;

  protected:
    const OperatorSpec& spec() const override;
    Result<std::string> check_sql(const nlohmann::json& params, const std::string& project) const override;
    Status judge(const nlohmann::json& params, const std::string& project, const QueryResults& results) const override;
};

// The checks whose query mayaflow builds over a table (bigquery_check_sql.h).
class BigQueryTableChecksOperator : public BigQueryCheckJobOperator {
  public:
    using BigQueryCheckJobOperator::BigQueryCheckJobOperator;

  protected:
    virtual Result<TableCheckPlan> table_checks(const nlohmann::json& params, std::string_view project) const = 0;
    Result<std::string> check_sql(const nlohmann::json& params, const std::string& project) const final;
    Status judge(const nlohmann::json& params, const std::string& project, const QueryResults& results) const final;
    std::string failing_rows_sql(const nlohmann::json& params, const std::string& project,
                                 const QueryResults& results) const final;
};

class BigQueryColumnCheckOperator : public BigQueryTableChecksOperator {
  public:
    using BigQueryTableChecksOperator::BigQueryTableChecksOperator;

  protected:
    const OperatorSpec& spec() const override;
    Result<TableCheckPlan> table_checks(const nlohmann::json& params, std::string_view project) const override;
};

class BigQueryTableCheckOperator : public BigQueryTableChecksOperator {
  public:
    using BigQueryTableChecksOperator::BigQueryTableChecksOperator;

  protected:
    const OperatorSpec& spec() const override;
    Result<TableCheckPlan> table_checks(const nlohmann::json& params, std::string_view project) const override;
};

}  // namespace mayaflow::gcp
