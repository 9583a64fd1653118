// Task instances in Airflow 2.10's v1 shapes: lists per run and over every DAG and run (`~`), the
// batch list, one task instance, marking it, its note, clearTaskInstances and
// updateTaskInstancesState. Reads go to the store, paged in SQL; changes of state are commands to
// the scheduler (clear, mark_tasks); notes are written directly.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <set>
#include <string>

#include "engine/model/dag_json.h"
#include "engine/util/text.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/run_shapes.h"

namespace mayaflow {
namespace {

constexpr std::array<std::string_view, 10> kTaskInstanceOrders = {
    "run", "task_id", "state", "start_date", "end_date", "duration", "try_number", "logical_date", "dag_id", "run_id"};

Read<Ordering> ti_order(std::optional<std::string> text) {
    Ordering ordering{"run", false};
    if (!text || text->empty()) return ordering;
    std::string name = *text;
    if (name.front() == '-') {
        ordering.descending = true;
        name.erase(0, 1);
    }
    if (name == "execution_date") name = "logical_date";
    if (name == "dag_run_id") name = "run_id";
    for (auto field : kTaskInstanceOrders) {
        if (field == name) {
            ordering.field = name;
            return ordering;
        }
    }
    return bad_request(fmt::format("order_by {} is not a field task instances can be ordered by; use one of run, "
                                   "task_id, state, start_date, end_date, duration, try_number, execution_date, "
                                   "dag_id, dag_run_id (a leading '-' orders descending)",
                                   quote_for_message(*text)));
}

// The newest stored version of every DAG (or of those named), for the pool filter and task checks.
Result<std::vector<std::shared_ptr<const Dag>>> newest_dags(ApiContext& context, const std::vector<std::string>& dag_ids) {
    std::vector<std::string> ids = dag_ids;
    if (ids.empty()) {
        auto dags = context.store.list_dags(true);
        if (!dags) return dags.error();
        for (const auto& dag : *dags) ids.push_back(dag.dag_id);
    }
    std::vector<std::shared_ptr<const Dag>> found;
    for (const auto& id : ids) {
        auto version = context.store.latest_dag_version(id);
        if (!version) return version.error();
        if (!*version) continue;
        auto dag = dag_from_json(nlohmann::json::parse((*version)->serialized, nullptr, false));
        if (dag) found.push_back(std::make_shared<const Dag>(std::move(*dag)));
    }
    return found;
}

// The filters the GET list and the batch list share, once read.
struct TaskInstanceFilters {
    std::vector<std::string> pools;
    std::vector<std::string> queues;
};

// Pools and queues are the task's, not the task instance's: a pool filter becomes the (dag, task)
// pairs whose task (in its DAG's newest version) uses one of the pools. mayaflow has one queue,
// `default`, as Airflow's default_queue: a queue filter without it matches nothing.
Status apply_task_filters(ApiContext& context, const TaskInstanceFilters& filters, TaskInstanceQuery& query) {
    bool default_queue = filters.queues.empty();
    for (const auto& queue : filters.queues) default_queue = default_queue || queue == "default";
    if (!default_queue) {
        query.only_tasks.emplace();
        return Status::success();
    }
    if (filters.pools.empty()) return Status::success();
    auto dags = newest_dags(context, query.dag_ids);
    if (!dags) return dags.error();
    std::set<std::string> pools(filters.pools.begin(), filters.pools.end());
    query.only_tasks.emplace();
    for (const auto& dag : *dags) {
        for (const auto& task : dag->tasks) {
            if (pools.count(task.pool)) query.only_tasks->emplace_back(dag->dag_id, task.task_id);
        }
    }
    return Status::success();
}

WebResponse ti_page(ApiContext& context, const TaskInstanceQuery& query, const TaskInstanceFilters& filters) {
    TaskInstanceQuery resolved = query;
    auto applied = apply_task_filters(context, filters, resolved);
    if (!applied) return store_unavailable(applied.error());
    auto page = context.runs.query_task_instances(resolved);
    if (!page) return store_unavailable(page.error());
    DagVersions versions(context);
    auto items = nlohmann::json::array();
    for (const auto& row : page->task_instances) items.push_back(task_instance_json(row, versions));
    return json_response({{"task_instances", items}, {"total_entries", page->total_entries}});
}

Read<std::optional<double>> read_seconds(const ApiRequest& request, const std::string& name) {
    auto text = request.query_value(name);
    if (!text) return std::optional<double>{};
    try {
        size_t used = 0;
        double value = std::stod(*text, &used);
        if (used == text->size() && std::isfinite(value)) return std::optional<double>{value};
    } catch (const std::exception&) {
    }
    return bad_request(fmt::format("query parameter '{}' must be a number of seconds, got {}", name,
                                   quote_for_message(*text)));
}

Read<std::optional<double>> seconds_field(const nlohmann::json& body, const std::string& name) {
    if (!body.contains(name) || body[name].is_null()) return std::optional<double>{};
    if (!body[name].is_number()) return bad_request(fmt::format("'{}' must be a number of seconds", name));
    return std::optional<double>{body[name].get<double>()};
}

WebResponse list_task_instances(ApiContext& context, const ApiRequest& request) {
    TaskInstanceQuery query;
    const auto& dag_id = request.param("dag_id");
    const auto& run_id = request.param("dag_run_id");
    // An unknown DAG or run lists nothing (200), as Airflow's list filters by them without looking
    // them up.
    if (dag_id != "~") query.dag_ids = {dag_id};
    if (run_id != "~") query.run_ids = {run_id};
    MAYAFLOW_READ(page, read_page(request));
    MAYAFLOW_READ(order, ti_order(request.query_value("order_by")));
    MAYAFLOW_READ(states, read_task_states(request.query_list("state"), "state"));
    MAYAFLOW_READ(logical, read_range(request, "execution_date"));
    MAYAFLOW_READ(start, read_range(request, "start_date"));
    MAYAFLOW_READ(end, read_range(request, "end_date"));
    MAYAFLOW_READ(duration_gte, read_seconds(request, "duration_gte"));
    MAYAFLOW_READ(duration_lte, read_seconds(request, "duration_lte"));
    query.states = std::move(states);
    query.logical_date = logical;
    query.start_date = start;
    query.end_date = end;
    query.duration_gte = duration_gte;
    query.duration_lte = duration_lte;
    query.order_by = order.field;
    query.descending = order.descending;
    query.limit = page.limit;
    query.offset = page.offset;
    // mayaflow's own executor is no executor Airflow names: an executor filter matches nothing.
    if (!request.query_list("executor").empty()) query.only_tasks.emplace();
    return ti_page(context, query, TaskInstanceFilters{request.query_list("pool"), request.query_list("queue")});
}

WebResponse list_task_instances_batch(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(body, read_json_object(request,
                                         {"dag_ids", "dag_run_ids", "task_ids", "state", "pool", "queue", "executor",
                                          "execution_date_gte", "execution_date_lte", "start_date_gte",
                                          "start_date_lte", "end_date_gte", "end_date_lte", "duration_gte",
                                          "duration_lte", "page_offset", "page_limit", "order_by"},
                                         true));
    TaskInstanceQuery query;
    // Airflow's TaskState includes null, for a task instance not yet considered: mayaflow's `none`.
    if (body.contains("state") && body["state"].is_array()) {
        for (auto& state : body["state"]) {
            if (state.is_null()) state = "none";
        }
    }
    MAYAFLOW_READ(dag_ids, string_list_field(body, "dag_ids"));
    MAYAFLOW_READ(run_ids, string_list_field(body, "dag_run_ids"));
    MAYAFLOW_READ(task_ids, string_list_field(body, "task_ids"));
    MAYAFLOW_READ(state_names, string_list_field(body, "state"));
    MAYAFLOW_READ(pools, string_list_field(body, "pool"));
    MAYAFLOW_READ(queues, string_list_field(body, "queue"));
    MAYAFLOW_READ(executors, string_list_field(body, "executor"));
    MAYAFLOW_READ(states, read_task_states(state_names.value_or(std::vector<std::string>{}), "state"));
    MAYAFLOW_READ(logical, range_field(body, "execution_date"));
    MAYAFLOW_READ(start, range_field(body, "start_date"));
    MAYAFLOW_READ(end, range_field(body, "end_date"));
    MAYAFLOW_READ(duration_gte, seconds_field(body, "duration_gte"));
    MAYAFLOW_READ(duration_lte, seconds_field(body, "duration_lte"));
    MAYAFLOW_READ(page, page_fields(body));
    MAYAFLOW_READ(order_text, string_field(body, "order_by"));
    MAYAFLOW_READ(order, ti_order(order_text));
    query.dag_ids = dag_ids.value_or(std::vector<std::string>{});
    query.run_ids = run_ids.value_or(std::vector<std::string>{});
    query.task_ids = task_ids.value_or(std::vector<std::string>{});
    query.states = std::move(states);
    query.logical_date = logical;
    query.start_date = start;
    query.end_date = end;
    query.duration_gte = duration_gte;
    query.duration_lte = duration_lte;
    query.order_by = order.field;
    query.descending = order.descending;
    query.offset = page.offset;
    query.limit = page.limit;
    // mayaflow's tries run on its own executor, which Airflow would name none: a filter on
    // executors matches nothing.
    if (executors && !executors->empty()) query.only_tasks.emplace();
    return ti_page(context, query, TaskInstanceFilters{pools.value_or(std::vector<std::string>{}),
                                                       queues.value_or(std::vector<std::string>{})});
}

// The task instance, or the 404 that says which of DAG, run and task is unknown.
Read<TaskInstanceListRow> find_task_instance(ApiContext& context, const std::string& dag_id, const std::string& run_id,
                                             const std::string& task_id) {
    auto run = find_run_or_404(context, dag_id, run_id);
    if (failed(run)) return std::get<WebResponse>(run);
    auto page = context.runs.query_task_instances(
        TaskInstanceQuery{.dag_ids = {dag_id}, .run_ids = {run_id}, .task_ids = {task_id}, .limit = 1});
    if (!page) return store_unavailable(page.error());
    if (page->task_instances.empty()) {
        return not_found(fmt::format("run {} of DAG {} has no task instance {}", quote_name(run_id), quote_name(dag_id),
                                     quote_name(task_id)));
    }
    return std::move(page->task_instances.front());
}

WebResponse get_task_instance(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(row, find_task_instance(context, request.param("dag_id"), request.param("dag_run_id"),
                                          request.param("task_id")));
    DagVersions versions(context);
    return json_response(task_instance_json(row, versions));
}

// The task instance as it was in one try: its run's and task's fields, the try's state and times.
TaskInstanceListRow as_in_try(const TaskInstanceListRow& current, const TaskTryRow& attempt) {
    TaskInstanceListRow row = current;
    row.ti.state = attempt.state;
    row.ti.try_number = attempt.try_number;
    row.ti.max_tries = attempt.max_tries;
    row.ti.start_date = attempt.start_date;
    row.ti.end_date = attempt.end_date;
    row.ti.pid = attempt.pid;
    if (attempt.try_number != current.ti.try_number) row.note.reset();  // a note is the current try's
    return row;
}

// The task instance and its tries, oldest first, or the 404 that says what is unknown.
Read<std::pair<TaskInstanceListRow, std::vector<TaskTryRow>>> task_tries(ApiContext& context,
                                                                          const ApiRequest& request) {
    MAYAFLOW_READ(row, find_task_instance(context, request.param("dag_id"), request.param("dag_run_id"),
                                          request.param("task_id")));
    auto tries = context.runs.list_task_tries(row.dag_id, row.run_id, row.ti.task_id);
    if (!tries) return store_unavailable(tries.error());
    return std::pair{std::move(row), std::move(*tries)};
}

// The try's length in seconds; -1 while it has not ended.
double try_seconds(const TaskTryRow& attempt) {
    if (!attempt.start_date || !attempt.end_date) return -1;
    return std::chrono::duration<double>(*attempt.end_date - *attempt.start_date).count();
}

// GET …/taskInstances/{task_id}/tries: every try the task instance has had (Airflow 2.10's
// task_instance_history and the current try), by try number unless order_by says otherwise.
WebResponse get_task_instance_tries(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(page, read_page(request));
    MAYAFLOW_READ(order, read_order_by(request, {"try_number", "state", "start_date", "end_date", "duration"},
                                       Ordering{"try_number", false}));
    MAYAFLOW_READ(found, task_tries(context, request));
    auto& [row, tries] = found;
    // The store answers them by try number: ties keep that order.
    auto less = [&order](const TaskTryRow& a, const TaskTryRow& b) {
        if (order.field == "state") return to_string(a.state) < to_string(b.state);
        if (order.field == "start_date") return a.start_date < b.start_date;  // a missing date first
        if (order.field == "end_date") return a.end_date < b.end_date;
        if (order.field == "duration") return try_seconds(a) < try_seconds(b);
        return a.try_number < b.try_number;
    };
    std::stable_sort(tries.begin(), tries.end(), [&](const TaskTryRow& a, const TaskTryRow& b) {
        return order.descending ? less(b, a) : less(a, b);
    });
    DagVersions versions(context);
    auto items = page_of(tries, page, [&, &row = row](const TaskTryRow& attempt) {
        return task_instance_json(as_in_try(row, attempt), versions);
    });
    return json_response({{"task_instances", items}, {"total_entries", tries.size()}});
}

// GET …/taskInstances/{task_id}/tries/{task_try_number}
WebResponse get_task_instance_try(ApiContext& context, const ApiRequest& request) {
    const std::string& text = request.param("task_try_number");
    int number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc() || end != text.data() + text.size() || number < 1) {
        return bad_request(fmt::format("task_try_number {} is not a try number: use a whole number from 1",
                                       quote_for_message(text)));
    }
    MAYAFLOW_READ(found, task_tries(context, request));
    auto& [row, tries] = found;
    for (const auto& attempt : tries) {
        if (attempt.try_number != number) continue;
        DagVersions versions(context);
        return json_response(task_instance_json(as_in_try(row, attempt), versions));
    }
    return not_found(fmt::format("task {} of run {} has no try {}: it has had {}", quote_name(row.ti.task_id),
                                 quote_name(row.run_id), number,
                                 tries.empty() ? std::string("none") : fmt::format("tries 1 to {}", tries.back().try_number)));
}

Read<std::string> new_state_field(const nlohmann::json& body) {
    auto state = string_field(body, "new_state");
    if (failed(state)) return std::get<WebResponse>(state);
    auto& value = std::get<std::optional<std::string>>(state);
    if (!value || (*value != "success" && *value != "failed" && *value != "skipped")) {
        return bad_request("'new_state' is required and must be success, failed or skipped");
    }
    return *value;
}

// Sends mark_tasks and answers with the references of what it marked (or, dry, would mark).
Read<nlohmann::json> mark(ApiContext& context, const std::string& dag_id, const std::string& state, bool dry_run,
                          const nlohmann::json& targets, const std::map<std::string, std::optional<Instant>>& dates) {
    auto answer = scheduler_command(context, "mark_tasks",
                                    {{"dag_id", dag_id}, {"state", state}, {"dry_run", dry_run}, {"targets", targets}});
    if (failed(answer)) return answer;
    auto references = nlohmann::json::array();
    for (const auto& item : std::get<nlohmann::json>(answer).value("task_instances", nlohmann::json::array())) {
        std::string run_id = item.value("run_id", std::string());
        auto date = dates.find(run_id);
        references.push_back(task_instance_reference(dag_id, run_id, item.value("task_id", std::string()),
                                                     date == dates.end() ? std::nullopt : date->second));
    }
    return references;
}

WebResponse patch_task_instance(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(row, find_task_instance(context, request.param("dag_id"), request.param("dag_run_id"),
                                          request.param("task_id")));
    MAYAFLOW_READ(body, read_json_object(request, {"dry_run", "new_state"}));
    MAYAFLOW_READ(dry_run, bool_field(body, "dry_run"));
    MAYAFLOW_READ(state, new_state_field(body));
    nlohmann::json targets = {{{"run_id", row.run_id}, {"task_ids", {row.ti.task_id}}}};
    MAYAFLOW_READ(marked, mark(context, row.dag_id, state, dry_run.value_or(false), targets,
                               {{row.run_id, row.logical_date}}));
    // Airflow answers with the task instance's reference, whether or not its state changed.
    return json_response(task_instance_reference(row.dag_id, row.run_id, row.ti.task_id, row.logical_date));
}

WebResponse set_task_note(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(row, find_task_instance(context, request.param("dag_id"), request.param("dag_run_id"),
                                          request.param("task_id")));
    MAYAFLOW_READ(body, read_json_object(request, {"note"}));
    if (!body.contains("note")) return bad_request("'note' is required (a string, or null to remove the note)");
    MAYAFLOW_READ(note, note_field(body));
    auto written = context.runs.set_task_note(row.dag_id, row.run_id, row.ti.task_id, note);
    if (!written) return store_unavailable(written.error());
    MAYAFLOW_READ(updated, find_task_instance(context, row.dag_id, row.run_id, row.ti.task_id));
    DagVersions versions(context);
    return json_response(task_instance_json(updated, versions));
}

// Every run of the DAG with a logical date in the range, oldest first, read a page at a time.
Result<std::vector<DagRunRow>> runs_in_range(ApiContext& context, const std::string& dag_id, const InstantRange& range) {
    std::vector<DagRunRow> runs;
    RunQuery query{.dag_ids = {dag_id}, .logical_date = range, .order_by = "logical_date", .limit = kMaximumPageLimit};
    while (true) {
        auto page = context.runs.query_runs(query);
        if (!page) return page.error();
        for (auto& run : page->runs) runs.push_back(std::move(run));
        if (page->runs.size() < query.limit) break;
        query.offset += query.limit;
    }
    return runs;
}

// The runs a clear or a mark reaches: one run, widened to the runs before it (include_past) and
// after it (include_future) by logical date.
Read<std::vector<DagRunRow>> runs_around(ApiContext& context, const DagRunRow& run, bool past, bool future) {
    if ((!past && !future) || !run.logical_date) return std::vector<DagRunRow>{run};
    InstantRange range;
    if (!past) range.gte = run.logical_date;
    if (!future) range.lte = run.logical_date;
    auto runs = runs_in_range(context, run.dag_id, range);
    if (!runs) return store_unavailable(runs.error());
    return std::move(*runs);
}

WebResponse clear_task_instances(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(dag, find_dag_or_404(context, request.param("dag_id")));
    MAYAFLOW_READ(body, read_json_object(request,
                                         {"dry_run", "task_ids", "dag_run_id", "start_date", "end_date", "only_failed",
                                          "only_running", "include_subdags", "include_parentdag", "reset_dag_runs",
                                          "include_upstream", "include_downstream", "include_future", "include_past"},
                                         true));
    MAYAFLOW_READ(dry_run, bool_field(body, "dry_run"));
    MAYAFLOW_READ(task_ids, string_list_field(body, "task_ids"));
    MAYAFLOW_READ(run_id, string_field(body, "dag_run_id"));
    MAYAFLOW_READ(start_date, datetime_field(body, "start_date"));
    MAYAFLOW_READ(end_date, datetime_field(body, "end_date"));
    std::map<std::string, bool> flags;
    for (const char* name : {"only_failed", "only_running", "include_subdags", "include_parentdag", "reset_dag_runs",
                             "include_upstream", "include_downstream", "include_future", "include_past"}) {
        MAYAFLOW_READ(flag, bool_field(body, name));
        // As Airflow: only_failed is on unless turned off.
        flags[name] = flag.value_or(std::string_view(name) == "only_failed");
    }
    if (flags["only_failed"] && flags["only_running"]) {
        return bad_request("only_failed and only_running cannot both be true");
    }
    if (run_id && (start_date || end_date)) {
        return bad_request("give dag_run_id or start_date/end_date, not both");
    }
    std::vector<DagRunRow> runs;
    if (run_id) {
        MAYAFLOW_READ(run, find_run_or_404(context, dag.dag_id, *run_id));
        MAYAFLOW_READ(around, runs_around(context, run, flags["include_past"], flags["include_future"]));
        runs = std::move(around);
    } else {
        auto found = runs_in_range(context, dag.dag_id, InstantRange{start_date, end_date});
        if (!found) return store_unavailable(found.error());
        runs = std::move(*found);
    }
    if (task_ids) {
        auto newest = newest_dags(context, {dag.dag_id});
        if (!newest) return store_unavailable(newest.error());
        for (const auto& id : *task_ids) {
            if (newest->empty() || !newest->front()->find_task(id)) {
                return not_found(fmt::format("DAG {} has no task {}", quote_name(dag.dag_id), quote_name(id)));
            }
        }
    }
    bool dry = dry_run.value_or(true);
    auto references = nlohmann::json::array();
    for (const auto& run : runs) {
        nlohmann::json payload = {{"dag_id", dag.dag_id},
                                  {"run_id", run.run_id},
                                  {"dry_run", dry},
                                  {"only_failed", flags["only_failed"]},
                                  {"only_running", flags["only_running"]},
                                  {"include_upstream", flags["include_upstream"]},
                                  {"include_downstream", flags["include_downstream"]}};
        if (task_ids) payload["task_ids"] = *task_ids;
        auto cleared = run_command(context, run, "clear", payload);
        if (failed(cleared)) {
            if (std::get<WebResponse>(cleared).status == 404) continue;  // deleted meanwhile: nothing left to clear
            return std::get<WebResponse>(cleared);
        }
        const auto& answer = std::get<nlohmann::json>(cleared);
        for (const auto& task_id : answer.value("task_ids", std::vector<std::string>{})) {
            references.push_back(task_instance_reference(dag.dag_id, run.run_id, task_id, run.logical_date));
        }
    }
    return json_response({{"task_instances", references}});
}

// The task and, when asked, every task upstream or downstream of it (at any depth).
std::vector<std::string> widened_tasks(const Dag& dag, const std::string& task_id, bool upstream, bool downstream) {
    std::set<std::string> chosen{task_id};
    std::vector<std::string> order{task_id};
    auto walk = [&](bool up) {
        std::vector<std::string> stack{task_id};
        while (!stack.empty()) {
            const Task* task = dag.find_task(stack.back());
            stack.pop_back();
            if (!task) continue;
            for (const auto& next : up ? task->upstream : task->downstream) {
                if (chosen.insert(next).second) {
                    order.push_back(next);
                    stack.push_back(next);
                }
            }
        }
    };
    if (upstream) walk(true);
    if (downstream) walk(false);
    return order;
}

WebResponse update_task_instances_state(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(dag, find_dag_or_404(context, request.param("dag_id")));
    MAYAFLOW_READ(body, read_json_object(request,
                                         {"dry_run", "task_id", "execution_date", "dag_run_id", "include_upstream",
                                          "include_downstream", "include_future", "include_past", "new_state"}));
    MAYAFLOW_READ(dry_run, bool_field(body, "dry_run"));
    MAYAFLOW_READ(task_id, string_field(body, "task_id"));
    MAYAFLOW_READ(run_id, string_field(body, "dag_run_id"));
    MAYAFLOW_READ(execution_date, datetime_field(body, "execution_date"));
    MAYAFLOW_READ(state, new_state_field(body));
    std::map<std::string, bool> flags;
    for (const char* name : {"include_upstream", "include_downstream", "include_future", "include_past"}) {
        MAYAFLOW_READ(flag, bool_field(body, name));
        flags[name] = flag.value_or(false);
    }
    if (!task_id) return bad_request("'task_id' is required");
    if (run_id.has_value() == execution_date.has_value()) {
        return bad_request("give exactly one of dag_run_id and execution_date");
    }
    DagRunRow run;
    if (run_id) {
        MAYAFLOW_READ(found, find_run_or_404(context, dag.dag_id, *run_id));
        run = std::move(found);
    } else {
        auto found = runs_in_range(context, dag.dag_id, InstantRange{execution_date, execution_date});
        if (!found) return store_unavailable(found.error());
        if (found->empty()) {
            return not_found(fmt::format("DAG {} has no run at execution_date {}", quote_name(dag.dag_id),
                                         iso_utc(*execution_date)));
        }
        run = std::move(found->front());
    }
    DagVersions versions(context);
    const auto* version = versions.find(run.dag_id, run.dag_version);
    if (!version || !version->dag->find_task(*task_id)) {
        return not_found(fmt::format("DAG {} has no task {} in the version run {} runs with", quote_name(dag.dag_id),
                                     quote_name(*task_id), quote_name(run.run_id)));
    }
    auto tasks = widened_tasks(*version->dag, *task_id, flags["include_upstream"], flags["include_downstream"]);
    MAYAFLOW_READ(runs, runs_around(context, run, flags["include_past"], flags["include_future"]));
    // Each run's own task instances among the chosen tasks (a run of another version may lack some).
    std::vector<std::string> run_ids;
    std::map<std::string, std::optional<Instant>> dates;
    for (const auto& each : runs) {
        run_ids.push_back(each.run_id);
        dates[each.run_id] = each.logical_date;
    }
    std::map<std::string, std::vector<std::string>> per_run;
    TaskInstanceQuery query{.dag_ids = {dag.dag_id}, .run_ids = run_ids, .task_ids = tasks, .limit = kMaximumPageLimit};
    while (true) {
        auto page = context.runs.query_task_instances(query);
        if (!page) return store_unavailable(page.error());
        for (const auto& row : page->task_instances) per_run[row.run_id].push_back(row.ti.task_id);
        if (page->task_instances.size() < query.limit) break;
        query.offset += query.limit;
    }
    auto targets = nlohmann::json::array();
    for (const auto& [id, task_ids] : per_run) targets.push_back({{"run_id", id}, {"task_ids", task_ids}});
    MAYAFLOW_READ(references, mark(context, dag.dag_id, state, dry_run.value_or(true), targets, dates));
    return json_response({{"task_instances", references}});
}

}  // namespace

