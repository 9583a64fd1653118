#pragma once
// Variable is Airflow's Variable: a named value DAGs read as {{ var.value.<key> }}, or as
// {{ var.json.<key>… }} when the value is JSON text.

#include <optional>
#include <string>

namespace mayaflow {

struct Variable {
    std::string key;
    std::string value;
    std::optional<std::string> description;

    bool operator==(const Variable&) const = default;
};

}  // namespace mayaflow
