#pragma once
// Dag and Task: the validated model of one DAG file, plain data with no I/O. The loader builds
// them; the scheduler reads them. Operator parameters stay as JSON with templated strings kept as
// template text until run time.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/model/trigger_rule.h"
#include "engine/time/instant.h"
#include "engine/time/schedule.h"
#include "engine/time/time_zone.h"

namespace mayaflow {

// Where something was written: a file and a 1-based line and column (0 when unknown).
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
};

enum class WeightRule { downstream, upstream, absolute };
std::string_view to_string(WeightRule rule);

struct RetryPolicy {
    int retries = 0;
    Duration retry_delay = std::chrono::minutes(5);
    bool exponential_backoff = false;
    std::optional<Duration> max_retry_delay;
};

// One notifier that an on_failure_callback, on_retry_callback or on_success_callback names: "slack"
// or "webhook", with its parameters after defaults, templated strings kept as template text until
// the event (docs/notifications.md).
struct NotifierCall {
    std::string notifier;
    nlohmann::json params = nlohmann::json::object();
    SourceLocation defined_at;
};

// A task's callbacks fire for its tries; a DAG's on_failure and on_success for its runs (as in
// Airflow; a DAG has no on_retry).
struct Callbacks {
    std::vector<NotifierCall> on_failure;
    std::vector<NotifierCall> on_retry;
    std::vector<NotifierCall> on_success;
    bool empty() const { return on_failure.empty() && on_retry.empty() && on_success.empty(); }
};

struct Task {
    std::string task_id;        // the full id, with its groups' prefixes ("raw.load_sales")
    std::string operator_name;  // "bash", "empty", ...
    std::string group_id;       // the innermost group's full id, or "" at top level
    std::vector<std::string> upstream;    // full ids, in the order written
    std::vector<std::string> downstream;  // derived from every task's upstream
    TriggerRule trigger_rule = TriggerRule::all_success;
    RetryPolicy retry;
    std::optional<Duration> execution_timeout;
    std::string pool = "default_pool";
    int pool_slots = 1;
    int priority_weight = 1;
    WeightRule weight_rule = WeightRule::downstream;
    bool depends_on_past = false;
    std::string owner;
    std::string doc_md;
    nlohmann::json params = nlohmann::json::object();     // operator parameters after defaults
    nlohmann::json loop_vars = nlohmann::json::object();  // the for_each variables that made it
    Callbacks callbacks;
    SourceLocation defined_at;
};

struct Dag {
    std::string dag_id;
    std::string description;
    std::string doc_md;
    std::string owner;
    std::string fileloc;      // absolute path of the DAG file
    std::string source_hash;  // hash of the file and everything it included
    Schedule schedule;
    TimeZone timezone = TimeZone::utc();
    std::optional<Instant> start_date;
    std::optional<Instant> end_date;
    bool catchup = false;
    int max_active_runs = 16;
    int max_active_tasks = 16;
    std::optional<Duration> dagrun_timeout;
    bool is_paused_upon_creation = false;
    std::vector<std::string> tags;
    nlohmann::json params = nlohmann::json::object();
    Callbacks callbacks;  // for the DAG's runs
    std::vector<Task> tasks;  // in a topological order: every task after all its upstream tasks

    const Task* find_task(std::string_view task_id) const;
    void index_tasks();  // rebuilds the lookup table after `tasks` changed

  private:
    std::unordered_map<std::string, size_t> task_index_;
};

}  // namespace mayaflow
