#pragma once
// HttpServer serves HTTP/1.1 on one address with a few I/O threads, handing each request to a
// handler on a pool of handler threads. It protects itself, and the daemon it runs in, from slow, greedy or numerous clients:
// limits on header and body sizes, timeouts for idle connections and for slow requests, and a cap
// on connections held open, kept well under the process's descriptor limit so that the
// scheduler's own files never go without. At the cap, or when descriptors run out anyway, it
// closes the connections that wait idle, oldest first, and refuses new ones rather than spin.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/time/instant.h"
#include "engine/util/result.h"
#include "web/http_types.h"

namespace mayaflow {

using HttpHandler = std::function<WebResponse(const WebRequest&)>;

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;  // 0 picks a free port
    int threads = 2;
    size_t max_body_bytes = 4 * 1024 * 1024;
    size_t max_header_bytes = 16 * 1024;
    // Connections open at once; never more than half the process's descriptor limit (RLIMIT_NOFILE).
    int max_connections = 512;
    // How long a connection may wait for its next request (or its first one) before it is closed.
    Duration keep_alive_timeout = std::chrono::seconds(5);
    // How long the request line and headers may take to arrive, once the first byte has.
    Duration header_timeout = std::chrono::seconds(10);
    // How long reading one request's body and writing its answer may take.
    Duration request_timeout = std::chrono::seconds(30);
    // Handlers run on their own threads, not on the `threads` that read and write: a request that
    // checks a password (PBKDF2) or waits for the scheduler holds one of these, while reads, writes
    // and the inline paths go on. More than this many slow requests at once wait their turn.
    int handler_threads = 16;
    // Paths (without the query) whose handler is cheap and must answer even when every handler
    // thread is busy: run on the I/O thread that read the request.
    std::vector<std::string> inline_paths = {"/health", "/api/v1/health"};
};

class HttpServer {
  public:
    HttpServer(HttpServerOptions options, HttpHandler handler);
    ~HttpServer();

    // Binds and starts serving; returns the port it listens on.
    Result<int> start();
    void stop();

    // The connection cap in force: the setting, lowered to half the descriptor limit.
    int max_connections() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mayaflow
