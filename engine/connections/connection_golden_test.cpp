// Compares mayaflow's connection URIs, JSON and export files with what tests/oracles/connection_oracle.py
// computed by Airflow 2.10's rules on Python's own urllib.parse, json and PyYAML (libyaml).

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "engine/connections/connection_files.h"
#include "engine/connections/connection_json.h"
#include "engine/connections/connection_uri.h"

namespace mayaflow {
namespace {

pyjson::Json load_golden() {
    const std::string path =
        std::string(MAYAFLOW_SOURCE_DIR) + "/engine/connections/testdata/connection_golden.json";
    std::ifstream in(path);
    INFO("golden file: " << path << " (regenerate with /usr/bin/python3 tests/oracles/connection_oracle.py)");
    REQUIRE(in.good());
    return pyjson::Json::parse(in);
}

std::optional<std::string> text_field(const pyjson::Json& object, const char* name) {
    if (object[name].is_null()) return std::nullopt;
    return object[name].get<std::string>();
}

Connection connection_of(const pyjson::Json& fields, std::string conn_id = "golden") {
    Connection connection;
    connection.conn_id =
        fields.contains("conn_id") ? fields["conn_id"].get<std::string>() : std::move(conn_id);
    connection.conn_type = fields["conn_type"].get<std::string>();
    connection.description = text_field(fields, "description");
    connection.host = text_field(fields, "host");
    connection.login = text_field(fields, "login");
    connection.set_password(text_field(fields, "password"));
    connection.schema = text_field(fields, "schema");
    if (!fields["port"].is_null()) connection.port = fields["port"].get<int>();
    connection.extra = text_field(fields, "extra");
    return connection;
}

// The fields as the oracle writes them, for comparing and for failure messages.
std::string fields_of(const Connection& connection) {
    auto text = [](const std::optional<std::string>& value) -> pyjson::Json {
        return value ? pyjson::Json(*value) : pyjson::Json(nullptr);
    };
    pyjson::Json object = pyjson::Json::object();
    object["conn_type"] = connection.conn_type;
    object["description"] = text(connection.description);
    object["host"] = text(connection.host);
    object["login"] = text(connection.login);
    object["password"] = text(connection.password);
    object["schema"] = text(connection.schema);
    object["port"] = connection.port ? pyjson::Json(*connection.port) : pyjson::Json(nullptr);
    object["extra"] = text(connection.extra);
    return object.dump();
}

std::string expected_fields(const pyjson::Json& expect) {
    return expect.is_null() ? "an error" : expect.dump();
}

std::string parsed_fields(const Result<Connection>& parsed) {
    return parsed ? fields_of(*parsed) : "an error (" + parsed.error().message + ")";
}

TEST_CASE("connection URIs, JSON and exports match the Airflow oracle's golden file",
          "[connections][golden]") {
    const auto golden = load_golden();
    const auto& cases = golden["cases"];
    REQUIRE(cases.size() >= 100);

    std::vector<std::string> mismatches;
    std::size_t parse = 0, format = 0, from_json = 0, exports = 0;
    for (const auto& row : cases) {
        const auto kind = row["kind"].get<std::string>();
        if (kind == "parse") {
            ++parse;
            const auto uri = row["uri"].get<std::string>();
            auto parsed = connection_from_uri("golden", uri);
            auto want = expected_fields(row["expect"]);
            auto got = parsed_fields(parsed);
            if (want != got && !(row["expect"].is_null() && !parsed)) {
                mismatches.push_back("parse " + uri + "\n    expected " + want + "\n    got      " + got);
            }
        } else if (kind == "format") {
            ++format;
            auto connection = connection_of(row["connection"]);
            auto uri = connection_to_uri(connection);
            if (uri != row["expect"].get<std::string>()) {
                mismatches.push_back("format " + fields_of(connection) + "\n    expected " +
                                     row["expect"].get<std::string>() + "\n    got      " + uri);
            }
            auto reparsed = connection_from_uri("golden", row["expect"].get<std::string>());
            auto want = expected_fields(row["reparsed"]);
            auto got = parsed_fields(reparsed);
            if (want != got && !(row["reparsed"].is_null() && !reparsed)) {
                mismatches.push_back("reparse " + row["expect"].get<std::string>() + "\n    expected " +
                                     want + "\n    got      " + got);
            }
        } else if (kind == "from_json") {
            ++from_json;
            const auto text = row["json"].get<std::string>();
            auto parsed = connection_from_json("golden", text);
            auto want = expected_fields(row["expect"]);
            auto got = parsed_fields(parsed);
            if (want != got && !(row["expect"].is_null() && !parsed)) {
                mismatches.push_back("from_json " + text + "\n    expected " + want + "\n    got      " +
                                     got);
            }
        } else if (kind == "export") {
            ++exports;
            std::vector<Connection> connections;
            for (const auto& fields : row["connections"]) connections.push_back(connection_of(fields));
            auto format_name = row["format"].get<std::string>();
            auto file_format = *connection_file_format_named(format_name);
            auto serialization = row["serialization"].get<std::string>() == "json"
                                     ? ConnectionSerialization::json
                                     : ConnectionSerialization::uri;
            auto text = format_connections(connections, file_format, serialization);
            if (text != row["expect"].get<std::string>()) {
                mismatches.push_back("export " + format_name + "/" + row["serialization"].get<std::string>() +
                                     "\n--- expected\n" + row["expect"].get<std::string>() + "\n--- got\n" +
                                     text);
            }
        }
    }
    INFO("compared " << parse << " parses, " << format << " formats, " << from_json << " JSON objects, "
                     << exports << " exports");
    for (const auto& mismatch : mismatches) UNSCOPED_INFO(mismatch);
    CHECK(mismatches.empty());
    CHECK(parse >= 60);
    CHECK(format >= 30);
}

}  // namespace
}  // namespace mayaflow
