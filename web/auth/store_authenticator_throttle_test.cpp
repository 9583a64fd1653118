// Throttling failed sign-ins must not lock out the clients whose credentials are good: behind a proxy
// every client has one address.

#include <catch2/catch.hpp>

#include "tests/web/auth_fixture.h"
#include "web/auth/store_authenticator.h"
#include "web/auth/user_accounts.h"

namespace mayaflow {
namespace {

using testing::AuthFixture;
using testing::refused;
using testing::signed_in;

TEST_CASE("Throttle: a valid token is taken from an address that bad tokens throttled", "[web][auth]") {
    AuthFixture fixture;
    fixture.add_user("bot", "pw", {"User"});
    auto good = issue_api_token(*fixture.store, "bot", "ci", std::nullopt, fixture.now);
    REQUIRE(good);
    auto bearer = [](const std::string& token) {
        return std::map<std::string, std::string>{{"authorization", "Bearer " + token}};
    };
    for (int i = 0; i < 5; ++i) {
        CHECK(refused(fixture.authenticate(bearer("mf_guess" + std::to_string(i)), "GET", "127.0.0.1")).status == 401);
    }
    // The address is throttled for guesses...
    auto guess = refused(fixture.authenticate(bearer("mf_guess9"), "GET", "127.0.0.1"));
    CHECK(guess.status == 429);
    CHECK(guess.headers["Retry-After"] == "30");
    // ...but the client with a good token at the same address goes on.
    auto bot = signed_in(fixture.authenticate(bearer(good->token), "GET", "127.0.0.1"));
    CHECK(bot.username == "bot");
    CHECK(bot.method == "token");
    // A revoked token there is a failure again: 429, not a way around the throttle.
    REQUIRE(*fixture.store->revoke_token(good->row.id));
    CHECK(refused(fixture.authenticate(bearer(good->token), "GET", "127.0.0.1")).status == 429);
}

}  // namespace
}  // namespace mayaflow
