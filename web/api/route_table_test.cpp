#include "web/api/route_table.h"

#include <catch2/catch.hpp>

namespace mayaflow {
namespace {

RouteHandler answer(std::string text) {
    return [text](const ApiRequest&) { return WebResponse{200, "text/plain", text, {}}; };
}

std::string call(const RouteTable& table, const std::string& method, const std::vector<std::string>& segments) {
    auto match = table.match(method, segments);
    if (!match.route) return match.allowed.empty() ? "404" : "405";
    WebRequest web;
    ApiRequest request{web, "", match.params, {}, {}};
    return match.route->handler(request).body;
}

TEST_CASE("a literal segment wins over a parameter wherever it is", "[web]") {
    RouteTable table;
    table.add("GET", "/api/v1/connections/{connection_id}", {}, answer("one"));
    table.add("GET", "/api/v1/connections/export", {}, answer("export"));
    table.add("POST", "/api/v1/connections/test", {}, answer("test"));
    table.add("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", {}, answer("run"));
    table.add("POST", "/api/v1/dags/~/dagRuns/list", {}, answer("list"));
    CHECK(call(table, "GET", {"api", "v1", "connections", "export"}) == "export");
    CHECK(call(table, "GET", {"api", "v1", "connections", "gcp"}) == "one");
    CHECK(call(table, "POST", {"api", "v1", "connections", "test"}) == "test");
    CHECK(call(table, "GET", {"api", "v1", "connections", "test"}) == "one");
    CHECK(call(table, "POST", {"api", "v1", "dags", "~", "dagRuns", "list"}) == "list");
    CHECK(call(table, "GET", {"api", "v1", "dags", "~", "dagRuns", "list"}) == "run");
    CHECK(call(table, "GET", {"api", "v1", "dags", "", "dagRuns", "x"}) == "404");  // an empty id is no id
    CHECK(call(table, "GET", {"api", "v1", "connections"}) == "404");
    CHECK(call(table, "GET", {"api", "v1", "connections", "a", "b"}) == "404");
}

TEST_CASE("parameters are given by name; HEAD is GET; other methods are listed for the 405", "[web]") {
    RouteTable table;
    table.add("GET", "/api/v1/dags/{dag_id}/tasks/{task_id}", {}, [](const ApiRequest& request) {
        return WebResponse{200, "text/plain", request.param("dag_id") + "|" + request.param("task_id"), {}};
    });
    table.add("PATCH", "/api/v1/dags/{dag_id}/tasks/{task_id}", {}, answer("patched"));
    CHECK(call(table, "GET", {"api", "v1", "dags", "a/b", "tasks", "t 1"}) == "a/b|t 1");
    CHECK(call(table, "HEAD", {"api", "v1", "dags", "d", "tasks", "t"}) == "d|t");
    auto refused = table.match("DELETE", {"api", "v1", "dags", "d", "tasks", "t"});
    CHECK(refused.route == nullptr);
    CHECK(refused.allowed == std::vector<std::string>{"GET", "HEAD", "PATCH"});
}

TEST_CASE("a route added twice or without a leading slash is a programming error", "[web]") {
    RouteTable table;
    table.add("GET", "/a", {}, answer("a"));
    CHECK_THROWS(table.add("GET", "/a", {}, answer("again")));
    CHECK_NOTHROW(table.add("POST", "/a", {}, answer("post")));
    CHECK_THROWS(table.add("GET", "a", {}, answer("no slash")));
}

}  // namespace
}  // namespace mayaflow
