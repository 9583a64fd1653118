#pragma once
// A router over a fresh database in a temporary folder, for the API's tests: everyone is the role
// the test picks (Admin unless it says otherwise); no scheduler runs, so a command sent to the
// scheduler is answered by the test (answer_commands) or not at all.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <memory>

#include "engine/store/sqlite_store.h"
#include "tests/web/answer_recorder.h"
#include "web/api_router.h"
#include "web/auth/authenticator.h"

namespace mayaflow::testing {

struct ApiFixture {
    std::filesystem::path folder;
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<ApiContext> context;
    std::unique_ptr<FixedRoleAuthenticator> authenticator;
    std::unique_ptr<ApiRouter> router;

    explicit ApiFixture(Role role = Role::admin) {
        static std::atomic<int> counter{0};
        folder = std::filesystem::temp_directory_path() /
                 ("mayaflow-api-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(folder);
        std::filesystem::create_directories(folder / "logs");
        auto opened = SqliteStore::open(StoreOptions{.path = folder / "test.db"});
        REQUIRE(opened);
        store = std::move(*opened);
        Settings settings;
        settings.home = folder;
        settings.database = folder / "test.db";
        settings.logs_folder = folder / "logs";
        settings.dags_folder = folder / "dags";
        context = std::make_unique<ApiContext>(ApiContext{.store = *store,
                                                          .runs = *store,
                                                          .commands = *store,
                                                          .connection_store = *store,
                                                          .users = *store,
                                                          .settings = settings});
        as(role);
    }
    ~ApiFixture() {
        router.reset();
        std::filesystem::remove_all(folder);
    }

    // From now on every request comes from a user with this role.
    void as(Role role) {
        authenticator = std::make_unique<FixedRoleAuthenticator>(role, "tester");
        router = std::make_unique<ApiRouter>(*context, *authenticator);
    }

    WebResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                     std::map<std::string, std::string> headers = {}) {
        if (!body.empty()) headers.try_emplace("content-type", "application/json");
        WebRequest request{method, target, std::move(headers), body, "127.0.0.1"};
        auto response = router->handle(request);
        record_answer(request, response);
        return response;
    }

    // The answer's body as JSON (fails the test when it is not JSON).
    static nlohmann::json json(const WebResponse& response) {
        INFO(response.body);
        REQUIRE_NOTHROW(nlohmann::json::parse(response.body));
        return nlohmann::json::parse(response.body);
    }
};

// RFC 7807: problem JSON whose title is the status's reason phrase.
inline void check_problem(const WebResponse& response, int status, const std::string& title) {
    INFO(response.body);
    CHECK(response.status == status);
    CHECK(response.content_type == "application/problem+json");
    auto body = nlohmann::json::parse(response.body);
    CHECK(body["status"] == status);
    CHECK(body["title"] == title);
    CHECK(body["type"].is_string());
    CHECK(body["detail"].is_string());
}

}  // namespace mayaflow::testing
