#include "engine/connections/secrets_repository.h"

#include <fmt/format.h>

#include "engine/connections/secret_key_file.h"

namespace mayaflow {
namespace {

Result<std::optional<std::string>> seal_optional(const SecretKeyring& keyring,
                                                 const std::optional<std::string>& value,
                                                 const std::string& context) {
    if (!value) return std::optional<std::string>();
    auto sealed = keyring.seal(*value, context);
    if (!sealed) return sealed.error();
    return std::optional<std::string>(std::move(*sealed));
}

}  // namespace

Result<SealingKeys> SecretsRepository::sealing_keys() const {
    if (keyring_.empty()) return make_error("no secret key is configured");
    SealingKeys keys{keyring_.sealing_key().id, {}};
    for (const auto& key : keyring_.keys()) keys.known.push_back(key.id);
    return keys;
}

Result<Connection> SecretsRepository::open_connection(const ConnectionRow& row) const {
    Connection connection;
    connection.conn_id = row.conn_id;
    connection.conn_type = row.conn_type;
    connection.description = row.description;
    connection.host = row.host;
    connection.schema = row.schema;
    connection.login = row.login;
    connection.port = row.port;
    if (row.sealed_password) {
        auto password =
            keyring_.open(*row.sealed_password, sealed_value_context("connection", row.conn_id, "password"));
        if (!password) {
            return make_error("cannot decrypt the password of connection '{}': {}", row.conn_id,
                              password.error().message);
        }
        connection.set_password(std::move(*password));
    }
    if (row.sealed_extra) {
        auto extra =
            keyring_.open(*row.sealed_extra, sealed_value_context("connection", row.conn_id, "extra"));
        if (!extra)
            return make_error("cannot decrypt the extra of connection '{}': {}", row.conn_id,
                              extra.error().message);
        connection.extra = std::move(*extra);
    }
    return connection;
}

Result<Variable> SecretsRepository::open_variable(const VariableRow& row) const {
    auto value = keyring_.open(row.sealed_value, sealed_value_context("variable", row.key, "val"));
    if (!value) return make_error("cannot decrypt variable '{}': {}", row.key, value.error().message);
    return Variable{row.key, std::move(*value), row.description};
}

Result<std::vector<Connection>> SecretsRepository::list_connections() {
    auto rows = store_.list_connections();
    if (!rows) return rows.error();
    std::vector<Connection> connections;
    for (const auto& row : *rows) {
        auto connection = open_connection(row);
        if (!connection) return connection.error();
        connections.push_back(std::move(*connection));
    }
    return connections;
}

Result<std::vector<Result<Connection>>> SecretsRepository::open_each_connection() {
    auto rows = store_.list_connections();
    if (!rows) return rows.error();
    std::vector<Result<Connection>> connections;
    for (const auto& row : *rows) connections.push_back(open_connection(row));
    return connections;
}

Result<std::optional<Connection>> SecretsRepository::find_connection(const std::string& conn_id) {
    auto row = store_.find_connection(conn_id);
    if (!row) return row.error();
    if (!*row) return std::optional<Connection>();
    auto connection = open_connection(**row);
    if (!connection) return connection.error();
    return std::optional<Connection>(std::move(*connection));
}

Result<std::vector<bool>> SecretsRepository::put_connections(const std::vector<Connection>& connections,
                                                             bool overwrite) {
    std::vector<ConnectionRow> rows;
    for (const auto& connection : connections) {
        if (Status valid = validate_connection_for_storage(connection); !valid) return valid.error();
        ConnectionRow row{connection.conn_id, connection.conn_type, connection.description,
                          connection.host,    connection.schema,    connection.login,
                          std::nullopt,       connection.port,      std::nullopt};
        auto password = seal_optional(keyring_, connection.password,
                                      sealed_value_context("connection", connection.conn_id, "password"));
        if (!password) return password.error();
        row.sealed_password = std::move(*password);
        auto extra = seal_optional(keyring_, connection.extra,
                                   sealed_value_context("connection", connection.conn_id, "extra"));
        if (!extra) return extra.error();
        row.sealed_extra = std::move(*extra);
        rows.push_back(std::move(row));
    }
    auto keys = sealing_keys();
    if (!keys) return keys.error();
    return store_.put_connections(rows, overwrite, *keys);
}

Result<bool> SecretsRepository::delete_connection(const std::string& conn_id) {
    return store_.delete_connection(conn_id);
}

Result<std::vector<Variable>> SecretsRepository::list_variables() {
    auto rows = store_.list_variables();
    if (!rows) return rows.error();
    std::vector<Variable> variables;
    for (const auto& row : *rows) {
        auto variable = open_variable(row);
        if (!variable) return variable.error();
        variables.push_back(std::move(*variable));
    }
    return variables;
}

Result<std::optional<Variable>> SecretsRepository::find_variable(const std::string& key) {
    auto row = store_.find_variable(key);
    if (!row) return row.error();
    if (!*row) return std::optional<Variable>();
    auto variable = open_variable(**row);
    if (!variable) return variable.error();
    return std::optional<Variable>(std::move(*variable));
}

Status SecretsRepository::put_variables(const std::vector<Variable>& variables) {
    std::vector<VariableRow> rows;
    for (const auto& variable : variables) {
        if (Status valid = validate_variable_for_storage(variable); !valid) return valid.error();
        auto sealed = keyring_.seal(variable.value, sealed_value_context("variable", variable.key, "val"));
        if (!sealed) return sealed.error();
        rows.push_back(VariableRow{variable.key, std::move(*sealed), variable.description});
    }
    auto keys = sealing_keys();
    if (!keys) return keys.error();
    return store_.put_variables(rows, *keys);
}

Result<bool> SecretsRepository::delete_variable(const std::string& key) {
    return store_.delete_variable(key);
}

Result<std::int64_t> SecretsRepository::version() {
    return store_.secrets_version();
}

Result<int> SecretsRepository::reseal_all() {
    auto keys = sealing_keys();
    if (!keys) return keys.error();
    return store_.reseal_secrets(
        [this](const std::string& context, const std::string& sealed) -> Result<std::string> {
            auto plaintext = keyring_.open(sealed, context);
            if (!plaintext) return plaintext.error();
            return keyring_.seal(*plaintext, context);
        },
        *keys);
}

Result<SecretKeyring> load_keyring_for_store(ConnectionStore& store,
                                             const std::map<std::string, std::string>& environment,
                                             const std::filesystem::path& home, bool create_if_missing) {
    auto found = load_secret_keyring(environment, home, false);
    if (!found || !found->empty() || !create_if_missing) return found;
    auto connections = store.list_connections();
    if (!connections) return connections.error();
    auto variables = store.list_variables();
    if (!variables) return variables.error();
    std::size_t sealed = variables->size();
    for (const auto& row : *connections) sealed += (row.sealed_password ? 1 : 0) + (row.sealed_extra ? 1 : 0);
    if (sealed > 0) {
        return make_error(
            "the database holds {} encrypted value{} (connection passwords and extras, variables), but no secret key "
            "is configured: {} is not there and {} is not set. Put back the secret.key this database was written "
            "with (from a backup), or set {} to it; a new key could never decrypt them, so none is made",
            sealed, sealed == 1 ? "" : "s", secret_key_file_path(home).string(), kSecretKeyVariable,
            kSecretKeyVariable);
    }
    return load_secret_keyring(environment, home, true);
}

}  // namespace mayaflow
