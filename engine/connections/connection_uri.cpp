#include "engine/connections/connection_uri.h"

#include <fmt/format.h>

#include "engine/connections/python_url.h"
#include "engine/connections/sensitive_fields.h"
#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

constexpr std::string_view kExtraKey = "__extra__";

std::size_t count_occurrences(std::string_view text, std::string_view pattern) {
    std::size_t count = 0;
    for (auto at = text.find(pattern); at != std::string_view::npos;
         at = text.find(pattern, at + pattern.size())) {
        ++count;
    }
    return count;
}

// Python's str.replace(old, new): every occurrence, left to right.
std::string replace_all(std::string_view text, std::string_view old_text, std::string_view new_text) {
    std::string out;
    std::size_t start = 0;
    for (auto at = text.find(old_text); at != std::string_view::npos; at = text.find(old_text, start)) {
        out.append(text.substr(start, at - start)).append(new_text);
        start = at + old_text.size();
        if (old_text.empty()) break;
    }
    out.append(text.substr(start));
    return out;
}

// _parse_netloc_to_hostname: the host, lower-cased by urlsplit unless it holds a '/' once decoded.
std::string hostname_from(const pyurl::SplitUrl& parts) {
    std::string hostname = pyurl::unquote(parts.hostname().value_or(""));
    if (hostname.find('/') == std::string::npos) return hostname;
    std::string_view raw = parts.netloc;
    if (auto at = raw.rfind('@'); at != std::string_view::npos) raw = raw.substr(at + 1);
    if (auto colon = raw.find(':'); colon != std::string_view::npos) raw = raw.substr(0, colon);
    return pyurl::unquote(raw);
}

std::string quote_all(std::string_view text) {
    return pyurl::quote(text, "");
}

// The query part of get_uri(): the extras as parameters when they are a flat object of strings
// (what survives urlencode and parse_qsl unchanged), else the whole extra under __extra__.
std::string extra_query(const std::string& extra) {
    auto parsed = pyjson::loads(extra);
    if (parsed && parsed->is_object() && !parsed->empty()) {
        pyurl::QueryPairs pairs;
        bool all_strings = true;
        for (auto it = parsed->begin(); it != parsed->end() && all_strings; ++it) {
            all_strings = it.value().is_string();
            if (all_strings) pairs.emplace_back(it.key(), it.value().get<std::string>());
        }
        if (all_strings) return pyurl::urlencode(pairs);
    }
    return pyurl::urlencode({{std::string(kExtraKey), extra}});
}

// get_uri() with the password written as given (already encoded) rather than quoted.
std::string build_uri(const Connection& connection, const std::optional<std::string>& encoded_password,
                      const std::optional<std::string>& extra) {
    std::string uri;
    if (!connection.conn_type.empty()) {
        std::string scheme = pyurl::python_lower(connection.conn_type);
        for (char& c : scheme) {
            if (c == '_') c = '-';
        }
        uri = scheme + "://";
    } else {
        uri = "//";
    }
    std::optional<std::string> host = connection.host;
    if (host) {
        if (auto at = host->find("://"); at != std::string::npos) {
            std::string protocol = host->substr(0, at);
            host = host->substr(at + 3);
            if (!protocol.empty()) uri += protocol + "://";
        }
    }
    std::string authority;
    if (connection.login) authority += quote_all(*connection.login);
    if (encoded_password) authority += ":" + *encoded_password;
    if (!authority.empty()) {
        authority += "@";
        uri += authority;
    }
    std::string host_block;
    if (host && !host->empty()) host_block += quote_all(*host);
    if (connection.port && *connection.port != 0) {
        host_block +=
            fmt::format("{}:{}", host_block.empty() && authority.empty() ? "@" : "", *connection.port);
    }
    bool has_schema = connection.schema && !connection.schema->empty();
    if (has_schema) host_block += "/" + quote_all(*connection.schema);
    uri += host_block;
    if (extra && !extra->empty()) uri += (has_schema ? "?" : "/?") + extra_query(*extra);
    return uri;
}

}  // namespace

