#include "web/auth/store_authenticator.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "tests/web/auth_fixture.h"
#include "web/auth/user_accounts.h"

namespace mayaflow {
namespace {

using testing::AuthFixture;
using testing::basic_header;
using testing::refused;
using testing::signed_in;

void check_wrong_credentials(const WebResponse& response) {
    INFO(response.body);
    CHECK(response.status == 401);
    CHECK(response.content_type == "application/problem+json");
    CHECK(nlohmann::json::parse(response.body)["detail"] ==
          "the credentials are not valid: wrong username or password, or the user is inactive");
}

TEST_CASE("Basic: the right password signs in, the username without regard to case", "[web][auth]") {
    AuthFixture fixture;
    fixture.add_user("alice", "pässwörd", {"Op", "Viewer"});
    auto alice = signed_in(fixture.authenticate({{"authorization", basic_header("alice", "pässwörd")}}));
    CHECK(alice.username == "alice");
    CHECK(alice.method == "basic");
    CHECK(alice.roles == std::vector<Role>{Role::viewer, Role::op});
    CHECK(signed_in(fixture.authenticate({{"authorization", basic_header("ALICE", "pässwörd")}})).username == "alice");
    CHECK(signed_in(fixture.authenticate({{"authorization", "basic " + basic_header("alice", "pässwörd").substr(6)}}))
              .username == "alice");
    // No credentials at all: nobody, for the router to refuse or not.
    CHECK_FALSE(signed_in(fixture.authenticate({})).signed_in());
}

TEST_CASE("Basic: a wrong password, an unknown user and an inactive one get the same 401", "[web][auth]") {
    AuthFixture fixture;
    fixture.add_user("alice", "right", {"Viewer"});
    fixture.add_user("gone", "right", {"Admin"}, false);
    auto wrong = refused(fixture.authenticate({{"authorization", basic_header("alice", "wrong")}}));
    check_wrong_credentials(wrong);
    CHECK(wrong.headers["WWW-Authenticate"] == "Basic realm=\"mayaflow\", charset=\"UTF-8\"");
    check_wrong_credentials(refused(fixture.authenticate({{"authorization", basic_header("nobody", "right")}})));
    check_wrong_credentials(refused(fixture.authenticate({{"authorization", basic_header("gone", "right")}})));
    auto user = fixture.store->find_user("alice");
    REQUIRE(user);
    CHECK((*user)->failed_login_count == 1);
    signed_in(fixture.authenticate({{"authorization", basic_header("alice", "right")}}));
    user = fixture.store->find_user("alice");
    CHECK((*user)->failed_login_count == 0);
    CHECK((*user)->login_count == 1);
    CHECK((*user)->last_login == fixture.now);
}

TEST_CASE("Basic: credentials that are not base64 of user:password, or not UTF-8, are refused", "[web][auth]") {
    AuthFixture fixture;
    const std::vector<std::string> headers = {"Basic !!!!", "Basic YWxpY2U=" /* no colon */, "Basic", "Digest abc",
                                              "Bearer", "Basic " + std::string(5000, 'A')};
    for (const auto& header : headers) {
        INFO(header);
        auto response = refused(fixture.authenticate({{"authorization", header}}));
        CHECK(response.status == 401);
    }
    auto latin1 = refused(fixture.authenticate({{"authorization", "Basic " + std::string("YWRtaW46/w==")}}));
    CHECK(latin1.body.find("UTF-8") != std::string::npos);
}

TEST_CASE("Basic: a remembered check ends when the password, the roles or the active flag change", "[web][auth]") {
    AuthFixture fixture;
    fixture.add_user("alice", "old", {"Viewer"});
    const std::map<std::string, std::string> old_password = {{"authorization", basic_header("alice", "old")}};
    signed_in(fixture.authenticate(old_password));
    signed_in(fixture.authenticate(old_password));  // remembered

    auto user = **fixture.store->find_user("alice");
    user.roles = {"Viewer", "User"};
    REQUIRE(*fixture.store->update_user("alice", user));
    CHECK(signed_in(fixture.authenticate(old_password)).roles == std::vector<Role>{Role::viewer, Role::user});

    user.password_hash = hash_password("new", testing::kTestIterations);
    REQUIRE(*fixture.store->update_user("alice", user));
    check_wrong_credentials(refused(fixture.authenticate(old_password)));
    signed_in(fixture.authenticate({{"authorization", basic_header("alice", "new")}}));

    user.active = false;
    REQUIRE(*fixture.store->update_user("alice", user));
    check_wrong_credentials(refused(fixture.authenticate({{"authorization", basic_header("alice", "new")}})));
}

TEST_CASE("Basic: parallel first requests with the same credentials pay for one password check", "[web][auth]") {
    AuthFixture fixture;
    // A slow hash, so that the requests arrive while the first check is still running.
    UserRow user;
    user.username = "burst";
    user.email = "burst@example.com";
    user.password_hash = hash_password("slow", 100'000);
    user.roles = {"Viewer"};
    user.created_on = user.changed_on = fixture.now;
    REQUIRE(*fixture.store->create_user(user));

    const std::map<std::string, std::string> headers = {{"authorization", basic_header("burst", "slow")}};
    constexpr int kRequests = 8;
    std::atomic<int> ready{0};
    std::atomic<int> signed_in_count{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < kRequests; ++i) {
        clients.emplace_back([&] {
            ++ready;
            while (ready < kRequests) std::this_thread::yield();
            auto answer = fixture.authenticate(headers);
            if (auto* principal = std::get_if<Principal>(&answer); principal && principal->username == "burst") {
                ++signed_in_count;
            }
        });
    }
    for (auto& client : clients) client.join();
    CHECK(signed_in_count == kRequests);
    // Each full check that succeeds counts a login; the others waited for it or found it remembered.
    CHECK((*fixture.store->find_user("burst"))->login_count == 1);
}

TEST_CASE("Bearer: a token signs in until it is revoked or expires, or its user is inactive", "[web][auth]") {
    AuthFixture fixture;
    fixture.add_user("bot", "pw", {"User"});
    auto forever = issue_api_token(*fixture.store, "bot", "ci", std::nullopt, fixture.now);
    auto brief = issue_api_token(*fixture.store, "bot", "brief", fixture.now + std::chrono::hours(1), fixture.now);
    REQUIRE(forever);
    REQUIRE(brief);
    CHECK(forever->token.starts_with("mf_"));
    CHECK(forever->row.prefix == forever->token.substr(0, 8));
    CHECK(forever->row.token_hash == sha256_hex(forever->token));
    auto bearer = [](const std::string& token) { return std::map<std::string, std::string>{{"authorization", "Bearer " + token}}; };

    auto bot = signed_in(fixture.authenticate(bearer(forever->token)));
    CHECK(bot.username == "bot");
    CHECK(bot.method == "token");
    CHECK(bot.roles == std::vector<Role>{Role::user});
    CHECK((*fixture.store->find_token(forever->row.id))->last_used == fixture.now);
    signed_in(fixture.authenticate(bearer(brief->token)));

    fixture.now += std::chrono::hours(1);
    CHECK(refused(fixture.authenticate(bearer(brief->token))).status == 401);
    signed_in(fixture.authenticate(bearer(forever->token)));

    REQUIRE(*fixture.store->revoke_token(forever->row.id));
    auto revoked = refused(fixture.authenticate(bearer(forever->token)));
    CHECK(revoked.status == 401);
    CHECK(revoked.body.find(forever->token) == std::string::npos);

    CHECK(refused(fixture.authenticate(bearer("mf_" + std::string(43, 'A')))).status == 401);
    CHECK(refused(fixture.authenticate(bearer(forever->row.token_hash))).status == 401);  // the digest is no token

    auto fresh = issue_api_token(*fixture.store, "bot", "", std::nullopt, fixture.now);
    auto user = **fixture.store->find_user("bot");
    user.active = false;
    REQUIRE(*fixture.store->update_user("bot", user));
    CHECK(refused(fixture.authenticate(bearer(fresh->token))).status == 401);
}

TEST_CASE("Session: the cookie signs in; a change needs the CSRF token; sign-out and expiry end it", "[web][auth]") {
    AuthFixture fixture;
    fixture.add_user("alice", "pw", {"Op"});
    const WebRequest login{"POST", "/api/v1/mayaflow/session", {}, "", "10.0.0.1"};
    auto started = fixture.authenticator->sign_in("alice", "pw", login);
    REQUIRE(std::holds_alternative<SessionStart>(started));
    const auto start = std::get<SessionStart>(started);
    CHECK(start.cookie_value.size() == 43);
    auto cookie = fixture.authenticator->session_cookie(start.cookie_value, login);
    CHECK(cookie == "mayaflow_session=" + start.cookie_value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");

    const std::string jar = "theme=dark; mayaflow_session=" + start.cookie_value;
    auto alice = signed_in(fixture.authenticate({{"cookie", jar}}));
    CHECK(alice.username == "alice");
    CHECK(alice.method == "session");

    auto no_csrf = refused(fixture.authenticate({{"cookie", jar}}, "POST"));
    CHECK(no_csrf.status == 403);
    CHECK(no_csrf.body.find("X-CSRF-Token") != std::string::npos);
    CHECK(refused(fixture.authenticate({{"cookie", jar}, {"x-csrf-token", start.csrf_token + "x"}}, "DELETE")).status == 403);
    CHECK(refused(fixture.authenticate({{"cookie", jar}, {"x-csrf-token", ""}}, "PATCH")).status == 403);
    signed_in(fixture.authenticate({{"cookie", jar}, {"x-csrf-token", start.csrf_token}}, "POST"));
    signed_in(fixture.authenticate({{"cookie", jar}}, "HEAD"));

    // Only the digest is stored.
    CHECK_FALSE(*fixture.store->find_session(start.cookie_value, fixture.now));
    CHECK(*fixture.store->find_session(sha256_hex(start.cookie_value), fixture.now));

    fixture.now += std::chrono::hours(12);
    auto expired = refused(fixture.authenticate({{"cookie", jar}}));
    CHECK(expired.status == 401);
    CHECK(expired.headers["Set-Cookie"].find("Max-Age=0") != std::string::npos);

    auto again = std::get<SessionStart>(fixture.authenticator->sign_in("alice", "pw", login));
    const std::map<std::string, std::string> cookie_again = {{"cookie", "mayaflow_session=" + again.cookie_value}};
    signed_in(fixture.authenticate(cookie_again));
    REQUIRE(fixture.authenticator->sign_out(WebRequest{"DELETE", "/", cookie_again, "", "10.0.0.1"}));
    CHECK(refused(fixture.authenticate(cookie_again)).status == 401);
    CHECK(refused(fixture.authenticate({{"cookie", "mayaflow_session=forged"}})).status == 401);
}

TEST_CASE("Session: cookies are Secure when the base URL is https or a proxy says TLS", "[web][auth]") {
    AuthFixture plain;
    CHECK(plain.authenticator->session_cookie("v", WebRequest{"POST", "/", {{"x-forwarded-proto", "https"}}, "", ""})
              .ends_with("; Secure"));
    AuthFixture secure(StoreAuthenticatorOptions{.secure_cookies = true});
    CHECK(secure.authenticator->session_cookie("v", WebRequest{"POST", "/", {}, "", ""}).ends_with("; Secure"));
    CHECK(secure.authenticator->session_cookie("", WebRequest{"POST", "/", {}, "", ""}).find("Max-Age=0") !=
          std::string::npos);
}

TEST_CASE("Throttle per user: after 5 failures even the right password waits, longer each time", "[web][auth]") {
    AuthFixture fixture;
    fixture.add_user("alice", "right", {"Viewer"});
    const std::map<std::string, std::string> wrong = {{"authorization", basic_header("alice", "wrong")}};
    const std::map<std::string, std::string> right = {{"authorization", basic_header("Alice", "right")}};
    for (int i = 0; i < 5; ++i) {
        // From five addresses: the user's count, not the address's, throttles.
        check_wrong_credentials(refused(fixture.authenticate(wrong, "GET", "10.0.1." + std::to_string(i))));
    }
    auto throttled = refused(fixture.authenticate(right, "GET", "10.0.2.1"));
    CHECK(throttled.status == 429);
    CHECK(throttled.headers["Retry-After"] == "30");
    CHECK(throttled.body.find("30 seconds") != std::string::npos);
    fixture.now += std::chrono::seconds(30);
    check_wrong_credentials(refused(fixture.authenticate(wrong, "GET", "10.0.2.2")));
    CHECK(refused(fixture.authenticate(right, "GET", "10.0.2.3")).headers["Retry-After"] == "60");
    // The session sign-in is throttled the same way.
    auto login = fixture.authenticator->sign_in("alice", "right", WebRequest{"POST", "/", {}, "", "10.0.2.4"});
    REQUIRE(std::holds_alternative<WebResponse>(login));
    CHECK(std::get<WebResponse>(login).status == 429);
    fixture.now += std::chrono::seconds(60);
    signed_in(fixture.authenticate(right, "GET", "10.0.2.5"));  // and a success clears the count
    check_wrong_credentials(refused(fixture.authenticate(wrong, "GET", "10.0.2.6")));
}

TEST_CASE("Throttle per address: 5 failures from one address stop it, not the others", "[web][auth]") {
    AuthFixture fixture;
    fixture.add_user("alice", "right", {"Viewer"});
    for (int i = 0; i < 5; ++i) {
        refused(fixture.authenticate({{"authorization", basic_header("user" + std::to_string(i), "x")}}, "GET", "192.0.2.9"));
    }
    const std::map<std::string, std::string> right = {{"authorization", basic_header("alice", "right")}};
    auto throttled = refused(fixture.authenticate(right, "GET", "192.0.2.9"));
    CHECK(throttled.status == 429);
    CHECK(throttled.headers["Retry-After"] == "30");
    signed_in(fixture.authenticate(right, "GET", "192.0.2.10"));

    // Guessed tokens count against the address too.
    for (int i = 0; i < 5; ++i) {
        refused(fixture.authenticate({{"authorization", "Bearer mf_guess" + std::to_string(i)}}, "GET", "192.0.2.20"));
    }
    CHECK(refused(fixture.authenticate({{"authorization", "Bearer mf_x"}}, "GET", "192.0.2.20")).status == 429);
}

}  // namespace
}  // namespace mayaflow
