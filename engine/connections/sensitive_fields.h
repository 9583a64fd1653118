#pragma once
// Which names hold secrets: Airflow's DEFAULT_SENSITIVE_FIELDS. A variable or an extra key is
// sensitive when its name, trimmed and lower-cased, contains one of these words ("gcp_api_key",
// "SLACK_TOKEN", "db_password"), as should_hide_value_for_key decides.

#include <string>
#include <string_view>
#include <vector>

#include "engine/connections/python_json.h"
#include "engine/util/result.h"

namespace mayaflow {

struct Connection;

inline constexpr std::string_view kSensitiveFieldWords[] = {
    "access_token", "api_key",     "apikey", "authorization", "passphrase",   "passwd",
    "password",     "private_key", "secret", "token",         "keyfile_dict", "service_account",
};

bool is_sensitive_name(std::string_view name);

// A copy of `value` with everything under a sensitive key replaced: strings by "***", containers
// walked; at most five levels deep, as Airflow's redact() walks.
pyjson::Json redact_sensitive_fields(const pyjson::Json& value);

// Airflow's mask_secret(value, name), as the list of what to mask: a string when `name` is empty
// or sensitive; an object's members under their own keys, an array's items under the array's
// name. Beyond Airflow: a string under a sensitive key that is itself a JSON object or array (a
// `keyfile_dict` given as text) is walked too, and a number under a sensitive key counts as its
// text when that has at least kMinMaskedNumberLength characters.
void collect_secrets(const pyjson::Json& value, std::string_view name, std::vector<std::string>& secrets);
inline constexpr std::size_t kMinMaskedNumberLength = 3;

// A connection's password and the secrets of its extra (each member under its key). An extra that
// cannot be read because it nests too deep is an error naming the connection (its values cannot be
// masked), after the password is collected.
Status collect_connection_secrets(const Connection& connection, std::vector<std::string>& secrets);

// Airflow's Variable.get masking: the value when the key is sensitive, and, when the value is a JSON
// object or array, its members under their own keys (var.json.config.password is masked although
// `config` is not a sensitive name). JSON nested too deep to read is an error naming the variable.
Status collect_variable_secrets(std::string_view key, std::string_view value,
                                std::vector<std::string>& secrets);

}  // namespace mayaflow
