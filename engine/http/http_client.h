#pragma once
// HttpClient is how mayaflow calls out over HTTP(S): asynchronous, so that a thousand BigQuery jobs
// being waited for cost a few callbacks, not a thousand threads. Callbacks and timers run on the
// client's own I/O thread: they must be quick and must not wait for another call (send_and_wait
// from a callback would deadlock).

#include <functional>

#include "engine/http/http_message.h"

namespace mayaflow {

class HttpClient {
  public:
    using Callback = std::function<void(HttpResponse)>;
    virtual ~HttpClient() = default;

    // Sends `request`; `done` gets the response (or why none came), once, on the I/O thread.
    virtual void send(HttpRequest request, Callback done) = 0;
    // Calls `action` on the I/O thread after `delay`.
    virtual void run_after(Duration delay, std::function<void()> action) = 0;

    // send() for a thread that may wait (never the I/O thread).
    HttpResponse send_and_wait(HttpRequest request);
};

}  // namespace mayaflow
