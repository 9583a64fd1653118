#include "web/api/run_shapes.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "operators/operator_registry.h"
#include "web/api/problem.h"

namespace mayaflow {
namespace {

const std::string& host_name() {
    static const std::string name = [] {
        char buffer[256] = {};
        if (::gethostname(buffer, sizeof(buffer) - 1) != 0) return std::string();
        return std::string(buffer);
    }();
    return name;
}

const std::string& unix_name() {
    static const std::string name = [] {
        const passwd* entry = ::getpwuid(::geteuid());
        return entry ? std::string(entry->pw_name) : std::string();
    }();
    return name;
}

}  // namespace

std::string iso_utc(Instant instant) { return format_iso8601(instant, TimeZone::utc()); }

nlohmann::json iso_or_null(const std::optional<Instant>& instant) {
    if (!instant) return nullptr;
    return iso_utc(*instant);
}

nlohmann::json timedelta_json(Duration duration) {
    long long micros = std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
    long long days = micros / 86'400'000'000LL;
    long long rest = micros % 86'400'000'000LL;
    if (rest < 0) {
        rest += 86'400'000'000LL;
        --days;
    }
    return {{"__type", "TimeDelta"}, {"days", days}, {"seconds", rest / 1'000'000}, {"microseconds", rest % 1'000'000}};
}

nlohmann::json dag_run_json(const DagRunRow& run) {
    return {
        {"dag_run_id", run.run_id},
        {"dag_id", run.dag_id},
        {"logical_date", iso_or_null(run.logical_date)},
        {"execution_date", iso_or_null(run.logical_date)},
        {"start_date", iso_or_null(run.start_date)},
        {"end_date", iso_or_null(run.end_date)},
        {"data_interval_start", iso_utc(run.data_interval_start)},
        {"data_interval_end", iso_utc(run.data_interval_end)},
        {"last_scheduling_decision", nullptr},
        {"run_type", run.run_type},
        {"state", to_string(run.state)},
        {"external_trigger", run.run_type == "manual"},
        {"conf", run.conf},
        {"note", run.note ? nlohmann::json(*run.note) : nlohmann::json(nullptr)},
        {"queued_at", iso_utc(run.queued_at)},
        {"updated_at", iso_or_null(run.updated_at)},
        {"dag_version", run.dag_version},
        {"backfill_id", run.backfill_id ? nlohmann::json(*run.backfill_id) : nlohmann::json(nullptr)},
    };
}

const DagVersions::Entry* DagVersions::find(const std::string& dag_id, int version) {
    auto key = std::pair{dag_id, version};
    auto it = seen_.find(key);
    if (it == seen_.end()) it = seen_.emplace(key, context_.dag_versions->find(context_.runs, dag_id, version)).first;
    return it->second.get();
}

nlohmann::json task_instance_json(const TaskInstanceListRow& row, DagVersions& versions) {
    const TaskInstanceRow& ti = row.ti;
    const Task* task = nullptr;
    long long weight = 1;
    if (const auto* entry = versions.find(row.dag_id, row.dag_version)) {
        task = entry->dag->find_task(ti.task_id);
        if (task) weight = entry->weights[static_cast<size_t>(task - entry->dag->tasks.data())];
    }
    nlohmann::json duration = nullptr;
    if (ti.start_date && ti.end_date) {
        duration = std::chrono::duration<double>(*ti.end_date - *ti.start_date).count();
    }
    bool ran = ti.try_number > 0;
    return {
        {"task_id", ti.task_id},
        {"task_display_name", ti.task_id},
        {"dag_id", row.dag_id},
        {"dag_run_id", row.run_id},
        {"execution_date", iso_or_null(row.logical_date)},
        {"start_date", iso_or_null(ti.start_date)},
        {"end_date", iso_or_null(ti.end_date)},
        {"duration", duration},
        // Airflow keeps a task that was never considered as NULL and answers null.
        {"state", ti.state == TaskState::none ? nlohmann::json(nullptr) : nlohmann::json(to_string(ti.state))},
        {"try_number", ti.try_number},
        {"map_index", -1},
        {"max_tries", ti.max_tries},
        {"hostname", ran ? host_name() : std::string()},
        {"unixname", ran ? unix_name() : std::string()},
        {"pool", task ? task->pool : std::string("default_pool")},
        {"pool_slots", task ? task->pool_slots : 1},
        {"queue", "default"},
        {"priority_weight", weight},
        {"operator", task ? nlohmann::json(task->operator_name) : nlohmann::json(nullptr)},
        {"queued_when", nullptr},
        {"pid", ti.pid ? nlohmann::json(*ti.pid) : nlohmann::json(nullptr)},
        {"executor", nullptr},
        {"executor_config", "{}"},
        {"sla_miss", nullptr},
        {"rendered_map_index", nullptr},
        {"rendered_fields", nlohmann::json::object()},
        {"trigger", nullptr},
        {"triggerer_job", nullptr},
        {"note", row.note ? nlohmann::json(*row.note) : nlohmann::json(nullptr)},
    };
}

nlohmann::json task_instance_reference(const std::string& dag_id, const std::string& run_id,
                                       const std::string& task_id, const std::optional<Instant>& logical_date) {
    return {{"task_id", task_id},
            {"dag_id", dag_id},
            {"dag_run_id", run_id},
            {"execution_date", iso_or_null(logical_date)}};
}

nlohmann::json task_json(const Dag& dag, const Task& task) {
    auto templated = nlohmann::json::array();
    if (const OperatorSpec* spec = builtin_operators().find(task.operator_name)) {
        for (const auto& param : spec->params) {
            if (param.templated) templated.push_back(param.name);
        }
    }
    return {
        // Airflow's ClassReference has no null: the module is mayaflow's operator registry.
        {"class_ref", {{"class_name", task.operator_name}, {"module_path", "mayaflow.operators"}}},
        {"task_id", task.task_id},
        {"task_display_name", task.task_id},
        {"owner", task.owner.empty() ? dag.owner : task.owner},
        {"start_date", iso_or_null(dag.start_date)},
        {"end_date", iso_or_null(dag.end_date)},
        {"trigger_rule", to_string(task.trigger_rule)},
        {"extra_links", nlohmann::json::array()},
        {"depends_on_past", task.depends_on_past},
        {"is_mapped", false},
        {"wait_for_downstream", false},
        {"retries", task.retry.retries},
        {"queue", "default"},
        {"executor", nullptr},
        {"pool", task.pool},
        {"pool_slots", task.pool_slots},
        {"execution_timeout", task.execution_timeout ? timedelta_json(*task.execution_timeout) : nlohmann::json(nullptr)},
        {"retry_delay", timedelta_json(task.retry.retry_delay)},
        {"retry_exponential_backoff", task.retry.exponential_backoff},
        {"priority_weight", task.priority_weight},
        {"weight_rule", to_string(task.weight_rule)},
        {"ui_color", "#fff"},
        {"ui_fgcolor", "#000"},
        {"template_fields", templated},
        {"downstream_task_ids", task.downstream},
        {"doc_md", task.doc_md.empty() ? nlohmann::json(nullptr) : nlohmann::json(task.doc_md)},
        {"operator_name", task.operator_name},
        {"params", task.params},
    };
}

namespace {

template <typename State, typename Parse>
Read<std::vector<State>> read_states(const std::vector<std::string>& names, const std::string& field, Parse parse,
                                     const char* allowed) {
    std::vector<State> states;
    for (const auto& name : names) {
        auto state = parse(name);
        if (!state) {
            return bad_request(fmt::format("'{}' has an unknown state {}; the states are {}", field,
                                           quote_for_message(name), allowed));
        }
        states.push_back(*state);
    }
    return states;
}

}  // namespace

Read<std::vector<RunState>> read_run_states(const std::vector<std::string>& names, const std::string& field) {
    return read_states<RunState>(names, field, parse_run_state, "queued, running, success, failed");
}

Read<std::vector<TaskState>> read_task_states(const std::vector<std::string>& names, const std::string& field) {
    return read_states<TaskState>(names, field, parse_task_state,
                                  "none, scheduled, queued, running, success, failed, up_for_retry, "
                                  "up_for_reschedule, upstream_failed, skipped, deferred, removed");
}

Read<InstantRange> read_range(const ApiRequest& request, const std::string& name) {
    InstantRange range;
    auto gte = read_datetime(request, name + "_gte");
    if (failed(gte)) return std::get<WebResponse>(gte);
    auto lte = read_datetime(request, name + "_lte");
    if (failed(lte)) return std::get<WebResponse>(lte);
    range.gte = std::get<std::optional<Instant>>(gte);
    range.lte = std::get<std::optional<Instant>>(lte);
    return range;
}

Read<InstantRange> range_field(const nlohmann::json& body, const std::string& name) {
    InstantRange range;
    auto gte = datetime_field(body, name + "_gte");
    if (failed(gte)) return std::get<WebResponse>(gte);
    auto lte = datetime_field(body, name + "_lte");
    if (failed(lte)) return std::get<WebResponse>(lte);
    range.gte = std::get<std::optional<Instant>>(gte);
    range.lte = std::get<std::optional<Instant>>(lte);
    return range;
}

Read<DagRecord> find_dag_or_404(ApiContext& context, const std::string& dag_id) {
    auto dag = context.store.find_dag(dag_id);
    if (!dag) return store_unavailable(dag.error());
    if (!*dag) return not_found(fmt::format("no DAG with dag_id {}; GET /api/v1/dags lists them", quote_name(dag_id)));
    return std::move(**dag);
}

Read<DagRunRow> find_run_or_404(ApiContext& context, const std::string& dag_id, const std::string& run_id,
                                bool with_tasks) {
    auto run = context.runs.find_run(dag_id, run_id, with_tasks);
    if (!run) return store_unavailable(run.error());
    if (*run) return std::move(**run);
    auto dag = find_dag_or_404(context, dag_id);
    if (failed(dag)) return std::get<WebResponse>(dag);
    return not_found(fmt::format("DAG {} has no run with dag_run_id {}; GET /api/v1/dags/{}/dagRuns lists them",
                                 quote_name(dag_id), quote_name(run_id), escape_invalid_utf8(dag_id)));
}

Read<nlohmann::json> scheduler_command(ApiContext& context, const std::string& kind, const nlohmann::json& payload) {
    auto outcome = send_scheduler_command(context, kind, payload);
    if (outcome.kind != CommandOutcome::Kind::done) return command_failure(outcome);
    return outcome.result;
}

Read<nlohmann::json> run_command(ApiContext& context, const DagRunRow& run, const std::string& kind,
                                 nlohmann::json payload) {
    payload["dag_id"] = run.dag_id;
    payload["run_id"] = run.run_id;
    auto answer = scheduler_command(context, kind, payload);
    if (!failed(answer)) return answer;
    auto still_there = find_run_or_404(context, run.dag_id, run.run_id);
    if (failed(still_there) && std::get<WebResponse>(still_there).status == 404) return std::get<WebResponse>(still_there);
    return answer;
}

WebResponse no_content() { return WebResponse{204, "", "", {}}; }

}  // namespace mayaflow
