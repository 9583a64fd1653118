#include "operators/operator_registry.h"

#include "operators/core/bash_operator.h"
#include "operators/core/empty_operator.h"
#include "operators/firebase/firebase_export_operator.h"
#include "operators/gcp/bigquery_insert_job_operator.h"
#include "operators/gcp/bigquery_check_operators.h"
#include "operators/gcp/bigquery_query_operator.h"
#include "operators/gcp/gcp_services.h"
#include "operators/gcp/gcs_sensors.h"
#include "operators/gcp/gcs_to_bigquery_operator.h"
#include "operators/notebook/notebook_operator.h"
#include "operators/notify/notifier_specs.h"
#include "operators/notify/slack_webhook_operator.h"

namespace mayaflow {

void OperatorRegistry::add(OperatorSpec spec, OperatorFactory factory) {
    std::string name = spec.name;
    entries_.insert_or_assign(std::move(name), Entry{std::move(spec), std::move(factory)});
}

const OperatorSpec* OperatorRegistry::find(std::string_view operator_name) const {
    auto it = entries_.find(operator_name);
    return it == entries_.end() ? nullptr : &it->second.spec;
}

std::vector<std::string> OperatorRegistry::names() const {
    std::vector<std::string> result;
    for (const auto& [name, entry] : entries_) result.push_back(name);
    return result;
}

std::unique_ptr<Operator> OperatorRegistry::create(std::string_view operator_name) const {
    auto it = entries_.find(operator_name);
    if (it == entries_.end() || !it->second.factory) return nullptr;
    return it->second.factory();
}

void OperatorRegistry::add_notifier(OperatorSpec spec) {
    std::string name = spec.name;
    notifiers_.insert_or_assign(std::move(name), std::move(spec));
}

const OperatorSpec* OperatorRegistry::find_notifier(std::string_view notifier_name) const {
    auto it = notifiers_.find(notifier_name);
    return it == notifiers_.end() ? nullptr : &it->second;
}

std::vector<std::string> OperatorRegistry::notifier_names() const {
    std::vector<std::string> result;
    for (const auto& [name, spec] : notifiers_) result.push_back(name);
    return result;
}

const OperatorRegistry& builtin_operators() {
    static const OperatorRegistry registry = [] {
        OperatorRegistry r;
        r.add(bash_operator_spec(), [] { return std::make_unique<BashOperator>(); });
        r.add(empty_operator_spec(), [] { return std::make_unique<EmptyOperator>(); });
        r.add(gcp::bigquery_insert_job_operator_spec(),
              [] { return std::make_unique<gcp::BigQueryInsertJobOperator>(); });
        r.add(gcp::bigquery_query_operator_spec(), [] { return std::make_unique<gcp::BigQueryQueryOperator>(); });
        r.add(gcp::gcs_to_bigquery_operator_spec(), [] { return std::make_unique<gcp::GcsToBigQueryOperator>(); });
        r.add(gcp::gcs_object_sensor_spec(), [] { return std::make_unique<gcp::GcsObjectSensor>(); });
        r.add(gcp::gcs_object_update_sensor_spec(), [] { return std::make_unique<gcp::GcsObjectUpdateSensor>(); });
        r.add(gcp::bigquery_check_operator_spec(), [] { return std::make_unique<gcp::BigQueryCheckOperator>(); });
        r.add(gcp::bigquery_value_check_operator_spec(), [] { return std::make_unique<gcp::BigQueryValueCheckOperator>(); });
        r.add(gcp::bigquery_column_check_operator_spec(), [] { return std::make_unique<gcp::BigQueryColumnCheckOperator>(); });
        r.add(gcp::bigquery_table_check_operator_spec(), [] { return std::make_unique<gcp::BigQueryTableCheckOperator>(); });
        r.add(slack_webhook_operator_spec(), [] { return std::make_unique<SlackWebhookOperator>(); });
        r.add_notifier(notify::slack_notifier_spec());
        r.add_notifier(notify::webhook_notifier_spec());
        r.add(firebase::firebase_export_operator_spec(),
              [] { return std::make_unique<firebase::FirebaseExportOperator>(); });
        r.add(notebook_operator_spec(), [] { return std::make_unique<NotebookOperator>(); });
        gcp::register_gcp_connection_test();
        return r;
    }();
    return registry;
}

}  // namespace mayaflow
