#pragma once
// A Dag as JSON: what a DAG version stores, what the API and `dags details` show. Durations are
// seconds, instants ISO-8601 in UTC.

#include <nlohmann/json.hpp>

#include "engine/model/dag.h"
#include "engine/util/result.h"

namespace mayaflow {

nlohmann::json to_json(const Task& task);
nlohmann::json to_json(const Dag& dag);

// Reads back what to_json wrote (a stored DAG version); the error says which field is wrong.
Result<Dag> dag_from_json(const nlohmann::json& json);

}  // namespace mayaflow
