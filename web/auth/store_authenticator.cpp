#include "web/auth/store_authenticator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "engine/util/utf8.h"
#include "web/api/problem.h"

namespace mayaflow {
namespace {

constexpr size_t kMaximumRemembered = 1000;
constexpr size_t kMaximumCredentialLength = 4096;
// A token's last use is written at most this often: not a write per request.
constexpr auto kTokenUseResolution = std::chrono::minutes(1);

// The same words whatever was wrong: the username, the password, or that the user is inactive.
constexpr const char* kWrongCredentials =
    "the credentials are not valid: wrong username or password, or the user is inactive";

WebResponse unauthorized(const std::string& detail, bool ask_for_basic = true) {
    auto response = problem(401, detail);
    if (ask_for_basic) response.headers["WWW-Authenticate"] = "Basic realm=\"mayaflow\", charset=\"UTF-8\"";
    return response;
}

// Standard base64 (RFC 4648 §4), padded or not; nullopt for anything else.
std::optional<std::string> decode_base64(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        int value;
        if (c >= 'A' && c <= 'Z') value = c - 'A';
        else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
        else if (c >= '0' && c <= '9') value = c - '0' + 52;
        else if (c == '+') value = 62;
        else if (c == '/') value = 63;
        else return std::nullopt;
        buffer = (buffer << 6) | static_cast<unsigned>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

bool starts_with_scheme(std::string_view header, std::string_view scheme) {
    if (header.size() <= scheme.size() || header[scheme.size()] != ' ') return false;
    for (size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(scheme[i])))
            return false;
    }
    return true;
}

std::optional<std::string> cookie_value(const WebRequest& request, std::string_view name) {
    auto found = request.headers.find("cookie");
    if (found == request.headers.end()) return std::nullopt;
    std::string_view rest = found->second;
    while (!rest.empty()) {
        size_t end = rest.find(';');
        std::string_view pair = trim(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        size_t equals = pair.find('=');
        if (equals == std::string_view::npos || trim(pair.substr(0, equals)) != name) continue;
        return std::string(trim(pair.substr(equals + 1)));
    }
    return std::nullopt;
}

std::string header(const WebRequest& request, const std::string& name) {
    auto found = request.headers.find(name);
    return found == request.headers.end() ? std::string() : found->second;
}

std::string user_key(std::string_view username) { return "user\x1f" + folded_username(username); }
std::string peer_key(const WebRequest& request) { return "peer\x1f" + request.peer; }

}  // namespace

std::string folded_username(std::string_view username) {
    std::string out(username);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

Principal principal_of(const UserRow& user, std::string method) {
    Principal principal{user.username, {}, std::move(method), false};
    for (const auto& name : user.roles) {
        if (auto role = parse_role(name)) principal.roles.push_back(*role);
    }
    return principal;
}

StoreAuthenticator::StoreAuthenticator(UserStore& users, StoreAuthenticatorOptions options)
    : users_(users), options_(std::move(options)), throttle_(options_.throttle), check_key_(random_bytes(32)) {}

const std::string& StoreAuthenticator::decoy_hash() {
    std::lock_guard lock(mutex_);
    if (decoy_hash_.empty()) decoy_hash_ = hash_password(random_password(), options_.decoy_iterations);
    return decoy_hash_;
}

std::optional<WebResponse> StoreAuthenticator::throttled(const std::vector<std::string>& keys) {
    std::optional<std::chrono::seconds> wait;
    for (const auto& key : keys) {
        if (auto left = throttle_.wait_for(key, options_.now()); left && (!wait || *left > *wait)) wait = left;
    }
    if (!wait) return std::nullopt;
    auto response = problem(429, fmt::format("too many failed sign-ins for this user or from this address; try again "
                                             "in {} seconds",
                                             wait->count()));
    response.headers["Retry-After"] = std::to_string(wait->count());
    return response;
}

std::variant<UserRow, WebResponse> StoreAuthenticator::check_password(const std::string& username,
                                                                      const std::string& password,
                                                                      const WebRequest& request) {
    if (auto refusal = throttled({user_key(username), peer_key(request)})) return *refusal;
    auto found = users_.find_user(username);
    if (!found) return store_unavailable(found.error());
    bool right = false;
    if (*found) {
        right = verify_password(password, (*found)->password_hash);
    } else {
        (void)verify_password(password, decoy_hash());  // as long as a wrong password takes
    }
    const Instant now = options_.now();
    if (!right || !(*found)->active) {
        throttle_.failed(user_key(username), now);
        throttle_.failed(peer_key(request), now);
        if (*found) (void)users_.record_login((*found)->username, false, now);
        spdlog::warn("failed sign-in as '{}' from {}", escape_invalid_utf8(username), escape_invalid_utf8(request.peer));
        return unauthorized(kWrongCredentials);
    }
    throttle_.succeeded(user_key(username));
    (void)users_.record_login((*found)->username, true, now);
    return std::move(**found);
}

std::variant<Principal, WebResponse> StoreAuthenticator::authenticate(const WebRequest& request) {
    auto authorization = request.headers.find("authorization");
    if (authorization != request.headers.end()) {
        std::string_view value = trim(authorization->second);
        if (value.size() > kMaximumCredentialLength) return unauthorized("the Authorization header is too long");
        if (starts_with_scheme(value, "Basic")) return basic(trim(value.substr(6)), request);
        if (starts_with_scheme(value, "Bearer")) return bearer(trim(value.substr(7)), request);
        return unauthorized("the Authorization header must be `Basic <base64 of username:password>` or "
                            "`Bearer <token>`");
    }
    if (auto cookie = cookie_value(request, kSessionCookieName)) return session(*cookie, request);
    return Principal{};
}

std::variant<Principal, WebResponse> StoreAuthenticator::basic(std::string_view credentials, const WebRequest& request) {
    auto decoded = decode_base64(credentials);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (!decoded || colon == std::string::npos) {
        return unauthorized("the Basic credentials must be the base64 of `username:password` (RFC 7617)");
    }
    if (!is_valid_utf8(*decoded)) return unauthorized("the Basic credentials must be UTF-8 (RFC 7617)");
    const std::string username = decoded->substr(0, colon);
    const std::string password = decoded->substr(colon + 1);

    auto version = users_.credentials_version();
    if (!version) return store_unavailable(version.error());
    const std::string remembered_key = hmac_sha256(check_key_, username + '\0' + password);
    const Instant now = options_.now();
    std::promise<BasicOutcome> outcome;
    {
        std::unique_lock lock(mutex_);
        auto found = remembered_.find(remembered_key);
        if (found != remembered_.end()) {
            if (found->second.version == *version && now - found->second.checked_at < options_.remembered_check_lifetime)
                return found->second.principal;
            remembered_.erase(found);
        }
        // The same credentials already being checked (a client's first burst of requests): wait for
        // that check rather than pay PBKDF2 again on another thread.
        auto checking = checking_.find(remembered_key);
        if (checking != checking_.end()) {
            auto pending = checking->second;
            lock.unlock();
            return pending.get();
        }
        checking_.emplace(remembered_key, outcome.get_future().share());
    }
    BasicOutcome answer;
    try {
        auto checked = check_password(username, password, request);
        if (auto* refusal = std::get_if<WebResponse>(&checked)) answer = std::move(*refusal);
        else answer = principal_of(std::get<UserRow>(checked), "basic");
    } catch (...) {
        outcome.set_exception(std::current_exception());
        std::lock_guard lock(mutex_);
        checking_.erase(remembered_key);
        throw;
    }
    outcome.set_value(answer);
    {
        std::lock_guard lock(mutex_);
        checking_.erase(remembered_key);
        if (auto* principal = std::get_if<Principal>(&answer)) {
            if (remembered_.size() >= kMaximumRemembered) remembered_.clear();
            remembered_[remembered_key] = RememberedCheck{*principal, *version, now};
        }
    }
    return answer;
}

std::variant<Principal, WebResponse> StoreAuthenticator::bearer(std::string_view token, const WebRequest& request) {
    // A valid token is taken even from a throttled address: it cannot be guessed (256 random bits), and
    // behind a proxy every client has one address, so five bad tokens from one client would otherwise
    // lock out every client with a good one. Only a token that fails is answered 429 there.
    const Instant now = options_.now();
    auto refuse = [&]() -> WebResponse {
        if (auto refusal = throttled({peer_key(request)})) return *refusal;
        throttle_.failed(peer_key(request), now);
        spdlog::warn("refused an API token from {}", escape_invalid_utf8(request.peer));
        return unauthorized("the token is not valid: unknown, revoked or expired, or its user is inactive "
                            "(`mayaflow users create-token` makes a new one)",
                            false);
    };
    if (!token.starts_with(kApiTokenPrefix)) return refuse();
    auto found = users_.find_token_by_hash(sha256_hex(token));
    if (!found) return store_unavailable(found.error());
    if (!*found || (*found)->revoked || ((*found)->expires_at && *(*found)->expires_at <= now)) return refuse();
    auto user = users_.find_user((*found)->username);
    if (!user) return store_unavailable(user.error());
    if (!*user || !(*user)->active) return refuse();
    if (!(*found)->last_used || now - *(*found)->last_used >= kTokenUseResolution) {
        (void)users_.record_token_use((*found)->id, now);
    }
    return principal_of(**user, "token");
}

std::variant<Principal, WebResponse> StoreAuthenticator::session(const std::string& cookie, const WebRequest& request) {
    auto found = users_.find_session(sha256_hex(cookie), options_.now());
    if (!found) return store_unavailable(found.error());
    auto ended = [&] {
        auto response = unauthorized("the session has ended (signed out, expired, or the password changed); sign in "
                                     "again with POST /api/v1/mayaflow/session",
                                     false);
        response.headers["Set-Cookie"] = session_cookie("", request);
        return response;
    };
    if (!*found) return ended();
    auto user = users_.find_user((*found)->username);
    if (!user) return store_unavailable(user.error());
    if (!*user || !(*user)->active) return ended();
    if (request.method != "GET" && request.method != "HEAD") {
        const std::string sent = header(request, "x-csrf-token");
        if (sent.empty() || !equal_in_constant_time(sent, (*found)->csrf_token)) {
            return problem(403, fmt::format("{} with the session cookie needs the session's CSRF token in the "
                                            "X-CSRF-Token header {}; GET /api/v1/mayaflow/session gives it",
                                            escape_invalid_utf8(request.method),
                                            sent.empty() ? "(it has none)" : "(it has another)"));
        }
    }
    return principal_of(**user, "session");
}

std::variant<SessionStart, WebResponse> StoreAuthenticator::sign_in(const std::string& username,
                                                                    const std::string& password,
                                                                    const WebRequest& request) {
    auto checked = check_password(username, password, request);
    if (auto* refusal = std::get_if<WebResponse>(&checked)) {
        refusal->headers.erase("WWW-Authenticate");  // a browser would ask with its own dialog
        return std::move(*refusal);
    }
    const auto& user = std::get<UserRow>(checked);
    SessionStart start{principal_of(user, "session"), new_secret(""), base64url(random_bytes(32))};
    const Instant now = options_.now();
    auto opened = users_.create_session(SessionRow{sha256_hex(start.cookie_value), user.username, start.csrf_token,
                                                   now, now + options_.session_lifetime});
    if (!opened) return store_unavailable(opened.error());
    return start;
}

std::optional<SessionRow> StoreAuthenticator::session_of(const WebRequest& request) {
    auto cookie = cookie_value(request, kSessionCookieName);
    if (!cookie) return std::nullopt;
    auto found = users_.find_session(sha256_hex(*cookie), options_.now());
    if (!found || !*found) return std::nullopt;
    return **found;
}

Status StoreAuthenticator::sign_out(const WebRequest& request) {
    auto cookie = cookie_value(request, kSessionCookieName);
    if (!cookie) return Status::success();
    auto deleted = users_.delete_session(sha256_hex(*cookie));
    if (!deleted) return deleted.error();
    return Status::success();
}

std::string StoreAuthenticator::session_cookie(const std::string& value, const WebRequest& request) const {
    const bool secure = options_.secure_cookies || header(request, "x-forwarded-proto") == "https";
    return fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}", kSessionCookieName, value,
                       value.empty() ? 0 : options_.session_lifetime.count(), secure ? "; Secure" : "");
}

}  // namespace mayaflow
