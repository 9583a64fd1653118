#include "web/api_router.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/store/sqlite_store.h"
#include "tests/web/api_fixture.h"
#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

struct RouterFixture : ApiFixture {
    WebResponse call(const std::string& method, const std::string& target) { return ApiFixture::call(method, target); }
};

// Routes that answer only GET (/dags and /dags/{dag_id} also take PATCH and DELETE now).
const std::vector<std::string> kRoutes = {"/",        "/home",         "/health",         "/api/v1/health",
                                          "/api/v1/version", "/api/v1/dags/some_dag/details",
                                          "/api/v1/dags/some_dag/tasks/t", "/api/v1/importErrors"};

TEST_CASE("every route answers GET and HEAD, and other methods get 405 with Allow", "[web]") {
    RouterFixture fixture;
    for (const auto& route : kRoutes) {
        for (const std::string method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"}) {
            INFO(method << " " << route);
            auto response = fixture.call(method, route);
            check_problem(response, 405, "Method Not Allowed");
            CHECK(response.headers["Allow"] == "GET, HEAD");
        }
        for (const std::string method : {"GET", "HEAD"}) {
            INFO(method << " " << route);
            auto response = fixture.call(method, route);
            CHECK(response.status != 405);
            CHECK(response.headers.count("Allow") == 0);
        }
    }
    // A path no route has is 404, whatever the method.
    check_problem(fixture.call("DELETE", "/api/v1/nothing"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/dags/some_dag"), 404, "Not Found");
}

TEST_CASE("answers that hold bytes that are not UTF-8 are still JSON", "[web]") {
    RouterFixture fixture;
    REQUIRE(fixture.store->record_dag_file_failed("/dags/caf\xe9.yaml", "/dags/caf\xe9.yaml:2:1: description: caf\xe9 \xff\xfe",
                                                  now_instant()));
    Dag dag;
    dag.dag_id = "latin1";
    dag.description = "caf\xe9";
    dag.owner = "ren\xe9";
    dag.fileloc = "/dags/latin1_\xff.yaml";
    dag.source_hash = "h";
    REQUIRE(fixture.store->record_dag_file_parsed("/dags/latin1_\xff.yaml", dag, "{}", now_instant()));

    auto errors = fixture.call("GET", "/api/v1/importErrors");
    REQUIRE(errors.status == 200);
    auto body = nlohmann::json::parse(errors.body);
    CHECK(body["import_errors"][0]["filename"] == "/dags/caf\xEF\xBF\xBD.yaml");
    CHECK_THAT(body["import_errors"][0]["stack_trace"].get<std::string>(), Catch::Contains("caf\xEF\xBF\xBD"));

    for (const std::string target : {"/api/v1/dags", "/api/v1/dags/latin1", "/api/v1/dags?only_active=false"}) {
        INFO(target);
        auto response = fixture.call("GET", target);
        CHECK(response.status == 200);
        CHECK(is_valid_utf8(response.body));
        CHECK_NOTHROW(nlohmann::json::parse(response.body));
    }
    auto page = fixture.call("GET", "/");
    CHECK(page.status == 200);
    CHECK(is_valid_utf8(page.body));
}

TEST_CASE("a path or query that is not UTF-8 once decoded is refused with problem JSON", "[web]") {
    RouterFixture fixture;
    for (const std::string target : {"/api/v1/dags/%ff", "/api/v1/dags/%C3%28", "/api/v1/dags/a%ED%A0%80b", "/%80",
                                     "/api/v1/%ff%fe/x", "/api/v1/dags/%F4%90%80%80"}) {
        INFO(target);
        auto response = fixture.call("GET", target);
        check_problem(response, 400, "Bad Request");
        CHECK_THAT(nlohmann::json::parse(response.body)["detail"].get<std::string>(), Catch::Contains("\\x"));
    }
    auto query = fixture.call("GET", "/api/v1/dags?limit=%ff");
    check_problem(query, 400, "Bad Request");
    CHECK_THAT(nlohmann::json::parse(query.body)["detail"].get<std::string>(), Catch::Contains("\\xff"));
}

TEST_CASE("limit and offset are plain digits from 0 to 1000000", "[web]") {
    RouterFixture fixture;
    for (const std::string value : {"%2B5", "+5", "%205", "5%20", "0x10", "-0", "-1", "1e3", "", "1000001", "5.0",
                                    "99999999999999999999999"}) {
        for (const std::string name : {"limit", "offset"}) {
            INFO(name << "=" << value);
            auto response = fixture.call("GET", "/api/v1/dags?" + name + "=" + value);
            check_problem(response, 400, "Bad Request");
            CHECK_THAT(nlohmann::json::parse(response.body)["detail"].get<std::string>(),
                       Catch::Contains("must be a whole number from 0 to 1000000"));
        }
    }
    for (const std::string value : {"0", "5", "1000000", "007"}) {
        INFO(value);
        CHECK(fixture.call("GET", "/api/v1/dags?limit=" + value + "&offset=" + value).status == 200);
    }
}

TEST_CASE("health says whether the DAG folder is still loading", "[web]") {
    RouterFixture fixture;
    auto plain = nlohmann::json::parse(fixture.call("GET", "/health").body);
    CHECK_FALSE(plain.contains("dag_processor"));

    REQUIRE(fixture.store->record_scheduler_heartbeat(SchedulerHeartbeat{"host", 1, now_instant(), now_instant()}));
    DagFolderStatus folder{.loading = true, .dag_files = 3, .watching = true, .problem = ""};
    fixture.context->dag_folder_status = [&folder] { return folder; };
    auto loading = fixture.call("GET", "/health");
    CHECK(loading.status == 200);
    auto body = nlohmann::json::parse(loading.body);
    CHECK(body["dag_processor"]["dag_folder_loaded"] == false);
    CHECK(body["dag_processor"]["watching"] == "inotify");

    folder.loading = false;
    folder.problem = "cannot read the DAG folder /x: No such file or directory";
    body = nlohmann::json::parse(fixture.call("GET", "/health").body);
    CHECK(body["dag_processor"]["dag_folder_loaded"] == true);
    CHECK(body["dag_processor"]["status"] == "unhealthy");
    CHECK(body["dag_processor"]["detail"] == folder.problem);
}


// Nobody signed in: what a request without credentials is.
class NobodyAuthenticator : public Authenticator {
  public:
    std::variant<Principal, WebResponse> authenticate(const WebRequest&) override { return Principal{}; }
};

TEST_CASE("without credentials only health answers; a role short of a route's permission gets 403", "[web][auth]") {
    RouterFixture fixture;
    NobodyAuthenticator nobody;
    ApiRouter router(*fixture.context, nobody);
    for (const std::string target : {"/api/v1/dags", "/api/v1/version", "/api/v1/importErrors", "/api/v1/dags/x"}) {
        INFO(target);
        auto response = router.handle(WebRequest{"GET", target, {}, "", "127.0.0.1"});
        check_problem(response, 401, "Unauthorized");
        CHECK_THAT(response.headers["WWW-Authenticate"], Catch::StartsWith("Basic realm="));
    }
    // A page's script gets no Basic challenge, or the browser would ask for a password itself.
    for (const auto& header : std::vector<std::pair<std::string, std::string>>{
             {"x-requested-with", "mayaflow-ui"}, {"sec-fetch-mode", "cors"}, {"sec-fetch-mode", "same-origin"}}) {
        INFO(header.first << ": " << header.second);
        auto response = router.handle(WebRequest{"GET", "/api/v1/dags", {header}, "", "127.0.0.1"});
        check_problem(response, 401, "Unauthorized");
        CHECK(response.headers.count("WWW-Authenticate") == 0);
    }
    auto typed = router.handle(WebRequest{"GET", "/api/v1/dags", {{"sec-fetch-mode", "navigate"}}, "", "127.0.0.1"});
    CHECK_THAT(typed.headers["WWW-Authenticate"], Catch::StartsWith("Basic realm="));
    // The UI's page and files hold no data: the page signs in and asks the API.
    CHECK(router.handle(WebRequest{"GET", "/", {}, "", "127.0.0.1"}).status == 200);
    CHECK(router.handle(WebRequest{"GET", "/ui/js/app.js", {}, "", "127.0.0.1"}).status == 200);
    REQUIRE(fixture.store->record_scheduler_heartbeat(SchedulerHeartbeat{"host", 1, now_instant(), now_instant()}));
    CHECK(router.handle(WebRequest{"GET", "/api/v1/health", {}, "", "127.0.0.1"}).status == 200);
    CHECK(router.handle(WebRequest{"GET", "/health", {}, "", "127.0.0.1"}).status == 200);
    // An unknown path is 404 before anyone is asked for credentials, as Airflow's is.
    check_problem(router.handle(WebRequest{"GET", "/api/v1/nothing", {}, "", "127.0.0.1"}), 404, "Not Found");
}

TEST_CASE("every answer carries the security headers, errors included", "[web]") {
    RouterFixture fixture;
    for (const std::string target : {"/", "/api/v1/dags", "/api/v1/health", "/api/v1/nothing", "/api/v1/dags/%ff"}) {
        INFO(target);
        auto response = fixture.call("GET", target);
        CHECK(response.headers["X-Content-Type-Options"] == "nosniff");
        CHECK(response.headers["X-Frame-Options"] == "DENY");
        // The UI's files are revalidated with their ETag; API answers are never stored.
        CHECK(response.headers["Cache-Control"] == (target == "/" ? "no-cache" : "no-store"));
        CHECK_THAT(response.headers["Content-Security-Policy"], Catch::Contains("default-src 'self'"));
    }
}

TEST_CASE("an id holding an encoded slash stays one path segment", "[web]") {
    RouterFixture fixture;
    auto response = fixture.call("GET", "/api/v1/dags/a%2Fb");
    check_problem(response, 404, "Not Found");
    CHECK_THAT(nlohmann::json::parse(response.body)["detail"].get<std::string>(), Catch::Contains("'a/b'"));
}

}  // namespace
}  // namespace mayaflow
