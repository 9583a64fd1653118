#pragma once
// A connection as a JSON object, the three ways Airflow reads and writes one:
// - Connection.from_json (an AIRFLOW_CONN_ variable or `--conn-json`): the fields by name, `extra`
//   as text or as an object, `port` as a number or numeric text;
// - the objects of an import file (`airflow connections import`): the same fields, or `uri`, or
//   `extra_dejson` in place of `extra`, with conn_id, if present, equal to the key;
// - the export dictionary (`_connection_to_dict`): conn_type, description, login, password, host,
//   port, schema, extra, in that order, `extra` as its text.

#include <string>
#include <string_view>

#include "engine/connections/connection.h"
#include "engine/connections/python_json.h"
#include "engine/util/result.h"

namespace mayaflow {

// Connection.from_json(value, conn_id).
Result<Connection> connection_from_json(std::string conn_id, std::string_view json_text);

// What `connections import` makes of one entry of a file: a URI string or an object.
Result<Connection> connection_from_file_value(std::string conn_id, const pyjson::Json& value);

// _connection_to_dict(conn): the object written by `connections export`.
pyjson::Json connection_to_export_object(const Connection& connection);

// Python's int(x) for a port given as a number or text ("5432", " 5432 ", "5_432").
Result<int> port_from_json(const pyjson::Json& value);

}  // namespace mayaflow
