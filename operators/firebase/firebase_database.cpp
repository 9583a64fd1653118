#include "operators/firebase/firebase_database.h"

#include <fmt/format.h>

#include "engine/connections/python_json.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "operators/firebase/firebase_keys.h"

namespace mayaflow::firebase {
namespace {

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

struct DatabaseUrl {
    std::string base;  // scheme://host[:port]
    std::string host;
    std::string ns;    // from ?ns=
};

Result<DatabaseUrl> parse_database_url(std::string url) {
    const std::string given = url;
    if (url.find("://") == std::string::npos) url = "https://" + url;
    DatabaseUrl parsed;
    const std::size_t scheme_end = url.find("://");
    const std::string scheme = url.substr(0, scheme_end);
    if (scheme != "https" && scheme != "http") {
        return make_error("database URL {} is not an http(s) URL", quote_name(given));
    }
    const std::size_t host_start = scheme_end + 3;
    const std::size_t host_end = url.find_first_of("/?#", host_start);
    parsed.host = url.substr(host_start, host_end == std::string::npos ? std::string::npos : host_end - host_start);
    if (parsed.host.empty() || parsed.host.find('@') != std::string::npos) {
        return make_error("database URL {} has no host (write https://<database>.firebaseio.com)", quote_name(given));
    }
    parsed.base = scheme + "://" + parsed.host;
    if (const std::size_t query = url.find('?'); query != std::string::npos) {
        std::string rest = url.substr(query + 1);
        if (const std::size_t hash = rest.find('#'); hash != std::string::npos) rest.resize(hash);
        for (const std::string& pair : split(rest, '&')) {
            if (pair.starts_with("ns=")) parsed.ns = pair.substr(3);
        }
    }
    return parsed;
}

// The database's name: ?ns=, else the first label of <db>.firebaseio.com or
// <db>.<region>.firebasedatabase.app.
std::string database_name(const DatabaseUrl& url) {
    if (!url.ns.empty()) return url.ns;
    std::string host = url.host.substr(0, url.host.find(':'));
    const std::size_t dot = host.find('.');
    if (dot == std::string::npos) return "";
    if (host.ends_with(".firebaseio.com") || host.ends_with(".firebasedatabase.app")) return host.substr(0, dot);
    return "";
}

std::string text_extra(const pyjson::Json& extras, const char* name) {
    auto found = extras.find(name);
    if (found == extras.end() || !found->is_string()) return "";
    return found->get<std::string>();
}

}  // namespace

std::string FirebaseTarget::describe() const {
    std::string where = base_url + (ns.empty() ? "" : " (database " + ns + ")");
    switch (auth) {
        case Auth::secret: return where + " with a database secret";
        case Auth::owner: return where + " as the emulator's owner";
        case Auth::google: return where + " with Google OAuth2 credentials";
    }
    return where;
}

Result<FirebaseTarget> read_firebase_target(const Connection& connection, const std::string& database_url,
                                            const std::map<std::string, std::string>& environment) {
    const std::string& id = connection.conn_id;
    ParsedExtra parsed = connection.parse_extra();
    if (parsed.problem) return make_error("connection '{}': {}", id, *parsed.problem);
    const bool firebase_type = connection.conn_type == "firebase";
    const bool google_type = connection.conn_type == "google_cloud_platform" || connection.conn_type == "gcp" ||
                             connection.conn_type == "gcpbigquery";
    if (!firebase_type && !google_type) {
        return make_error("connection '{}' is of type {}; firebase_export takes a firebase or a "
                          "google_cloud_platform connection",
                          id, connection.conn_type);
    }
    std::string url = database_url;
    if (url.empty()) url = text_extra(parsed.value, "database_url");
    if (url.empty() && firebase_type && connection.host && !connection.host->empty()) {
        url = *connection.host;
        if (connection.port) url += fmt::format(":{}", *connection.port);
    }
    if (url.empty()) {
        return make_error("no database URL: set the task's database_url, or the extra database_url (or, for a "
                          "firebase connection, the host) of connection '{}'",
                          id);
    }
    auto parsed_url = parse_database_url(url);
    if (!parsed_url) return parsed_url.error();

    FirebaseTarget target;
    target.base_url = parsed_url->base;
    target.ns = parsed_url->ns;
    std::optional<std::string> secret;
    if (firebase_type && connection.password) secret = *connection.password;
    if (auto emulator = environment.find("FIREBASE_DATABASE_EMULATOR_HOST");
        emulator != environment.end() && !emulator->second.empty()) {
        target.base_url = gcp::emulator_base_url(emulator->second);
        target.ns = database_name(*parsed_url);
        if (target.ns.empty()) {
            return make_error("FIREBASE_DATABASE_EMULATOR_HOST is set, but the database URL {} names no database: "
                              "write https://<database>.firebaseio.com or add ?ns=<database>",
                              quote_name(url));
        }
        target.auth = secret ? FirebaseTarget::Auth::secret : FirebaseTarget::Auth::owner;
        if (secret) target.secret = *secret;
        return target;
    }
    if (secret) {
        target.auth = FirebaseTarget::Auth::secret;
        target.secret = *secret;
        return target;
    }
    Connection google = connection;
    google.conn_type = "google_cloud_platform";
    auto credentials = gcp::read_gcp_connection(google, environment);
    if (!credentials) return credentials.error();
    credentials->scopes = {std::string(kUserinfoEmailScope), std::string(kFirebaseDatabaseScope)};
    target.auth = FirebaseTarget::Auth::google;
    target.gcp = std::move(*credentials);
    return target;
}

Result<std::vector<std::string>> split_database_path(std::string_view path) {
    std::vector<std::string> segments;
    std::string_view inner = path;
    if (inner.starts_with('/')) inner.remove_prefix(1);
    if (inner.ends_with('/')) inner.remove_suffix(1);
    if (inner.empty()) return segments;
    for (const std::string& segment : split(inner, '/')) {
        if (segment.empty()) {
            // "/reports//x" is most often a template that rendered to nothing: refusing it keeps a put
            // from replacing the parent ("/reports") instead of the child it was meant for.
            return make_error("path {} has an empty key between two '/' (did a template in it render to nothing?)",
                              quote_name(escape_invalid_utf8(path), 200));
        }
        if (auto problem = key_problem(segment)) {
            return make_error("path {}: the key {} {}", quote_name(escape_invalid_utf8(path), 200),
                              quote_name(escape_invalid_utf8(segment)), *problem);
        }
        segments.push_back(segment);
    }
    if (static_cast<int>(segments.size()) > kMaxDepth) {
        return make_error("path {} has {} keys; Firebase takes at most {}", quote_name(std::string(path), 200),
                          segments.size(), kMaxDepth);
    }
    return segments;
}

std::string join_database_path(const std::vector<std::string>& segments) {
    return segments.empty() ? "/" : "/" + join(segments, "/");
}

std::string firebase_error_text(const HttpResponse& response) {
    auto body = pyjson::parse_or_discarded(response.body);
    if (body.is_object() && body.contains("error") && body["error"].is_string()) return body["error"].get<std::string>();
    if (response.body.empty()) return "no body";
    std::string flat;
    for (char c : std::string_view(response.body).substr(0, 200)) flat += (c == '\n' || c == '\r') ? ' ' : c;
    return quote_for_message(escape_invalid_utf8(flat), 160);
}

FirebaseDatabase::FirebaseDatabase(HttpClient& http, FirebaseTarget target,
                                   std::shared_ptr<gcp::AccessTokenSource> tokens)
    : http_(http), target_(std::move(target)), tokens_(std::move(tokens)) {}

std::string FirebaseDatabase::url(const std::vector<std::string>& path, const std::string& query) const {
    std::string url = target_.base_url;
    for (const std::string& segment : path) url += "/" + url_encode(segment);
    url += path.empty() ? "/.json?" : ".json?";
    url += query;
    if (!target_.ns.empty()) url += "&ns=" + url_encode(target_.ns);
    if (target_.auth == FirebaseTarget::Auth::secret) url += "&auth=" + url_encode(target_.secret);
    return url;
}

void FirebaseDatabase::send(HttpRequest request, std::string what, std::function<void(Result<HttpResponse>)> done) {
    auto deliver = [what, done](HttpResponse response) {
        if (!response.answered()) return done(make_error("{}: {}", what, response.describe()));
        if (response.status < 200 || response.status >= 300) {
            return done(make_error("{} failed: HTTP {}: {}", what, response.status, firebase_error_text(response)));
        }
        done(std::move(response));
    };
    if (target_.auth == FirebaseTarget::Auth::owner) request.headers.emplace_back("Authorization", "Bearer owner");
    if (target_.auth != FirebaseTarget::Auth::google || !tokens_) {
        return http_.send(std::move(request), std::move(deliver));
    }
    HttpClient* http = &http_;
    tokens_->get([http, request = std::move(request), what, done, deliver](Result<gcp::AccessToken> token) mutable {
        if (!token) return done(make_error("{}: {}", what, token.error().message));
        request.headers.emplace_back("Authorization", "Bearer " + token->token);
        http->send(std::move(request), std::move(deliver));
    });
}

void FirebaseDatabase::write(const std::string& method, const std::vector<std::string>& path, std::string body,
                             Done done) {
    HttpRequest request;
    request.method = method;
    request.url = url(path, "print=silent");
    request.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    request.body = std::move(body);
    request.repeatable = true;  // a PATCH names the children it replaces: sending it twice does no harm
    request.timeout = std::chrono::seconds(120);
    send(std::move(request), fmt::format("{} {}", method, join_database_path(path)),
         [done](Result<HttpResponse> response) { done(response ? Status::success() : Status(response.error())); });
}

void FirebaseDatabase::read_shallow(const std::vector<std::string>& path, Read done) {
    HttpRequest request;
    request.method = "GET";
    request.url = url(path, "shallow=true");
    const std::string what = fmt::format("GET {}", join_database_path(path));
    send(std::move(request), what, [done, what](Result<HttpResponse> response) {
        if (!response) return done(response.error());
        auto body = pyjson::parse_or_discarded(response->body);
        if (body.is_discarded()) return done(make_error("{} answered with a body that is not JSON", what));
        done(std::move(body));
    });
}

}  // namespace mayaflow::firebase
