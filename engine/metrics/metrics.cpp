#include "engine/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <mutex>

namespace mayaflow::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Seconds, from a millisecond to an hour: scheduler turns sit at the low end, tasks anywhere.
Histogram::BucketBoundaries turn_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}
Histogram::BucketBoundaries task_buckets() {
    return {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 4 * 3600};
}
Histogram::BucketBoundaries http_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
}

struct Registry {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
    prometheus::Family<Histogram>& turn_seconds =
        BuildHistogram().Name("mayaflow_scheduler_loop_duration_seconds")
            .Help("How long one turn of the scheduler's loop took (Airflow: scheduler.scheduler_loop_duration)")
            .Register(*registry);
    prometheus::Family<prometheus::Counter>& turns =
        BuildCounter().Name("mayaflow_scheduler_turns_total")
            .Help("Turns of the scheduler's loop, by whether their decisions were committed")
            .Register(*registry);
    prometheus::Family<Histogram>& task_seconds =
        BuildHistogram().Name("mayaflow_task_duration_seconds")
            .Help("How long task tries ran, by operator and outcome")
            .Register(*registry);
    prometheus::Family<prometheus::Counter>& bytes =
        BuildCounter().Name("mayaflow_bigquery_bytes_total")
            .Help("Bytes BigQuery processed and billed for the tasks' jobs, by DAG")
            .Register(*registry);
    prometheus::Family<Histogram>& parse_seconds =
        BuildHistogram().Name("mayaflow_dag_processing_duration_seconds")
            .Help("How long one parse of a DAG file took, by whether it loaded (Airflow: dag_processing.last_duration)")
            .Register(*registry);
    prometheus::Family<Histogram>& http_seconds =
        BuildHistogram().Name("mayaflow_http_request_duration_seconds")
            .Help("HTTP requests answered, by route, method and status")
            .Register(*registry);
    prometheus::Family<prometheus::Gauge>& task_instances =
        BuildGauge().Name("mayaflow_task_instances").Help("Task instances by state").Register(*registry);
    prometheus::Family<prometheus::Gauge>& dag_runs =
        BuildGauge().Name("mayaflow_dag_runs").Help("DAG runs by state").Register(*registry);
    prometheus::Family<prometheus::Gauge>& executor =
        BuildGauge().Name("mayaflow_executor_tasks")
            .Help("Task tries in the executor: queued (waiting for a worker) and running")
            .Register(*registry);
    prometheus::Family<prometheus::Gauge>& pool_slots =
        BuildGauge().Name("mayaflow_pool_slots").Help("Slots of each pool by kind: total, open, running, queued").Register(*registry);
    prometheus::Family<prometheus::Gauge>& import_errors =
        BuildGauge().Name("mayaflow_dag_import_errors").Help("DAG files that could not be loaded").Register(*registry);
    prometheus::Family<prometheus::Gauge>& dags =
        BuildGauge().Name("mayaflow_dags").Help("DAGs loaded, by whether they are paused").Register(*registry);
};

Registry& registry() {
    static Registry instance;
    return instance;
}

std::string text(std::string_view view) { return std::string(view); }

}  // namespace

void scheduler_turn(double seconds, bool committed) {
    auto& r = registry();
    r.turn_seconds.Add({}, turn_buckets()).Observe(seconds);
    r.turns.Add({{"committed", committed ? "true" : "false"}}).Increment();
}

void task_try_ended(std::string_view operator_name, std::string_view outcome, double seconds) {
    registry().task_seconds.Add({{"operator", text(operator_name)}, {"outcome", text(outcome)}}, task_buckets())
        .Observe(seconds < 0 ? 0 : seconds);
}

void bigquery_bytes(std::string_view dag_id, long long processed, long long billed) {
    auto& r = registry();
    r.bytes.Add({{"dag_id", text(dag_id)}, {"kind", "processed"}}).Increment(static_cast<double>(std::max(0LL, processed)));
    r.bytes.Add({{"dag_id", text(dag_id)}, {"kind", "billed"}}).Increment(static_cast<double>(std::max(0LL, billed)));
}

void dag_file_parsed(double seconds, bool loaded) {
    registry().parse_seconds.Add({{"loaded", loaded ? "true" : "false"}}, turn_buckets()).Observe(seconds);
}

void http_request(std::string_view route, std::string_view method, int status, double seconds) {
    registry()
        .http_seconds.Add({{"route", text(route)}, {"method", text(method)}, {"status", std::to_string(status)}},
                          http_buckets())
        .Observe(seconds);
}

void set_task_instances(std::string_view state, double count) {
    registry().task_instances.Add({{"state", text(state)}}).Set(count);
}
void set_dag_runs(std::string_view state, double count) { registry().dag_runs.Add({{"state", text(state)}}).Set(count); }
void set_executor_queue(double queued, double running) {
    registry().executor.Add({{"kind", "queued"}}).Set(queued);
    registry().executor.Add({{"kind", "running"}}).Set(running);
}
void set_pool_slots(std::string_view pool, std::string_view kind, double slots) {
    registry().pool_slots.Add({{"pool", text(pool)}, {"kind", text(kind)}}).Set(slots);
}
void set_import_errors(double count) { registry().import_errors.Add({}).Set(count); }
void set_dags(double active, double paused) {
    registry().dags.Add({{"paused", "false"}}).Set(active);
    registry().dags.Add({{"paused", "true"}}).Set(paused);
}

std::string render() {
    return prometheus::TextSerializer().Serialize(registry().registry->Collect());
}

}  // namespace mayaflow::metrics
