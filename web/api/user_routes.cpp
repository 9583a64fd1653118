// /users and /roles (Airflow's shapes), and mayaflow's own /mayaflow/session (the UI's sign-in
// with a cookie) and /mayaflow/tokens (personal API tokens). No answer ever holds a password, a
// password hash or a stored token's value.

#include <fmt/format.h>

#include <algorithm>

#include "engine/time/duration_text.h"
#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/auth/password_hash.h"
#include "web/auth/store_authenticator.h"
#include "web/auth/user_accounts.h"

namespace mayaflow {
namespace {

const std::initializer_list<std::string_view> kUserFields = {"first_name", "last_name", "username",
                                                                  "email",      "roles",     "password"};
// What a change may set: a user's fields and `active`, which is read-only in Airflow's API (FAB's
// user form sets it). An inactive user cannot sign in, and their sessions end.
const std::initializer_list<std::string_view> kChangeableUserFields = {"first_name", "last_name", "username", "email",
                                                                       "roles",      "password",  "active"};
constexpr size_t kMaximumNameLength = 256;

std::string iso(Instant instant) { return format_iso8601(instant, TimeZone::utc()); }
nlohmann::json iso_or_null(const std::optional<Instant>& instant) {
    return instant ? nlohmann::json(iso(*instant)) : nlohmann::json(nullptr);
}

nlohmann::json user_json(const UserRow& user) {
    auto roles = nlohmann::json::array();
    for (const auto& role : user.roles) roles.push_back({{"name", role}});
    return {{"first_name", user.first_name},
            {"last_name", user.last_name},
            {"username", user.username},
            {"email", user.email},
            {"active", user.active},
            {"last_login", iso_or_null(user.last_login)},
            {"login_count", user.login_count},
            {"failed_login_count", user.failed_login_count},
            {"roles", roles},
            {"created_on", iso(user.created_on)},
            {"changed_on", iso(user.changed_on)}};
}

nlohmann::json role_json(Role role) {
    auto actions = nlohmann::json::array();
    for (const auto& access : permissions_of(role)) {
        actions.push_back({{"action", {{"name", std::string(to_string(access.action))}}},
                           {"resource", {{"name", std::string(to_string(access.resource))}}}});
    }
    return {{"name", std::string(to_string(role))}, {"actions", actions}};
}

nlohmann::json token_json(const ApiTokenRow& token) {
    return {{"token_id", token.id},
            {"username", token.username},
            {"name", token.name},
            {"prefix", token.prefix},
            {"created_on", iso(token.created_on)},
            {"expires_at", iso_or_null(token.expires_at)},
            {"revoked", token.revoked},
            {"last_used", iso_or_null(token.last_used)}};
}

WebResponse no_content() {
    WebResponse response;
    response.status = 204;
    response.content_type.clear();
    return response;
}

WebResponse unknown_user(const std::string& username) {
    return not_found(fmt::format("no user '{}' (`GET /api/v1/users` lists them)", escape_invalid_utf8(username)));
}

bool same_user(const std::string& a, const std::string& b) { return folded_username(a) == folded_username(b); }

bool is_admin(const Principal& principal) { return allows(principal.roles, {Resource::user, Action::edit}); }

// `roles` as Airflow sends them: [{"name": "Op"}, …]; names without regard to case.
Read<std::vector<std::string>> read_roles(const nlohmann::json& value) {
    if (!value.is_array()) return bad_request("'roles' must be a list of objects such as {\"name\": \"Op\"}");
    std::vector<std::string> roles;
    for (const auto& item : value) {
        if (!item.is_object() || !item.contains("name") || !item["name"].is_string() || item.size() != 1) {
            return bad_request("each item of 'roles' must be an object with only a string 'name', such as "
                               "{\"name\": \"Op\"}");
        }
        auto role = parse_role(item["name"].get<std::string>());
        if (!role) {
            return bad_request(fmt::format("unknown role {} in 'roles'; the roles are Viewer, User, Op and Admin",
                                           quote_for_message(item["name"].get<std::string>())));
        }
        std::string name(to_string(*role));
        if (std::find(roles.begin(), roles.end(), name) == roles.end()) roles.push_back(name);
    }
    static const std::vector<std::string> kOrder = {"Viewer", "User", "Op", "Admin"};
    std::sort(roles.begin(), roles.end(), [](const std::string& a, const std::string& b) {
        return std::find(kOrder.begin(), kOrder.end(), a) < std::find(kOrder.begin(), kOrder.end(), b);
    });
    return roles;
}

// Applies the fields of `body` named in `fields` to `user`; a 400 for a field that is wrong.
std::optional<WebResponse> apply_user_fields(UserRow& user, const nlohmann::json& body,
                                             const std::vector<std::string>& fields) {
    for (const auto& field : fields) {
        if (field == "roles") {
            auto roles = read_roles(body["roles"]);
            if (failed(roles)) return std::get<WebResponse>(roles);
            user.roles = std::get<std::vector<std::string>>(roles);
            continue;
        }
        if (field == "active") {
            auto active = bool_field(body, field);
            if (failed(active)) return std::get<WebResponse>(active);
            const auto& value = std::get<std::optional<bool>>(active);
            if (!value) return bad_request("'active' must be true or false, not null");
            user.active = *value;
            continue;
        }
        auto text = string_field(body, field);
        if (failed(text)) return std::get<WebResponse>(text);
        const auto& value = std::get<std::optional<std::string>>(text);
        if (!value) return bad_request(fmt::format("'{}' must be a string, not null", field));
        if (field == "username") {
            if (auto problem_text = username_problem(*value)) return bad_request(*problem_text);
            user.username = *value;
        } else if (field == "password") {
            if (auto problem_text = password_problem(*value)) return bad_request(*problem_text);
            user.password_hash = hash_password(*value);
        } else {
            if (value->size() > kMaximumNameLength) {
                return bad_request(fmt::format("'{}' has at most {} bytes", field, kMaximumNameLength));
            }
            if (field == "email") user.email = *value;
            if (field == "first_name") user.first_name = *value;
            if (field == "last_name") user.last_name = *value;
        }
    }
    return std::nullopt;
}

// Whether removing `username` from the active admins would leave none: nobody could manage users then.
Read<bool> last_admin(UserStore& users, const std::string& username) {
    auto all = users.list_users();
    if (!all) return store_unavailable(all.error());
    int others = 0;
    bool is_one = false;
    for (const auto& user : *all) {
        const bool admin = user.active && std::find(user.roles.begin(), user.roles.end(), "Admin") != user.roles.end();
        if (!admin) continue;
        if (same_user(user.username, username)) {
            is_one = true;
        } else {
            ++others;
        }
    }
    return is_one && others == 0;
}

std::optional<WebResponse> email_taken(UserStore& users, const std::string& email, const std::string& except) {
    auto all = users.list_users();
    if (!all) return store_unavailable(all.error());
    for (const auto& user : *all) {
        if (!same_user(user.username, except) && !email.empty() && folded_username(user.email) == folded_username(email)) {
            return conflict(fmt::format("the email {} is already '{}''s", quote_for_message(email),
                                        escape_invalid_utf8(user.username)));
        }
    }
    return std::nullopt;
}

void add_users(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/users", {Resource::user, Action::read}, [&context](const ApiRequest& request) {
        auto page = read_page(request);
        if (failed(page)) return std::get<WebResponse>(page);
        auto order = read_order_by(request,
                                   {"id", "username", "email", "first_name", "last_name", "active", "last_login",
                                    "login_count", "failed_login_count", "created_on", "changed_on"},
                                   {"id", false});
        if (failed(order)) return std::get<WebResponse>(order);
        auto users = context.users.list_users();
        if (!users) return store_unavailable(users.error());
        const auto& ordering = std::get<Ordering>(order);
        auto key = [&](const UserRow& user) -> nlohmann::json {
            if (ordering.field == "id") return user.id;
            if (ordering.field == "last_login") return user.last_login ? user.last_login->time_since_epoch().count() : -1;
            if (ordering.field == "created_on") return user.created_on.time_since_epoch().count();
            if (ordering.field == "changed_on") return user.changed_on.time_since_epoch().count();
            return user_json(user)[ordering.field];
        };
        std::stable_sort(users->begin(), users->end(), [&](const UserRow& a, const UserRow& b) {
            return ordering.descending ? key(b) < key(a) : key(a) < key(b);
        });
        return json_response(
            {{"users", page_of(*users, std::get<Page>(page), user_json)}, {"total_entries", users->size()}});
    });

