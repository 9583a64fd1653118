#include "scheduler/command_handler.h"

#include <fmt/format.h>

#include <set>
#include <string>
#include <vector>

#include "engine/model/dag_json.h"
#include "engine/time/iso8601.h"
#include "scheduler/command_payload.h"
#include "scheduler/dag_activity.h"

namespace mayaflow {
namespace {

Result<nlohmann::json> trigger(SchedulerCore& core, Store& store, const nlohmann::json& payload) {
    auto dag_id = required_string(payload, "dag_id");
    if (!dag_id) return dag_id.error();
    auto active = check_dag_takes_runs(store, *dag_id);
    if (!active) return active.error();
    TriggerRequest request{.dag_id = *dag_id};
    if (payload.contains("conf") && !payload["conf"].is_null()) {
        if (!payload["conf"].is_object()) return make_error("conf must be a JSON object");
        request.conf = payload["conf"];
    }
    if (payload.contains("logical_date") && payload["logical_date"].is_string()) {
        auto date = parse_datetime(payload["logical_date"].get<std::string>(), TimeZone::utc());
        if (!date) return make_error("logical_date: {}", date.error().message);
        request.logical_date = *date;
    }
    if (payload.contains("run_id") && payload["run_id"].is_string()) request.run_id = payload["run_id"].get<std::string>();
    auto run_id = core.trigger(request);
    if (!run_id) return run_id.error();
    return nlohmann::json{{"dag_id", *dag_id}, {"run_id", *run_id}};
}

Result<nlohmann::json> pause(SchedulerCore& core, Store& store, const nlohmann::json& payload, bool paused) {
    auto dag_id = required_string(payload, "dag_id");
    if (!dag_id) return dag_id.error();
    auto stored = store.set_paused(*dag_id, paused);
    if (!stored) return stored.error();
    (void)core.set_paused(*dag_id, paused);  // a DAG the scheduler has not loaded yet is paused in the store only
    return nlohmann::json{{"dag_id", *dag_id}, {"is_paused", paused}};
}

Result<nlohmann::json> clear(SchedulerCore& core, const nlohmann::json& payload) {
    auto dag_id = required_string(payload, "dag_id");
    if (!dag_id) return dag_id.error();
    auto run_id = required_string(payload, "run_id");
    if (!run_id) return run_id.error();
    ClearRequest request{.dag_id = *dag_id, .run_id = *run_id};
    if (payload.contains("task_ids")) {
        if (!payload["task_ids"].is_array()) return make_error("task_ids must be a list of task ids");
        for (const auto& id : payload["task_ids"]) {
            if (!id.is_string()) return make_error("task_ids must be a list of task ids");
            request.task_ids.push_back(id.get<std::string>());
        }
    }
    request.only_failed = payload.value("only_failed", false);
    request.include_downstream = payload.value("include_downstream", false);
    request.include_upstream = payload.value("include_upstream", false);
    request.run_on_latest_version = payload.value("run_on_latest_version", true);
    request.only_running = payload.value("only_running", false);
    request.dry_run = payload.value("dry_run", false);
    auto cleared = core.clear(request);
    if (!cleared) return cleared.error();
    return nlohmann::json{{"cleared", cleared->cleared},
                          {"dag_version", cleared->dag_version},
                          {"version_note", cleared->version_note},
                          {"restarted", cleared->restarted},
                          {"task_ids", cleared->task_ids},
                          {"dry_run", request.dry_run}};
}

Result<nlohmann::json> mark(SchedulerCore& core, const nlohmann::json& payload) {
    auto dag_id = required_string(payload, "dag_id");
    if (!dag_id) return dag_id.error();
    auto run_id = required_string(payload, "run_id");
    if (!run_id) return run_id.error();
    auto task_id = required_string(payload, "task_id");
    if (!task_id) return task_id.error();
    auto state_text = required_string(payload, "state");
    if (!state_text) return state_text.error();
    auto state = parse_task_state(*state_text);
    if (!state) return make_error("unknown state '{}'; use success, failed or skipped", *state_text);
    auto marked = core.mark_task(*dag_id, *run_id, *task_id, *state);
    if (!marked) return marked.error();
    return nlohmann::json{{"task_id", *task_id}, {"state", *state_text}, {"cleared_downstream", *marked}};
}

Result<nlohmann::json> set_run_state(SchedulerCore& core, const nlohmann::json& payload) {
    auto dag_id = required_string(payload, "dag_id");
    if (!dag_id) return dag_id.error();
    auto run_id = required_string(payload, "run_id");
    if (!run_id) return run_id.error();
    auto state_text = required_string(payload, "state");
    if (!state_text) return state_text.error();
    auto state = parse_run_state(*state_text);
    if (!state || *state == RunState::running) {
        return make_error("unknown run state '{}'; use success, failed or queued", *state_text);
    }
    auto changed = core.set_run_state(*dag_id, *run_id, *state);
    if (!changed) return changed.error();
    return nlohmann::json{{"dag_id", *dag_id}, {"run_id", *run_id}, {"state", *state_text}, {"task_ids", *changed}};
}

Result<nlohmann::json> delete_run(SchedulerCore& core, const nlohmann::json& payload) {
    auto dag_id = required_string(payload, "dag_id");
    if (!dag_id) return dag_id.error();
    auto run_id = required_string(payload, "run_id");
    if (!run_id) return run_id.error();
    auto deleted = core.delete_run(*dag_id, *run_id);
    if (!deleted) return deleted.error();
    return nlohmann::json{{"dag_id", *dag_id}, {"run_id", *run_id}};
}

Result<nlohmann::json> delete_dag(SchedulerCore& core, Store& store, const nlohmann::json& payload) {
    auto dag_id = required_string(payload, "dag_id");
    if (!dag_id) return dag_id.error();
    auto record = store.find_dag(*dag_id);
    if (!record) return record.error();
    if (!*record) return make_error("no DAG with dag_id '{}'", *dag_id);
    if ((*record)->is_active) {
        return make_error("DAG '{}' is still defined by its file {}; remove the file first, then delete the DAG",
                          *dag_id, (*record)->fileloc);
    }
    auto deleted = core.delete_dag(*dag_id);
    if (!deleted) return deleted.error();
    return nlohmann::json{{"dag_id", *dag_id}};
}

// The task ids of a DAG version, upstream before downstream.
Result<std::vector<std::string>> task_order(RunStore& runs, const std::string& dag_id, int version) {
    auto text = runs.dag_version_json(dag_id, version);
    if (!text) return text.error();
    if (!*text) return make_error("version {} of DAG '{}' is not stored", version, dag_id);
    auto dag = dag_from_json(nlohmann::json::parse(**text, nullptr, false));
    if (!dag) return make_error("version {} of DAG '{}' cannot be read: {}", version, dag_id, dag.error().message);
    std::vector<std::string> ids;
    for (const auto& task : dag->tasks) ids.push_back(task.task_id);
    return ids;
}

// Airflow's set_task_instance_state over several runs and tasks (updateTaskInstancesState and
// PATCH …/taskInstances/{task_id}): each task not already in the state is marked, as `mark`
// does. Everything is checked before anything changes; a dry run only lists what would change.
Result<nlohmann::json> mark_tasks(SchedulerCore& core, RunStore& runs, const nlohmann::json& payload) {
    auto dag_id = required_string(payload, "dag_id");
    if (!dag_id) return dag_id.error();
    auto state_text = required_string(payload, "state");
    if (!state_text) return state_text.error();
    auto state = parse_task_state(*state_text);
    if (!state || (*state != TaskState::success && *state != TaskState::failed && *state != TaskState::skipped)) {
        return make_error("unknown state '{}'; use success, failed or skipped", *state_text);
    }
    if (!payload.contains("targets") || !payload["targets"].is_array()) {
        return make_error("targets must be a list of {{run_id, task_ids}}");
    }
    std::vector<std::pair<std::string, std::string>> to_mark;
    for (const auto& target : payload["targets"]) {
        if (!target.is_object()) return make_error("targets must be a list of {{run_id, task_ids}}");
        auto run_id = required_string(target, "run_id");
        if (!run_id) return run_id.error();
        auto run = runs.find_run(*dag_id, *run_id, true);
        if (!run) return run.error();
        if (!*run) return make_error("no run '{}' of DAG '{}'", *run_id, *dag_id);
        if (!target.contains("task_ids") || !target["task_ids"].is_array()) {
            return make_error("task_ids must be a list of task ids");
        }
        std::set<std::string, std::less<>> wanted;
        for (const auto& id : target["task_ids"]) {
            if (!id.is_string()) return make_error("task_ids must be a list of task ids");
            const auto& task_id = id.get_ref<const std::string&>();
            bool known = false;
            for (const auto& ti : (*run)->task_instances) known = known || ti.task_id == task_id;
            if (!known) return make_error("no task '{}' in run '{}' of DAG '{}'", task_id, *run_id, *dag_id);
            wanted.insert(task_id);
        }
        // Upstream before downstream (the order of the run's DAG version, whose tasks are sorted so):
        // marking a task clears the failed tasks below it so that they run again, which must not undo
        // a downstream task marked failed just before.
        auto order = task_order(runs, *dag_id, (*run)->dag_version);
        if (!order) return order.error();
        for (const auto& task_id : *order) {
            if (!wanted.count(task_id)) continue;
            for (const auto& ti : (*run)->task_instances) {
                if (ti.task_id == task_id && ti.state != *state) to_mark.emplace_back(*run_id, ti.task_id);
            }
        }
    }
    bool dry_run = payload.value("dry_run", false);
    auto marked = nlohmann::json::array();
    for (const auto& [run_id, task_id] : to_mark) {
        if (!dry_run) {
            auto done = core.mark_task(*dag_id, run_id, task_id, *state);
            if (!done) return done.error();
        }
        marked.push_back({{"run_id", run_id}, {"task_id", task_id}});
    }
    return nlohmann::json{{"dag_id", *dag_id}, {"state", *state_text}, {"dry_run", dry_run}, {"task_instances", marked}};
}

Result<nlohmann::json> backfill(SchedulerCore& core, Store& store, const nlohmann::json& payload) {
    auto request = backfill_request_from_json(payload);
    if (!request) return request.error();
    auto active = check_dag_takes_runs(store, request->dag_id);
    if (!active) return active.error();
    auto outcome = core.create_backfill(*request);
    if (!outcome) return outcome.error();
    auto answer = plan_to_json(outcome->plan);
    answer["backfill"] = backfill_to_json(outcome->backfill);
    return answer;
}

Result<long long> backfill_id(const nlohmann::json& payload) {
    if (!payload.contains("id") || !payload["id"].is_number_integer()) return make_error("'id' must be a backfill id");
    return payload["id"].get<long long>();
}

Result<nlohmann::json> change_backfill(SchedulerCore& core, const nlohmann::json& payload, const std::string& kind) {
    auto id = backfill_id(payload);
    if (!id) return id.error();
    auto changed = kind == "backfill_cancel" ? core.cancel_backfill(*id) : core.pause_backfill(*id, kind == "backfill_pause");
    if (!changed) return changed.error();
    return backfill_to_json(*changed);
}

Result<nlohmann::json> set_pool(SchedulerCore& core, RunStore& runs, const nlohmann::json& payload) {
    auto name = required_string(payload, "name");
    if (!name) return name.error();
    if (!payload.contains("slots") || !payload["slots"].is_number_integer() || payload["slots"].get<long long>() < 0 ||
        payload["slots"].get<long long>() > 1'000'000) {
        return make_error("slots must be a whole number from 0 to 1000000");
    }
    PoolRecord pool{*name, payload["slots"].get<int>(), payload.value("description", std::string())};
    auto stored = runs.set_pool(pool);
    if (!stored) return stored.error();
    core.set_pool(pool.name, pool.slots);
    return nlohmann::json{{"name", pool.name}, {"slots", pool.slots}, {"description", pool.description}};
}

Result<nlohmann::json> delete_pool(SchedulerCore& core, RunStore& runs, const nlohmann::json& payload) {
    auto name = required_string(payload, "name");
    if (!name) return name.error();
    if (*name == "default_pool") return make_error("default_pool cannot be deleted; `mayaflow pools set default_pool N` resizes it");
    auto removed = runs.delete_pool(*name);
    if (!removed) return removed.error();
    core.remove_pool(*name);
    return nlohmann::json{{"name", *name}};
}

}  // namespace

Result<nlohmann::json> apply_command(SchedulerCore& core, Store& store, RunStore& runs, const std::string& kind,
                                     const nlohmann::json& payload) {
    if (!payload.is_object()) return make_error("a command's payload must be a JSON object");
    if (kind == "trigger") return trigger(core, store, payload);
    if (kind == "pause") return pause(core, store, payload, true);
    if (kind == "unpause") return pause(core, store, payload, false);
    if (kind == "clear") return clear(core, payload);
    if (kind == "mark") return mark(core, payload);
    if (kind == "mark_tasks") return mark_tasks(core, runs, payload);
    if (kind == "set_run_state") return set_run_state(core, payload);
    if (kind == "delete_run") return delete_run(core, payload);
    if (kind == "delete_dag") return delete_dag(core, store, payload);
    if (kind == "backfill") return backfill(core, store, payload);
    if (kind == "pool_set") return set_pool(core, runs, payload);
    if (kind == "pool_delete") return delete_pool(core, runs, payload);
    if (kind == "backfill_pause" || kind == "backfill_resume" || kind == "backfill_cancel") {
        return change_backfill(core, payload, kind);
    }
    return make_error("unknown command '{}'", kind);
}

}  // namespace mayaflow