void add_task_instance_routes(RouteTable& table, ApiContext& context) {
    auto with = [&context](WebResponse (*handler)(ApiContext&, const ApiRequest&)) {
        return [&context, handler](const ApiRequest& request) { return handler(context, request); };
    };
    const std::string list = "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances";
    const std::string one = list + "/{task_id}";
    table.add("GET", list, {Resource::task_instance, Action::read}, with(list_task_instances));
    table.add("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", {Resource::task_instance, Action::read},
              with(list_task_instances_batch));
    table.add("GET", one, {Resource::task_instance, Action::read}, with(get_task_instance));
    table.add("PATCH", one, {Resource::task_instance, Action::edit}, with(patch_task_instance));
    table.add("PATCH", one + "/setNote", {Resource::task_instance, Action::edit}, with(set_task_note));
    table.add("GET", one + "/tries", {Resource::task_instance, Action::read}, with(get_task_instance_tries));
    table.add("GET", one + "/tries/{task_try_number}", {Resource::task_instance, Action::read},
              with(get_task_instance_try));
    table.add("POST", "/api/v1/dags/{dag_id}/clearTaskInstances", {Resource::task_instance, Action::edit},
              with(clear_task_instances));
    table.add("POST", "/api/v1/dags/{dag_id}/updateTaskInstancesState", {Resource::task_instance, Action::edit},
              with(update_task_instances_state));
}

}  // namespace mayaflow
