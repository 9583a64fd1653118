#include "web/api/dag_selection.h"

#include "web/api/problem.h"
#include "web/api/run_shapes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace mayaflow {
namespace {

// `dag_id_pattern` as Airflow reads it (a case-insensitive part of the dag_id), but literal: `%`
// and `_` are the characters themselves here, not SQL wildcards.
bool matches_pattern(const std::string& dag_id, const std::string& pattern) {
    auto lower = [](std::string text) {
        for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return text;
    };
    return lower(dag_id).find(lower(pattern)) != std::string::npos;
}

}  // namespace

Read<DagFilter> read_dag_filter(const ApiRequest& request) {
    DagFilter filter;
    filter.tags = request.query_list("tags");
    filter.pattern = request.query_value("dag_id_pattern");
    if (filter.pattern == "~") filter.pattern.reset();
    auto only_active = read_bool(request, "only_active");
    if (failed(only_active)) return std::get<WebResponse>(only_active);
    filter.only_active = std::get<std::optional<bool>>(only_active).value_or(true);
    auto paused = read_bool(request, "paused");
    if (failed(paused)) return std::get<WebResponse>(paused);
    filter.paused = std::get<std::optional<bool>>(paused);
    return filter;
}

Result<std::vector<DagRecord>> filtered_dags(ApiContext& context, const DagFilter& filter) {
    auto dags = context.store.list_dags(!filter.only_active);
    if (!dags) return dags.error();
    std::vector<DagRecord> kept;
    for (auto& dag : *dags) {
        if (filter.pattern && !matches_pattern(dag.dag_id, *filter.pattern)) continue;
        if (filter.paused && dag.is_paused != *filter.paused) continue;
        if (!filter.tags.empty()) {
            bool tagged = false;
            for (const auto& tag : dag.tags) {
                for (const auto& wanted : filter.tags) tagged = tagged || tag == wanted;
            }
            if (!tagged) continue;
        }
        kept.push_back(std::move(dag));
    }
    return kept;
}

Read<Ordering> read_dag_order(const ApiRequest& request) {
    return read_order_by(request, {"dag_id", "last_parsed_time", "is_paused", "fileloc"}, {"dag_id", false});
}

void sort_dags(std::vector<DagRecord>& dags, const Ordering& order) {
    auto key = [&order](const DagRecord& dag) {
        if (order.field == "last_parsed_time") return fmt::format("{:020}", dag.last_parsed_time.time_since_epoch().count());
        if (order.field == "is_paused") return std::string(dag.is_paused ? "1" : "0");
        if (order.field == "fileloc") return dag.fileloc;
        return std::string();
    };
    std::stable_sort(dags.begin(), dags.end(), [&](const DagRecord& a, const DagRecord& b) {
        auto ka = std::pair{key(a), a.dag_id};
        auto kb = std::pair{key(b), b.dag_id};
        return order.descending ? kb < ka : ka < kb;
    });
}

Read<DagSelection> selected_dags(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(page, read_page(request));
    MAYAFLOW_READ(filter, read_dag_filter(request));
    MAYAFLOW_READ(order, read_dag_order(request));
    auto dags = filtered_dags(context, filter);
    if (!dags) return store_unavailable(dags.error());
    sort_dags(*dags, order);
    DagSelection selection{.total = dags->size()};
    for (size_t i = page.offset; i < dags->size() && selection.page.size() < page.limit; ++i) {
        selection.page.push_back(std::move((*dags)[i]));
    }
    return selection;
}

}  // namespace mayaflow
