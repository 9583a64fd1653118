#pragma once
// Connection is Airflow's Connection: how to reach an outside system (a database, a cloud project,
// a webhook), looked up by its conn_id. Fields and rules are Airflow's, so files and URIs move
// between the two unchanged: conn_type normalised ("postgresql" → "postgres", '-' → '_'), an empty
// password kept as null, `extra` a JSON object kept as the text it was written as and parsed only
// when read, port a number. An empty host or schema stays "" (not null), as Airflow keeps it.

#include <optional>
#include <string>
#include <string_view>

#include "engine/connections/python_json.h"
#include "engine/util/result.h"

namespace mayaflow {

// What `extra` holds once parsed (Airflow's extra_dejson), and what was wrong with it, if anything.
struct ParsedExtra {
    pyjson::Json value = pyjson::Json::object();  // {} when there is no extra or it is not JSON
    std::optional<std::string> problem;           // set when the extra is not a JSON object
};

struct Connection {
    std::string conn_id;
    std::string conn_type;
    std::optional<std::string> description;
    std::optional<std::string> host;
    std::optional<std::string> login;
    std::optional<std::string> password;  // never "": see set_password
    std::optional<std::string> schema;
    std::optional<int> port;
    std::optional<std::string> extra;  // JSON text

    // Airflow keeps an empty password as null (its setter ignores a falsy value).
    void set_password(std::optional<std::string> value);
    // extra_dejson, with a note when the extra is not JSON or not an object.
    ParsedExtra parse_extra() const;

    bool operator==(const Connection&) const = default;
};

// Connection._normalize_conn_type: "postgresql" → "postgres", else '-' → '_'.
std::string normalize_conn_type(std::string_view conn_type);

// The conn_id rule of `airflow connections add|import` (helpers.validate_key, max 200): letters,
// digits, '_', '.' and '-'. The error says which character is wrong.
Status validate_conn_id(std::string_view conn_id);

// The extra must be a JSON object (or absent): refused with the reason otherwise.
Status validate_extra(const Connection& connection);

// What every connection must be to be stored, wherever it comes from (a flag, a URI, a file): each
// text field valid UTF-8 (mayaflow keeps text, and its JSON, YAML and URI exports could not write
// other bytes faithfully), and an extra that does not nest deeper than pyjson::kMaxNesting. The
// error names the connection and the field, never the value.
Status validate_connection_for_storage(const Connection& connection);
// Only the UTF-8 half of it: what an export checks, so that it writes every connection faithfully
// or refuses (a connection stored before mayaflow checked).
Status validate_connection_text(const Connection& connection);

}  // namespace mayaflow
