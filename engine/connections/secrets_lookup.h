#pragma once
// What a template (and an operator) calls to read a connection or a variable by name:
// {{ conn.bq_main.login }}, {{ var.value.dataset }}, {{ var.json.config.key }}. The template layer
// depends only on these two interfaces; SecretsLookup implements them over the environment and the
// store, the environment first (as Airflow's secrets backends are searched), and registers every
// secret it hands out with the masker so that it shows as "***" in logs.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/connections/environment_secrets.h"
#include "engine/connections/python_json.h"
#include "engine/util/result.h"

namespace mayaflow {

class SecretsRepository;
class SecretMasker;

class ConnectionSource {
  public:
    virtual ~ConnectionSource() = default;
    // nullopt: no such connection (Airflow: "The conn_id `x` isn't defined").
    virtual Result<std::optional<Connection>> find_connection(const std::string& conn_id) = 0;
};

class VariableSource {
  public:
    virtual ~VariableSource() = default;
    // The value as text (var.value.<key>); nullopt when no such variable.
    virtual Result<std::optional<std::string>> find_variable(const std::string& key) = 0;
};

// var.json.<key>: the variable's value parsed as JSON; an error when it is missing or not JSON.
Result<pyjson::Json> variable_as_json(VariableSource& source, const std::string& key);

// conn.<id> as a template sees it: conn_id, conn_type, description, host, login, password, schema,
// port (a number or null), extra (text or null) and extra_dejson (the parsed object, {} when none).
pyjson::Json connection_template_value(const Connection& connection);

// Where a connection or a variable was found, for `connections list` and messages.
enum class SecretOrigin { environment, database };

class SecretsLookup : public ConnectionSource, public VariableSource {
  public:
    // `repository` may be null (no database yet: only the environment); `masker` may be null.
    SecretsLookup(EnvironmentSecrets environment, SecretsRepository* repository, SecretMasker* masker)
        : environment_(std::move(environment)), repository_(repository), masker_(masker) {}

    Result<std::optional<Connection>> find_connection(const std::string& conn_id) override;
    Result<std::optional<std::string>> find_variable(const std::string& key) override;

    // Sets the masker's secrets to every secret the environment and the database hold: each
    // connection's password and sensitive extras, each sensitive variable's value (and JSON members
    // under sensitive keys). A task's log then masks them whether or not the task looked them up,
    // and a secret deleted since the last call is no longer masked. A value that cannot be read (a
    // connection variable that does not parse, a value sealed with a key not at hand, JSON nested
    // too deep) is skipped and named in the error, after the rest are registered. Without a masker,
    // does nothing. Called before every try: the database is read again only when its
    // secrets_version has moved (the environment only once), so an unchanged set costs one query.
    Status register_every_secret();

    // find_connection, and where it came from.
    Result<std::optional<std::pair<Connection, SecretOrigin>>> find_connection_with_origin(
        const std::string& conn_id);

  private:
    // What register_every_secret read last, kept while the database's secrets_version stays.
    struct Registered {
        bool environment_read = false;
        std::vector<std::string> environment_secrets, environment_problems;
        std::optional<std::int64_t> database_version;
        std::vector<std::string> database_secrets, database_problems;
        std::shared_ptr<const std::vector<std::string>> handed;  // the masker's list once set
    };
    void read_environment_secrets();
    void read_database_secrets();

    EnvironmentSecrets environment_;
    SecretsRepository* repository_;
    SecretMasker* masker_;
    std::mutex registering_;  // one register_every_secret at a time (workers call it before each try)
    Registered registered_;
};

}  // namespace mayaflow
