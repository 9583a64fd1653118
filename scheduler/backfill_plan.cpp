#include "scheduler/backfill_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "engine/model/dag_json.h"
#include "engine/time/iso8601.h"
#include "scheduler/command_payload.h"

namespace mayaflow {
namespace {

Status check_request(const Dag& dag, const BackfillRequest& request) {
    if (request.from_date > request.to_date) {
        return make_error("--from ({}) is after --to ({})", format_iso8601(request.from_date, TimeZone::utc()),
                          format_iso8601(request.to_date, TimeZone::utc()));
    }
    for (Instant date : {request.from_date, request.to_date}) {
        if (!is_supported_logical_date(date)) {
            return make_error("{} is out of range: a backfill's dates lie between 0002-01-01 and 9998-12-31 (UTC), so "
                              "that the dates its runs' templates read around them stay within years 0001-9999",
                              format_iso8601(date, TimeZone::utc()));
        }
    }
    if (request.max_active_runs < 1) return make_error("max_active_runs must be at least 1");
    if (!request.dag_run_conf.is_object()) return make_error("the backfill's conf must be a JSON object");
    auto kind = dag.schedule.kind();
    if (kind == Schedule::Kind::none || kind == Schedule::Kind::once) {
        return make_error("DAG '{}' has {} schedule, so it has no logical dates to backfill; trigger runs by hand "
                          "with `mayaflow dags trigger {} --logical-date ...`",
                          dag.dag_id, kind == Schedule::Kind::none ? "no" : "an @once", dag.dag_id);
    }
    if (request.run_backwards) {
        for (const auto& task : dag.tasks) {
            if (task.depends_on_past) {
                return make_error("a backfill of DAG '{}' cannot run backwards: task '{}' has depends_on_past, so each "
                                  "run waits for the one before it",
                                  dag.dag_id, task.task_id);
            }
        }
    }
    return Status::success();
}

// The run to look at for a logical date: one still in flight wins, else the newest.
std::map<Instant, const DagRunRow*> runs_by_logical_date(const std::vector<DagRunRow>& existing) {
    std::map<Instant, const DagRunRow*> by_date;
    for (const auto& run : existing) {
        if (!run.logical_date) continue;
        auto& slot = by_date[*run.logical_date];
        bool in_flight = run.state == RunState::queued || run.state == RunState::running;
        bool slot_in_flight = slot && (slot->state == RunState::queued || slot->state == RunState::running);
        if (!slot || (in_flight && !slot_in_flight) || (in_flight == slot_in_flight && run.pk > slot->pk)) slot = &run;
    }
    return by_date;
}

std::optional<std::string> reason_not_to_run(const DagRunRow& run, ReprocessBehavior behavior) {
    if (run.state == RunState::queued || run.state == RunState::running) {
        return fmt::format("run {} is {}", run.run_id, to_string(run.state));
    }
    switch (behavior) {
        case ReprocessBehavior::none: return fmt::format("run {} exists ({})", run.run_id, to_string(run.state));
        case ReprocessBehavior::failed:
            if (run.state != RunState::failed) {
                return fmt::format("run {} succeeded (--reprocess-behavior completed runs it again)", run.run_id);
            }
            return std::nullopt;
        case ReprocessBehavior::completed: return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

std::string backfill_run_id(Instant logical_date) {
    return "backfill__" + format_iso8601(logical_date, TimeZone::utc());
}

Result<BackfillPlan> plan_backfill(const Dag& dag, const BackfillRequest& request,
                                   const std::vector<DagRunRow>& existing, Instant now) {
    auto checked = check_request(dag, request);
    if (!checked) return checked.error();
    auto by_date = runs_by_logical_date(existing);
    BackfillPlan plan;
    TimeRestriction range{request.from_date, request.to_date, true};
    std::optional<DataInterval> last;
    while (auto info = next_dagrun_info(dag.schedule, dag.timezone, last, range, now)) {
        if (last && info->interval.start < last->end) break;  // defensive: the timetable must move forward
        last = info->interval;
        if (info->interval.end >= now) {
            // As Airflow 3: only intervals that have ended are backfilled; the scheduler runs the
            // others when they end.
            plan.skipped.push_back({info->logical_date, "",
                                    fmt::format("its data interval ends at {}, which has not passed yet",
                                                format_iso8601(info->interval.end, TimeZone::utc()))});
            break;
        }
        auto found = by_date.find(info->logical_date);
        if (found == by_date.end()) {
            plan.runs.push_back({*info, std::nullopt, backfill_run_id(info->logical_date)});
        } else if (auto reason = reason_not_to_run(*found->second, request.reprocess_behavior)) {
            plan.skipped.push_back({info->logical_date, found->second->run_id, *reason});
        } else {
            plan.runs.push_back({*info, found->second->pk, found->second->run_id});
        }
        if (plan.runs.size() + plan.skipped.size() > kMaxBackfillRuns) {
            return make_error("the backfill would cover more than {} logical dates; split it into smaller ranges",
                              kMaxBackfillRuns);
        }
    }
    if (plan.runs.empty() && plan.skipped.empty()) {
        return make_error("DAG '{}' has no logical dates between {} and {} (schedule {})", dag.dag_id,
                          format_iso8601(request.from_date, TimeZone::utc()),
                          format_iso8601(request.to_date, TimeZone::utc()), dag.schedule.text());
    }
    if (request.run_backwards) std::reverse(plan.runs.begin(), plan.runs.end());
    return plan;
}

Result<BackfillPlan> plan_backfill_from_store(Store& store, RunStore& runs, const BackfillRequest& request, Instant now) {
    auto version = store.latest_dag_version(request.dag_id);
    if (!version) return version.error();
    if (!*version) return make_error("no DAG with dag_id '{}'", request.dag_id);
    auto dag = dag_from_json(nlohmann::json::parse((*version)->serialized, nullptr, false));
    if (!dag) return dag.error();
    auto existing = runs.list_runs(RunFilter{.dag_id = request.dag_id, .logical_from = request.from_date,
                                             .logical_to = request.to_date, .limit = kMaxBackfillRuns * 4});
    if (!existing) return existing.error();
    return plan_backfill(*dag, request, *existing, now);
}

nlohmann::json backfill_to_json(const BackfillRow& backfill) {
    auto iso = [](Instant instant) { return format_iso8601(instant, TimeZone::utc()); };
    return {{"id", backfill.id},
            {"dag_id", backfill.dag_id},
            {"from_date", iso(backfill.from_date)},
            {"to_date", iso(backfill.to_date)},
            {"run_backwards", backfill.run_backwards},
            {"reprocess_behavior", std::string(to_string(backfill.reprocess_behavior))},
            {"max_active_runs", backfill.max_active_runs},
            {"dag_run_conf", backfill.dag_run_conf},
            {"is_paused", backfill.is_paused},
            {"created_at", iso(backfill.created_at)},
            {"completed_at", backfill.completed_at ? nlohmann::json(iso(*backfill.completed_at)) : nlohmann::json()}};
}

nlohmann::json plan_to_json(const BackfillPlan& plan) {
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& run : plan.runs) {
        runs.push_back({{"run_id", run.run_id},
                        {"logical_date", format_iso8601(run.info.logical_date, TimeZone::utc())},
                        {"data_interval_start", format_iso8601(run.info.interval.start, TimeZone::utc())},
                        {"data_interval_end", format_iso8601(run.info.interval.end, TimeZone::utc())},
                        {"rerun", run.existing_pk.has_value()}});
    }
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& date : plan.skipped) {
        skipped.push_back({{"logical_date", format_iso8601(date.logical_date, TimeZone::utc())},
                           {"run_id", date.run_id},
                           {"reason", date.reason}});
    }
    return {{"runs", runs}, {"skipped", skipped}};
}

Result<BackfillRequest> backfill_request_from_json(const nlohmann::json& payload) {
    if (!payload.is_object()) return make_error("a backfill request must be a JSON object");
    BackfillRequest request;
    auto dag_id = required_string(payload, "dag_id");
    if (!dag_id) return dag_id.error();
    request.dag_id = *dag_id;
    for (auto [name, target] : {std::pair{"from_date", &request.from_date}, std::pair{"to_date", &request.to_date}}) {
        auto value = required_string(payload, name);
        if (!value) return value.error();
        auto date = parse_datetime(*value, TimeZone::utc());
        if (!date) return make_error("{}: {}", name, date.error().message);
        *target = *date;
    }
    if (payload.contains("reprocess_behavior")) {
        const auto& value = payload["reprocess_behavior"];
        auto behavior = value.is_string() ? parse_reprocess_behavior(value.get<std::string>()) : std::nullopt;
        if (!behavior) return make_error("reprocess_behavior must be none, failed or completed");
        request.reprocess_behavior = *behavior;
    }
    if (payload.contains("max_active_runs")) {
        const auto& value = payload["max_active_runs"];
        if (!value.is_number_integer() || value.get<long long>() < 1 || value.get<long long>() > 10'000) {
            return make_error("max_active_runs must be a whole number from 1 to 10000");
        }
        request.max_active_runs = value.get<int>();
    }
    for (auto [name, target] : {std::pair{"run_backwards", &request.run_backwards}, std::pair{"dry_run", &request.dry_run},
                                std::pair{"run_on_latest_version", &request.run_on_latest_version}}) {
        if (!payload.contains(name)) continue;
        if (!payload[name].is_boolean()) return make_error("{} must be true or false", name);
        *target = payload[name].get<bool>();
    }
    if (payload.contains("dag_run_conf") && !payload["dag_run_conf"].is_null()) {
        if (!payload["dag_run_conf"].is_object()) return make_error("dag_run_conf must be a JSON object");
        request.dag_run_conf = payload["dag_run_conf"];
    }
    return request;
}

}  // namespace mayaflow
