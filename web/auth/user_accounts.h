#pragma once
// What the API's /users endpoints and the `users` commands share: the rules a username and a
// password must follow, and issuing a personal API token (its value is shown once; the store keeps
// its SHA-256 and its first characters).

#include <optional>
#include <string>
#include <string_view>

#include "engine/store/user_store.h"

namespace mayaflow {

inline constexpr size_t kMaximumUsernameLength = 256;  // Flask-AppBuilder's column
inline constexpr size_t kMaximumPasswordLength = 1024;
inline constexpr size_t kTokenPrefixLength = 8;        // "mf_" and five characters

// What is wrong with a username (empty, too long, not UTF-8, a control character, or a ':' which
// HTTP Basic could not carry), in words; nullopt when it is fine.
std::optional<std::string> username_problem(std::string_view username);
// Likewise for a password: empty, too long or not UTF-8.
std::optional<std::string> password_problem(std::string_view password);

struct IssuedToken {
    ApiTokenRow row;    // as stored, with its id
    std::string token;  // the value, shown once
};

// A new token for `username` (who must exist), named `name`, valid until `expires_at` (nullopt: until revoked).
Result<IssuedToken> issue_api_token(UserStore& users, const std::string& username, const std::string& name,
                                    std::optional<Instant> expires_at, Instant now);

}  // namespace mayaflow
