#pragma once
// The daemon's metrics in Prometheus's text format (served at /metrics): each layer reports what it
// sees through these functions, and only metrics.cpp knows prometheus-cpp. Names follow Airflow's
// metrics where one exists (scheduler loop duration, task instances by state, pool slots, DAG
// parse time, import errors), prefixed `mayaflow_`.
//
// The metrics live in the process: under `mayaflow standalone` /metrics shows the scheduler's and
// the web server's; a `mayaflow webserver` in another process shows its own HTTP metrics and what it
// reads from the store.

#include <string>
#include <string_view>

namespace mayaflow::metrics {

// One turn of the scheduler's loop: how long it took and whether its decisions were committed.
void scheduler_turn(double seconds, bool committed);
// A task try ended: success, failed, skipped or rescheduled (a sensor's poke).
void task_try_ended(std::string_view operator_name, std::string_view outcome, double seconds);
// A BigQuery job of a task ended: the bytes it processed and was billed for.
void bigquery_bytes(std::string_view dag_id, long long processed, long long billed);
// One parse of a DAG file.
void dag_file_parsed(double seconds, bool loaded);
// An HTTP request answered: the route's pattern (never the raw path, whose ids would make a series
// per run), its method and status.
void http_request(std::string_view route, std::string_view method, int status, double seconds);

// Gauges, set to what is so at the moment of a scrape.
void set_task_instances(std::string_view state, double count);
void set_dag_runs(std::string_view state, double count);
void set_executor_queue(double queued, double running);
void set_pool_slots(std::string_view pool, std::string_view kind, double slots);  // kind: open, running, queued, total
void set_import_errors(double count);
void set_dags(double active, double paused);

// Everything, in the Prometheus text exposition format 0.0.4.
std::string render();

}  // namespace mayaflow::metrics
