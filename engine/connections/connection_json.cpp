#include "engine/connections/connection_json.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "engine/connections/connection_uri.h"

namespace mayaflow {
namespace {

constexpr std::string_view kFields[] = {"conn_id",  "conn_type", "description", "host",  "login",
                                        "password", "schema",    "port",        "extra", "uri"};

bool is_field(std::string_view key) {
    for (auto field : kFields) {
        if (field == key) return true;
    }
    return false;
}

// Python's truthiness of a JSON value.
bool truthy(const pyjson::Json& value) {
    switch (value.type()) {
        case pyjson::Json::value_t::null:
            return false;
        case pyjson::Json::value_t::boolean:
            return value.get<bool>();
        case pyjson::Json::value_t::number_integer:
            return value.get<std::int64_t>() != 0;
        case pyjson::Json::value_t::number_unsigned:
            return value.get<std::uint64_t>() != 0;
        case pyjson::Json::value_t::number_float:
            return value.get<double>() != 0.0;
        case pyjson::Json::value_t::string:
            return !value.get_ref<const std::string&>().empty();
        default:
            return !value.empty();
    }
}

std::string python_repr(const pyjson::Json& value) {
    if (value.is_string()) return "'" + value.get<std::string>() + "'";
    return pyjson::dumps(value);
}

Result<std::optional<std::string>> optional_text(const pyjson::Json& object, std::string_view field) {
    auto it = object.find(field);
    if (it == object.end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string()) {
        return make_error("the field `{}` must be text or null, not {}", field, pyjson::dumps(*it));
    }
    return std::optional<std::string>(it->get<std::string>());
}

// The Connection(**kwargs) constructor, for the fields both JSON forms share.
Result<Connection> connection_from_fields(std::string conn_id, const pyjson::Json& fields) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (!is_field(it.key())) {
            return make_error(
                "unknown connection field `{}`; the fields are conn_type, description, host, login, "
                "password, schema, port, extra (or uri)",
                it.key());
        }
    }
    Connection connection;
    auto uri = optional_text(fields, "uri");
    if (!uri) return uri.error();
    if (*uri && !(*uri)->empty()) {
        for (auto field : {"conn_type", "host", "login", "password", "schema", "port", "extra"}) {
            if (fields.contains(field) && truthy(fields[field])) {
                return make_error(
                    "a connection is given either as `uri` or as separate fields, not both (`{}` is "
                    "set too)",
                    field);
            }
        }
        auto parsed = connection_from_uri(conn_id, **uri);
        if (!parsed) return parsed.error();
        connection = std::move(*parsed);
    } else {
        connection.conn_id = conn_id;
        auto conn_type = optional_text(fields, "conn_type");
        if (!conn_type) return conn_type.error();
        connection.conn_type = conn_type->value_or("");
        if (connection.conn_type.empty()) return make_error("the connection has no conn_type");
        for (auto [field, target] :
             {std::pair{"host", &connection.host}, std::pair{"login", &connection.login},
              std::pair{"schema", &connection.schema}}) {
            auto value = optional_text(fields, field);
            if (!value) return value.error();
            *target = std::move(*value);
        }
        auto password = optional_text(fields, "password");
        if (!password) return password.error();
        connection.set_password(std::move(*password));
        if (fields.contains("port") && !fields["port"].is_null()) {
            auto port = port_from_json(fields["port"]);
            if (!port) return port.error();
            connection.port = *port;
        }
        if (fields.contains("extra") && truthy(fields["extra"])) {
            const auto& extra = fields["extra"];
            connection.extra = extra.is_string() ? extra.get<std::string>() : pyjson::dumps(extra);
        } else if (fields.contains("extra") && fields["extra"].is_string()) {
            connection.extra = "";
        }
    }
    auto description = optional_text(fields, "description");
    if (!description) return description.error();
    connection.description = std::move(*description);
    return connection;
}

