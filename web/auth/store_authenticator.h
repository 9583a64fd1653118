#pragma once
// StoreAuthenticator signs users in against the store's users (engine/store/user_store.h):
// - `Authorization: Basic` (RFC 7617, UTF-8): the password is checked on every request; a check
//   that succeeded is remembered for a few minutes, keyed by an HMAC of user and password under a
//   key that lives only in this process, and forgotten as soon as any user, role or token changes
//   (the store's credentials version), so a request costs one PBKDF2 only when something changed;
//   requests with the same credentials that arrive while they are being checked wait for that one
//   check (a client's first burst of parallel requests pays PBKDF2 once, not once per request);
// - `Authorization: Bearer mf_…`: a personal API token, looked up by its SHA-256, refused once
//   revoked or expired;
// - the UI's session cookie, with its CSRF token required in X-CSRF-Token for every method but
//   GET and HEAD.
// Failed sign-ins are throttled per username and per client address (web/auth/login_throttle.h):
// 429 with Retry-After. A refusal never says which part of the credentials was wrong, and nothing
// here logs a password, a token or a cookie.

#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "engine/store/user_store.h"
#include "web/auth/authenticator.h"
#include "web/auth/login_throttle.h"
#include "web/auth/password_hash.h"

namespace mayaflow {

inline constexpr std::string_view kSessionCookieName = "mayaflow_session";
inline constexpr std::string_view kApiTokenPrefix = "mf_";

struct StoreAuthenticatorOptions {
    // Cookies get `Secure` (MAYAFLOW_BASE_URL is https); they get it too for a request that says it
    // came over TLS through a proxy (X-Forwarded-Proto: https).
    bool secure_cookies = false;
    std::chrono::seconds session_lifetime{12 * 60 * 60};
    std::chrono::seconds remembered_check_lifetime{5 * 60};
    // What an unknown username's check costs, so that its answer takes as long as a wrong password's.
    int decoy_iterations = kDefaultPasswordIterations;
    LoginThrottleOptions throttle;
    std::function<Instant()> now = [] { return now_instant(); };
};

// A session just opened: the cookie's value (for Set-Cookie, once) and its CSRF token.
struct SessionStart {
    Principal principal;
    std::string cookie_value;
    std::string csrf_token;
};

class StoreAuthenticator : public Authenticator {
  public:
    // `users` must outlive the authenticator.
    explicit StoreAuthenticator(UserStore& users, StoreAuthenticatorOptions options = {});

    std::variant<Principal, WebResponse> authenticate(const WebRequest& request) override;

    // POST /api/v1/mayaflow/session: the password checked (and throttled) as Basic's is, then a session.
    std::variant<SessionStart, WebResponse> sign_in(const std::string& username, const std::string& password,
                                                    const WebRequest& request);
    // The session the request's cookie names, when it is one that is open.
    std::optional<SessionRow> session_of(const WebRequest& request);
    // Ends the request's session, if it has one.
    Status sign_out(const WebRequest& request);
    // The Set-Cookie value that gives the session cookie, or (empty value) removes it.
    std::string session_cookie(const std::string& value, const WebRequest& request) const;

    UserStore& users() { return users_; }

  private:
    std::variant<UserRow, WebResponse> check_password(const std::string& username, const std::string& password,
                                                      const WebRequest& request);
    std::variant<Principal, WebResponse> basic(std::string_view credentials, const WebRequest& request);
    std::variant<Principal, WebResponse> bearer(std::string_view token, const WebRequest& request);
    std::variant<Principal, WebResponse> session(const std::string& cookie, const WebRequest& request);
    std::optional<WebResponse> throttled(const std::vector<std::string>& keys);
    const std::string& decoy_hash();

    struct RememberedCheck {
        Principal principal;
        std::int64_t version = 0;
        Instant checked_at{};
    };

    UserStore& users_;
    StoreAuthenticatorOptions options_;
    LoginThrottle throttle_;
    const std::string check_key_;  // random, this process's only
    std::mutex mutex_;
    std::unordered_map<std::string, RememberedCheck> remembered_;
    using BasicOutcome = std::variant<Principal, WebResponse>;
    // Checks running now, by the same key: a second request with the same credentials waits for the
    // first one's answer.
    std::unordered_map<std::string, std::shared_future<BasicOutcome>> checking_;
    std::string decoy_hash_;
};

// Principal of a stored user: its roles that are known, in order.
Principal principal_of(const UserRow& user, std::string method);

// The user's key in the throttle and the like: ASCII letters in lower case, as the store compares them.
std::string folded_username(std::string_view username);

}  // namespace mayaflow
