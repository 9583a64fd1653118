#pragma once
// GcpServices is what every Google Cloud operator of one process shares: one HTTP client (one I/O
// thread for every call in flight, with Google's retry rules in front) and one access-token source
// per set of credentials, so that a thousand BigQuery tasks on one connection fetch one token.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/http/http_client.h"
#include "engine/http/http_retry.h"
#include "operators/gcp/access_token_source.h"
#include "operators/gcp/gcp_connection.h"
#include "operators/gcp/google_api.h"

namespace mayaflow::gcp {

class GcpServices {
  public:
    // The process's services, made at first use: libcurl behind RetryingHttpClient.
    static GcpServices& shared();

    // Over a transport of the caller's (tests); `retry` as Google advises by default.
    GcpServices(std::shared_ptr<HttpClient> transport, HttpRetryPolicy retry = {});

    // The shared client that sends a call at most `num_retries` + 1 times (the connection's extra).
    HttpClient& http(int num_retries = 5);

    // The token source for the connection's credentials (made once, then shared).
    std::shared_ptr<AccessTokenSource> tokens_for(const GcpConnection& connection);

    // A GoogleApi for the connection: its credentials and its num_retries, over the shared client.
    GoogleApi api_for(const GcpConnection& connection) {
        return GoogleApi(http(connection.num_retries), tokens_for(connection));
    }

  private:
    HttpRetryPolicy retry_;
    std::mutex mutex_;
    std::map<int, std::unique_ptr<RetryingHttpClient>> retrying_;  // by num_retries
    std::map<std::string, std::shared_ptr<AccessTokenSource>> token_sources_;
    // Declared last, so destroyed first: the calls it ends as it stops call back into the retrying
    // clients and token sources above, which must still be there.
    std::shared_ptr<HttpClient> transport_;
};

// Registers `connections test` for google_cloud_platform connections: fetches a token and says for
// which account (Airflow's test_connection of the GCP hook does the same).
void register_gcp_connection_test();

}  // namespace mayaflow::gcp
