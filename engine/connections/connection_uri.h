#pragma once
// A connection as one URI, read and written by Airflow's rules (Connection(uri=…) and get_uri()):
//   postgres://user:p%40ss@db.example.com:5432/sales?sslmode=require
// the scheme is the conn_type with '_' written '-'; login, password, host and schema are
// percent-encoded whole (quote(x, safe='')); extras are query parameters, or `__extra__=<JSON>` when
// one of them is not a string; a host that names a protocol (`http://https://host`) keeps it.
// See docs/connections.md for the rules with examples.

#include <string>
#include <string_view>

#include "engine/connections/connection.h"
#include "engine/util/result.h"

namespace mayaflow {

// Connection(conn_id=…, uri=…). Errors say why without repeating the URI (it may hold a password).
Result<Connection> connection_from_uri(std::string conn_id, std::string_view uri);

// Connection.get_uri().
std::string connection_to_uri(const Connection& connection);

// get_uri() for showing to a person: the password as "***", the values of sensitive extras as "***",
// and an extra that cannot be read as JSON (so what is secret in it cannot be told) as "***" whole.
std::string connection_to_display_uri(const Connection& connection);

// The URI as given, with the password in it (if any) replaced by "******", for messages.
std::string mask_uri_password(std::string_view uri);

}  // namespace mayaflow
