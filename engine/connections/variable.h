#pragma once
// Variable is Airflow's Variable: a named value DAGs read as {{ var.value.<key> }}, or as
// {{ var.json.<key>… }} when the value is JSON text.

#include <optional>
#include <string>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow {

struct Variable {
    std::string key;
    std::string value;
    std::optional<std::string> description;

    bool operator==(const Variable&) const = default;
};

// The key rule of `variables set|import` and the REST API: not empty, at most 250 characters (Airflow's
// column). The error says which.
inline constexpr std::size_t kMaxVariableKeyLength = 250;
Status validate_variable_key(std::string_view key);

// What every variable must be to be stored: its key, value and description valid UTF-8 text, and a
// value that is a JSON object or array nested at most pyjson::kMaxNesting deep. The error names the
// variable and the field, never the value.
Status validate_variable_for_storage(const Variable& variable);
// Only the UTF-8 half of it, for an export.
Status validate_variable_text(const Variable& variable);

}  // namespace mayaflow
