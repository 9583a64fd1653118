#pragma once
// What an outbound HTTP call sends and what comes back: plain data, no I/O. The transport
// (curl_http_client.h) and the retry rules (http_retry.h) work on these.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/time/instant.h"

namespace mayaflow {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    HttpHeaders headers;
    std::string body;
    Duration connect_timeout = std::chrono::seconds(10);
    // The whole exchange, from the first byte sent to the last byte read.
    Duration timeout = std::chrono::seconds(60);
    // Sending it twice does no harm although its method is not idempotent: a POST that inserts a
    // BigQuery job under a fixed job id (the second insert answers 409). GET, HEAD, PUT, DELETE and
    // OPTIONS are repeatable anyway.
    bool repeatable = false;

    bool idempotent() const;
    // "POST https://host/path" without the query string (which may hold a token).
    std::string describe() const;
};

// Why no answer came.
enum class TransportError {
    none,         // an answer came (any status)
    connect,      // no connection was made: the request was certainly not sent
    timeout,      // the connect or total timeout passed
    dropped,      // the connection broke after the request went out: it may have been acted on
    tls,          // the certificate could not be verified, or the TLS handshake failed
    other,        // anything else (a malformed URL, the client stopping)
};

struct HttpResponse {
    int status = 0;  // 0 when no answer came
    HttpHeaders headers;  // names lower-cased, in the order received
    std::string body;
    TransportError transport_error = TransportError::none;
    std::string error;  // what went wrong, when no answer came
    int attempts = 1;   // how many times the request was sent (retries included)

    bool answered() const { return transport_error == TransportError::none; }
    bool ok() const { return answered() && status >= 200 && status < 300; }
    // The first header of that name (any case), if any.
    std::optional<std::string_view> header(std::string_view name) const;
    // "HTTP 503", or "connection dropped after the request was sent: <curl's words>".
    std::string describe() const;
};

// Percent-encodes `text` for one URL path segment or query value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view text);

}  // namespace mayaflow
