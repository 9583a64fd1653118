#include "web/openapi_document.h"

#include <catch2/catch.hpp>

#include <set>

#include "tests/web/api_fixture.h"

namespace mayaflow {
namespace {

const std::set<std::string> kMethods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

TEST_CASE("the OpenAPI document describes exactly the API's routes", "[web][openapi]") {
    const auto& document = openapi_document();
    REQUIRE(document);
    testing::ApiFixture fixture;
    std::set<std::string> routes;
    for (const auto& route : fixture.router->routes().routes()) {
        if (!route.pattern.starts_with("/api/v1/")) continue;  // the UI's pages and the bare /health
        routes.insert(lower(route.method) + " " + route.pattern.substr(7));
    }
    std::set<std::string> described;
    for (const auto& [path, item] : document->json["paths"].items()) {
        for (const auto& [method, operation] : item.items()) {
            if (kMethods.count(method)) described.insert(method + " " + path);
        }
    }
    for (const auto& route : routes) {
        INFO("a route the document does not describe (add it to web/openapi/): " << route);
        CHECK(described.count(route) == 1);
    }
    for (const auto& operation : described) {
        INFO("the document describes what no route answers: " << operation);
        CHECK(routes.count(operation) == 1);
    }
}

TEST_CASE("every operation has an id, a 2xx answer, and its references resolve", "[web][openapi]") {
    const auto& document = openapi_document();
    REQUIRE(document);
    const auto& json = document->json;
    std::set<std::string> ids;
    for (const auto& [path, item] : json["paths"].items()) {
        for (const auto& [method, operation] : item.items()) {
            if (!kMethods.count(method)) continue;
            INFO(method << " " << path);
            REQUIRE(operation.contains("operationId"));
            CHECK(ids.insert(operation["operationId"].get<std::string>()).second);
            bool success = false;
            for (const auto& [status, answer] : operation["responses"].items()) success = success || status[0] == '2';
            CHECK(success);
        }
    }
    // Every $ref points at something defined.
    std::vector<const nlohmann::json*> pending = {&json};
    while (!pending.empty()) {
        const nlohmann::json& node = *pending.back();
        pending.pop_back();
        if (node.is_object()) {
            if (node.contains("$ref") && node["$ref"].is_string()) {
                std::string ref = node["$ref"];
                INFO(ref);
                REQUIRE(ref.starts_with("#/"));
                CHECK(json.contains(nlohmann::json::json_pointer(ref.substr(1))));
            }
            for (const auto& [key, value] : node.items()) pending.push_back(&value);
        } else if (node.is_array()) {
            for (const auto& value : node) pending.push_back(&value);
        }
    }
}

TEST_CASE("parts that clash or hold top-level keys of the base are refused by name", "[web][openapi]") {
    const std::string base = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n";
    auto twice = merge_openapi_parts({{"openapi.yaml", base},
                                      {"a.yaml", "paths: {/x: {get: {responses: {'200': {description: ok}}}}}"},
                                      {"b.yaml", "paths: {/x: {get: {responses: {'200': {description: ok}}}}}"}});
    REQUIRE_FALSE(twice);
    CHECK_THAT(twice.error().message, Catch::Contains("b.yaml") && Catch::Contains("get /x is described twice"));
    auto schema = merge_openapi_parts({{"openapi.yaml", base},
                                       {"a.yaml", "components: {schemas: {X: {type: string}}}"},
                                       {"b.yaml", "components: {schemas: {X: {type: integer}}}"}});
    REQUIRE_FALSE(schema);
    CHECK_THAT(schema.error().message, Catch::Contains("components.schemas.X is defined twice"));
    auto stray = merge_openapi_parts({{"openapi.yaml", base}, {"a.yaml", "info: {title: other}"}});
    REQUIRE_FALSE(stray);
    CHECK_THAT(stray.error().message, Catch::Contains("'info' belongs in openapi.yaml"));
    auto merged = merge_openapi_parts({{"openapi.yaml", base},
                                       {"a.yaml", "paths: {/x: {get: {responses: {'200': {description: ok}}}}}"},
                                       {"b.yaml", "paths: {/x: {post: {responses: {'201': {description: ok}}}}}"}});
    REQUIRE(merged);
    CHECK(merged->json["paths"]["/x"].contains("get"));
    CHECK(merged->json["paths"]["/x"].contains("post"));
    CHECK(merged->json["info"]["version"] == "1");
}

TEST_CASE("the document is served as YAML and as JSON to anyone signed in", "[web][openapi]") {
    testing::ApiFixture fixture;
    auto yaml = fixture.call("GET", "/api/v1/openapi.yaml");
    CHECK(yaml.status == 200);
    CHECK_THAT(yaml.content_type, Catch::StartsWith("application/yaml"));
    CHECK_THAT(yaml.body, Catch::Contains("openapi: 3.0.3"));
    auto json = testing::ApiFixture::json(fixture.call("GET", "/api/v1/openapi.json"));
    CHECK(json["openapi"] == "3.0.3");
    CHECK(json["paths"].contains("/dags/{dag_id}"));
}

}  // namespace
}  // namespace mayaflow