    table.add("POST", "/api/v1/users", {Resource::user, Action::create}, [&context](const ApiRequest& request) {
        auto body = read_json_object(request, kUserFields);
        if (failed(body)) return std::get<WebResponse>(body);
        const auto& json = std::get<nlohmann::json>(body);
        std::vector<std::string> fields;
        for (const char* required : {"username", "password", "email", "first_name", "last_name"}) {
            if (!json.contains(required)) {
                return bad_request(fmt::format("a new user needs '{}' (username, password, email, first_name and "
                                               "last_name; roles is optional)",
                                               required));
            }
            fields.push_back(required);
        }
        UserRow user;
        user.roles = {"Viewer"};
        if (json.contains("roles")) fields.push_back("roles");
        if (auto refusal = apply_user_fields(user, json, fields)) return *refusal;
        if (auto taken = email_taken(context.users, user.email, "")) return *taken;
        user.created_on = user.changed_on = now_instant();
        auto created = context.users.create_user(user);
        if (!created) return store_unavailable(created.error());
        if (!*created) {
            return conflict(fmt::format("a user '{}' already exists (usernames are compared without regard to case)",
                                        escape_invalid_utf8(user.username)));
        }
        auto stored = context.users.find_user(user.username);
        if (!stored) return store_unavailable(stored.error());
        if (!*stored) return unknown_user(user.username);
        return json_response(user_json(**stored));
    });

