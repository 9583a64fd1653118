#include "operators/gcp/gcp_services.h"

#include <fmt/format.h>

#include <future>

#include "engine/connections/connection_testing.h"
#include "engine/http/curl_http_client.h"
#include "operators/operator.h"

namespace mayaflow::gcp {

GcpServices& GcpServices::shared() {
    // Destroyed at exit, after the executor has ended every try: calls still in flight then end
    // with "the HTTP client stopped".
    static GcpServices services(std::make_shared<CurlHttpClient>());
    return services;
}

GcpServices::GcpServices(std::shared_ptr<HttpClient> transport, HttpRetryPolicy retry)
    : retry_(retry), transport_(std::move(transport)) {}

HttpClient& GcpServices::http(int num_retries) {
    std::lock_guard lock(mutex_);
    auto& client = retrying_[num_retries];
    if (!client) {
        HttpRetryPolicy policy = retry_;
        policy.max_attempts = std::max(1, num_retries + 1);
        client = std::make_unique<RetryingHttpClient>(*transport_, policy);
    }
    return *client;
}

std::shared_ptr<AccessTokenSource> GcpServices::tokens_for(const GcpConnection& connection) {
    HttpClient& client = http(connection.num_retries);
    std::lock_guard lock(mutex_);
    auto& source = token_sources_[connection.cache_key()];
    if (source) return source;
    if (connection.access_token) {
        source = std::make_shared<StaticTokenSource>(*connection.access_token);
    } else if (connection.key) {
        source = std::make_shared<ServiceAccountTokenSource>(client, *connection.key, connection.scopes,
                                                             connection.key_where, connection.endpoints.token_uri);
    } else {
        source = std::make_shared<MetadataTokenSource>(client, connection.endpoints.metadata, connection.scopes);
    }
    return source;
}

void register_gcp_connection_test() {
    static std::once_flag once;
    std::call_once(once, [] {
        ConnectionTest test = [](const Connection& connection) {
            auto gcp = read_gcp_connection(connection, daemon_environment());
            if (!gcp) return ConnectionTestResult{false, gcp.error().message};
            auto tokens = GcpServices::shared().tokens_for(*gcp);
            std::promise<Result<AccessToken>> fetched;
            tokens->get([&fetched](Result<AccessToken> token) { fetched.set_value(std::move(token)); });
            auto token = fetched.get_future().get();
            if (!token) return ConnectionTestResult{false, token.error().message};
            return ConnectionTestResult{
                true, fmt::format("got an access token for {}{}", tokens->describe(),
                                  gcp->project.empty() ? "" : fmt::format(" (project {})", gcp->project))};
        };
        for (const char* type : {"google_cloud_platform", "gcpbigquery", "gcp"}) register_connection_test(type, test);
    });
}

}  // namespace mayaflow::gcp