Result<Connection> connection_from_uri(std::string conn_id, std::string_view uri) {
    if (!is_valid_utf8(uri)) return make_error("the connection URI is not UTF-8 text");
    auto schemes = count_occurrences(uri, "://");
    if (schemes > 2) {
        return make_error(
            "invalid connection URI: it holds '://' {} times; Airflow allows two at most (the "
            "type, then a protocol inside the host as in http://https://host)",
            schemes);
    }
    bool host_with_protocol = schemes == 2;
    auto first = pyurl::urlsplit(uri);
    if (!first) return make_error("invalid connection URI: {}", first.error().message);
    std::string scheme = first->scheme;
    std::string rest = replace_all(uri, scheme + "://", host_with_protocol ? "" : "//");
    if (host_with_protocol) {
        std::string_view before = std::string_view(rest).substr(0, rest.find("://"));
        if (before.find('@') != std::string_view::npos || before.find(':') != std::string_view::npos) {
            return make_error(
                "invalid connection URI: the protocol inside the host (before its '://') cannot "
                "hold '@' or ':'");
        }
    }
    auto parts = pyurl::urlsplit(rest);
    if (!parts) return make_error("invalid connection URI: {}", parts.error().message);
    auto port = parts->port();
    if (!port) return make_error("invalid connection URI: {}", port.error().message);

    Connection connection;
    connection.conn_id = std::move(conn_id);
    connection.conn_type = normalize_conn_type(scheme);
    std::string host = hostname_from(*parts);
    if (host_with_protocol && !host.empty() && !parts->scheme.empty()) host = parts->scheme + "://" + host;
    connection.host = host;
    std::string_view quoted_schema = std::string_view(parts->path).substr(parts->path.empty() ? 0 : 1);
    connection.schema = pyurl::unquote(quoted_schema);
    if (auto login = parts->username()) connection.login = pyurl::unquote(*login);
    if (auto password = parts->password()) connection.set_password(pyurl::unquote(*password));
    connection.port = *port;
    if (!parts->query.empty()) {
        pyjson::Json query = pyjson::Json::object();
        for (auto& [key, value] : pyurl::parse_qsl(parts->query)) query[key] = value;
        if (query.contains(kExtraKey)) {
            connection.extra = query[std::string(kExtraKey)].get<std::string>();
        } else {
            connection.extra = pyjson::dumps(query);
        }
    }
    return connection;
}

std::string connection_to_uri(const Connection& connection) {
    std::optional<std::string> password;
    if (connection.password) password = quote_all(*connection.password);
    return build_uri(connection, password, connection.extra);
}

std::string connection_to_display_uri(const Connection& connection) {
    std::optional<std::string> password;
    if (connection.password) password = "***";
    std::optional<std::string> extra = connection.extra;
    auto parsed = connection.parse_extra();
    if (!parsed.problem && parsed.value.is_object() && !parsed.value.empty()) {
        extra = pyjson::dumps(redact_sensitive_fields(parsed.value));
    } else if (parsed.problem && parsed.value.is_object()) {
        extra = "***";  // not JSON (or nested too deep to read): what it holds cannot be told safe
    }
    return build_uri(connection, password, extra);
}

std::string mask_uri_password(std::string_view uri) {
    // The authority is what follows the last "://" (a protocol inside the host comes before it).
    auto scheme_end = uri.rfind("://");
    std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    if (scheme_end == std::string_view::npos && uri.starts_with("//")) start = 2;
    auto end = std::min(uri.find_first_of("/?#", start), uri.size());
    auto netloc = uri.substr(start, end - start);
    auto at = netloc.rfind('@');
    if (at == std::string_view::npos) return std::string(uri);
    auto colon = netloc.substr(0, at).find(':');
    if (colon == std::string_view::npos) return std::string(uri);
    std::string masked(uri.substr(0, start + colon + 1));
    masked += "******";
    masked.append(uri.substr(start + at));
    return masked;
}

}  // namespace mayaflow
