#pragma once
// firebase_export: rows — from a BigQuery query (`sql`, run as bigquery_query runs it: one job per
// try under a fixed id, no thread held while it runs) or from an upstream task's result
// (`rows_from: <task_id>`, or `rows` rendered from a template) — keyed by `key_column` and written
// to a Firebase Realtime Database `path` as {"<key>": {other columns}}, with PUT (replace) or PATCH
// (merge), in chunks (firebase_export_writer.h), keys checked against Firebase's rules
// (`invalid_keys`). The result says how many rows were read, written, skipped and sanitized.

#include <memory>

#include "operators/gcp/bigquery_job_operator.h"

namespace mayaflow::firebase {

OperatorSpec firebase_export_operator_spec();

class FirebaseExportOperator : public gcp::BigQueryJobOperator {
  public:
    explicit FirebaseExportOperator(gcp::GcpServices* services = nullptr);
    ~FirebaseExportOperator() override;

    void start(const TaskRun& run, Done done) override;
    // start_resume is the base's: it calls start(), and a try caught by a restart begins again (its
    // query job is followed under its fixed id; every write may be repeated).
    void cancel() override;
    void detach() override;

    struct Export;  // one try's export: its database, options and log

  protected:
    const OperatorSpec& spec() const override;
    Result<JobPlan> plan(const nlohmann::json& params, const gcp::GcpConnection& connection,
                         gcp::GoogleApi& api) const override;
    void on_succeeded(Finished finished, std::function<void(Result<nlohmann::json>)> done) const override;

  private:
    struct DirectTry;
    gcp::GcpServices* services_;
    std::shared_ptr<Export> export_;
    std::shared_ptr<DirectTry> direct_;  // a try without a query (rows_from, rows)
};

}  // namespace mayaflow::firebase
