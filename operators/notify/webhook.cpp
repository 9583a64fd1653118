#include "operators/notify/webhook.h"

#include <strings.h>

#include <fmt/format.h>

#include <cctype>

#include "engine/connections/secrets_lookup.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "operators/notify/notify_http.h"

namespace mayaflow::notify {

std::string base64(std::string_view bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
    }
    if (i < bytes.size()) {
        unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

Result<Connection> find_http_connection(ConnectionSource* connections, const std::string& conn_id) {
    if (!connections) return make_error("no connections are available to read '{}'", conn_id);
    auto found = connections->find_connection(conn_id);
    if (!found) return found.error();
    if (!*found) {
        std::string upper = conn_id;
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return make_error("The conn_id `{}` isn't defined: add it with `mayaflow connections add {} --conn-type http "
                          "--conn-host <URL>` or AIRFLOW_CONN_{}",
                          conn_id, conn_id, upper);
    }
    return **found;
}

Result<HttpRequest> webhook_request(const Connection& connection, const std::string& endpoint,
                                    const nlohmann::json& body, const nlohmann::json& headers) {
    auto trimmed_host = trimmed_webhook_url(connection.host.value_or(""), connection.conn_id);
    if (!trimmed_host) return trimmed_host.error();
    const std::string& host = *trimmed_host;
    if (host.empty()) return make_error("connection '{}' has no host: set it to the webhook's URL", connection.conn_id);
    std::string url;
    if (host.find("://") != std::string::npos) {
        url = host;
    } else {
        const std::string schema = connection.schema.value_or("");
        url = (schema.empty() ? std::string("http") : schema) + "://" + host;
        if (connection.port) url += fmt::format(":{}", *connection.port);
    }
    if (!endpoint.empty()) {
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += endpoint.front() == '/' ? endpoint : "/" + endpoint;
    }
    HttpRequest request;
    request.method = "POST";
    request.url = std::move(url);
    request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    if (connection.login && !connection.login->empty()) {
        request.headers.emplace_back("Authorization",
                                     "Basic " + base64(*connection.login + ":" + connection.password.value_or("")));
    }
    auto add_headers = [&](const auto& object) {
        if (!object.is_object()) return;
        for (const auto& [name, value] : object.items()) {
            std::erase_if(request.headers, [&name = name](const auto& header) {
                return strcasecmp(header.first.c_str(), name.c_str()) == 0;
            });
            request.headers.emplace_back(name, value.is_string() ? value.template get<std::string>() : value.dump());
        }
    };
    auto extra = connection.parse_extra();
    if (extra.problem) return make_error("connection '{}': {}", connection.conn_id, *extra.problem);
    add_headers(extra.value);
    add_headers(headers);
    request.body = dump_json(body);
    request.timeout = kNotifyTimeout;
    request.repeatable = false;
    return request;
}

Status webhook_outcome(const PostOutcome& posted, std::string_view conn_id) {
    if (posted.cancelled) return make_error("not posted to the webhook of connection '{}': {}", conn_id, posted.ended_early);
    Status answered = webhook_outcome(posted.response, conn_id);
    if (answered || posted.ended_early.empty()) return answered;
    return make_error("{}; {}", answered.error().message, posted.ended_early);
}

Status webhook_outcome(const HttpResponse& response, std::string_view conn_id) {
    if (!response.answered()) {
        std::string why = response.describe();
        if (response.transport_error == TransportError::dropped || response.transport_error == TransportError::timeout) {
            why += "; not sent again, as it may have been received";
        }
        return make_error("could not post to the webhook of connection '{}': {}", conn_id, why);
    }
    if (response.ok()) return Status::success();
    return make_error("the webhook of connection '{}' answered HTTP {}{}{}", conn_id, response.status,
                      response.body.empty() ? "" : ": ", shorten_message(response.body, 200));
}

}  // namespace mayaflow::notify
