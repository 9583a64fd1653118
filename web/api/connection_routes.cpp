// /connections: Airflow's connections, kept sealed at rest through SecretsRepository. A password is
// never answered, an extra's sensitive keys are masked, lists leave out password and extra as
// Airflow's do. /connections/test checks what can be checked from here. mayaflow's own
// /mayaflow/connections/export gives an admin the file `mayaflow connections export` writes.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "engine/connections/connection_files.h"
#include "engine/connections/connection_testing.h"
#include "engine/connections/secret_masker.h"
#include "engine/connections/sensitive_fields.h"
#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "operators/firebase/firebase_database.h"
#include "operators/gcp/gcp_connection.h"
#include "operators/notify/slack_webhook.h"
#include "operators/operator.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/secrets_answers.h"

namespace mayaflow {
namespace {

const std::initializer_list<std::string_view> kConnectionFields = {
    "connection_id", "conn_type", "description", "host", "login", "schema", "port", "password", "extra"};

nlohmann::json optional_text(const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json();
}

// The extra as an answer may show it: sensitive keys masked; an extra that is not a JSON object
// cannot be masked key by key, so it is not shown at all.
nlohmann::json shown_extra(const Connection& connection) {
    if (!connection.extra) return nullptr;
    auto parsed = connection.parse_extra();
    if (parsed.problem) return "***";
    auto redacted = redact_sensitive_fields(parsed.value);
    if (redacted == parsed.value) return *connection.extra;
    return pyjson::dumps(redacted);
}

template <typename Row>
nlohmann::json connection_item_json(const Row& row) {
    return {{"connection_id", row.conn_id},   {"conn_type", row.conn_type},        {"description", optional_text(row.description)},
            {"host", optional_text(row.host)}, {"login", optional_text(row.login)}, {"schema", optional_text(row.schema)},
            {"port", row.port ? nlohmann::json(*row.port) : nlohmann::json()}};
}

nlohmann::json connection_json(const Connection& connection) {
    auto json = connection_item_json(connection);
    json["extra"] = shown_extra(connection);
    return json;
}

std::string quoted_name(const std::string& id) { return "'" + escape_invalid_utf8(id) + "'"; }

WebResponse connection_not_found(const std::string& id) {
    return not_found(fmt::format("no connection with connection_id {}; GET /api/v1/connections lists them", quoted_name(id)));
}

// The fields of a connection's body, type-checked; what is absent stays unset.
struct ConnectionFields {
    std::set<std::string> given;  // the fields the body has (null included)
    std::optional<std::string> connection_id, conn_type, description, host, login, schema, password, extra;
    std::optional<int> port;
};

Read<ConnectionFields> read_connection_fields(const nlohmann::json& body) {
    ConnectionFields fields;
    for (auto [name, target] :
         {std::pair{"connection_id", &fields.connection_id}, std::pair{"conn_type", &fields.conn_type},
          std::pair{"description", &fields.description}, std::pair{"host", &fields.host},
          std::pair{"login", &fields.login}, std::pair{"schema", &fields.schema},
          std::pair{"password", &fields.password}, std::pair{"extra", &fields.extra}}) {
        auto text = string_field(body, name);
        if (failed(text)) return std::get<WebResponse>(text);
        *target = std::get<std::optional<std::string>>(text);
    }
    auto port = integer_field(body, "port");
    if (failed(port)) return std::get<WebResponse>(port);
    if (auto value = std::get<std::optional<long long>>(port)) {
        if (*value < 0 || *value > 65535) return bad_request(fmt::format("'port' must be from 0 to 65535, got {}", *value));
        fields.port = static_cast<int>(*value);
    }
    for (const auto& [key, value] : body.items()) fields.given.insert(key);
    if (fields.connection_id) {
        if (Status valid = validate_conn_id(*fields.connection_id); !valid) {
            return bad_request("'connection_id': " + valid.error().message);
        }
    }
    if (fields.conn_type && fields.conn_type->find_first_not_of(" \t\r\n") == std::string::npos) {
        return bad_request("'conn_type' cannot be empty: the connection's type, e.g. google_cloud_platform");
    }
    return fields;
}

// Sets on `connection` the fields the mask allows (every one given when the mask is empty).
void apply_fields(Connection& connection, const ConnectionFields& fields, const std::set<std::string>& mask) {
    auto applies = [&](const char* name) {
        return mask.empty() ? fields.given.count(name) > 0 : mask.count(name) > 0;
    };
    if (applies("conn_type") && fields.conn_type) connection.conn_type = normalize_conn_type(*fields.conn_type);
    if (applies("description")) connection.description = fields.description;
    if (applies("host")) connection.host = fields.host;
    if (applies("login")) connection.login = fields.login;
    if (applies("schema")) connection.schema = fields.schema;
    if (applies("port")) connection.port = fields.port;
    if (applies("password")) connection.set_password(fields.password);
    if (applies("extra")) connection.extra = fields.extra;
}

// What a connection must be to be written: an extra that is a JSON object, text that is UTF-8.
std::optional<WebResponse> refuse_to_store(const Connection& connection) {
    if (Status extra = validate_extra(connection); !extra) return bad_request("'extra': " + extra.error().message);
    if (Status valid = validate_connection_for_storage(connection); !valid) return bad_request(valid.error().message);
    return std::nullopt;
}

// Writes it (replacing when `overwrite`), registers its secrets with the process's masker, and
// answers with it. nullopt from put_connections' row: it existed and was kept.
WebResponse write_connection(SecretsRepository& secrets, const Connection& connection, bool overwrite) {
    if (auto refusal = refuse_to_store(connection)) return *refusal;
    auto written = secrets.put_connections({connection}, overwrite);
    if (!written) return secrets_unavailable(written.error());
    if (!written->front()) {
        return conflict(fmt::format("connection {} already exists; PATCH /api/v1/connections/{{connection_id}} changes "
                                    "it",
                                    quoted_name(connection.conn_id)));
    }
    (void)mask_connection_secrets(process_secret_masker(), connection);
    return json_response(connection_json(connection));
}

WebResponse list_connections(ApiContext& context, const ApiRequest& request) {
    auto page = read_page(request);
    if (failed(page)) return std::get<WebResponse>(page);
    // Airflow's default order is `id`, the order of creation; a connection's id is its connection_id here.
    auto order = read_order_by(request,
                               {"connection_id", "conn_type", "description", "host", "login", "schema", "port", "id"},
                               Ordering{"connection_id", false});
    if (failed(order)) return std::get<WebResponse>(order);
    if (std::get<Ordering>(order).field == "id") std::get<Ordering>(order).field = "connection_id";
    // The fields a list shows are kept in clear: it opens no secret.
    auto rows = context.connection_store.list_connections();
    if (!rows) return store_unavailable(rows.error());
    const auto& ordering = std::get<Ordering>(order);
    auto sort_key = [&](const ConnectionRow& row) -> std::pair<std::string, std::string> {
        const auto& field = ordering.field;
        if (field == "conn_type") return {row.conn_type, row.conn_id};
        if (field == "description") return {row.description.value_or(""), row.conn_id};
        if (field == "host") return {row.host.value_or(""), row.conn_id};
        if (field == "login") return {row.login.value_or(""), row.conn_id};
        if (field == "schema") return {row.schema.value_or(""), row.conn_id};
        if (field == "port") return {row.port ? fmt::format("{:05}", *row.port) : std::string(), row.conn_id};
        return {row.conn_id, ""};
    };
    std::stable_sort(rows->begin(), rows->end(), [&](const ConnectionRow& a, const ConnectionRow& b) {
        return ordering.descending ? sort_key(b) < sort_key(a) : sort_key(a) < sort_key(b);
    });
    auto convert = [](const ConnectionRow& row) { return connection_item_json(row); };
    return json_response(
        {{"connections", page_of(*rows, std::get<Page>(page), convert)}, {"total_entries", rows->size()}});
}

WebResponse get_connection(ApiContext& context, const ApiRequest& request) {
    auto* secrets = secrets_or_null(context);
    if (!secrets) return no_keyring();
    const auto& id = request.param("connection_id");
    auto connection = secrets->find_connection(id);
    if (!connection) return secrets_unavailable(connection.error());
    if (!*connection) return connection_not_found(id);
    return json_response(connection_json(**connection));
}

WebResponse create_connection(ApiContext& context, const ApiRequest& request) {
    auto* secrets = secrets_or_null(context);
    if (!secrets) return no_keyring();
    auto body = read_json_object(request, kConnectionFields);
    if (failed(body)) return std::get<WebResponse>(body);
    auto fields = read_connection_fields(std::get<nlohmann::json>(body));
    if (failed(fields)) return std::get<WebResponse>(fields);
    auto& given = std::get<ConnectionFields>(fields);
    if (!given.connection_id) return bad_request("'connection_id' is required: the connection's id");
    if (!given.conn_type) return bad_request("'conn_type' is required: the connection's type, e.g. google_cloud_platform");
    Connection connection;
    connection.conn_id = *given.connection_id;
    apply_fields(connection, given, {});
    return write_connection(*secrets, connection, false);
}

Read<std::set<std::string>> read_update_mask(const ApiRequest& request) {
    std::set<std::string> mask;
    for (auto field : request.query_list("update_mask")) {
        field.erase(0, field.find_first_not_of(' '));
        field.erase(field.find_last_not_of(' ') + 1);
        bool known = false;
        for (auto name : kConnectionFields) known = known || (name == field && name != "connection_id");
        if (!known) {
            return bad_request(fmt::format("update_mask names {}, which is not a field of a connection that can be "
                                           "changed; use conn_type, description, host, login, schema, port, password "
                                           "or extra",
                                           quote_for_message(field)));
        }
        mask.insert(field);
    }
    return mask;
}

WebResponse update_connection(ApiContext& context, const ApiRequest& request) {
    auto* secrets = secrets_or_null(context);
    if (!secrets) return no_keyring();
    const auto& id = request.param("connection_id");
    auto body = read_json_object(request, kConnectionFields);
    if (failed(body)) return std::get<WebResponse>(body);
    auto fields = read_connection_fields(std::get<nlohmann::json>(body));
    if (failed(fields)) return std::get<WebResponse>(fields);
    auto& given = std::get<ConnectionFields>(fields);
    if (given.connection_id && *given.connection_id != id) {
        return bad_request(fmt::format("the body's connection_id {} is not the one in the path ({}); a connection's id "
                                       "cannot be changed",
                                       quoted_name(*given.connection_id), quoted_name(id)));
    }
    auto mask = read_update_mask(request);
    if (failed(mask)) return std::get<WebResponse>(mask);
    const auto& fields_to_change = std::get<std::set<std::string>>(mask);
    if (fields_to_change.empty() && !given.conn_type) {
        return bad_request("without update_mask the body is the whole connection: 'connection_id' and 'conn_type' are "
                           "required (or name the fields to change, e.g. ?update_mask=host)");
    }
    if (fields_to_change.count("conn_type") && !given.conn_type) {
        return bad_request("update_mask names 'conn_type' but the body has no conn_type");
    }
    auto current = secrets->find_connection(id);
    if (!current) return secrets_unavailable(current.error());
    if (!*current) return connection_not_found(id);
    Connection connection = **current;
    if (fields_to_change.empty()) {
        // The whole connection, as Airflow's PATCH without a mask: what the body leaves out is cleared,
        // except the password, which no answer shows and so no client can send back.
        auto password = connection.password;
        connection = Connection{};
        connection.conn_id = id;
        connection.password = password;
    }
    apply_fields(connection, given, fields_to_change);
    return write_connection(*secrets, connection, true);
}

WebResponse delete_connection(ApiContext& context, const ApiRequest& request) {
    const auto& id = request.param("connection_id");
    auto deleted = context.connection_store.delete_connection(id);
    if (!deleted) return store_unavailable(deleted.error());
    if (!*deleted) return connection_not_found(id);
    return WebResponse{204, "application/json", "", {}};
}

// The types mayaflow's operators and checks use.
bool known_connection_type(const std::string& type) {
    static const std::set<std::string> kKnown = {"google_cloud_platform", "gcp", "gcpbigquery", "firebase",
                                                 "slackwebhook", "slack_webhook", "fs", "sqlite", "http", "https"};
    if (kKnown.count(type)) return true;
    auto testable = testable_connection_types();
    return std::find(testable.begin(), testable.end(), type) != testable.end();
}

// The checks a connection's type has here: a live one from the registry, else reading it as the
// operator would.
ConnectionTestResult check_connection(const Connection& connection) {
    const auto& type = connection.conn_type;
    if (type == "firebase") {
        auto target = firebase::read_firebase_target(connection, "", daemon_environment());
        if (!target) return {false, target.error().message};
        return {true, "firebase_export would write to " + target->describe() + " (nothing was sent)"};
    }
    if (type == "slackwebhook" || type == "slack_webhook") {
        auto url = notify::slack_webhook_url(connection);
        if (!url) return {false, url.error().message};
        return {true, "the connection holds a webhook URL (nothing was sent, so Slack was not asked whether it is live)"};
    }
    auto testable = testable_connection_types();
    if (std::find(testable.begin(), testable.end(), type) != testable.end()) return test_connection(connection);
    if (type == "google_cloud_platform" || type == "gcp" || type == "gcpbigquery") {
        auto gcp = gcp::read_gcp_connection(connection, daemon_environment());
        if (!gcp) return {false, gcp.error().message};
        return {true, "the connection's credentials read as the GCP operators read them (no token was asked for)"};
    }
    return {true, fmt::format("mayaflow has no live test for type '{}'; nothing was sent anywhere", type)};
}

WebResponse test_connection_route(ApiContext& context, const ApiRequest& request) {
    auto body = read_json_object(request, kConnectionFields);
    if (failed(body)) return std::get<WebResponse>(body);
    auto fields = read_connection_fields(std::get<nlohmann::json>(body));
    if (failed(fields)) return std::get<WebResponse>(fields);
    auto& given = std::get<ConnectionFields>(fields);
    if (!given.conn_type) return bad_request("'conn_type' is required: the connection's type, e.g. google_cloud_platform");
    Connection connection;
    connection.conn_id = given.connection_id.value_or("mayaflow_connection_test");
    std::vector<std::string> checked;
    std::optional<std::string> stored_password;
    bool use_stored = false;
    // A stored connection's secret is tested when the body does not bring one: no answer shows it,
    // so a client testing what it read back cannot send it.
    if (given.connection_id && (!given.password || *given.password == "***")) {
        auto* secrets = secrets_or_null(context);
        if (!secrets) return no_keyring();
        auto stored = secrets->find_connection(*given.connection_id);
        if (!stored) {
            return json_response({{"status", false},
                                  {"message", "the stored connection's secrets do not open: " + stored.error().message}});
        }
        if (*stored) {
            stored_password = (*stored)->password;
            use_stored = true;
            checked.push_back("its stored secrets open");
        }
    }
    apply_fields(connection, given, {});
    if (use_stored) connection.password = stored_password;
    if (auto refusal = refuse_to_store(connection)) {
        auto detail = nlohmann::json::parse(refusal->body)["detail"].get<std::string>();
        return json_response({{"status", false}, {"message", "the connection does not parse: " + detail}});
    }
    checked.insert(checked.begin(), "it parses");
    if (!known_connection_type(connection.conn_type)) {
        return json_response(
            {{"status", false},
             {"message", fmt::format("{}, but mayaflow knows no connection type '{}' (its operators use "
                                     "google_cloud_platform, firebase, slackwebhook, fs, sqlite, http)",
                                     join(checked), escape_invalid_utf8(connection.conn_type))}});
    }
    checked.push_back("its type is known");
    auto result = check_connection(connection);
    // What a check says may quote what it was given: masked with the connection's own secrets.
    SecretMasker masker;
    (void)mask_connection_secrets(masker, connection);
    auto message = fmt::format("{}; {}", join(checked), masker.mask(result.message));
    return json_response({{"status", result.ok}, {"message", process_secret_masker().mask(to_valid_utf8(message))}});
}

// GET /mayaflow/connections/export: every stored connection, secrets in clear, in the file format
// `mayaflow connections export` writes. Logged: who, when, how many; never a value.
WebResponse export_connections(ApiContext& context, const ApiRequest& request) {
    auto* secrets = secrets_or_null(context);
    if (!secrets) return no_keyring();
    for (const auto& [name, value] : request.query) {
        if (name != "file_format" && name != "serialization_format") {
            return bad_request(fmt::format("unknown query parameter {}; this takes file_format (json, yaml or env) and, "
                                           "for env, serialization_format (uri or json)",
                                           quote_for_message(name)));
        }
    }
    auto format_name = request.query_value("file_format").value_or("json");
    auto format = connection_file_format_named(format_name);
    if (!format || format_name == "yml") {
        return bad_request(fmt::format("file_format must be json, yaml or env, got {}", quote_for_message(format_name)));
    }
    auto serialization_name = request.query_value("serialization_format");
    if (serialization_name && *format != ConnectionFileFormat::env) {
        return bad_request("serialization_format may only be used with file_format=env");
    }
    if (serialization_name && *serialization_name != "uri" && *serialization_name != "json") {
        return bad_request(
            fmt::format("serialization_format must be uri or json, got {}", quote_for_message(*serialization_name)));
    }
    auto serialization = serialization_name.value_or("uri") == "json" ? ConnectionSerialization::json
                                                                      : ConnectionSerialization::uri;
    auto connections = secrets->list_connections();
    if (!connections) return secrets_unavailable(connections.error());
    auto text = export_connections_text(*connections, *format, serialization);
    if (!text) return problem(409, text.error().message);
    std::string extension = *format == ConnectionFileFormat::json   ? "json"
                            : *format == ConnectionFileFormat::yaml ? "yaml"
                                                                    : "env";
    spdlog::info("connections export: '{}' exported {} connection(s) as {} at {}",
                 escape_invalid_utf8(request.principal.username), connections->size(), extension,
                 format_iso8601(now_instant(), TimeZone::utc()));
    WebResponse response;
    response.status = 200;
    response.content_type = *format == ConnectionFileFormat::json   ? "application/json"
                            : *format == ConnectionFileFormat::yaml ? "application/yaml; charset=utf-8"
                                                                    : "text/plain; charset=utf-8";
    response.body = std::move(*text);
    response.headers["Content-Disposition"] = "attachment; filename=connections." + extension;
    return response;
}

}  // namespace

void add_connection_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/connections", {Resource::connection, Action::read},
              [&context](const ApiRequest& request) { return list_connections(context, request); });
    table.add("POST", "/api/v1/connections", {Resource::connection, Action::create},
              [&context](const ApiRequest& request) { return create_connection(context, request); });
    table.add("POST", "/api/v1/connections/test", {Resource::connection, Action::create},
              [&context](const ApiRequest& request) { return test_connection_route(context, request); });
    table.add("GET", "/api/v1/connections/{connection_id}", {Resource::connection, Action::read},
              [&context](const ApiRequest& request) { return get_connection(context, request); });
    table.add("PATCH", "/api/v1/connections/{connection_id}", {Resource::connection, Action::edit},
              [&context](const ApiRequest& request) { return update_connection(context, request); });
    table.add("DELETE", "/api/v1/connections/{connection_id}", {Resource::connection, Action::remove},
              [&context](const ApiRequest& request) { return delete_connection(context, request); });
    table.add("GET", "/api/v1/mayaflow/connections/export", {Resource::connections_export, Action::read},
              [&context](const ApiRequest& request) { return export_connections(context, request); });
}

}  // namespace mayaflow
