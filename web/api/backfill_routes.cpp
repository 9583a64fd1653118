// /backfills: backfills as records, in Airflow 3's shapes, served under /api/v1. Creating, pausing,
// resuming and cancelling one are commands to the scheduler (it owns the runs); a dry run plans
// here from the store, as `mayaflow dags backfill --dry-run` does.

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "scheduler/backfill_plan.h"
#include "web/api/problem.h"
#include "web/api/routes.h"

namespace mayaflow {
namespace {

std::string iso(Instant instant) { return format_iso8601(instant, TimeZone::utc()); }

const std::initializer_list<std::string_view> kBackfillFields = {
    "dag_id", "from_date", "to_date", "run_backwards", "dag_run_conf", "reprocess_behavior", "max_active_runs"};

// The Backfill shape, with `progress` (its runs by state) for the UI.
Result<nlohmann::json> backfill_json(ApiContext& context, const BackfillRow& backfill) {
    auto json = backfill_to_json(backfill);
    // mayaflow keeps no separate time of change: a backfill last changed when it completed, or
    // (paused and resumed aside) when it was created.
    json["updated_at"] = backfill.completed_at ? iso(*backfill.completed_at) : iso(backfill.created_at);
    auto runs = context.runs.list_runs(RunFilter{.backfill_id = backfill.id, .limit = kMaxBackfillRuns * 4});
    if (!runs) return runs.error();
    nlohmann::json by_state = {{"queued", 0}, {"running", 0}, {"success", 0}, {"failed", 0}};
    for (const auto& run : *runs) {
        auto state = std::string(to_string(run.state));
        by_state[state] = by_state.value(state, 0) + 1;
    }
    json["progress"] = {{"total_runs", runs->size()}, {"runs_by_state", by_state}};
    return json;
}

WebResponse backfill_answer(ApiContext& context, const BackfillRow& backfill) {
    auto json = backfill_json(context, backfill);
    if (!json) return store_unavailable(json.error());
    return json_response(*json);
}

Read<long long> read_backfill_id(const ApiRequest& request) {
    const auto& text = request.param("backfill_id");
    long long id = 0;
    auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (text.empty() || text.front() == '-' || text.front() == '+' || failure != std::errc() ||
        end != text.data() + text.size() || id < 1) {
        return bad_request(fmt::format("a backfill's id is a whole number from 1 up, got {}; GET /api/v1/backfills "
                                       "lists them",
                                       quote_for_message(text)));
    }
    return id;
}

WebResponse backfill_not_found(long long id) {
    return not_found(fmt::format("no backfill with id {}; GET /api/v1/backfills lists them", id));
}

// The body of POST /backfills and /backfills/dry_run as the scheduler's command takes it; each
// field's type checked here, so the 400 names it.
Read<nlohmann::json> read_backfill_request(ApiContext& context, const ApiRequest& request) {
    auto read = read_json_object(request, kBackfillFields);
    if (failed(read)) return std::get<WebResponse>(read);
    const auto& body = std::get<nlohmann::json>(read);
    nlohmann::json payload = nlohmann::json::object();
    auto dag_id = string_field(body, "dag_id");
    if (failed(dag_id)) return std::get<WebResponse>(dag_id);
    if (!std::get<std::optional<std::string>>(dag_id)) return bad_request("'dag_id' is required: the DAG to backfill");
    payload["dag_id"] = *std::get<std::optional<std::string>>(dag_id);
    std::optional<Instant> dates[2];
    int i = 0;
    for (const char* name : {"from_date", "to_date"}) {
        auto date = datetime_field(body, name);
        if (failed(date)) return std::get<WebResponse>(date);
        dates[i] = std::get<std::optional<Instant>>(date);
        if (!dates[i]) {
            return bad_request(fmt::format("'{}' is required: a date-time like 2024-01-31T00:00:00+00:00", name));
        }
        payload[name] = iso(*dates[i]);
        ++i;
    }
    if (*dates[0] > *dates[1]) {
        return bad_request(fmt::format("'from_date' ({}) is after 'to_date' ({})", iso(*dates[0]), iso(*dates[1])));
    }
    auto backwards = bool_field(body, "run_backwards");
    if (failed(backwards)) return std::get<WebResponse>(backwards);
    payload["run_backwards"] = std::get<std::optional<bool>>(backwards).value_or(false);
    if (body.contains("dag_run_conf") && !body["dag_run_conf"].is_null()) {
        if (!body["dag_run_conf"].is_object()) return bad_request("'dag_run_conf' must be a JSON object");
        payload["dag_run_conf"] = body["dag_run_conf"];
    }
    auto behavior = string_field(body, "reprocess_behavior");
    if (failed(behavior)) return std::get<WebResponse>(behavior);
    if (auto value = std::get<std::optional<std::string>>(behavior)) {
        if (!parse_reprocess_behavior(*value)) {
            return bad_request(fmt::format("'reprocess_behavior' must be none, failed or completed, got {}",
                                           quote_for_message(*value)));
        }
        payload["reprocess_behavior"] = *value;
    }
    auto max_runs = integer_field(body, "max_active_runs");
    if (failed(max_runs)) return std::get<WebResponse>(max_runs);
    if (auto value = std::get<std::optional<long long>>(max_runs)) {
        if (*value < 1 || *value > 10'000) {
            return bad_request(fmt::format("'max_active_runs' must be a whole number from 1 to 10000, got {}", *value));
        }
        payload["max_active_runs"] = *value;
    }
    auto dag = context.store.find_dag(payload["dag_id"].get<std::string>());
    if (!dag) return store_unavailable(dag.error());
    if (!*dag) {
        return not_found(fmt::format("no DAG with dag_id '{}'; GET /api/v1/dags lists them",
                                     escape_invalid_utf8(payload["dag_id"].get<std::string>())));
    }
    return payload;
}

WebResponse list_backfills(ApiContext& context, const ApiRequest& request) {
    auto page = read_page(request);
    if (failed(page)) return std::get<WebResponse>(page);
    auto order = read_order_by(request, {"id"}, Ordering{"id", false});
    if (failed(order)) return std::get<WebResponse>(order);
    auto backfills = context.runs.list_backfills(request.query_value("dag_id"), false);  // newest first
    if (!backfills) return store_unavailable(backfills.error());
    if (!std::get<Ordering>(order).descending) std::reverse(backfills->begin(), backfills->end());
    auto items = nlohmann::json::array();
    const auto& wanted = std::get<Page>(page);
    for (size_t i = wanted.offset; i < backfills->size() && items.size() < wanted.limit; ++i) {
        auto json = backfill_json(context, (*backfills)[i]);
        if (!json) return store_unavailable(json.error());
        items.push_back(std::move(*json));
    }
    return json_response({{"backfills", items}, {"total_entries", backfills->size()}});
}

WebResponse create_backfill(ApiContext& context, const ApiRequest& request) {
    auto payload = read_backfill_request(context, request);
    if (failed(payload)) return std::get<WebResponse>(payload);
    auto outcome = send_scheduler_command(context, "backfill", std::get<nlohmann::json>(payload));
    if (outcome.kind != CommandOutcome::Kind::done) return command_failure(outcome);
    const auto& answer = outcome.result;
    long long id = answer.contains("backfill") ? answer["backfill"].value("id", 0LL) : 0LL;
    if (id == 0) {
        std::string reasons;
        for (const auto& date : answer.value("skipped", nlohmann::json::array())) {
            reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : "; ", date.value("logical_date", ""),
                                   date.value("reason", ""));
        }
        return conflict("no logical date in the range needs a run, so no backfill was created" +
                        (reasons.empty() ? std::string() : " (" + reasons + ")") +
                        "; reprocess_behavior failed or completed runs existing runs again");
    }
    auto backfill = context.runs.find_backfill(id);
    if (!backfill) return store_unavailable(backfill.error());
    if (!*backfill) return backfill_not_found(id);
    return backfill_answer(context, **backfill);
}

WebResponse dry_run_backfill(ApiContext& context, const ApiRequest& request) {
    auto payload = read_backfill_request(context, request);
    if (failed(payload)) return std::get<WebResponse>(payload);
    auto backfill = backfill_request_from_json(std::get<nlohmann::json>(payload));
    if (!backfill) return bad_request(backfill.error().message);
    auto plan = plan_backfill_from_store(context.store, context.runs, *backfill, now_instant());
    if (!plan) {
        if (plan.error().message.starts_with("no DAG")) return not_found(plan.error().message);
        return bad_request(plan.error().message);
    }
    auto runs = nlohmann::json::array();
    for (const auto& run : plan->runs) {
        runs.push_back({{"dag_id", backfill->dag_id}, {"logical_date", iso(run.info.logical_date)}});
    }
    return json_response({{"backfills", runs}, {"total_entries", runs.size()}});
}

WebResponse get_backfill(ApiContext& context, const ApiRequest& request) {
    auto id = read_backfill_id(request);
    if (failed(id)) return std::get<WebResponse>(id);
    auto backfill = context.runs.find_backfill(std::get<long long>(id));
    if (!backfill) return store_unavailable(backfill.error());
    if (!*backfill) return backfill_not_found(std::get<long long>(id));
    return backfill_answer(context, **backfill);
}

// pause, unpause, cancel: a backfill that exists and has not completed, changed by the scheduler.
WebResponse change_backfill(ApiContext& context, const ApiRequest& request, const std::string& kind) {
    auto id = read_backfill_id(request);
    if (failed(id)) return std::get<WebResponse>(id);
    if (!request.web.body.empty() && request.web.body.find_first_not_of(" \t\r\n") != std::string::npos) {
        return bad_request("this request takes no body");
    }
    auto backfill = context.runs.find_backfill(std::get<long long>(id));
    if (!backfill) return store_unavailable(backfill.error());
    if (!*backfill) return backfill_not_found(std::get<long long>(id));
    if ((*backfill)->completed_at) {
        return conflict(fmt::format("backfill {} is already completed (at {}); there is nothing to change",
                                    std::get<long long>(id), iso(*(*backfill)->completed_at)));
    }
    auto outcome = send_scheduler_command(context, kind, {{"id", std::get<long long>(id)}});
    if (outcome.kind != CommandOutcome::Kind::done) return command_failure(outcome);
    auto changed = context.runs.find_backfill(std::get<long long>(id));
    if (!changed) return store_unavailable(changed.error());
    if (!*changed) return backfill_not_found(std::get<long long>(id));
    return backfill_answer(context, **changed);
}

}  // namespace

void add_backfill_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/backfills", {Resource::backfill, Action::read},
              [&context](const ApiRequest& request) { return list_backfills(context, request); });
    table.add("POST", "/api/v1/backfills", {Resource::backfill, Action::create},
              [&context](const ApiRequest& request) { return create_backfill(context, request); });
    table.add("POST", "/api/v1/backfills/dry_run", {Resource::backfill, Action::create},
              [&context](const ApiRequest& request) { return dry_run_backfill(context, request); });
    table.add("GET", "/api/v1/backfills/{backfill_id}", {Resource::backfill, Action::read},
              [&context](const ApiRequest& request) { return get_backfill(context, request); });
    for (auto [verb, kind] : {std::pair{"pause", "backfill_pause"}, std::pair{"unpause", "backfill_resume"},
                              std::pair{"cancel", "backfill_cancel"}}) {
        table.add("PUT", std::string("/api/v1/backfills/{backfill_id}/") + verb, {Resource::backfill, Action::edit},
                  [&context, kind = std::string(kind)](const ApiRequest& request) {
                      return change_backfill(context, request, kind);
                  });
    }
}

}  // namespace mayaflow
