#pragma once
// UserStore keeps the API's users (migrations/0010_users.sql): accounts with a password hash and
// roles, personal API tokens and the UI's sessions. Tokens and sessions come in as digests of the
// secret their holder keeps, so the database never holds one that works. Role names are kept as
// text ("Admin"); web/auth decides what they mean.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

struct UserRow {
    long long id = 0;
    std::string username;
    std::string email;
    std::string first_name;
    std::string last_name;
    std::string password_hash;  // web/auth/password_hash.h's text; never a password
    bool active = true;
    Instant created_on{};
    Instant changed_on{};
    std::optional<Instant> last_login;
    long long login_count = 0;
    long long failed_login_count = 0;
    std::vector<std::string> roles;  // in the order of the role table: Viewer, User, Op, Admin
};

struct ApiTokenRow {
    long long id = 0;
    std::string username;
    std::string name;
    std::string prefix;      // the token's first characters, for its owner to recognise it
    std::string token_hash;  // SHA-256 of the token, hex
    Instant created_on{};
    std::optional<Instant> expires_at;
    bool revoked = false;
    std::optional<Instant> last_used;
};

struct SessionRow {
    std::string session_hash;  // SHA-256 of the cookie's value, hex
    std::string username;
    std::string csrf_token;
    Instant created_on{};
    Instant expires_at{};
};

class UserStore {
  public:
    virtual ~UserStore() = default;

    virtual Result<std::vector<UserRow>> list_users() = 0;  // by username
    virtual Result<long long> count_users() = 0;
    // Found without regard to ASCII case.
    virtual Result<std::optional<UserRow>> find_user(const std::string& username) = 0;
    // Inserts the user and its roles; false when the username is taken (in any case).
    virtual Result<bool> create_user(const UserRow& user) = 0;
    // Replaces the user's fields (all but id, created_on and the login counts) and its roles;
    // false when there is no such user, or the new username is another user's.
    virtual Result<bool> update_user(const std::string& username, const UserRow& user) = 0;
    // With its roles, tokens and sessions; false when there was none.
    virtual Result<bool> delete_user(const std::string& username) = 0;
    // A sign-in with a password: a success sets last_login, counts it and zeroes the failures; a
    // failure counts one more.
    virtual Status record_login(const std::string& username, bool succeeded, Instant now) = 0;

    // Returns the token's id. The user must exist.
    virtual Result<long long> create_token(const ApiTokenRow& token) = 0;
    // Every user's when `username` is nullopt; by id.
    virtual Result<std::vector<ApiTokenRow>> list_tokens(const std::optional<std::string>& username) = 0;
    virtual Result<std::optional<ApiTokenRow>> find_token(long long id) = 0;
    virtual Result<std::optional<ApiTokenRow>> find_token_by_hash(const std::string& token_hash) = 0;
    virtual Result<bool> revoke_token(long long id) = 0;  // false: no such token
    virtual Status record_token_use(long long id, Instant now) = 0;

    virtual Status create_session(const SessionRow& session) = 0;  // the user must exist
    // Sessions past their expiry are not found; they are deleted when a new session starts.
    virtual Result<std::optional<SessionRow>> find_session(const std::string& session_hash, Instant now) = 0;
    virtual Result<bool> delete_session(const std::string& session_hash) = 0;

    // A number that changes whenever a user, its password, active flag or roles, or a token is
    // written, by any process: a password checked at one version is still right while it stays.
    virtual Result<std::int64_t> credentials_version() = 0;
};

}  // namespace mayaflow
