#include "engine/connections/secrets_lookup.h"

#include "engine/connections/secret_masker.h"
#include "engine/connections/secrets_repository.h"
#include "engine/connections/sensitive_fields.h"
#include "engine/util/text.h"

namespace mayaflow {

Result<pyjson::Json> variable_as_json(VariableSource& source, const std::string& key) {
    auto value = source.find_variable(key);
    if (!value) return value.error();
    if (!*value) return make_error("Variable {} does not exist", key);
    auto parsed = pyjson::loads(**value);
    if (!parsed) return make_error("variable {} is not JSON: {}", key, parsed.error().message);
    return std::move(*parsed);
}

pyjson::Json connection_template_value(const Connection& connection) {
    auto text = [](const std::optional<std::string>& value) -> pyjson::Json {
        return value ? pyjson::Json(*value) : pyjson::Json(nullptr);
    };
    pyjson::Json value = pyjson::Json::object();
    value["conn_id"] = connection.conn_id;
    value["conn_type"] = connection.conn_type;
    value["description"] = text(connection.description);
    value["host"] = text(connection.host);
    value["login"] = text(connection.login);
    value["password"] = text(connection.password);
    value["schema"] = text(connection.schema);
    value["port"] = connection.port ? pyjson::Json(*connection.port) : pyjson::Json(nullptr);
    value["extra"] = text(connection.extra);
    value["extra_dejson"] = connection.parse_extra().value;
    return value;
}

Result<std::optional<std::pair<Connection, SecretOrigin>>> SecretsLookup::find_connection_with_origin(
    const std::string& conn_id) {
    using Found = std::optional<std::pair<Connection, SecretOrigin>>;
    auto from_environment = environment_.find_connection(conn_id);
    if (!from_environment) return from_environment.error();
    Found found;
    if (*from_environment) {
        found = std::pair{std::move(**from_environment), SecretOrigin::environment};
    } else if (repository_) {
        auto stored = repository_->find_connection(conn_id);
        if (!stored) return stored.error();
        if (*stored) found = std::pair{std::move(**stored), SecretOrigin::database};
    }
    // An extra too deep to read is named by register_every_secret; the connection itself is usable.
    if (found && masker_) (void)mask_connection_secrets(*masker_, found->first);
    return found;
}

Result<std::optional<Connection>> SecretsLookup::find_connection(const std::string& conn_id) {
    auto found = find_connection_with_origin(conn_id);
    if (!found) return found.error();
    if (!*found) return std::optional<Connection>();
    return std::optional<Connection>(std::move((*found)->first));
}

Result<std::optional<std::string>> SecretsLookup::find_variable(const std::string& key) {
    std::optional<std::string> value;
    if (auto from_environment = environment_.find_variable(key)) {
        value = std::move(from_environment->value);
    } else if (repository_) {
        auto stored = repository_->find_variable(key);
        if (!stored) return stored.error();
        if (*stored) value = std::move((*stored)->value);
    }
    if (value && masker_) (void)mask_variable_secret(*masker_, key, *value);
    return value;
}

void SecretsLookup::read_environment_secrets() {
    auto& secrets = registered_.environment_secrets;
    auto& problems = registered_.environment_problems;
    for (const auto& found : environment_.list_connections()) {
        if (!found.connection) {
            problems.push_back(found.connection.error().message);
        } else if (Status collected = collect_connection_secrets(*found.connection, secrets); !collected) {
            problems.push_back(collected.error().message);
        }
    }
    for (const auto& found : environment_.list_variables()) {
        if (Status collected = collect_variable_secrets(found.variable.key, found.variable.value, secrets);
            !collected)
            problems.push_back(collected.error().message);
    }
    registered_.environment_read = true;
}

void SecretsLookup::read_database_secrets() {
    auto& secrets = registered_.database_secrets;
    auto& problems = registered_.database_problems;
    secrets.clear();
    problems.clear();
    // The version before the rows: a change made in between makes the next call read them again.
    auto version = repository_->version();
    registered_.database_version.reset();
    if (version) {
        registered_.database_version = *version;
    } else {
        problems.push_back(version.error().message);
    }
    if (auto connections = repository_->open_each_connection()) {
        // One connection that cannot be opened does not leave the others unmasked.
        for (const auto& connection : *connections) {
            if (!connection) {
                problems.push_back(connection.error().message);
            } else if (Status collected = collect_connection_secrets(*connection, secrets); !collected) {
                problems.push_back(collected.error().message);
            }
        }
    } else {
        problems.push_back(connections.error().message);
    }
    if (auto variables = repository_->list_variables()) {
        for (const auto& variable : *variables) {
            if (Status collected = collect_variable_secrets(variable.key, variable.value, secrets);
                !collected)
                problems.push_back(collected.error().message);
        }
    } else {
        problems.push_back(variables.error().message);
    }
}

Status SecretsLookup::register_every_secret() {
    if (!masker_) return Status::success();
    std::lock_guard lock(registering_);
    bool changed = false;
    if (!registered_.environment_read) {
        read_environment_secrets();
        changed = true;
    }
    if (repository_) {
        auto version = repository_->version();
        if (!version || !registered_.database_version || *version != *registered_.database_version) {
            read_database_secrets();
            changed = true;
        }
    }
    // Set when something changed, or when the masker was given other secrets since.
    if (changed || !registered_.handed || masker_->secret_list() != registered_.handed) {
        std::vector<std::string> secrets = registered_.environment_secrets;
        secrets.insert(secrets.end(), registered_.database_secrets.begin(),
                       registered_.database_secrets.end());
        masker_->set_secrets(std::move(secrets));
        registered_.handed = masker_->secret_list();
    }
    std::vector<std::string> problems = registered_.environment_problems;
    problems.insert(problems.end(), registered_.database_problems.begin(),
                    registered_.database_problems.end());
    if (std::size_t left_out = masker_->left_out_count()) {
        problems.push_back(
            fmt::format("{} secret{} past what the masker indexes ({} MiB of their forms) {} not "
                        "masked",
                        left_out, left_out == 1 ? "" : "s", SecretMasker::kMaxIndexedBytes >> 20,
                        left_out == 1 ? "is" : "are"));
    }
    if (problems.empty()) return Status::success();
    return make_error("some secrets could not be read to be masked: {}", join(problems, "; "));
}

}  // namespace mayaflow
