#include "operators/notify/notify_http.h"

#include <memory>

#include "engine/http/curl_http_client.h"

namespace mayaflow::notify {
namespace {

struct NotifyClients {
    NotifyClients() : transport(std::make_unique<CurlHttpClient>()) {
        retrying = std::make_unique<RetryingHttpClient>(*transport, kNotifyRetry);
    }
    std::unique_ptr<RetryingHttpClient> retrying;
    // Declared last, so destroyed first: the calls it ends as it stops call back into `retrying`.
    std::unique_ptr<CurlHttpClient> transport;
};

}  // namespace

HttpClient& notify_http() {
    static NotifyClients clients;
    return *clients.retrying;
}

}  // namespace mayaflow::notify
