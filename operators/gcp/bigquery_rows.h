#pragma once
// Rows of a BigQuery result (getQueryResults, tabledata.list) as JSON objects: each cell of the
// `f`/`v` encoding, where every scalar is a string, read as its schema type says — INTEGER a number
// (a string when it does not fit 53 bits exactly), FLOAT a number, BOOLEAN true/false, REPEATED a
// list, RECORD an object; DATE, TIME, TIMESTAMP, NUMERIC, BYTES and the rest stay strings.

#include <nlohmann/json.hpp>

#include "engine/util/result.h"

namespace mayaflow::gcp {

// The rows under `schema` ({"fields": [...]}); an error names the row and column that do not match.
Result<nlohmann::json> decode_bigquery_rows(const nlohmann::json& schema, const nlohmann::json& rows);

}  // namespace mayaflow::gcp
