// /dags/{dag_id}/dagRuns: DAG runs in Airflow 2.10's v1 shapes — lists with filters, the `~` list
// over every DAG and its batch form, one run, triggering one, setting its state, deleting it,
// clearing it, its note; /dagStats, the runs of some DAGs counted by state. Reads go to the store;
// every change of state is a command to the scheduler, which owns all writes to run state. A note is
// not state: it is written directly.

#include <fmt/format.h>

#include <algorithm>

#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/run_shapes.h"

namespace mayaflow {
namespace {

// The orders a run list takes, by Airflow's names, and the store's names for them.
const std::map<std::string, std::string>& run_order_fields() {
    static const std::map<std::string, std::string> fields = {
        {"id", "id"},           {"dag_id", "dag_id"},         {"dag_run_id", "run_id"},   {"run_id", "run_id"},
        {"state", "state"},     {"execution_date", "logical_date"}, {"logical_date", "logical_date"},
        {"start_date", "start_date"}, {"end_date", "end_date"}, {"updated_at", "updated_at"},
        {"run_type", "run_type"}, {"queued_at", "queued_at"}};
    return fields;
}

Read<Ordering> run_order(std::optional<std::string> text) {
    Ordering ordering{"id", false};
    if (!text || text->empty()) return ordering;
    std::string name = *text;
    if (name.front() == '-') {
        ordering.descending = true;
        name.erase(0, 1);
    }
    auto it = run_order_fields().find(name);
    if (it == run_order_fields().end()) {
        std::vector<std::string> names;
        for (const auto& [field, column] : run_order_fields()) names.push_back(field);
        return bad_request(fmt::format("order_by {} is not a field runs can be ordered by; use one of {} (a leading "
                                       "'-' orders descending)",
                                       quote_for_message(*text), join(names)));
    }
    ordering.field = it->second;
    return ordering;
}

WebResponse run_page(ApiContext& context, const RunQuery& query) {
    auto page = context.runs.query_runs(query);
    if (!page) return store_unavailable(page.error());
    auto runs = nlohmann::json::array();
    for (const auto& run : page->runs) runs.push_back(dag_run_json(run));
    return json_response({{"dag_runs", runs}, {"total_entries", page->total_entries}});
}

WebResponse list_runs(ApiContext& context, const ApiRequest& request) {
    RunQuery query;
    // An unknown dag_id lists no runs (200), as Airflow's list filters by it without looking it up.
    const auto& dag_id = request.param("dag_id");
    if (dag_id != "~") query.dag_ids = {dag_id};
    MAYAFLOW_READ(page, read_page(request));
    MAYAFLOW_READ(order, run_order(request.query_value("order_by")));
    MAYAFLOW_READ(states, read_run_states(request.query_list("state"), "state"));
    MAYAFLOW_READ(logical, read_range(request, "execution_date"));
    MAYAFLOW_READ(start, read_range(request, "start_date"));
    MAYAFLOW_READ(end, read_range(request, "end_date"));
    MAYAFLOW_READ(updated, read_range(request, "updated_at"));
    for (const auto& type : request.query_list("run_type")) {
        if (type != "scheduled" && type != "manual" && type != "backfill" && type != "dataset_triggered") {
            return bad_request(fmt::format("run_type {} is not a run type; use scheduled, manual, backfill or "
                                           "dataset_triggered",
                                           quote_for_message(type)));
        }
        query.run_types.push_back(type);
    }
    query.states = std::move(states);
    query.logical_date = logical;
    query.start_date = start;
    query.end_date = end;
    query.updated_at = updated;
    query.order_by = order.field;
    query.descending = order.descending;
    query.limit = page.limit;
    query.offset = page.offset;
    return run_page(context, query);
}

// POST /dags/~/dagRuns/list: the same query from a body, as Airflow's ListDagRunsForm.
WebResponse list_runs_batch(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(body, read_json_object(request,
                                         {"order_by", "page_offset", "page_limit", "dag_ids", "states",
                                          "execution_date_gte", "execution_date_lte", "start_date_gte",
                                          "start_date_lte", "end_date_gte", "end_date_lte"},
                                         true));
    RunQuery query;
    MAYAFLOW_READ(dag_ids, string_list_field(body, "dag_ids"));
    MAYAFLOW_READ(state_names, string_list_field(body, "states"));
    MAYAFLOW_READ(states, read_run_states(state_names.value_or(std::vector<std::string>{}), "states"));
    MAYAFLOW_READ(order_text, string_field(body, "order_by"));
    MAYAFLOW_READ(order, run_order(order_text));
    MAYAFLOW_READ(page, page_fields(body));
    MAYAFLOW_READ(logical, range_field(body, "execution_date"));
    MAYAFLOW_READ(start, range_field(body, "start_date"));
    MAYAFLOW_READ(end, range_field(body, "end_date"));
    query.dag_ids = dag_ids.value_or(std::vector<std::string>{});
    query.states = std::move(states);
    query.logical_date = logical;
    query.start_date = start;
    query.end_date = end;
    query.order_by = order.field;
    query.descending = order.descending;
    query.offset = page.offset;
    query.limit = page.limit;
    return run_page(context, query);
}

WebResponse get_run(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(run, find_run_or_404(context, request.param("dag_id"), request.param("dag_run_id")));
    return json_response(dag_run_json(run));
}

WebResponse run_answer(ApiContext& context, const std::string& dag_id, const std::string& run_id, int status = 200) {
    MAYAFLOW_READ(run, find_run_or_404(context, dag_id, run_id));
    return json_response(dag_run_json(run), status);
}

WebResponse trigger_run(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(dag, find_dag_or_404(context, request.param("dag_id")));
    MAYAFLOW_READ(body, read_json_object(request,
                                         {"dag_run_id", "logical_date", "execution_date", "conf", "note",
                                          "data_interval_start", "data_interval_end"},
                                         true));
    MAYAFLOW_READ(run_id, string_field(body, "dag_run_id"));
    MAYAFLOW_READ(logical_date, datetime_field(body, "logical_date"));
    MAYAFLOW_READ(execution_date, datetime_field(body, "execution_date"));
    MAYAFLOW_READ(note, note_field(body));
    if (logical_date && execution_date && *logical_date != *execution_date) {
        return bad_request("logical_date and execution_date (its older name) differ; give one of them");
    }
    if (!logical_date) logical_date = execution_date;
    if (body.contains("conf") && !body["conf"].is_null() && !body["conf"].is_object()) {
        return bad_request("'conf' must be a JSON object");
    }
    if (body.contains("data_interval_start") || body.contains("data_interval_end")) {
        return bad_request("mayaflow infers a triggered run's data interval from the DAG's schedule and the logical "
                           "date; leave data_interval_start and data_interval_end out");
    }
    nlohmann::json payload = {{"dag_id", dag.dag_id}};
    if (run_id) payload["run_id"] = *run_id;
    if (logical_date) payload["logical_date"] = iso_utc(*logical_date);
    if (body.contains("conf") && body["conf"].is_object()) payload["conf"] = body["conf"];
    MAYAFLOW_READ(answer, scheduler_command(context, "trigger", payload));
    std::string created = answer.value("run_id", std::string());
    if (note) {
        auto written = context.runs.set_run_note(dag.dag_id, created, *note);
        if (!written) return store_unavailable(written.error());
    }
    return run_answer(context, dag.dag_id, created);
}

WebResponse patch_run(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(run, find_run_or_404(context, request.param("dag_id"), request.param("dag_run_id")));
    MAYAFLOW_READ(body, read_json_object(request, {"state"}));
    MAYAFLOW_READ(state, string_field(body, "state"));
    if (!state || (*state != "success" && *state != "failed" && *state != "queued")) {
        return bad_request("'state' is required and must be success, failed or queued");
    }
    MAYAFLOW_READ(answer, run_command(context, run, "set_run_state", {{"state", *state}}));
    return run_answer(context, run.dag_id, run.run_id);
}

WebResponse delete_run(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(run, find_run_or_404(context, request.param("dag_id"), request.param("dag_run_id")));
    MAYAFLOW_READ(answer, run_command(context, run, "delete_run", {}));
    return no_content();
}

// Airflow's clear of a whole run: a dry run (the default) lists the task instances it would clear;
// otherwise they are cleared and the run (queued again when it had finished) is the answer.
WebResponse clear_run(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(run, find_run_or_404(context, request.param("dag_id"), request.param("dag_run_id")));
    MAYAFLOW_READ(body, read_json_object(request, {"dry_run"}, true));
    MAYAFLOW_READ(dry_run, bool_field(body, "dry_run"));
    bool dry = dry_run.value_or(true);
    MAYAFLOW_READ(answer, run_command(context, run, "clear", {{"dry_run", dry}}));
    if (!dry) return run_answer(context, run.dag_id, run.run_id);
    auto task_ids = answer.value("task_ids", std::vector<std::string>{});
    TaskInstancePage page;
    if (!task_ids.empty()) {
        auto found = context.runs.query_task_instances(TaskInstanceQuery{
            .dag_ids = {run.dag_id}, .run_ids = {run.run_id}, .task_ids = task_ids, .limit = task_ids.size()});
        if (!found) return store_unavailable(found.error());
        page = std::move(*found);
    }
    DagVersions versions(context);
    auto items = nlohmann::json::array();
    for (const auto& row : page.task_instances) items.push_back(task_instance_json(row, versions));
    return json_response({{"task_instances", items}, {"total_entries", items.size()}});
}

WebResponse set_run_note(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(run, find_run_or_404(context, request.param("dag_id"), request.param("dag_run_id")));
    MAYAFLOW_READ(body, read_json_object(request, {"note"}));
    if (!body.contains("note")) return bad_request("'note' is required (a string, or null to remove the note)");
    MAYAFLOW_READ(note, note_field(body));
    auto written = context.runs.set_run_note(run.dag_id, run.run_id, note);
    if (!written) return store_unavailable(written.error());
    return run_answer(context, run.dag_id, run.run_id);
}

// GET /dagStats?dag_ids=a,b: how many runs each DAG has in each state, as Airflow's: every state
// listed (0 included), DAGs that do not exist left out, in dag_id order.
WebResponse dag_stats(ApiContext& context, const ApiRequest& request) {
    auto wanted = request.query_list("dag_ids");
    if (wanted.empty()) return bad_request("dag_ids is required: one or more DAG ids, separated by commas");
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    auto dags = nlohmann::json::array();
    for (const auto& dag_id : wanted) {
        auto dag = context.store.find_dag(dag_id);
        if (!dag) return store_unavailable(dag.error());
        if (!*dag) continue;
        auto stats = nlohmann::json::array();
        for (RunState state : {RunState::queued, RunState::running, RunState::success, RunState::failed}) {
            RunQuery query;
            query.dag_ids = {dag_id};
            query.states = {state};
            query.limit = 1;
            auto page = context.runs.query_runs(query);
            if (!page) return store_unavailable(page.error());
            stats.push_back({{"state", to_string(state)}, {"count", page->total_entries}});
        }
        dags.push_back({{"dag_id", dag_id}, {"stats", stats}});
    }
    const size_t total = dags.size();
    return json_response({{"dags", std::move(dags)}, {"total_entries", total}});
}

}  // namespace

void add_dag_run_routes(RouteTable& table, ApiContext& context) {
    auto with = [&context](WebResponse (*handler)(ApiContext&, const ApiRequest&)) {
        return [&context, handler](const ApiRequest& request) { return handler(context, request); };
    };
    const std::string runs = "/api/v1/dags/{dag_id}/dagRuns";
    const std::string run = runs + "/{dag_run_id}";
    table.add("GET", runs, {Resource::dag_run, Action::read}, with(list_runs));
    table.add("POST", runs, {Resource::dag_run, Action::create}, with(trigger_run));
    table.add("POST", "/api/v1/dags/~/dagRuns/list", {Resource::dag_run, Action::read}, with(list_runs_batch));
    table.add("GET", "/api/v1/dagStats", {Resource::dag_run, Action::read}, with(dag_stats));
    table.add("GET", run, {Resource::dag_run, Action::read}, with(get_run));
    table.add("PATCH", run, {Resource::dag_run, Action::edit}, with(patch_run));
    table.add("DELETE", run, {Resource::dag_run, Action::remove}, with(delete_run));
    table.add("POST", run + "/clear", {Resource::dag_run, Action::edit}, with(clear_run));
    table.add("PATCH", run + "/setNote", {Resource::dag_run, Action::edit}, with(set_run_note));
    table.add("GET", run + "/upstreamDatasetEvents", {Resource::dag_run, Action::read},
              [&context](const ApiRequest& request) {
                  MAYAFLOW_READ(found, find_run_or_404(context, request.param("dag_id"), request.param("dag_run_id")));
                  // mayaflow has no datasets: no run was triggered by one.
                  return json_response({{"dataset_events", nlohmann::json::array()}, {"total_entries", 0}});
              });
}

}  // namespace mayaflow
