#pragma once
// The files of `connections export` and `connections import`, in Airflow 2.10's three formats:
// - .json: {"conn_id": {conn_type, description, login, password, host, port, schema, extra}, …}
//   as json.dumps(…, indent=2), in conn_id order;
// - .yaml: the same mapping as yaml.dump writes it (keys sorted);
// - .env: one `conn_id=<URI>` line per connection, or `conn_id=<JSON object>` with the json
//   serialization.
// Import reads all three (and .yml), Airflow's own files included; in an .env file a value that
// starts with '{' is a JSON object, anything else a URI, as Airflow reads AIRFLOW_CONN_ variables.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/util/result.h"

namespace mayaflow {

enum class ConnectionFileFormat { json, yaml, env };
enum class ConnectionSerialization { uri, json };

// ".json" → json, ".yaml"/".yml" → yaml, ".env" → env (case-insensitive); nullopt otherwise.
std::optional<ConnectionFileFormat> connection_file_format_of(const std::filesystem::path& file);
std::optional<ConnectionFileFormat> connection_file_format_named(std::string_view name);

// The text of an export of `connections` (sorted by conn_id by the caller, as Airflow's query does).
std::string format_connections(const std::vector<Connection>& connections, ConnectionFileFormat format,
                               ConnectionSerialization serialization);

// What `connections export` and the API's export write: format_connections of `connections`, or,
// when one holds text that is not UTF-8 (stored before mayaflow checked), nothing and the reason.
Result<std::string> export_connections_text(const std::vector<Connection>& connections, ConnectionFileFormat format,
                                            ConnectionSerialization serialization);

// A connection of an env-style value: a JSON object when it starts with '{', else a URI.
Result<Connection> connection_from_env_value(std::string conn_id, std::string_view value);

// Every connection a file defines, in file order. Any problem — a syntax error, a conn_id twice, a
// connection that does not parse — fails the whole file with every problem listed, line by line
// where the format has lines, so an import is all or nothing.
Result<std::vector<Connection>> parse_connections_file(std::string_view text, ConnectionFileFormat format,
                                                       const std::string& file_name);

}  // namespace mayaflow
