#pragma once
// HttpServer serves HTTP/1.1 on one address with a few threads, handing each request to a
// handler. Keep-alive, a body limit and read timeouts protect it from slow or greedy clients.

#include <functional>
#include <memory>
#include <string>

#include "engine/util/result.h"
#include "web/http_types.h"

namespace mayaflow {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;  // 0 picks a free port
    int threads = 2;
    size_t max_body_bytes = 4 * 1024 * 1024;
};

class HttpServer {
  public:
    HttpServer(HttpServerOptions options, HttpHandler handler);
    ~HttpServer();

    // Binds and starts serving; returns the port it listens on.
    Result<int> start();
    void stop();

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mayaflow
