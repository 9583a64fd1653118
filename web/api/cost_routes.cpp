// mayaflow's own: what the DAGs' tries cost in BigQuery, from the statistics each try recorded
// (task_cost; `mayaflow tasks stats` prints the same per DAG) — bytes processed and billed, slot
// time, jobs — per DAG and UTC day, per task and day of one DAG, and the costliest tries, each with
// a dollar estimate at BigQuery's on-demand price per TiB billed (a setting, or `usd_per_tib`).

#include <fmt/format.h>

#include <charconv>

#include "engine/model/work_cost.h"
#include "engine/time/iso8601.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/routes.h"

namespace mayaflow {
namespace {

constexpr auto kDefaultWindow = std::chrono::hours(24 * 30);

std::string iso(Instant instant) { return format_iso8601(instant, TimeZone::utc()); }

struct CostWindow {
    Instant from;
    Instant to;
    double usd_per_tib = kBigQueryOnDemandUsdPerTib;
};

// start_date and end_date (end_date given as a bare day takes in the whole day, as `tasks stats
// --to` does; default: the 30 days up to now) and usd_per_tib.
Read<CostWindow> read_window(const ApiContext& context, const ApiRequest& request) {
    auto start = read_datetime(request, "start_date");
    if (failed(start)) return std::get<WebResponse>(start);
    auto end = read_datetime(request, "end_date");
    if (failed(end)) return std::get<WebResponse>(end);
    CostWindow window;
    window.to = std::get<std::optional<Instant>>(end).value_or(now_instant() + std::chrono::seconds(1));
    if (auto text = request.query_value("end_date"); text && text->size() == 10) window.to += std::chrono::hours(24);
    window.from = std::get<std::optional<Instant>>(start).value_or(window.to - kDefaultWindow);
    if (window.from >= window.to) {
        return bad_request(fmt::format("start_date {} is not before end_date {}; the range is [start_date, end_date)",
                                       iso(window.from), iso(window.to)));
    }
    window.usd_per_tib = context.settings.bigquery_usd_per_tib;
    if (auto text = request.query_value("usd_per_tib")) {
        double price = -1;
        auto [ptr, error] = std::from_chars(text->data(), text->data() + text->size(), price);
        if (error != std::errc() || ptr != text->data() + text->size() || !(price >= 0) || price > 1e6) {
            return bad_request(fmt::format("usd_per_tib must be a price in US dollars per TiB billed, like 6.25, got '{}'",
                                           escape_invalid_utf8(*text)));
        }
        window.usd_per_tib = price;
    }
    return window;
}

nlohmann::json window_json(const CostWindow& window) {
    return {{"start_date", iso(window.from)}, {"end_date", iso(window.to)}, {"usd_per_tib", window.usd_per_tib}};
}

// Sums of a list of totals, with the estimate.
template <typename Total>
nlohmann::json sum_json(const std::vector<Total>& totals, double usd_per_tib) {
    long long tries = 0, bytes_processed = 0, bytes_billed = 0, slot_ms = 0, cache_hits = 0;
    for (const auto& total : totals) {
        tries += total.tries;
        bytes_processed += total.bytes_processed;
        bytes_billed += total.bytes_billed;
        slot_ms += total.slot_ms;
        cache_hits += total.cache_hits;
    }
    return {{"tries", tries},
            {"bytes_processed", bytes_processed},
            {"bytes_billed", bytes_billed},
            {"slot_ms", slot_ms},
            {"cache_hits", cache_hits},
            {"estimated_cost_usd", estimated_usd(bytes_billed, usd_per_tib)}};
}

WebResponse dag_costs(ApiContext& context, const ApiRequest& request) {
    auto page = read_page(request);
    if (failed(page)) return std::get<WebResponse>(page);
    auto window_or = read_window(context, request);
    if (failed(window_or)) return std::get<WebResponse>(window_or);
    const auto& window = std::get<CostWindow>(window_or);
    auto totals = context.runs.dag_cost_totals(window.from, window.to);
    if (!totals) return store_unavailable(totals.error());
    auto convert = [&window](const DagCostTotal& total) {
        auto row = to_json(total);
        row["estimated_cost_usd"] = estimated_usd(total.bytes_billed, window.usd_per_tib);
        return row;
    };
    auto body = window_json(window);
    body["dag_costs"] = page_of(*totals, std::get<Page>(page), convert);
    body["total_entries"] = totals->size();
    body["totals"] = sum_json(*totals, window.usd_per_tib);
    return json_response(body);
}

WebResponse one_dag_costs(ApiContext& context, const ApiRequest& request) {
    auto page = read_page(request);
    if (failed(page)) return std::get<WebResponse>(page);
    auto window_or = read_window(context, request);
    if (failed(window_or)) return std::get<WebResponse>(window_or);
    const auto& window = std::get<CostWindow>(window_or);
    const std::string& dag_id = request.param("dag_id");
    auto dag = context.store.find_dag(dag_id);
    if (!dag) return store_unavailable(dag.error());
    if (!*dag) return not_found(fmt::format("no DAG with dag_id '{}'", escape_invalid_utf8(dag_id)));
    auto totals = context.runs.task_cost_totals(dag_id, window.from, window.to);
    if (!totals) return store_unavailable(totals.error());
    auto convert = [&window](const TaskCostTotal& total) {
        auto row = to_json(total);
        row["estimated_cost_usd"] = estimated_usd(total.bytes_billed, window.usd_per_tib);
        return row;
    };
    auto body = window_json(window);
    body["dag_id"] = dag_id;
    body["task_costs"] = page_of(*totals, std::get<Page>(page), convert);
    body["total_entries"] = totals->size();
    body["totals"] = sum_json(*totals, window.usd_per_tib);
    return json_response(body);
}

WebResponse costliest_tries(ApiContext& context, const ApiRequest& request) {
    auto page = read_page(request);
    if (failed(page)) return std::get<WebResponse>(page);
    auto window_or = read_window(context, request);
    if (failed(window_or)) return std::get<WebResponse>(window_or);
    const auto& window = std::get<CostWindow>(window_or);
    TaskCostQuery query{.dag_id = request.query_value("dag_id"),
                        .from = window.from,
                        .to = window.to,
                        .limit = std::min(std::get<Page>(page).limit, kMaximumPageLimit),
                        .offset = std::get<Page>(page).offset};
    auto tries = context.runs.costliest_tries(query);
    if (!tries) return store_unavailable(tries.error());
    auto rows = nlohmann::json::array();
    for (const auto& entry : tries->tries) {
        rows.push_back({{"dag_id", entry.dag_id},
                        {"dag_run_id", entry.run_id},
                        {"task_id", entry.task_id},
                        {"try_number", entry.try_number},
                        {"job_id", entry.cost.job_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(entry.cost.job_id)},
                        {"bytes_processed", entry.cost.bytes_processed},
                        {"bytes_billed", entry.cost.bytes_billed},
                        {"slot_ms", entry.cost.slot_ms},
                        {"cache_hit", entry.cost.cache_hit},
                        {"rows_written", entry.cost.rows_written ? nlohmann::json(*entry.cost.rows_written)
                                                                 : nlohmann::json(nullptr)},
                        {"end_date", iso(entry.recorded_at)},
                        {"estimated_cost_usd", estimated_usd(entry.cost.bytes_billed, window.usd_per_tib)}});
    }
    auto body = window_json(window);
    body["task_costs"] = std::move(rows);
    body["total_entries"] = tries->total;
    return json_response(body);
}

}  // namespace

void add_cost_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/mayaflow/costs/dags", {Resource::cost, Action::read},
              [&context](const ApiRequest& request) { return dag_costs(context, request); });
    table.add("GET", "/api/v1/mayaflow/costs/tasks", {Resource::cost, Action::read},
              [&context](const ApiRequest& request) { return costliest_tries(context, request); });
    table.add("GET", "/api/v1/mayaflow/dags/{dag_id}/costs", {Resource::cost, Action::read},
              [&context](const ApiRequest& request) { return one_dag_costs(context, request); });
}

}  // namespace mayaflow
