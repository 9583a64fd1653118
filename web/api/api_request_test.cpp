// The readers of a request's body and query: what they refuse is a 400 naming what to fix, never
// an exception that would become a 500.

#include <catch2/catch.hpp>

#include <string>

#include "web/api/api_request.h"

namespace mayaflow {
namespace {

Read<nlohmann::json> read_body(const std::string& body) {
    WebRequest web;
    web.method = "POST";
    web.target = "/api/v1/x";
    web.body = body;
    ApiRequest request{web, "/api/v1/x", {}, {}, {}};
    return read_json_object(request, {"conf", "dag_run_id"});
}

std::string refusal(const Read<nlohmann::json>& read) {
    REQUIRE(failed(read));
    const auto& response = std::get<WebResponse>(read);
    CHECK(response.status == 400);
    CHECK(response.content_type == "application/problem+json");
    return nlohmann::json::parse(response.body)["detail"].get<std::string>();
}

TEST_CASE("read_json_object: a number beyond a double is a 400 saying so, not an exception", "[api_request]") {
    // nlohmann throws out_of_range.406 ("number overflow"), not parse_error, for these.
    for (const char* body : {R"({"conf": {"n": 1e400}})", R"({"dag_run_id": 1e999999})", R"({"conf": {"n": -1e309}})"}) {
        INFO(body);
        Read<nlohmann::json> read = nlohmann::json();
        REQUIRE_NOTHROW(read = read_body(body));
        CHECK(refusal(read).find("number too large") != std::string::npos);
    }
    // A large whole number still fits (as a double), as Python's json would take it.
    CHECK_FALSE(failed(read_body(R"({"conf": {"n": 123456789012345678901234567890}})")));
}

TEST_CASE("read_json_object: malformed, non-object, non-UTF-8 and unknown fields are 400s", "[api_request]") {
    CHECK(refusal(read_body("{")).find("not valid JSON") != std::string::npos);
    CHECK(refusal(read_body("[]")).find("must be a JSON object") != std::string::npos);
    CHECK(refusal(read_body("{\"dag_run_id\": \"\xff\"}")).find("not UTF-8") != std::string::npos);
    CHECK(refusal(read_body(R"({"confx": 1})")).find("unknown field") != std::string::npos);
    CHECK(refusal(read_body(std::string(100000, '['))).find("nested deeper than 100 levels") != std::string::npos);
}

TEST_CASE("read_json_object: a body nested deeper than 100 levels is a 400, however long", "[api_request]") {
    // 300,000 objects inside each other (1.8 MB) once overflowed the stack where the value was copied.
    auto nested = [](int depth) {
        std::string text = R"({"conf": )";
        for (int i = 0; i < depth; ++i) text += R"({"a": )";
        text += "1";
        return text + std::string(depth + 1, '}');
    };
    for (int depth : {100, 1'000, 300'000}) {
        INFO(depth);
        CHECK(refusal(read_body(nested(depth))).find("JSON nested deeper than 100 levels (at line 1, column") !=
              std::string::npos);
    }
    auto at_limit = read_body(nested(99));  // with the body's own object, 100 levels
    REQUIRE_FALSE(failed(at_limit));
    CHECK(std::get<nlohmann::json>(at_limit)["conf"].is_object());
}

TEST_CASE("read_json_object: a body that fails to parse is not quoted back (it may hold a password)", "[api_request]") {
    for (const char* body : {R"({"password": "hunter2-secret" x})", R"({"password": "hunter2-secret")",
                             R"({"password": "hunter2-secret", "n": 1e400})", R"({"n": 1e400hunter2-secret})"}) {
        INFO(body);
        auto detail = refusal(read_body(body));
        CHECK(detail.find("hunter2") == std::string::npos);
        const bool says_where = detail.find("line 1, column") != std::string::npos ||
                                detail.find("number too large") != std::string::npos;
        CHECK(says_where);
    }
}

TEST_CASE("integer_field: numbers beyond a long long never wrap to a negative one", "[api_request]") {
    auto read = [](const char* text) { return integer_field(nlohmann::json::parse(text), "slots"); };
    auto check_refused = [](const Read<std::optional<long long>>& result, const std::string& says) {
        REQUIRE(failed(result));
        auto detail = nlohmann::json::parse(std::get<WebResponse>(result).body)["detail"].get<std::string>();
        CHECK(detail.find(says) != std::string::npos);
    };
    for (const char* text : {R"({"slots": 18446744073709551615})", R"({"slots": 9223372036854775808})"}) {
        INFO(text);
        check_refused(read(text), "no larger than 2^53");
    }
    check_refused(read(R"({"slots": 1e20})"), "got 1e+20");
    check_refused(read(R"({"slots": 1.5})"), "got 1.5");
    check_refused(read(R"({"slots": "5"})"), "not a string");
    CHECK(std::get<std::optional<long long>>(read(R"({"slots": -5})")) == -5);
    CHECK(std::get<std::optional<long long>>(read(R"({"slots": 9007199254740992})")) == 9007199254740992LL);
}

TEST_CASE("read_json_object: a body sent as a form or as text is 415, empty or not", "[api_request]") {
    auto read_as = [](const std::string& type, const std::string& body) {
        WebRequest web;
        web.method = "POST";
        web.target = "/api/v1/x";
        web.body = body;
        if (!type.empty()) web.headers["content-type"] = type;
        ApiRequest request{web, "/api/v1/x", {}, {}, {}};
        return read_json_object(request, {"conf"}, true);
    };
    for (const std::string type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                   "application/jsonx", "text/json"}) {
        for (const std::string body : {"", R"({"conf": {}})"}) {
            INFO(type << " " << body);
            auto read = read_as(type, body);
            REQUIRE(failed(read));
            CHECK(std::get<WebResponse>(read).status == 415);
        }
    }
    for (const std::string type : {"application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json", ""}) {
        INFO(type);
        CHECK_FALSE(failed(read_as(type, R"({"conf": {}})")));
    }
}

}  // namespace
}  // namespace mayaflow
