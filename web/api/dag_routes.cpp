// /dags, /dagWarnings and /importErrors: the DAGs the daemon loaded, in Airflow's shapes (lists
// with Airflow's filters, pausing one or many, details, tasks, deleting a DAG whose file is gone),
// and the files it could not load.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "engine/model/dag_json.h"
#include "engine/time/duration_text.h"
#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "web/api/dag_file_token.h"
#include "web/api/dag_selection.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/run_shapes.h"

namespace mayaflow {
namespace {

std::string iso(Instant instant) { return format_iso8601(instant, TimeZone::utc()); }

// The signer of the DAGs' file tokens; none when the store cannot give its key (the tokens are then null).
std::optional<TokenSigner> file_signer(ApiContext& context) {
    auto signer = TokenSigner::of_store(context.store);
    if (!signer) return std::nullopt;
    return std::move(*signer);
}

// The DAG files that failed to load at their last parse (Airflow's has_import_errors); none when the
// store cannot list them.
std::set<std::string> files_with_import_errors(ApiContext& context) {
    std::set<std::string> files;
    auto errors = context.store.list_import_errors();
    if (errors) {
        for (const auto& error : *errors) files.insert(error.filename);
    }
    return files;
}

// Airflow's ScheduleInterval: a fixed interval (`30m`) is its TimeDelta, a cron expression or a
// preset (`@daily`) its CronExpression; null for a DAG that runs only when triggered.
nlohmann::json schedule_interval_json(const std::optional<std::string>& schedule) {
    if (!schedule) return nullptr;
    if (!schedule->empty() && schedule->front() != '@' && schedule->find(' ') == std::string::npos) {
        if (auto interval = parse_duration(*schedule)) return timedelta_json(*interval);
    }
    return {{"__type", "CronExpression"}, {"value", *schedule}};
}

// Airflow's DAG, every field of it: those mayaflow has no use for (SubDAGs, pickles, scheduler locks)
// are null or false as Airflow answers them for a DAG without; max_active_runs and max_active_tasks
// are in the details, which read the DAG's version.
nlohmann::json dag_json(const DagRecord& dag, const std::optional<TokenSigner>& signer = std::nullopt,
                        const std::set<std::string>& broken_files = {}) {
    auto tags = nlohmann::json::array();
    for (const auto& tag : dag.tags) tags.push_back({{"name", tag}});
    return {
        {"dag_id", dag.dag_id},
        {"dag_display_name", dag.dag_id},
        {"root_dag_id", nullptr},
        {"is_subdag", false},
        {"description", dag.description.empty() ? nlohmann::json(nullptr) : nlohmann::json(dag.description)},
        {"fileloc", dag.fileloc},
        {"file_token", signer ? nlohmann::json(dag_file_token(*signer, dag.fileloc)) : nlohmann::json(nullptr)},
        {"is_paused", dag.is_paused},
        {"is_active", dag.is_active},
        {"owners", nlohmann::json::array({dag.owners})},
        {"tags", tags},
        {"timetable_description", dag.schedule ? *dag.schedule : "Never, external triggers only"},
        {"schedule_interval", schedule_interval_json(dag.schedule)},
        {"timezone", dag.timezone},
        {"last_parsed_time", iso(dag.last_parsed_time)},
        {"last_pickled", nullptr},
        {"last_expired", nullptr},
        {"scheduler_lock", nullptr},
        {"pickle_id", nullptr},
        {"default_view", "grid"},
        {"has_import_errors", broken_files.count(dag.fileloc) > 0},
        {"has_task_concurrency_limits", false},
        {"max_active_tasks", nullptr},
        {"max_active_runs", nullptr},
        {"max_consecutive_failed_dag_runs", 0},
        {"next_dagrun", nullptr},
        {"next_dagrun_data_interval_start", nullptr},
        {"next_dagrun_data_interval_end", nullptr},
        {"next_dagrun_create_after", nullptr},
        {"version", dag.latest_version},
    };
}

nlohmann::json import_error_json(const ImportErrorRecord& record) {
    return {{"import_error_id", record.id},
            {"filename", record.filename},
            {"stack_trace", record.stack_trace},
            {"timestamp", iso(record.timestamp)}};
}

nlohmann::json warning_json(const DagWarningRecord& warning) {
    return {{"dag_id", warning.dag_id},
            {"warning_type", warning.warning_type},
            {"message", warning.message},
            {"timestamp", iso(warning.timestamp)}};
}


// The DAG's newest stored version, or null when it cannot be read.
std::shared_ptr<const Dag> newest_version(ApiContext& context, const std::string& dag_id) {
    auto version = context.store.latest_dag_version(dag_id);
    if (!version || !*version) return nullptr;
    auto dag = dag_from_json(nlohmann::json::parse((*version)->serialized, nullptr, false));
    if (!dag) return nullptr;
    return std::make_shared<const Dag>(std::move(*dag));
}

// Airflow's DAGDetail: the DAG with what its newest version says about how it runs.
nlohmann::json dag_detail_json(const DagRecord& record, const Dag* dag, const std::optional<TokenSigner>& signer,
                               const std::set<std::string>& broken_files) {
    auto body = dag_json(record, signer, broken_files);
    body["timezone"] = record.timezone;
    body["catchup"] = dag ? nlohmann::json(dag->catchup) : nlohmann::json(nullptr);
    body["orientation"] = "LR";
    body["concurrency"] = dag ? nlohmann::json(dag->max_active_tasks) : nlohmann::json(nullptr);
    body["max_active_tasks"] = body["concurrency"];
    body["max_active_runs"] = dag ? nlohmann::json(dag->max_active_runs) : nlohmann::json(nullptr);
    body["start_date"] = dag ? iso_or_null(dag->start_date) : nlohmann::json(nullptr);
    body["end_date"] = dag ? iso_or_null(dag->end_date) : nlohmann::json(nullptr);
    body["dag_run_timeout"] =
        dag && dag->dagrun_timeout ? timedelta_json(*dag->dagrun_timeout) : nlohmann::json(nullptr);
    body["doc_md"] = dag && !dag->doc_md.empty() ? nlohmann::json(dag->doc_md) : nlohmann::json(nullptr);
    body["default_view"] = "grid";
    body["params"] = dag ? dag->params : nlohmann::json::object();
    body["is_paused_upon_creation"] = dag ? nlohmann::json(dag->is_paused_upon_creation) : nlohmann::json(nullptr);
    body["last_parsed"] = iso(record.last_parsed_time);
    body["template_search_path"] = nullptr;
    body["render_template_as_native_obj"] = false;
    body["dataset_expression"] = nullptr;
    body["schedule"] = dag && !dag->schedule.text().empty() ? nlohmann::json(dag->schedule.text())
                                                            : nlohmann::json(nullptr);
    return body;
}

// `fields`: only these fields of each DAG; every one must be a field of DAG.
Read<std::vector<std::string>> read_fields(const ApiRequest& request) {
    auto fields = request.query_list("fields");
    static const nlohmann::json sample = dag_json(DagRecord{});
    for (const auto& field : fields) {
        if (!sample.contains(field)) {
            return bad_request(fmt::format("fields: {} is not a field of DAG", quote_for_message(field)));
        }
    }
    return fields;
}

nlohmann::json only_fields(const nlohmann::json& dag, const std::vector<std::string>& fields) {
    if (fields.empty()) return dag;
    nlohmann::json kept = nlohmann::json::object();
    for (const auto& field : fields) kept[field] = dag[field];
    return kept;
}

// The PATCH body: {"is_paused": bool}, with update_mask (when given) naming only is_paused.
Read<bool> read_pause_patch(const ApiRequest& request) {
    for (const auto& mask : request.query_list("update_mask")) {
        if (mask != "is_paused") {
            return bad_request(fmt::format("update_mask {} cannot be updated; only is_paused can",
                                           quote_for_message(mask)));
        }
    }
    auto body = read_json_object(request, {"is_paused"});
    if (failed(body)) return std::get<WebResponse>(body);
    auto paused = bool_field(std::get<nlohmann::json>(body), "is_paused");
    if (failed(paused)) return std::get<WebResponse>(paused);
    auto& value = std::get<std::optional<bool>>(paused);
    if (!value) return bad_request("'is_paused' is required: true or false");
    return *value;
}

Read<nlohmann::json> set_paused(ApiContext& context, const std::string& dag_id, bool paused) {
    return scheduler_command(context, paused ? "pause" : "unpause", {{"dag_id", dag_id}});
}

}  // namespace

void add_dag_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/dags", {Resource::dag, Action::read}, [&context](const ApiRequest& request) {
        MAYAFLOW_READ(fields, read_fields(request));
        MAYAFLOW_READ(selection, selected_dags(context, request));
        auto signer = file_signer(context);
        auto broken = files_with_import_errors(context);
        auto listed = nlohmann::json::array();
        for (const auto& dag : selection.page) listed.push_back(only_fields(dag_json(dag, signer, broken), fields));
        return json_response({{"dags", listed}, {"total_entries", selection.total}});
    });

    // Pauses or unpauses every DAG that dag_id_pattern (required; `~` for all), tags and
    // only_active select, as Airflow's PATCH /dags; answers with them as they now are.
    table.add("PATCH", "/api/v1/dags", {Resource::dag, Action::edit}, [&context](const ApiRequest& request) {
        if (!request.query_value("dag_id_pattern")) {
            return bad_request("dag_id_pattern is required: a part of the dag_ids to update, or ~ for every DAG");
        }
        MAYAFLOW_READ(page, read_page(request));
        MAYAFLOW_READ(filter, read_dag_filter(request));
        MAYAFLOW_READ(paused, read_pause_patch(request));
        auto dags = filtered_dags(context, filter);
        if (!dags) return store_unavailable(dags.error());
        std::vector<DagRecord> chosen;
        for (size_t i = page.offset; i < dags->size() && chosen.size() < page.limit; ++i) chosen.push_back((*dags)[i]);
        for (auto& dag : chosen) {
            MAYAFLOW_READ(answer, set_paused(context, dag.dag_id, paused));
            dag.is_paused = paused;
        }
        auto listed = nlohmann::json::array();
        auto signer = file_signer(context);
        auto broken = files_with_import_errors(context);
        for (const auto& dag : chosen) listed.push_back(dag_json(dag, signer, broken));
        return json_response({{"dags", listed}, {"total_entries", chosen.size()}});
    });

    table.add("GET", "/api/v1/dags/{dag_id}", {Resource::dag, Action::read}, [&context](const ApiRequest& request) {
        MAYAFLOW_READ(dag, find_dag_or_404(context, request.param("dag_id")));
        MAYAFLOW_READ(fields, read_fields(request));
        auto body = dag_json(dag, file_signer(context), files_with_import_errors(context));
        auto warnings = context.store.list_dag_warnings(dag.dag_id);
        if (!warnings) return store_unavailable(warnings.error());
        if (!fields.empty()) return json_response(only_fields(body, fields));
        body["warnings"] = nlohmann::json::array();
        for (const auto& warning : *warnings) body["warnings"].push_back(warning_json(warning));
        return json_response(body);
    });

    table.add("PATCH", "/api/v1/dags/{dag_id}", {Resource::dag, Action::edit}, [&context](const ApiRequest& request) {
        MAYAFLOW_READ(dag, find_dag_or_404(context, request.param("dag_id")));
        MAYAFLOW_READ(paused, read_pause_patch(request));
        MAYAFLOW_READ(answer, set_paused(context, dag.dag_id, paused));
        MAYAFLOW_READ(updated, find_dag_or_404(context, dag.dag_id));
        return json_response(dag_json(updated, file_signer(context), files_with_import_errors(context)));
    });

    // Airflow's delete_dag removes a DAG's metadata; a DAG whose file is still in the folder would
    // come back at the next parse, so it is refused until the file is gone.
    table.add("DELETE", "/api/v1/dags/{dag_id}", {Resource::dag, Action::remove}, [&context](const ApiRequest& request) {
        MAYAFLOW_READ(dag, find_dag_or_404(context, request.param("dag_id")));
        if (dag.is_active) {
            return conflict(fmt::format("DAG {} is still defined by its file {}; remove the file from the DAG folder "
                                        "first (the DAG is then deactivated), then delete the DAG",
                                        quote_name(dag.dag_id), escape_invalid_utf8(dag.fileloc)));
        }
        MAYAFLOW_READ(answer, scheduler_command(context, "delete_dag", {{"dag_id", dag.dag_id}}));
        return no_content();
    });

    table.add("GET", "/api/v1/dags/{dag_id}/details", {Resource::dag, Action::read}, [&context](const ApiRequest& request) {
        MAYAFLOW_READ(dag, find_dag_or_404(context, request.param("dag_id")));
        auto newest = newest_version(context, dag.dag_id);
        return json_response(dag_detail_json(dag, newest.get(), file_signer(context), files_with_import_errors(context)));
    });

    table.add("GET", "/api/v1/dags/{dag_id}/tasks", {Resource::dag, Action::read},
              [&context](const ApiRequest& request) {
                  MAYAFLOW_READ(dag, find_dag_or_404(context, request.param("dag_id")));
                  MAYAFLOW_READ(order, read_order_by(request, {"task_id", "operator_name", "pool", "priority_weight"},
                                                     {"task_id", false}));
                  auto newest = newest_version(context, dag.dag_id);
                  if (!newest) return store_unavailable(Error{"the DAG's stored version cannot be read"});
                  std::vector<const Task*> tasks;
                  for (const auto& task : newest->tasks) tasks.push_back(&task);
                  auto key = [&order](const Task* task) -> std::string {
                      if (order.field == "operator_name") return task->operator_name;
                      if (order.field == "pool") return task->pool;
                      if (order.field == "priority_weight") return fmt::format("{:020}", task->priority_weight + (1LL << 40));
                      return std::string();
                  };
                  std::stable_sort(tasks.begin(), tasks.end(), [&](const Task* a, const Task* b) {
                      auto ka = std::pair{key(a), a->task_id};
                      auto kb = std::pair{key(b), b->task_id};
                      return order.descending ? kb < ka : ka < kb;
                  });
                  auto listed = nlohmann::json::array();
                  for (const Task* task : tasks) listed.push_back(task_json(*newest, *task));
                  return json_response({{"tasks", listed}, {"total_entries", tasks.size()}});
              });

    table.add("GET", "/api/v1/dags/{dag_id}/tasks/{task_id}", {Resource::dag, Action::read},
              [&context](const ApiRequest& request) {
                  MAYAFLOW_READ(dag, find_dag_or_404(context, request.param("dag_id")));
                  auto newest = newest_version(context, dag.dag_id);
                  if (!newest) return store_unavailable(Error{"the DAG's stored version cannot be read"});
                  const Task* task = newest->find_task(request.param("task_id"));
                  if (!task) {
                      return not_found(fmt::format("DAG {} has no task {}; GET /api/v1/dags/{}/tasks lists them",
                                                   quote_name(dag.dag_id), quote_name(request.param("task_id")),
                                                   escape_invalid_utf8(dag.dag_id)));
                  }
                  return json_response(task_json(*newest, *task));
              });

    table.add("GET", "/api/v1/dagWarnings", {Resource::dag_warning, Action::read}, [&context](const ApiRequest& request) {
        auto page = read_page(request);
        if (failed(page)) return std::get<WebResponse>(page);
        auto warnings = context.store.list_dag_warnings(request.query_value("dag_id").value_or(""));
        if (!warnings) return store_unavailable(warnings.error());
        auto type = request.query_value("warning_type").value_or("");
        std::vector<DagWarningRecord> kept;
        for (const auto& warning : *warnings) {
            if (type.empty() || warning.warning_type == type) kept.push_back(warning);
        }
        return json_response({{"dag_warnings", page_of(kept, std::get<Page>(page), warning_json)},
                              {"total_entries", kept.size()}});
    });

    table.add("GET", "/api/v1/importErrors", {Resource::import_error, Action::read}, [&context](const ApiRequest& request) {
        auto page = read_page(request);
        if (failed(page)) return std::get<WebResponse>(page);
        auto errors = context.store.list_import_errors();
        if (!errors) return store_unavailable(errors.error());
        return json_response({{"import_errors", page_of(*errors, std::get<Page>(page), import_error_json)},
                              {"total_entries", errors->size()}});
    });

    table.add("GET", "/api/v1/importErrors/{import_error_id}", {Resource::import_error, Action::read},
              [&context](const ApiRequest& request) {
        const std::string& text = request.param("import_error_id");
        std::int64_t id = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (error != std::errc() || end != text.data() + text.size()) {
            return bad_request(fmt::format("import_error_id '{}' is not a whole number; GET /importErrors lists the "
                                           "ids",
                                           escape_invalid_utf8(text)));
        }
        auto errors = context.store.list_import_errors();
        if (!errors) return store_unavailable(errors.error());
        for (const auto& record : *errors) {
            if (record.id == id) return json_response(import_error_json(record));
        }
        return not_found(fmt::format("no import error with import_error_id {}; the file may load now, or have "
                                     "failed again under a new id (GET /importErrors)",
                                     id));
    });
}

}  // namespace mayaflow
