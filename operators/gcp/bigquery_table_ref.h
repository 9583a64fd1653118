#pragma once
// A table named as Airflow's BigQuery operators name it — "project.dataset.table",
// "project:dataset.table" or "dataset.table" (in the task's project), optionally with a partition
// decorator ("sales$20240101") — as BigQuery's TableReference.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow::gcp {

struct TableReference {
    std::string project;
    std::string dataset;
    std::string table;  // with its decorator, if any
    nlohmann::json to_json() const { return {{"projectId", project}, {"datasetId", dataset}, {"tableId", table}}; }
    std::string to_string() const { return project + "." + dataset + "." + table; }
};

// `field` names the parameter in errors.
Result<TableReference> parse_table_reference(std::string_view text, std::string_view default_project,
                                             std::string_view field);

}  // namespace mayaflow::gcp
