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

Status SecretsLookup::register_every_secret() {
    if (!masker_) return Status::success();
    std::vector<std::string> secrets;
    std::vector<std::string> problems;
    auto note = [&](Status status) {
        if (!status) problems.push_back(status.error().message);
    };
    for (const auto& found : environment_.list_connections()) {
        if (found.connection) {
            note(collect_connection_secrets(*found.connection, secrets));
        } else {
            problems.push_back(found.connection.error().message);
        }
    }
    for (const auto& found : environment_.list_variables()) {
        note(collect_variable_secrets(found.variable.key, found.variable.value, secrets));
    }
    if (repository_) {
        if (auto connections = repository_->open_each_connection()) {
            // One connection that cannot be opened does not leave the others unmasked.
            for (const auto& connection : *connections) {
                if (connection) {
                    note(collect_connection_secrets(*connection, secrets));
                } else {
                    problems.push_back(connection.error().message);
                }
            }
        } else {
            problems.push_back(connections.error().message);
        }
        if (auto variables = repository_->list_variables()) {
            for (const auto& variable : *variables)
                note(collect_variable_secrets(variable.key, variable.value, secrets));
        } else {
            problems.push_back(variables.error().message);
        }
    }
    masker_->add_secret_list(secrets);
    if (problems.empty()) return Status::success();
    return make_error("some secrets could not be read to be masked: {}", join(problems, "; "));
}

}  // namespace mayaflow