    table.add("GET", "/api/v1/users/{username}", {Resource::user, Action::read}, [&context](const ApiRequest& request) {
        const auto& username = request.param("username");
        auto user = context.users.find_user(username);
        if (!user) return store_unavailable(user.error());
        if (!*user) return unknown_user(username);
        return json_response(user_json(**user));
    });

    table.add("PATCH", "/api/v1/users/{username}", {Resource::user, Action::edit}, [&context](const ApiRequest& request) {
        const auto& username = request.param("username");
        auto body = read_json_object(request, kChangeableUserFields);
        if (failed(body)) return std::get<WebResponse>(body);
        const auto& json = std::get<nlohmann::json>(body);
        std::vector<std::string> fields = request.query_list("update_mask");
        if (fields.empty() && request.query.contains("update_mask")) {
            return bad_request("update_mask is empty; name the fields to change, such as update_mask=email,roles");
        }
        for (const auto& field : fields) {
            const auto& known = kChangeableUserFields;
            if (std::find(known.begin(), known.end(), field) == known.end()) {
                return bad_request(fmt::format("update_mask names {}, which is not a field of a user; it takes "
                                               "first_name, last_name, username, email, roles, password and active",
                                               quote_for_message(field)));
            }
            if (!json.contains(field)) {
                return bad_request(fmt::format("update_mask names '{}', which the body does not give", field));
            }
        }
        if (fields.empty()) {
            for (const auto& [key, value] : json.items()) fields.push_back(key);
        }
        auto existing = context.users.find_user(username);
        if (!existing) return store_unavailable(existing.error());
        if (!*existing) return unknown_user(username);
        UserRow user = **existing;
        if (auto refusal = apply_user_fields(user, json, fields)) return *refusal;
        auto has_admin = [](const UserRow& row) {
            return std::find(row.roles.begin(), row.roles.end(), "Admin") != row.roles.end();
        };
        const bool was_active_admin = existing->value().active && has_admin(**existing);
        if (was_active_admin && !(user.active && has_admin(user))) {
            auto last = last_admin(context.users, existing->value().username);
            if (failed(last)) return std::get<WebResponse>(last);
            if (std::get<bool>(last)) {
                return conflict(fmt::format("'{}' is the last active Admin; give another active user the Admin role "
                                            "first",
                                            escape_invalid_utf8(existing->value().username)));
            }
        }
        if (auto taken = email_taken(context.users, user.email, existing->value().username)) return *taken;
        user.changed_on = now_instant();
        auto updated = context.users.update_user(existing->value().username, user);
        if (!updated) return store_unavailable(updated.error());
        if (!*updated) {
            return conflict(fmt::format("a user '{}' already exists (usernames are compared without regard to case)",
                                        escape_invalid_utf8(user.username)));
        }
        auto stored = context.users.find_user(user.username);
        if (!stored) return store_unavailable(stored.error());
        if (!*stored) return unknown_user(user.username);
        return json_response(user_json(**stored));
    });

