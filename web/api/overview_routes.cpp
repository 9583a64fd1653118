// What the web UI needs that Airflow's API answers only one DAG at a time or not at all, under
// /api/v1/mayaflow/: the recent runs, run counts and next run of a page of DAGs in one request
// (the DAG list), every tag of the DAGs (its tag filter), a DAG's tasks with their groups and
// generating loops (the grid and graph), a DAG's newest runs with their task instances (the grid),
// the next scheduled runs of a DAG from its timetable, and
// the stand-ins the daemon talks to instead of Google's and Firebase's services.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "engine/config/settings.h"
#include "engine/connections/environment_secrets.h"
#include "engine/time/timetable.h"
#include "engine/util/utf8.h"
#include "web/api/dag_selection.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/run_shapes.h"

namespace mayaflow {
namespace {

constexpr size_t kMaxSummaryDags = 1000;
constexpr int kDefaultRecentRuns = 10;
constexpr int kMaxRecentRuns = 50;
// The grid's runs: the UI offers 10, 25, 50 and 100.
constexpr int kDefaultGridRuns = 25;
constexpr int kMaxGridRuns = 100;
// The most task instances one grid answer holds: a grid of more cells is no use on a screen, and a
// DAG of 2,000 tasks then shows its newest 5 runs.
constexpr size_t kMaxGridInstances = 10000;
constexpr int kMaxScheduleCount = 100;

// A whole number from `low` to `high` named `name` in the query, or `fallback` when absent.
Read<int> small_count(const ApiRequest& request, const std::string& name, int fallback, int low, int high) {
    auto text = request.query_value(name);
    if (!text) return fallback;
    int value = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (error != std::errc() || end != text->data() + text->size() || value < low || value > high) {
        return bad_request(fmt::format("{} must be a whole number from {} to {}", name, low, high));
    }
    return value;
}

// The DAG's newest version, parsed once and kept in the daemon's cache of versions; null when it
// cannot be read.
std::shared_ptr<const Dag> newest_dag(ApiContext& context, const DagRecord& record) {
    DagVersions versions(context);
    const auto* entry = versions.find(record.dag_id, record.latest_version);
    return entry ? entry->dag : nullptr;
}

nlohmann::json run_info_json(const DagRunInfo& info) {
    return {{"logical_date", iso_utc(info.logical_date)},
            {"data_interval_start", iso_utc(info.interval.start)},
            {"data_interval_end", iso_utc(info.interval.end)},
            {"run_after", iso_utc(info.run_after)}};
}

// The next `count` runs the scheduler would create for the DAG, as its timetable computes them
// from the last scheduled run's data interval (the same call the scheduler makes).
Result<std::vector<DagRunInfo>> next_runs(ApiContext& context, const Dag& dag, int count) {
    std::vector<DagRunInfo> runs;
    if (dag.schedule.kind() == Schedule::Kind::none) return runs;
    auto last_stored = context.runs.latest_automated_interval(dag.dag_id);
    if (!last_stored) return last_stored.error();
    std::optional<DataInterval> last;
    if (*last_stored) last = DataInterval{(*last_stored)->first, (*last_stored)->second};
    const TimeRestriction restriction{dag.start_date, dag.end_date, dag.catchup};
    const Instant now = now_instant();
    while (static_cast<int>(runs.size()) < count) {
        auto info = next_dagrun_info(dag.schedule, dag.timezone, last, restriction, now);
        if (!info || (last && info->interval.start < last->end)) break;
        // With catchup off, each call from `now` would answer the same latest interval: go on from it.
        last = info->interval;
        runs.push_back(*info);
        if (dag.schedule.kind() == Schedule::Kind::once) break;
    }
    return runs;
}

// The DAGs a summary is asked for: those `dag_ids` names, or else the page of DAGs GET /dags answers
// with the same selection (limit, offset, dag_id_pattern, tags, only_active, paused, order_by) and
// how many the selection holds in all (GET /dags's total_entries).
struct SummarisedDags {
    std::vector<std::string> dag_ids;
    std::optional<size_t> selection_total;
};

Read<SummarisedDags> summarised_dags(ApiContext& context, const ApiRequest& request) {
    auto named = request.query_list("dag_ids");
    if (named.empty() && request.query_value("dag_ids")) {
        return bad_request("dag_ids is empty: name one or more DAGs, separated by commas, or leave dag_ids out "
                           "to select the DAGs as GET /dags does");
    }
    if (!named.empty()) {
        for (const char* selection : {"limit", "offset", "dag_id_pattern", "tags", "only_active", "paused", "order_by"}) {
            if (request.query_value(selection)) {
                return bad_request(fmt::format("dag_ids and {} were both given: name the DAGs with dag_ids, or select "
                                               "them as GET /dags does (limit, offset, dag_id_pattern, tags, "
                                               "only_active, paused, order_by), not both", selection));
            }
        }
        if (named.size() > kMaxSummaryDags) {
            return bad_request(fmt::format("dag_ids names {} DAGs; at most {} at once", named.size(), kMaxSummaryDags));
        }
        return SummarisedDags{std::move(named), std::nullopt};
    }
    MAYAFLOW_READ(selection, selected_dags(context, request));
    std::vector<std::string> selected;
    for (const auto& dag : selection.page) selected.push_back(dag.dag_id);
    return SummarisedDags{std::move(selected), selection.total};
}

// GET /mayaflow/dagSummaries?dag_ids=a,b&runs=N, or ?limit=&offset=&dag_id_pattern=…&runs=N
WebResponse dag_summaries(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(chosen, summarised_dags(context, request));
    const auto& wanted = chosen.dag_ids;
    MAYAFLOW_READ(recent, small_count(request, "runs", kDefaultRecentRuns, 0, kMaxRecentRuns));
    // Every DAG's runs counted per state in one query, not one per DAG and state.
    auto by_state = context.runs.count_runs_by_state(wanted);
    if (!by_state) return store_unavailable(by_state.error());
    std::map<std::pair<std::string, RunState>, long long> counted;
    for (const auto& row : *by_state) counted[{row.dag_id, row.state}] = row.count;
    auto dags = nlohmann::json::array();
    for (const auto& dag_id : wanted) {
        auto record = context.store.find_dag(dag_id);
        if (!record) return store_unavailable(record.error());
        if (!*record) continue;
        RunQuery latest;
        latest.dag_ids = {dag_id};
        latest.order_by = "logical_date";
        latest.descending = true;
        latest.limit = static_cast<size_t>(recent);
        auto page = context.runs.query_runs(latest);
        if (!page) return store_unavailable(page.error());
        auto runs = nlohmann::json::array();
        for (const auto& run : page->runs) {
            runs.push_back({{"dag_run_id", run.run_id},
                            {"state", to_string(run.state)},
                            {"run_type", run.run_type},
                            {"logical_date", iso_or_null(run.logical_date)},
                            {"start_date", iso_or_null(run.start_date)},
                            {"end_date", iso_or_null(run.end_date)}});
        }
        auto counts = nlohmann::json::object();
        for (RunState state : {RunState::queued, RunState::running, RunState::success, RunState::failed}) {
            auto it = counted.find({dag_id, state});
            counts[std::string(to_string(state))] = it == counted.end() ? 0 : it->second;
        }
        nlohmann::json next = nullptr;
        if ((*record)->schedule && !(*record)->is_paused) {
            if (auto dag = newest_dag(context, **record)) {
                auto upcoming = next_runs(context, *dag, 1);
                if (!upcoming) return store_unavailable(upcoming.error());
                if (!upcoming->empty()) next = run_info_json(upcoming->front());
            }
        }
        dags.push_back({{"dag_id", dag_id},
                        {"is_paused", (*record)->is_paused},
                        {"recent_runs", runs},
                        {"run_counts", counts},
                        {"next_run", next}});
    }
    // The DAGs summarised (those of dag_ids that exist), or all the selection holds, as GET /dags counts.
    return json_response({{"dags", dags}, {"total_entries", chosen.selection_total.value_or(dags.size())}});
}

// GET /mayaflow/dags/{dag_id}/gridData?runs=N: the DAG's newest N runs (newest logical date first) and
// every task instance of them, in the shapes of GET …/dagRuns and …/taskInstances/list: the grid in
// one request, where the two would be one after the other (Airflow's UI has its grid_data too).
// At most kMaxGridInstances task instances: the newest runs whose instances fit (the newest one alone
// cut there), with `truncated` saying runs or instances were left out. The body is written one
// instance at a time, so the daemon holds the answer's text, not a JSON tree of it.
WebResponse dag_grid_data(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(record, find_dag_or_404(context, request.param("dag_id")));
    MAYAFLOW_READ(count, small_count(request, "runs", kDefaultGridRuns, 1, kMaxGridRuns));
    RunQuery newest;
    newest.dag_ids = {record.dag_id};
    newest.order_by = "logical_date";
    newest.descending = true;
    newest.limit = static_cast<size_t>(count);
    auto runs = context.runs.query_runs(newest);
    if (!runs) return store_unavailable(runs.error());
    std::string run_items;
    std::string instance_items;
    size_t instances = 0;
    bool truncated = false;
    DagVersions versions(context);
    for (const auto& run : runs->runs) {
        size_t room = kMaxGridInstances - instances;
        if (room == 0) {
            truncated = true;
            break;
        }
        TaskInstanceQuery query{.dag_ids = {record.dag_id}, .run_ids = {run.run_id}, .limit = room + 1};
        auto page = context.runs.query_task_instances(query);
        if (!page) return store_unavailable(page.error());
        if (page->task_instances.size() > room) {
            truncated = true;
            if (!run_items.empty()) break;  // this run's instances do not fit beside the newer runs'
            page->task_instances.resize(room);
        }
        if (!run_items.empty()) run_items += ',';
        run_items += dump_json(dag_run_json(run));
        for (const auto& row : page->task_instances) {
            if (instances++ > 0) instance_items += ',';
            instance_items += dump_json(task_instance_json(row, versions));
        }
    }
    return WebResponse{200, "application/json",
                       fmt::format(R"({{"dag_runs":[{}],"task_instances":[{}],"truncated":{}}})", run_items,
                                   instance_items, truncated),
                       {}};
}

// GET /mayaflow/dags/{dag_id}/graph: the newest version's tasks with what Airflow's Task shape leaves
// out and the UI draws: each task's group, the for_each variables that generated it, its upstream.
WebResponse dag_graph(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(record, find_dag_or_404(context, request.param("dag_id")));
    auto dag = newest_dag(context, record);
    if (!dag) {
        return problem(503, fmt::format("DAG '{}' has no readable version yet; try again once the DAG processor has "
                                        "stored it",
                                        record.dag_id));
    }
    auto tasks = nlohmann::json::array();
    for (const auto& task : dag->tasks) {
        tasks.push_back({{"task_id", task.task_id},
                         {"operator", task.operator_name},
                         {"trigger_rule", std::string(to_string(task.trigger_rule))},
                         {"group_id", task.group_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(task.group_id)},
                         {"loop_vars", task.loop_vars.empty() ? nlohmann::json(nullptr) : task.loop_vars},
                         {"upstream_task_ids", task.upstream},
                         {"downstream_task_ids", task.downstream},
                         {"pool", task.pool},
                         {"retries", task.retry.retries}});
    }
    return json_response({{"dag_id", record.dag_id}, {"version", record.latest_version}, {"tasks", tasks}});
}

// GET /mayaflow/dags/{dag_id}/schedule?count=N
WebResponse dag_schedule(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(record, find_dag_or_404(context, request.param("dag_id")));
    MAYAFLOW_READ(count, small_count(request, "count", 10, 1, kMaxScheduleCount));
    auto dag = newest_dag(context, record);
    if (!dag) {
        return problem(503, fmt::format("DAG '{}' has no readable version yet; try again once the DAG processor has "
                                        "stored it",
                                        record.dag_id));
    }
    auto upcoming = next_runs(context, *dag, count);
    if (!upcoming) return store_unavailable(upcoming.error());
    auto runs = nlohmann::json::array();
    for (const auto& info : *upcoming) runs.push_back(run_info_json(info));
    return json_response({{"dag_id", record.dag_id},
                          {"schedule", record.schedule ? nlohmann::json(*record.schedule) : nlohmann::json(nullptr)},
                          {"timezone", record.timezone},
                          {"catchup", dag->catchup},
                          {"is_paused", record.is_paused},
                          {"next_runs", runs}});
}

std::string ascii_lowercase(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// GET /mayaflow/dagTags?tag_name_pattern=…&limit=&offset=: every tag of the active DAGs, once,
// sorted — the DAG list's tag filter offers them all, not only those of the DAGs on its page.
WebResponse dag_tags(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(page, read_page(request));
    auto pattern = request.query_value("tag_name_pattern");
    const std::string needle = pattern ? ascii_lowercase(*pattern) : std::string();
    auto dags = context.store.list_dags(false);
    if (!dags) return store_unavailable(dags.error());
    std::set<std::string> names;
    for (const auto& dag : *dags) {
        for (const auto& tag : dag.tags) {
            if (needle.empty() || ascii_lowercase(tag).find(needle) != std::string::npos) names.insert(tag);
        }
    }
    std::vector<std::string> sorted(names.begin(), names.end());
    auto tags = page_of(sorted, page, [](const std::string& name) { return name; });
    return json_response({{"tags", tags}, {"total_entries", sorted.size()}});
}

// The variables that point the daemon's clients at stand-ins (docs/gcp.md, docs/firebase.md).
struct StandInVariable {
    const char* service;
    const char* variable;
};
constexpr StandInVariable kStandInVariables[] = {
    {"BigQuery", "BIGQUERY_EMULATOR_HOST"},
    {"Cloud Storage", "STORAGE_EMULATOR_HOST"},
    {"Compute metadata server", "GCE_METADATA_HOST"},
    {"Firebase Realtime Database", "FIREBASE_DATABASE_EMULATOR_HOST"},
};

// `scheme://host:port` of a URL, or `host:port` of a bare host, when the host is this machine
// (localhost, 127.0.0.0/8, ::1); nullopt otherwise. The user name, password, path and query are left
// out: a webhook's path or a URL's user info can be its secret.
std::optional<std::string> loopback_endpoint(std::string_view text, std::optional<int> port = std::nullopt) {
    std::string scheme;
    if (auto at = text.find("://"); at != std::string_view::npos) {
        scheme = std::string(text.substr(0, at + 3));
        text.remove_prefix(at + 3);
        text = text.substr(0, text.find_first_of("/?#"));
        if (auto user = text.rfind('@'); user != std::string_view::npos) text.remove_prefix(user + 1);
    }
    std::string_view host = text, rest;
    if (scheme.empty() && std::count(host.begin(), host.end(), ':') > 1) {
        // A bare IPv6 address (a connection's host field): no port in it.
    } else if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        rest = host.substr(close + 1);
        host = host.substr(1, close - 1);
    } else if (auto colon = host.find(':'); colon != std::string_view::npos) {
        rest = host.substr(colon);
        host = host.substr(0, colon);
    }
    const std::string lower = ascii_lowercase(std::string(host));
    const bool ipv4_loopback = lower.rfind("127.", 0) == 0 &&
                               lower.find_first_not_of("0123456789.") == std::string::npos;
    if (lower != "localhost" && lower != "::1" && !ipv4_loopback) return std::nullopt;
    std::string shown = lower == "::1" ? "[::1]" : lower;
    if (!rest.empty() && rest.front() == ':' && rest.find_first_not_of("0123456789", 1) == std::string_view::npos) {
        shown += std::string(rest);
    } else if (port) {
        shown += ":" + std::to_string(*port);
    }
    return scheme + shown;
}

// Where a connection points when that is this machine: its host, or a URL in its password (a Slack
// webhook's) or in its extra's values (a Firebase database_url).
std::optional<std::string> loopback_endpoint_of(const Connection& connection) {
    if (connection.host) {
        if (auto found = loopback_endpoint(*connection.host, connection.port)) return found;
    }
    if (connection.password && connection.password->find("://") != std::string::npos) {
        if (auto found = loopback_endpoint(*connection.password)) return found;
    }
    auto extra = connection.parse_extra();
    if (!extra.value.is_object()) return std::nullopt;
    for (const auto& [key, value] : extra.value.items()) {
        if (!value.is_string()) continue;
        const auto& text = value.get_ref<const std::string&>();
        if (text.find("://") == std::string::npos) continue;
        if (auto found = loopback_endpoint(text)) return found;
    }
    return std::nullopt;
}

std::string service_of(const Connection& connection) {
    static const std::map<std::string, std::string, std::less<>> names = {
        {"firebase", "Firebase Realtime Database"}, {"slackwebhook", "Slack webhook"},
        {"slack", "Slack"}, {"google_cloud_platform", "Google Cloud"}, {"gcpbigquery", "BigQuery"},
        {"http", "HTTP"}};
    auto it = names.find(connection.conn_type);
    const std::string name = it == names.end() ? connection.conn_type : it->second;
    return fmt::format("{} (connection {})", name, connection.conn_id);
}

// GET /mayaflow/standins: the variables that point a client at an emulator, and every connection (the
// environment's first, then the stored ones, as a task finds them) that points at this machine.
WebResponse stand_ins(ApiContext& context, const ApiRequest&) {
    auto list = nlohmann::json::array();
    for (const auto& known : kStandInVariables) {
        const char* value = std::getenv(known.variable);
        const bool set = value != nullptr && *value != '\0';
        list.push_back({{"service", known.service},
                        {"variable", known.variable},
                        {"conn_id", nullptr},
                        {"stand_in", set},
                        {"endpoint", set ? nlohmann::json(value) : nlohmann::json(nullptr)}});
    }
    std::set<std::string> seen;
    auto add = [&](const Connection& connection, const std::optional<std::string>& variable) {
        if (!seen.insert(connection.conn_id).second) return;
        auto endpoint = loopback_endpoint_of(connection);
        if (!endpoint) return;
        list.push_back({{"service", service_of(connection)},
                        {"variable", variable ? nlohmann::json(*variable) : nlohmann::json(nullptr)},
                        {"conn_id", connection.conn_id},
                        {"stand_in", true},
                        {"endpoint", *endpoint}});
    };
    for (const auto& found : EnvironmentSecrets(process_environment()).list_connections()) {
        if (found.connection) add(*found.connection, found.variable_name);
    }
    if (context.secrets) {
        if (auto stored = context.secrets->list_connections()) {
            for (const auto& connection : *stored) add(connection, std::nullopt);
        }
    }
    return json_response({{"standins", list}});
}

}  // namespace

void add_overview_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/mayaflow/dagSummaries", {Resource::dag_run, Action::read},
              [&context](const ApiRequest& request) { return dag_summaries(context, request); });
    table.add("GET", "/api/v1/mayaflow/dags/{dag_id}/schedule", {Resource::dag, Action::read},
              [&context](const ApiRequest& request) { return dag_schedule(context, request); });
    table.add("GET", "/api/v1/mayaflow/dags/{dag_id}/gridData", {Resource::task_instance, Action::read},
              [&context](const ApiRequest& request) { return dag_grid_data(context, request); });
    table.add("GET", "/api/v1/mayaflow/dags/{dag_id}/graph", {Resource::dag, Action::read},
              [&context](const ApiRequest& request) { return dag_graph(context, request); });
    table.add("GET", "/api/v1/mayaflow/dagTags", {Resource::dag, Action::read},
              [&context](const ApiRequest& request) { return dag_tags(context, request); });
    table.add("GET", "/api/v1/mayaflow/standins", {Resource::website, Action::read},
              [&context](const ApiRequest& request) { return stand_ins(context, request); });
}

}  // namespace mayaflow
