#include "web/auth/user_accounts.h"

#include <fmt/format.h>

#include "engine/util/utf8.h"
#include "web/auth/password_hash.h"
#include "web/auth/store_authenticator.h"

namespace mayaflow {

std::optional<std::string> username_problem(std::string_view username) {
    if (username.empty()) return "a username cannot be empty";
    if (username.size() > kMaximumUsernameLength) {
        return fmt::format("a username has at most {} bytes; this one has {}", kMaximumUsernameLength, username.size());
    }
    if (!is_valid_utf8(username)) return fmt::format("the username {} is not UTF-8", escape_invalid_utf8(username));
    for (unsigned char c : username) {
        if (c < 0x20 || c == 0x7f) return "a username cannot hold control characters";
        if (c == ':') return "a username cannot hold ':' (HTTP Basic separates the username from the password with it)";
    }
    if (username.front() == ' ' || username.back() == ' ') return "a username cannot begin or end with a space";
    return std::nullopt;
}

std::optional<std::string> password_problem(std::string_view password) {
    if (password.empty()) return "a password cannot be empty";
    if (password.size() > kMaximumPasswordLength) {
        return fmt::format("a password has at most {} bytes", kMaximumPasswordLength);
    }
    if (!is_valid_utf8(password)) return "a password must be UTF-8 text (HTTP Basic sends it as UTF-8)";
    return std::nullopt;
}

Result<IssuedToken> issue_api_token(UserStore& users, const std::string& username, const std::string& name,
                                    std::optional<Instant> expires_at, Instant now) {
    IssuedToken issued;
    issued.token = new_secret(kApiTokenPrefix);
    issued.row.username = username;
    issued.row.name = name;
    issued.row.prefix = issued.token.substr(0, kTokenPrefixLength);
    issued.row.token_hash = sha256_hex(issued.token);
    issued.row.created_on = now;
    issued.row.expires_at = expires_at;
    auto id = users.create_token(issued.row);
    if (!id) return id.error();
    issued.row.id = *id;
    return issued;
}

}  // namespace mayaflow
