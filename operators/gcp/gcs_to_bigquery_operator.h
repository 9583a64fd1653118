#pragma once
// gcs_to_bigquery, as Airflow's GCSToBigQueryOperator: loads files from Cloud Storage
// (gs://<bucket>/<source_objects>, wildcards allowed) into a BigQuery table with one load job —
// into a day's partition with a decorator (`raw.expenses$20240101` and WRITE_TRUNCATE replace that
// day only). The schema is given (`schema_fields`), read from a JSON file in the bucket
// (`schema_object`), or detected (`autodetect`).

#include "operators/gcp/bigquery_job_operator.h"

namespace mayaflow::gcp {

OperatorSpec gcs_to_bigquery_operator_spec();

class GcsToBigQueryOperator : public BigQueryJobOperator {
  public:
    using BigQueryJobOperator::BigQueryJobOperator;

  protected:
    const OperatorSpec& spec() const override;
    Result<JobPlan> plan(const nlohmann::json& params, const GcpConnection& connection, GoogleApi& api) const override;
};

}  // namespace mayaflow::gcp
