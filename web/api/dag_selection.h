#pragma once
// Which DAGs a request selects, and in what order: GET /dags's `dag_id_pattern`, `tags`,
// `only_active`, `paused` and `order_by`. Shared by GET and PATCH /dags and by
// /mayaflow/dagSummaries, which answers for the same page of DAGs as /dags when given the same
// parameters (the UI then asks for both at once, not one after the other).

#include <optional>
#include <string>
#include <vector>

#include "engine/store/store.h"
#include "web/api/api_context.h"
#include "web/api/api_request.h"

namespace mayaflow {

struct DagFilter {
    std::vector<std::string> tags;         // any of them
    std::optional<std::string> pattern;    // a case-insensitive part of the dag_id, taken literally
    bool only_active = true;
    std::optional<bool> paused;
};

Read<DagFilter> read_dag_filter(const ApiRequest& request);
Result<std::vector<DagRecord>> filtered_dags(ApiContext& context, const DagFilter& filter);

// `order_by`: dag_id (the default), last_parsed_time, is_paused or fileloc, `-` for descending.
Read<Ordering> read_dag_order(const ApiRequest& request);
// Sorted by `order`, dag_id breaking ties.
void sort_dags(std::vector<DagRecord>& dags, const Ordering& order);

// What GET /dags selects: the page (`limit`, `offset`) of the DAGs its filter keeps, in its order, and
// how many the filter keeps.
struct DagSelection {
    std::vector<DagRecord> page;
    size_t total = 0;
};
Read<DagSelection> selected_dags(ApiContext& context, const ApiRequest& request);

}  // namespace mayaflow
