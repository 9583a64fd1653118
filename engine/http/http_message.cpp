#include "engine/http/http_message.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace mayaflow {
namespace {

bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

bool HttpRequest::idempotent() const {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

std::string HttpRequest::describe() const {
    return fmt::format("{} {}", method, std::string_view(url).substr(0, url.find('?')));
}

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (same_name(key, name)) return std::string_view(value);
    }
    return std::nullopt;
}

std::string HttpResponse::describe() const {
    switch (transport_error) {
        case TransportError::none:
            return fmt::format("HTTP {}", status);
        case TransportError::connect:
            return "cannot connect: " + error;
        case TransportError::timeout:
            return "timed out: " + error;
        case TransportError::dropped:
            return "connection dropped after the request was sent: " + error;
        case TransportError::tls:
            return "TLS failed: " + error;
        case TransportError::other:
            break;
    }
    return error;
}

std::string url_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

}  // namespace mayaflow
