#include "web/api_router.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

#include <memory>

#include "engine/metrics/metrics.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/ui_assets.h"

namespace mayaflow {
namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// Sent with every answer: no sniffing, no framing by other sites, no referrer leaking run ids,
// nothing loaded from elsewhere, and API answers never cached.
void add_security_headers(WebResponse& response) {
    response.headers.try_emplace("X-Content-Type-Options", "nosniff");
    response.headers.try_emplace("X-Frame-Options", "DENY");
    response.headers.try_emplace("Referrer-Policy", "no-referrer");
    response.headers.try_emplace("Content-Security-Policy",
                                 "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                 "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    response.headers.try_emplace("Cross-Origin-Opener-Policy", "same-origin");
    response.headers.try_emplace("Cache-Control", "no-store");
}

// Whether a script of a page sent the request (fetch, XMLHttpRequest, EventSource) rather than the
// user's address bar: the browser says so in Sec-Fetch-Mode, and scripts may add X-Requested-With. A
// 401 to such a request carries no `WWW-Authenticate: Basic`, or the browser would stop the script
// and ask for a password in its own dialog instead of the UI showing its login page.
bool from_page_script(const WebRequest& request) {
    if (request.headers.count("x-requested-with")) return true;
    auto mode = request.headers.find("sec-fetch-mode");
    return mode != request.headers.end() && mode->second != "navigate";
}

// The UI: `/` and `/home` are its one page (web/ui/index.html), `/ui/<path>` its files. They hold
// no data (each page asks the API, which checks who asks), so they need no sign-in: the page itself
// shows the login form. Asset paths go four folders deep at most.
void add_ui_routes(RouteTable& table) {
    auto assets = std::make_shared<const UiAssets>(UiAssets::from_environment());
    auto page = [assets](const ApiRequest& request) {
        auto index = assets->find({"index.html"});
        if (!index) return not_found("the web UI's index.html is missing from this build");
        return ui_asset_response(*index, request.web);
    };
    table.add("GET", "/", {Resource::anyone, Action::read}, page);
    table.add("GET", "/home", {Resource::anyone, Action::read}, page);
    auto asset = [assets](const ApiRequest& request) {
        std::vector<std::string> segments;
        for (const char* name : {"a", "b", "c", "d"}) {
            auto found = request.params.find(name);
            if (found != request.params.end()) segments.push_back(found->second);
        }
        auto found = assets->find(segments);
        if (!found) {
            return not_found(fmt::format("no file {} in the web UI; its files are under /ui/ (index.html, css/, js/)",
                                         escape_invalid_utf8(request.path)));
        }
        return ui_asset_response(*found, request.web);
    };
    std::string pattern = "/ui";
    for (const char* name : {"a", "b", "c", "d"}) {
        pattern += fmt::format("/{{{}}}", name);
        table.add("GET", pattern, {Resource::anyone, Action::read}, asset);
    }
}

}  // namespace

ApiRouter::ApiRouter(ApiContext& context, Authenticator& authenticator)
    : context_(context), authenticator_(authenticator) {
    add_ui_routes(table_);
    add_monitor_routes(table_, context_);
    add_dag_routes(table_, context_);
    add_event_routes(table_, context_);
    add_config_routes(table_, context_);
    add_pool_routes(table_, context_);
    add_variable_routes(table_, context_);
    add_connection_routes(table_, context_);
    add_backfill_routes(table_, context_);
    add_dag_run_routes(table_, context_);
    add_task_instance_routes(table_, context_);
    add_user_routes(table_, context_);
    add_log_routes(table_, context_);
    add_xcom_routes(table_, context_);
    add_notebook_routes(table_, context_);
    add_source_routes(table_, context_);
    add_cost_routes(table_, context_);
    add_overview_routes(table_, context_);
    add_rendered_routes(table_, context_);
}

WebResponse ApiRouter::handle(const WebRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    std::string route = "unmatched";
    WebResponse response = dispatch(request, route);
    if (response.status == 401 && from_page_script(request)) response.headers.erase("WWW-Authenticate");
    add_security_headers(response);
    const bool known_method = request.method == "GET" || request.method == "HEAD" || request.method == "POST" ||
                              request.method == "PUT" || request.method == "PATCH" || request.method == "DELETE";
    metrics::http_request(route, known_method ? request.method : "other", response.status,
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return response;
}

WebResponse ApiRouter::dispatch(const WebRequest& request, std::string& route) {
    auto parsed = boost::urls::parse_origin_form(request.target);
    if (!parsed) return bad_request("the request target is not a valid URL path");
    // Split before decoding, so that an id holding an encoded '/' stays one segment.
    std::vector<std::string> segments;
    for (auto segment : parsed->encoded_segments()) segments.push_back(segment.decode());
    std::string path = parsed->path();
    for (const auto& segment : segments) {
        if (!is_valid_utf8(segment)) {
            return bad_request(fmt::format("the URL path {} is not valid UTF-8 once its %-escapes are decoded; names in "
                                           "mayaflow are UTF-8",
                                           escape_invalid_utf8(path)));
        }
    }
    auto match = table_.match(request.method, segments);
    if (!match.route) {
        if (match.allowed.empty()) {
            return not_found(fmt::format("no resource at {}; the API lives under /api/v1 (its routes are listed in "
                                         "/api/v1/openapi.yaml)",
                                         escape_invalid_utf8(path)));
        }
        auto refusal = problem(405, fmt::format("{} answers {}, not {}", escape_invalid_utf8(path), joined(match.allowed),
                                                escape_invalid_utf8(request.method)));
        refusal.headers["Allow"] = joined(match.allowed);
        return refusal;
    }

    ApiRequest api{request, path, std::move(match.params), {}, {}};
    for (auto param : parsed->params()) {
        if (!is_valid_utf8(param.key) || !is_valid_utf8(param.value)) {
            return bad_request(fmt::format("the query parameter {}={} is not valid UTF-8 once decoded",
                                           escape_invalid_utf8(param.key), escape_invalid_utf8(param.value)));
        }
        api.query.emplace(param.key, param.value);
    }

    route = match.route->pattern;
    const Access access = match.route->access;
    if (access.resource != Resource::anyone) {
        auto who = authenticator_.authenticate(request);
        if (auto* refusal = std::get_if<WebResponse>(&who)) return *refusal;
        api.principal = std::get<Principal>(who);
        if (!api.principal.signed_in()) {
            auto refusal = problem(401, "this needs a signed-in user: send HTTP Basic credentials or "
                                        "`Authorization: Bearer <token>` (`mayaflow users create-token`)");
            refusal.headers["WWW-Authenticate"] = "Basic realm=\"mayaflow\", charset=\"UTF-8\"";
            return refusal;
        }
        if (!allows(api.principal.roles, access)) {
            auto least = least_role_for(access);
            std::string roles;
            for (Role role : api.principal.roles) roles += (roles.empty() ? "" : ", ") + std::string(to_string(role));
            return problem(403, fmt::format("{} {} needs the {} role ({} on {}); '{}' has {}", request.method,
                                            escape_invalid_utf8(path), least ? to_string(*least) : "Admin",
                                            to_string(access.action), to_string(access.resource),
                                            escape_invalid_utf8(api.principal.username), roles.empty() ? "no role" : roles));
        }
    }
    return match.route->handler(api);
}

}  // namespace mayaflow
