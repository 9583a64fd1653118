// `mayaflow connections add|get|list|delete|export|import|test` and `mayaflow rotate-secret-key`,
// with Airflow's verbs, flags, messages and file formats (docs/connections.md).

#include <fmt/format.h>

#include <iostream>
#include <optional>

#include "cli/cli_support.h"
#include "cli/secrets_cli.h"
#include "engine/connections/connection_files.h"
#include "engine/connections/connection_json.h"
#include "engine/connections/connection_testing.h"
#include "engine/connections/connection_uri.h"
#include "engine/connections/secret_key_file.h"
#include "engine/connections/sensitive_fields.h"
#include "engine/util/file_lock.h"
#include "engine/util/text.h"

namespace mayaflow::cli {
namespace {

struct AddOptions {
    std::string conn_id;
    std::optional<std::string> uri, json, type, host, login, password, schema, port, extra, description;
};

// Python's repr of a list of strings, as Airflow prints the flags that clash: ['conn_host', 'conn_port'].
std::string python_list(const std::vector<std::string>& items) {
    std::vector<std::string> quoted;
    for (const auto& item : items) quoted.push_back("'" + item + "'");
    return "[" + join(quoted) + "]";
}

bool given(const std::optional<std::string>& value) {
    return value && !value->empty();
}

Connection connection_to_add(const AddOptions& options) {
    if (auto valid = validate_conn_id(options.conn_id); !valid) {
        throw CommandFailed{"Could not create connection. " + valid.error().message};
    }
    bool has_uri = given(options.uri), has_json = given(options.json), has_type = given(options.type);
    if (!has_type && !has_uri && !has_json) {
        throw CommandFailed{"Must supply either conn-uri or conn-json if not supplying conn-type"};
    }
    if (has_uri && has_json) throw CommandFailed{"Cannot supply both conn-uri and conn-json"};
    if (has_uri || has_json) {
        std::vector<std::string> clashing;
        for (auto [name, value] :
             {std::pair{"conn_type", &options.type}, std::pair{"conn_host", &options.host},
              std::pair{"conn_login", &options.login}, std::pair{"conn_password", &options.password},
              std::pair{"conn_schema", &options.schema}, std::pair{"conn_port", &options.port}}) {
            if (*value) clashing.push_back(name);
        }
        if (has_json && options.extra) clashing.push_back("--conn-extra");
        if (!clashing.empty()) {
            throw CommandFailed{
                fmt::format("The following args are not compatible with the --conn-{} flag: {}",
                            has_uri ? "uri" : "json", python_list(clashing))};
        }
    }
    Connection connection;
    if (has_uri) {
        auto parsed = connection_from_uri(options.conn_id, *options.uri);
        if (!parsed || parsed->conn_type.empty()) {
            throw CommandFailed{fmt::format(
                "The URI provided to --conn-uri is invalid: {}{}", mask_uri_password(*options.uri),
                parsed ? " (it names no connection type)" : " (" + parsed.error().message + ")")};
        }
        connection = std::move(*parsed);
        connection.description = options.description;
        if (options.extra) connection.extra = *options.extra;
    } else if (has_json) {
        auto parsed = connection_from_json(options.conn_id, *options.json);
        if (!parsed) {
            if (parsed.error().message == "the connection has no conn_type") {
                throw CommandFailed{"conn-json is invalid; must supply conn-type"};
            }
            throw CommandFailed{"conn-json is invalid: " + parsed.error().message};
        }
        connection = std::move(*parsed);
    } else {
        connection.conn_id = options.conn_id;
        connection.conn_type = *options.type;
        connection.description = options.description;
        connection.host = options.host;
        connection.login = options.login;
        connection.set_password(options.password);
        connection.schema = options.schema;
        if (given(options.port)) {
            auto port = port_from_json(*options.port);
            if (!port) throw CommandFailed{"--conn-port: " + port.error().message};
            connection.port = *port;
        }
        if (options.extra) connection.extra = *options.extra;
    }
    if (connection.extra && !connection.extra->empty()) {
        if (auto valid = validate_extra(connection); !valid) throw CommandFailed{valid.error().message};
    }
    return connection;
}

// What `connections add` echoes: the URI given with its password hidden, or Airflow's
// urlunsplit((type, "login:******@host:port", schema, "", "")) for a connection given by fields.
std::string added_uri(const AddOptions& options, const Connection& connection) {
    if (given(options.uri)) return mask_uri_password(*options.uri);
    std::string uri = fmt::format("{}://{}:{}@{}:{}", connection.conn_type, connection.login.value_or(""),
                                  connection.password ? "******" : "", connection.host.value_or(""),
                                  connection.port ? std::to_string(*connection.port) : "");
    if (connection.schema && !connection.schema->empty()) {
        uri += (connection.schema->starts_with('/') ? "" : "/") + *connection.schema;
    }
    return uri;
}

void add_connection(const AddOptions& options) {
    auto connection = connection_to_add(options);
    auto written = write_secrets(
        [&](SecretsRepository& repository) { return repository.put_connections({connection}, false); });
    if (!written) throw CommandFailed{written.error().message};
    if (!written->front()) {
        throw CommandFailed{
            fmt::format("A connection with `conn_id`={} already exists.", connection.conn_id)};
    }
    std::cout << fmt::format("Successfully added `conn_id`={} : {}\n", connection.conn_id,
                             added_uri(options, connection));
}

// One row of `connections get|list`: Airflow's fields, secrets hidden unless asked for.
pyjson::Json connection_record(const Connection& connection, const std::string& source, bool show_secrets) {
    auto text = [](const std::optional<std::string>& value) -> pyjson::Json {
        return value ? pyjson::Json(*value) : pyjson::Json(nullptr);
    };
    auto extra = connection.parse_extra();
    pyjson::Json record = pyjson::Json::object();
    record["conn_id"] = connection.conn_id;
    record["conn_type"] = connection.conn_type;
    record["description"] = text(connection.description);
    record["host"] = text(connection.host);
    record["schema"] = text(connection.schema);
    record["login"] = text(connection.login);
    record["password"] =
        connection.password && !show_secrets ? pyjson::Json("***") : text(connection.password);
    record["port"] = connection.port ? pyjson::Json(*connection.port) : pyjson::Json(nullptr);
    record["is_encrypted"] = source == "database" && connection.password.has_value();
    record["is_extra_encrypted"] = source == "database" && connection.extra.has_value();
    record["extra_dejson"] = show_secrets ? extra.value : redact_sensitive_fields(extra.value);
    record["get_uri"] = show_secrets ? connection_to_uri(connection) : connection_to_display_uri(connection);
    record["source"] = source;
    return record;
}

void warn_about_extra(const Connection& connection) {
    if (auto problem = connection.parse_extra().problem) std::cerr << "warning: " << *problem << "\n";
}

void get_connection(const std::string& conn_id, RecordFormat format, bool show_secrets) {
    auto secrets = open_secrets(false);
    std::optional<std::pair<Connection, std::string>> found;
    auto from_environment = secrets.environment.find_connection(conn_id);
    if (!from_environment) throw CommandFailed{from_environment.error().message};
    if (*from_environment) {
        found = std::pair{std::move(**from_environment), std::string("environment")};
    } else if (secrets.repository) {
        auto stored = secrets.repository->find_connection(conn_id);
        if (!stored) throw CommandFailed{stored.error().message};
        if (*stored) found = std::pair{std::move(**stored), std::string("database")};
    }
    if (!found) throw CommandFailed{"Connection not found."};
    warn_about_extra(found->first);
    print_records({connection_record(found->first, found->second, show_secrets)}, format);
}

void list_connections(const std::optional<std::string>& conn_id, RecordFormat format, bool show_secrets) {
    auto secrets = open_secrets(false);
    std::map<std::string, pyjson::Json> records;  // by conn_id; the environment wins, as in a lookup
    if (secrets.repository) {
        auto stored = secrets.repository->list_connections();
        if (!stored) throw CommandFailed{stored.error().message};
        for (const auto& connection : *stored) {
            records[connection.conn_id] = connection_record(connection, "database", show_secrets);
        }
    }
    for (auto& found : secrets.environment.list_connections()) {
        if (!found.connection) {
            std::cerr << "warning: " << found.connection.error().message << "\n";
            continue;
        }
        records[found.conn_id] = connection_record(*found.connection, "environment", show_secrets);
    }
    std::vector<pyjson::Json> rows;
    for (auto& [id, record] : records) {
        if (!conn_id || id == *conn_id) rows.push_back(std::move(record));
    }
    print_records(rows, format);
}

void delete_connection(const std::string& conn_id) {
    auto secrets = open_secrets(false);
    auto deleted = repository_or_fail(secrets).delete_connection(conn_id);
    if (!deleted) throw CommandFailed{deleted.error().message};
    if (!*deleted) throw CommandFailed{fmt::format("Did not find a connection with `conn_id`={}", conn_id)};
    std::cout << fmt::format("Successfully deleted connection with `conn_id`={}\n", conn_id);
}

struct ExportOptions {
    std::string file;
    std::optional<std::string> format, file_format, serialization;
};

void export_connections(const ExportOptions& options) {
    if (options.format)
        std::cerr << "warning: Option `--format` is deprecated.  Use `--file-format` instead.\n";
    if (options.format && options.file_format) {
        throw CommandFailed{"Option `--format` is deprecated.  Use `--file-format` instead."};
    }
    auto named = options.file_format ? options.file_format : options.format;
    std::optional<ConnectionFileFormat> format;
    if (named) format = connection_file_format_named(*named);
    bool to_stdout = options.file == "-";
    if (!format && !named && !to_stdout) {
        format = connection_file_format_of(options.file);
        if (!format || std::filesystem::path(options.file).extension() == ".yml") {
            throw CommandFailed{
                "Unsupported file format. The file must have the extension .yaml, .json, .env."};
        }
    }
    if (!format) format = ConnectionFileFormat::json;
    if (options.serialization && *format != ConnectionFileFormat::env) {
        throw CommandFailed{"Option `--serialization-format` may only be used with file type `env`."};
    }
    auto serialization = options.serialization.value_or("uri") == "json" ? ConnectionSerialization::json
                                                                         : ConnectionSerialization::uri;
    auto secrets = open_secrets(false);
    std::vector<Connection> connections;
    if (secrets.repository) {
        auto stored = secrets.repository->list_connections();
        if (!stored) throw CommandFailed{stored.error().message};
        connections = std::move(*stored);
    }
    auto text = export_connections_text(connections, *format, serialization);
    if (!text) throw CommandFailed{text.error().message};
    write_output_file(options.file, *text);
    if (to_stdout) {
        std::cerr << "\nConnections successfully exported.\n";
    } else {
        std::cout << fmt::format("Connections successfully exported to {}.\n", options.file);
    }
}

void import_connections(const std::string& file, bool overwrite) {
    auto text = read_input_file(file, "Missing connections file.");
    auto format = connection_file_format_of(file);
    if (!format) {
        throw CommandFailed{
            "Unsupported file format. The file must have one of the following extensions: "
            ".env .json .yaml .yml"};
    }
    auto connections = parse_connections_file(text, *format, file);
    if (!connections) throw CommandFailed{connections.error().message};
    for (const auto& connection : *connections) warn_about_extra(connection);
    auto written = write_secrets(
        [&](SecretsRepository& repository) { return repository.put_connections(*connections, overwrite); });
    if (!written) throw CommandFailed{written.error().message};
    for (std::size_t i = 0; i < connections->size(); ++i) {
        const auto& conn_id = (*connections)[i].conn_id;
        if ((*written)[i]) {
            std::cout << "Imported connection " << conn_id << "\n";
        } else {
            std::cout << "Could not import connection " << conn_id << ": connection already exists.\n";
        }
    }
}

void test_connection_command(const std::string& conn_id) {
    std::cout << fmt::format("Retrieving connection: '{}'\n", conn_id);
    auto secrets = open_secrets(false);
    std::optional<Connection> connection;
    auto from_environment = secrets.environment.find_connection(conn_id);
    if (!from_environment) throw CommandFailed{from_environment.error().message};
    if (*from_environment) {
        connection = std::move(*from_environment);
    } else if (secrets.repository) {
        auto stored = secrets.repository->find_connection(conn_id);
        if (!stored) throw CommandFailed{stored.error().message};
        connection = std::move(*stored);
    }
    if (!connection) {
        std::cout << "\nConnection not found.\n\n";
        throw CommandFailed{"", 1};
    }
    std::cout << "\nTesting...\n";
    auto result = test_connection(*connection);
    if (result.ok) {
        std::cout << "\nConnection success!\n\n";
    } else {
        std::cout << "\nConnection failed!\n" << result.message << "\n\n";
    }
}

// rotate-secret-key: with MAYAFLOW_SECRET_KEY, re-seals everything with its first key; with the key
// file, makes a new key, lists it first in the file (the old key kept so that nothing is ever
// unreadable), re-seals everything in one transaction, then leaves only the new key in the file.
void rotate_secret_key() {
    auto settings = settings_or_fail();
    auto environment = process_environment();
    // One rotation at a time: two would each write the key file, and the last written need not be
    // the key the database ends up sealed with. (Writers of secrets need no lock: the store refuses
    // a write sealed with a key read before a rotation, and the command writes again.)
    std::error_code ignored;
    std::filesystem::create_directories(settings.home, ignored);
    auto rotating = FileLock::try_acquire(settings.home / "rotate-secret-key.lock");
    if (!rotating) throw CommandFailed{rotating.error().message + "; nothing was re-encrypted"};
    if (!*rotating)
        throw CommandFailed{"another `mayaflow rotate-secret-key` is running; nothing was re-encrypted"};
    auto store = open_store_or_fail(settings, false);
    auto keyring = load_keyring_for_store(*store, environment, settings.home, true);
    if (!keyring) throw CommandFailed{keyring.error().message};
    if (keyring->origin() == kSecretKeyVariable) {
        SecretsRepository repository(*store, *keyring);
        auto count = repository.reseal_all();
        if (!count) throw CommandFailed{"nothing was re-encrypted: " + count.error().message};
        std::cout << fmt::format(
            "Re-encrypted {} secret value{} with key {}, the first key of {}. Once every mayaflow "
            "process runs with it, {} may hold that key alone.\n",
            *count, *count == 1 ? "" : "s", keyring->sealing_key().id, kSecretKeyVariable,
            kSecretKeyVariable);
        return;
    }
    auto path = secret_key_file_path(settings.home);
    auto fresh = generate_secret_key();
    if (!fresh) throw CommandFailed{fresh.error().message};
    std::vector<SecretKey> keys{*fresh};
    keys.insert(keys.end(), keyring->keys().begin(), keyring->keys().end());
    if (auto written = write_secret_key_file(path, keys); !written)
        throw CommandFailed{written.error().message};
    SecretsRepository repository(*store, SecretKeyring(keys, path.string()));
    auto count = repository.reseal_all();
    if (!count) {
        throw CommandFailed{
            fmt::format("nothing was re-encrypted ({}); {} lists the new key first and the old "
                        "one{} after it, so every value still opens",
                        count.error().message, path.string(), keyring->keys().size() == 1 ? "" : "s")};
    }
    if (auto written = write_secret_key_file(path, {*fresh}); !written)
        throw CommandFailed{written.error().message};
    std::vector<std::string> old_ids;
    for (const auto& key : keyring->keys()) old_ids.push_back(key.id);
    std::cout << fmt::format(
        "Re-encrypted {} secret value{} with the new key {} (was {}), now the only key in {}. "
        "Restart running mayaflow processes so that they read it.\n",
        *count, *count == 1 ? "" : "s", fresh->id, join(old_ids), path.string());
}

void register_add(CLI::App& connections) {
    static AddOptions options;
    auto* add = connections.add_subcommand("add", "Add a connection (by URI, by JSON, or field by field)");
    add->add_option("conn_id", options.conn_id, "Connection id, required to get/add/delete/test a connection")
        ->required();
    add->add_option("--conn-uri", options.uri,
                    "Connection URI, required to add a connection without conn_type");
    add->add_option("--conn-json", options.json, "Connection JSON, required to add a connection using JSON");
    add->add_option("--conn-type", options.type,
                    "Connection type, required to add a connection without conn_uri");
    add->add_option("--conn-host", options.host, "Connection host, optional when adding a connection");
    add->add_option("--conn-login", options.login, "Connection login, optional when adding a connection");
    add->add_option("--conn-password", options.password,
                    "Connection password, optional when adding a connection");
    add->add_option("--conn-schema", options.schema, "Connection schema, optional when adding a connection");
    add->add_option("--conn-port", options.port, "Connection port, optional when adding a connection");
    add->add_option("--conn-extra", options.extra, "Connection extra field (a JSON object)");
    add->add_option("--conn-description", options.description, "Connection description");
    add->callback([] { add_connection(options); });
}

void register_reading(CLI::App& connections) {
    static std::string get_id;
    static RecordFormat get_format = RecordFormat::table;
    static bool get_secrets = false;
    auto* get =
        connections.add_subcommand("get", "Get a connection (the environment's first, as a lookup finds it)");
    get->add_option("conn_id", get_id, "Connection id")->required();
    add_record_format_option(*get, get_format);
    get->add_flag("--show-secrets", get_secrets, "Show the password and sensitive extras instead of ***");
    get->callback([] { get_connection(get_id, get_format, get_secrets); });

    static std::optional<std::string> list_id;
    static RecordFormat list_format = RecordFormat::table;
    static bool list_secrets = false;
    auto* list =
        connections.add_subcommand("list", "List the connections of the database and of the environment");
    list->add_option("--conn-id", list_id,
                     "If passed, only items with the specified connection ID will be displayed");
    add_record_format_option(*list, list_format);
    list->add_flag("--show-secrets", list_secrets, "Show passwords and sensitive extras instead of ***");
    list->callback([] { list_connections(list_id, list_format, list_secrets); });
}

void register_files(CLI::App& connections) {
    static ExportOptions export_options;
    auto* exporter = connections.add_subcommand(
        "export",
        "Export all connections to a file (passwords in clear: it is meant to move them elsewhere)");
    exporter
        ->add_option("file", export_options.file,
                     "Output file: .json, .yaml or .env, or - for standard output")
        ->required();
    auto formats = CLI::IsMember({"json", "yaml", "env"}, CLI::ignore_case);
    exporter
        ->add_option("--file-format", export_options.file_format,
                     "json, yaml or env (else the file's extension)")
        ->check(formats);
    exporter->add_option("--format", export_options.format, "Deprecated: use --file-format")->check(formats);
    exporter
        ->add_option("--serialization-format", export_options.serialization,
                     "With env: each connection as a uri (the default) or a json object")
        ->check(CLI::IsMember({"uri", "json"}, CLI::ignore_case));
    exporter->callback([] { export_connections(export_options); });

    static std::string import_file;
    static bool overwrite = false;
    auto* importer =
        connections.add_subcommand("import", "Import connections from a file (.json, .yaml, .yml or .env)");
    importer->add_option("file", import_file, "Import connections from a file")->required();
    importer->add_flag("--overwrite", overwrite, "Overwrite existing entries if a conflict occurs");
    importer->callback([] { import_connections(import_file, overwrite); });
}

}  // namespace

void register_connections_commands(CLI::App& app) {
    auto* connections =
        app.add_subcommand("connections", "Manage connections (Airflow's verbs, flags and files)");
    connections->require_subcommand(1);
    register_add(*connections);
    register_reading(*connections);
    register_files(*connections);

    static std::string delete_id;
    auto* remove = connections->add_subcommand("delete", "Delete a connection from the database");
    remove->add_option("conn_id", delete_id, "Connection id")->required();
    remove->callback([] { delete_connection(delete_id); });

    static std::string test_id;
    auto* test = connections->add_subcommand("test", "Test a connection");
    test->add_option("conn_id", test_id, "Connection id")->required();
    test->callback([] { test_connection_command(test_id); });

    app.add_subcommand(
           "rotate-secret-key",
           "Re-encrypt every stored password, extra and variable with a new secret key, in one transaction")
        ->callback(rotate_secret_key);
}

}  // namespace mayaflow::cli