    table.add("DELETE", "/api/v1/users/{username}", {Resource::user, Action::remove}, [&context](const ApiRequest& request) {
        const auto& username = request.param("username");
        auto last = last_admin(context.users, username);
        if (failed(last)) return std::get<WebResponse>(last);
        if (std::get<bool>(last)) {
            return conflict(fmt::format("'{}' is the last active Admin; give another user the Admin role first",
                                        escape_invalid_utf8(username)));
        }
        auto deleted = context.users.delete_user(username);
        if (!deleted) return store_unavailable(deleted.error());
        if (!*deleted) return unknown_user(username);
        return no_content();
    });
}

void add_roles(RouteTable& table) {
    table.add("GET", "/api/v1/roles", {Resource::user, Action::read}, [](const ApiRequest& request) {
        auto page = read_page(request);
        if (failed(page)) return std::get<WebResponse>(page);
        auto order = read_order_by(request, {"name"}, {"name", false});
        if (failed(order)) return std::get<WebResponse>(order);
        std::vector<Role> roles = {Role::admin, Role::op, Role::user, Role::viewer};  // by name
        if (std::get<Ordering>(order).descending) std::reverse(roles.begin(), roles.end());
        return json_response({{"roles", page_of(roles, std::get<Page>(page), role_json)}, {"total_entries", roles.size()}});
    });

    table.add("GET", "/api/v1/roles/{role_name}", {Resource::user, Action::read}, [](const ApiRequest& request) {
        const auto& name = request.param("role_name");
        auto role = parse_role(name);
        if (!role) {
            return not_found(fmt::format("no role '{}'; the roles are Viewer, User, Op and Admin (fixed: they "
                                         "cannot be added, changed or deleted)",
                                         escape_invalid_utf8(name)));
        }
        return json_response(role_json(*role));
    });
}

WebResponse no_sessions() {
    return not_found("sessions need authentication, which this server runs without (MAYAFLOW_API_AUTH=off)");
}

void add_session(RouteTable& table, ApiContext& context) {
    table.add("POST", "/api/v1/mayaflow/session", {Resource::anyone, Action::create}, [&context](const ApiRequest& request) {
        if (!context.accounts) return no_sessions();
        auto body = read_json_object(request, {"username", "password"});
        if (failed(body)) return std::get<WebResponse>(body);
        const auto& json = std::get<nlohmann::json>(body);
        auto username = string_field(json, "username");
        if (failed(username)) return std::get<WebResponse>(username);
        auto password = string_field(json, "password");
        if (failed(password)) return std::get<WebResponse>(password);
        const auto& user = std::get<std::optional<std::string>>(username);
        const auto& secret = std::get<std::optional<std::string>>(password);
        if (!user || !secret) return bad_request("signing in needs {\"username\": …, \"password\": …}");
        auto started = context.accounts->sign_in(*user, *secret, request.web);
        if (auto* refusal = std::get_if<WebResponse>(&started)) return *refusal;
        const auto& start = std::get<SessionStart>(started);
        auto roles = nlohmann::json::array();
        for (Role role : start.principal.roles) roles.push_back(std::string(to_string(role)));
        auto response = json_response(
            {{"username", start.principal.username}, {"roles", roles}, {"csrf_token", start.csrf_token}});
        response.headers["Set-Cookie"] = context.accounts->session_cookie(start.cookie_value, request.web);
        return response;
    });

    table.add("GET", "/api/v1/mayaflow/session", {Resource::my_profile, Action::read}, [&context](const ApiRequest& request) {
        auto roles = nlohmann::json::array();
        for (Role role : request.principal.roles) roles.push_back(std::string(to_string(role)));
        nlohmann::json csrf = nullptr;
        if (context.accounts && request.principal.method == "session") {
            if (auto session = context.accounts->session_of(request.web)) csrf = session->csrf_token;
        }
        return json_response({{"username", request.principal.username},
                              {"roles", roles},
                              {"auth_method", request.principal.method},
                              {"csrf_token", csrf}});
    });

    table.add("DELETE", "/api/v1/mayaflow/session", {Resource::my_profile, Action::remove},
              [&context](const ApiRequest& request) {
                  if (!context.accounts) return no_sessions();
                  if (Status ended = context.accounts->sign_out(request.web); !ended) return store_unavailable(ended.error());
                  auto response = no_content();
                  response.headers["Set-Cookie"] = context.accounts->session_cookie("", request.web);
                  return response;
              });
}

