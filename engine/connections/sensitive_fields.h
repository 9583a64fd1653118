#pragma once
// Which names hold secrets: Airflow's DEFAULT_SENSITIVE_FIELDS. A variable or an extra key is
// sensitive when its name, trimmed and lower-cased, contains one of these words ("gcp_api_key",
// "SLACK_TOKEN", "db_password"), as should_hide_value_for_key decides.

#include <string_view>

#include "engine/connections/python_json.h"

namespace mayaflow {

inline constexpr std::string_view kSensitiveFieldWords[] = {
    "access_token", "api_key",     "apikey", "authorization", "passphrase",   "passwd",
    "password",     "private_key", "secret", "token",         "keyfile_dict", "service_account",
};

bool is_sensitive_name(std::string_view name);

// A copy of `value` with everything under a sensitive key replaced: strings by "***", containers
// walked; at most five levels deep, as Airflow's redact() walks.
pyjson::Json redact_sensitive_fields(const pyjson::Json& value);

}  // namespace mayaflow
