#pragma once
// Connections and variables defined in the environment, as Airflow reads them:
// MAYAFLOW_CONN_<CONN_ID> or AIRFLOW_CONN_<CONN_ID> holds a URI or a JSON object, and
// MAYAFLOW_VAR_<KEY> or AIRFLOW_VAR_<KEY> a variable's value; the id or key is looked up upper-cased
// (`my_db` is MAYAFLOW_CONN_MY_DB). The MAYAFLOW_ name wins over the AIRFLOW_ one.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/connections/variable.h"
#include "engine/util/result.h"

namespace mayaflow {

// One connection found in the environment, and the variable that defines it.
struct EnvironmentConnection {
    std::string conn_id;  // the variable's suffix, lower-cased
    std::string variable_name;
    Result<Connection> connection;
};

struct EnvironmentVariable {
    std::string variable_name;
    Variable variable;  // key: the suffix, lower-cased
};

class EnvironmentSecrets {
  public:
    explicit EnvironmentSecrets(std::map<std::string, std::string> environment)
        : environment_(std::move(environment)) {}

    // nullopt when no variable defines it; an error when one does but its value does not parse.
    Result<std::optional<Connection>> find_connection(const std::string& conn_id) const;
    std::optional<Variable> find_variable(const std::string& key) const;

    // Every connection and variable the environment defines, by id (MAYAFLOW_ first on a tie).
    std::vector<EnvironmentConnection> list_connections() const;
    std::vector<EnvironmentVariable> list_variables() const;

  private:
    // The value of MAYAFLOW_<kind>_<NAME> or else AIRFLOW_<kind>_<NAME>, and the name found.
    std::optional<std::pair<std::string, std::string>> lookup(const std::string& kind,
                                                              const std::string& name) const;

    std::map<std::string, std::string> environment_;
};

}  // namespace mayaflow