void add_tokens(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/mayaflow/tokens", {Resource::my_profile, Action::read}, [&context](const ApiRequest& request) {
        auto page = read_page(request);
        if (failed(page)) return std::get<WebResponse>(page);
        std::string username = request.query_value("username").value_or(request.principal.username);
        if (!same_user(username, request.principal.username) && !is_admin(request.principal)) {
            return problem(403, "only an Admin may list another user's tokens");
        }
        auto tokens = context.users.list_tokens(username);
        if (!tokens) return store_unavailable(tokens.error());
        return json_response(
            {{"tokens", page_of(*tokens, std::get<Page>(page), token_json)}, {"total_entries", tokens->size()}});
    });

    table.add("POST", "/api/v1/mayaflow/tokens", {Resource::my_profile, Action::create}, [&context](const ApiRequest& request) {
        auto body = read_json_object(request, {"name", "expires_in", "username"}, true);
        if (failed(body)) return std::get<WebResponse>(body);
        const auto& json = std::get<nlohmann::json>(body);
        auto name = string_field(json, "name");
        if (failed(name)) return std::get<WebResponse>(name);
        auto expires_in = string_field(json, "expires_in");
        if (failed(expires_in)) return std::get<WebResponse>(expires_in);
        auto for_user = string_field(json, "username");
        if (failed(for_user)) return std::get<WebResponse>(for_user);
        const std::string token_name = std::get<std::optional<std::string>>(name).value_or("");
        if (token_name.size() > kMaximumNameLength) {
            return bad_request(fmt::format("'name' has at most {} bytes", kMaximumNameLength));
        }
        std::string username = std::get<std::optional<std::string>>(for_user).value_or(request.principal.username);
        if (!same_user(username, request.principal.username) && !is_admin(request.principal)) {
            return problem(403, "only an Admin may make a token for another user");
        }
        const Instant now = now_instant();
        std::optional<Instant> expires_at;
        if (const auto& text = std::get<std::optional<std::string>>(expires_in)) {
            auto duration = parse_duration(*text);
            if (!duration) return bad_request(fmt::format("'expires_in': {}", duration.error().message));
            if (duration->count() <= 0) return bad_request("'expires_in' must be longer than 0s");
            expires_at = now + *duration;
        }
        auto user = context.users.find_user(username);
        if (!user) return store_unavailable(user.error());
        if (!*user) return unknown_user(username);
        auto issued = issue_api_token(context.users, (*user)->username, token_name, expires_at, now);
        if (!issued) return store_unavailable(issued.error());
        auto answer = token_json(issued->row);
        answer["token"] = issued->token;  // shown this once
        return json_response(answer, 201);
    });

    table.add("DELETE", "/api/v1/mayaflow/tokens/{token_id}", {Resource::my_profile, Action::remove},
              [&context](const ApiRequest& request) {
                  const auto& text = request.param("token_id");
                  long long id = 0;
                  bool digits = !text.empty() && text.size() <= 18 &&
                                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
                  if (digits) id = std::stoll(text);
                  if (!digits) {
                      return bad_request(fmt::format("token_id must be a number (GET /api/v1/mayaflow/tokens lists "
                                                     "them), not {}",
                                                     quote_for_message(text)));
                  }
                  auto token = context.users.find_token(id);
                  if (!token) return store_unavailable(token.error());
                  // Another user's token is as unknown as a token that does not exist, unless an Admin asks.
                  if (!*token || (!same_user((*token)->username, request.principal.username) &&
                                  !is_admin(request.principal))) {
                      return not_found(fmt::format("no token {} of yours (GET /api/v1/mayaflow/tokens lists them)", id));
                  }
                  auto revoked = context.users.revoke_token(id);
                  if (!revoked) return store_unavailable(revoked.error());
                  return no_content();
              });
}

}  // namespace

void add_user_routes(RouteTable& table, ApiContext& context) {
    add_users(table, context);
    add_roles(table);
    add_session(table, context);
    add_tokens(table, context);
}

}  // namespace mayaflow