Result<int> port_from_text(std::string_view text) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return Error{};
    text = text.substr(first, text.find_last_not_of(kSpace) - first + 1);
    bool negative = false;
    if (text.starts_with('+') || text.starts_with('-')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    std::string digits;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '_' && i > 0 && i + 1 < text.size() && text[i - 1] != '_') continue;
        if (c < '0' || c > '9') return Error{};
        digits.push_back(c);
    }
    if (digits.empty()) return Error{};
    long long value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || value > std::numeric_limits<int>::max()) return Error{};
    return static_cast<int>(negative ? -value : value);
}

}  // namespace

Result<int> port_from_json(const pyjson::Json& value) {
    auto refuse = [&] {
        return make_error("Expected integer value for `port`, but got {} instead.", python_repr(value));
    };
    if (value.is_number_integer()) {
        auto number = value.get<std::int64_t>();
        if (number < std::numeric_limits<int>::min() || number > std::numeric_limits<int>::max())
            return refuse();
        return static_cast<int>(number);
    }
    if (value.is_number_float()) {
        double number = std::trunc(value.get<double>());
        if (!std::isfinite(number) || std::abs(number) > std::numeric_limits<int>::max()) return refuse();
        return static_cast<int>(number);
    }
    if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
    if (value.is_string()) {
        auto port = port_from_text(value.get_ref<const std::string&>());
        if (!port) return refuse();
        return *port;
    }
    return refuse();
}

Result<Connection> connection_from_json(std::string conn_id, std::string_view json_text) {
    auto parsed = pyjson::loads(json_text);
    if (!parsed) return make_error("the connection JSON cannot be read: {}", parsed.error().message);
    if (!parsed->is_object()) return make_error("the connection JSON must be an object of fields");
    pyjson::Json fields = *parsed;
    // from_json drops a falsy port, extra or conn_type before the constructor sees them.
    for (auto field : {"port", "extra", "conn_type"}) {
        if (fields.contains(field) && !truthy(fields[field])) fields.erase(field);
    }
    if (fields.contains("conn_type") && fields["conn_type"].is_string()) {
        fields["conn_type"] = normalize_conn_type(fields["conn_type"].get<std::string>());
    }
    if (fields.contains("conn_id"))
        return make_error("unknown connection field `conn_id` in the connection JSON");
    return connection_from_fields(std::move(conn_id), fields);
}

Result<Connection> connection_from_file_value(std::string conn_id, const pyjson::Json& value) {
    if (value.is_string()) return connection_from_uri(std::move(conn_id), value.get<std::string>());
    if (!value.is_object()) {
        return make_error("the connection can only be defined using a string (a URI) or an object, not {}",
                          pyjson::dumps(value));
    }
    pyjson::Json fields = value;
    if (fields.contains("extra") && fields.contains("extra_dejson")) {
        return make_error("the extra and extra_dejson parameters are mutually exclusive; give only one");
    }
    if (fields.contains("extra_dejson")) {
        fields["extra"] = pyjson::dumps(fields["extra_dejson"]);
        fields.erase("extra_dejson");
    }
    if (fields.contains("conn_id")) {
        if (!fields["conn_id"].is_string() || fields["conn_id"].get<std::string>() != conn_id) {
            return make_error("mismatched conn_id: the key says '{}' but the object's conn_id is {}", conn_id,
                              pyjson::dumps(fields["conn_id"]));
        }
        fields.erase("conn_id");
    }
    return connection_from_fields(std::move(conn_id), fields);
}

pyjson::Json connection_to_export_object(const Connection& connection) {
    auto text = [](const std::optional<std::string>& value) -> pyjson::Json {
        if (!value) return nullptr;
        return *value;
    };
    pyjson::Json object = pyjson::Json::object();
    object["conn_type"] = connection.conn_type;
    object["description"] = text(connection.description);
    object["login"] = text(connection.login);
    object["password"] = text(connection.password);
    object["host"] = text(connection.host);
    object["port"] = connection.port ? pyjson::Json(*connection.port) : pyjson::Json(nullptr);
    object["schema"] = text(connection.schema);
    object["extra"] = text(connection.extra);
    return object;
}

}  // namespace mayaflow
