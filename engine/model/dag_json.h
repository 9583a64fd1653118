#pragma once
// A Dag as JSON: what a DAG version stores, what the API and `dags details` show. Durations are
// seconds, instants ISO-8601 in UTC.

#include <nlohmann/json.hpp>

#include "engine/model/dag.h"

namespace mayaflow {

nlohmann::json to_json(const Task& task);
nlohmann::json to_json(const Dag& dag);

}  // namespace mayaflow
