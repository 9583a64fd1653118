#pragma once
// A plain webhook: a JSON body POSTed to the URL of an `http` connection, as Airflow's HttpHook
// builds it — host (a full URL, or a host name with schema, default http, and port) plus the
// endpoint; login and password sent as basic auth; the extra's members sent as headers. The URL is
// never quoted in a message, since webhooks often carry their secret in it.

#include <nlohmann/json.hpp>

#include <string>

#include "engine/connections/connection.h"
#include "engine/http/http_message.h"
#include "engine/util/result.h"
#include "operators/notify/notify_http.h"

namespace mayaflow {
class ConnectionSource;
}

namespace mayaflow::notify {

// The request that POSTs `body` to the connection's URL (its ends trimmed of whitespace) + `endpoint`,
// with `headers` over the extra's.
Result<HttpRequest> webhook_request(const Connection& connection, const std::string& endpoint,
                                    const nlohmann::json& body, const nlohmann::json& headers);
Result<Connection> find_http_connection(ConnectionSource* connections, const std::string& conn_id);

// Success for any 2xx; otherwise the status and the first 200 characters of the answer.
Status webhook_outcome(const HttpResponse& response, std::string_view conn_id);
// The same for what post_within ended with, saying why it ended early when it did.
Status webhook_outcome(const PostOutcome& posted, std::string_view conn_id);

std::string base64(std::string_view bytes);

}  // namespace mayaflow::notify
