#pragma once
// The names Airflow gives a task's templates (ds, ts, logical_date, params, dag_run, ti, macros, var,
// conn ...), built from what mayaflow knows about one task run. All dates are in UTC, as in Airflow:
// `ds` is the UTC date of the logical date even for a DAG in another zone (templates that want the
// local date write `{{ logical_date.in_timezone('Asia/Tokyo') | ds }}`).

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/template/template.h"
#include "engine/time/instant.h"
#include "engine/time/time_zone.h"

namespace mayaflow::tmpl {

// What a template needs to know about the task run it is rendered for.
struct RunInfo {
    std::string dag_id;
    std::string task_id;
    std::string run_id;
    std::optional<Instant> logical_date;  // absent: ds, ts and friends are undefined
    Instant data_interval_start;
    Instant data_interval_end;
    Instant start_date;  // when the DAG run started
    // The DAG's previous successful run, for Airflow's prev_data_interval_start_success,
    // prev_data_interval_end_success, prev_start_date_success and prev_end_date_success; each is None
    // in the template when absent (no such run, or the caller does not know it).
    std::optional<Instant> prev_data_interval_start_success;
    std::optional<Instant> prev_data_interval_end_success;
    std::optional<Instant> prev_start_date_success;
    std::optional<Instant> prev_end_date_success;
    TimeZone dag_timezone = TimeZone::utc();
    nlohmann::json params = nlohmann::json::object();     // the DAG's params
    nlohmann::json conf = nlohmann::json::object();       // the run's conf; its keys override params
    nlohmann::json loop_vars = nlohmann::json::object();  // for_each variables, visible by name
    // Variable lookup for var.value / var.json; nullopt: no such variable. May throw TemplateError.
    std::function<std::optional<std::string>(std::string_view)> variable;
    // Connection lookup for conn.<id>: {conn_type, description, host, login, password, schema, port,
    // extra, extra_dejson} — extra as stored (text or null) with extra_dejson its parsed object, or
    // extra an object and no extra_dejson. Nullopt: no such connection. May throw TemplateError (a
    // connection that cannot be read), which becomes the template's error.
    std::function<std::optional<nlohmann::json>(std::string_view conn_id)> connection;
    // A finished task's return value, for ti.xcom_pull(task_ids='x').
    std::function<std::optional<nlohmann::json>(std::string_view task_id)> task_result;
    int try_number = 1;
    std::string run_type = "manual";  // scheduled | manual | backfill
};

Context make_airflow_context(const RunInfo& run);

// The `macros` object on its own (ds_add, ds_format, datetime, timedelta, uuid).
Value make_airflow_macros();

}  // namespace mayaflow::tmpl
