#pragma once
// CurlHttpClient is the transport: libcurl's multi interface on one I/O thread, so any number of
// calls can be in flight at once. HTTPS is verified against the system's certificate authorities;
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured (libcurl reads them); connections are reused.
// It sends each request once: RetryingHttpClient (http_retry.h) decides about sending it again.

#include <memory>

#include "engine/http/http_client.h"

namespace mayaflow {

class CurlHttpClient : public HttpClient {
  public:
    CurlHttpClient();
    // Stops the I/O thread; calls still in flight end with TransportError::other ("the HTTP client
    // stopped"), and timers not yet due are dropped.
    ~CurlHttpClient() override;
    CurlHttpClient(const CurlHttpClient&) = delete;
    CurlHttpClient& operator=(const CurlHttpClient&) = delete;

    void send(HttpRequest request, Callback done) override;
    void run_after(Duration delay, std::function<void()> action) override;

    // Calls in flight now (for tests and metrics).
    std::size_t in_flight() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mayaflow
