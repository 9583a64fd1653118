#pragma once
// A router over a fresh database whose requests are signed in for real (StoreAuthenticator), with
// a clock the test moves and cheap password hashes: for the tests of authentication and of the
// /users, /roles, /mayaflow/session and /mayaflow/tokens endpoints.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <memory>

#include "engine/store/sqlite_store.h"
#include "tests/web/answer_recorder.h"
#include "web/api_router.h"
#include "web/auth/password_hash.h"
#include "web/auth/store_authenticator.h"

namespace mayaflow::testing {

// Iterations that keep the tests fast; the format and the code path are those of the default.
inline constexpr int kTestIterations = 1000;

inline std::string basic_header(const std::string& username, const std::string& password) {
    std::string raw = username + ":" + password;
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < raw.size(); i += 3) {
        unsigned n = static_cast<unsigned char>(raw[i]) << 16;
        if (i + 1 < raw.size()) n |= static_cast<unsigned char>(raw[i + 1]) << 8;
        if (i + 2 < raw.size()) n |= static_cast<unsigned char>(raw[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += i + 1 < raw.size() ? kAlphabet[(n >> 6) & 63] : '=';
        out += i + 2 < raw.size() ? kAlphabet[n & 63] : '=';
    }
    return "Basic " + out;
}

struct AuthFixture {
    std::filesystem::path folder;
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<ApiContext> context;
    std::unique_ptr<StoreAuthenticator> authenticator;
    std::unique_ptr<ApiRouter> router;
    Instant now = Instant{} + std::chrono::hours(24 * 365 * 56);  // 2026

    explicit AuthFixture(StoreAuthenticatorOptions options = {}) {
        static std::atomic<int> counter{0};
        folder = std::filesystem::temp_directory_path() /
                 ("mayaflow-auth-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
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
        options.decoy_iterations = kTestIterations;
        options.now = [this] { return now; };
        authenticator = std::make_unique<StoreAuthenticator>(*store, options);
        context = std::make_unique<ApiContext>(ApiContext{.store = *store,
                                                          .runs = *store,
                                                          .commands = *store,
                                                          .connection_store = *store,
                                                          .users = *store,
                                                          .settings = settings,
                                                          .accounts = authenticator.get()});
        router = std::make_unique<ApiRouter>(*context, *authenticator);
        add_user("admin", "admin-pw", {"Admin"});
    }
    ~AuthFixture() {
        router.reset();
        std::filesystem::remove_all(folder);
    }

    void add_user(const std::string& username, const std::string& password, std::vector<std::string> roles,
                  bool active = true) {
        UserRow user;
        user.username = username;
        user.email = username + "@example.com";
        user.password_hash = hash_password(password, kTestIterations);
        user.active = active;
        user.roles = std::move(roles);
        user.created_on = user.changed_on = now;
        auto created = store->create_user(user);
        REQUIRE(created);
        REQUIRE(*created);
    }

    WebResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                     std::map<std::string, std::string> headers = {}, const std::string& peer = "10.0.0.1") {
        if (!body.empty()) headers.try_emplace("content-type", "application/json");
        WebRequest request{method, target, std::move(headers), body, peer};
        auto response = router->handle(request);
        record_answer(request, response);
        return response;
    }
    // As the admin, with Basic credentials.
    WebResponse admin(const std::string& method, const std::string& target, const std::string& body = "") {
        return call(method, target, body, {{"authorization", basic_header("admin", "admin-pw")}});
    }

    std::variant<Principal, WebResponse> authenticate(std::map<std::string, std::string> headers,
                                                      const std::string& method = "GET",
                                                      const std::string& peer = "10.0.0.1") {
        return authenticator->authenticate(WebRequest{method, "/api/v1/dags", std::move(headers), "", peer});
    }

    static nlohmann::json json(const WebResponse& response) {
        INFO(response.body);
        REQUIRE_NOTHROW(nlohmann::json::parse(response.body));
        return nlohmann::json::parse(response.body);
    }
};

inline Principal signed_in(const std::variant<Principal, WebResponse>& result) {
    if (auto* refusal = std::get_if<WebResponse>(&result)) {
        INFO(refusal->status << " " << refusal->body);
        FAIL("refused");
    }
    return std::get<Principal>(result);
}

inline WebResponse refused(const std::variant<Principal, WebResponse>& result) {
    if (std::holds_alternative<Principal>(result)) FAIL("signed in as " << std::get<Principal>(result).username);
    return std::get<WebResponse>(result);
}

}  // namespace mayaflow::testing
