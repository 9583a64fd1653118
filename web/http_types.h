#pragma once
// Plain HTTP request and response values, so that routing and handlers never see Beast.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace mayaflow {

struct WebRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // path and query, as sent
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string peer;  // the client's address ("127.0.0.1"), for throttling failed logins
};

// An answer sent piece by piece after its headers (server-sent events): `next` is called on one of
// the server's threads, at once and then every `interval`; it appends what to send now to `out`
// (nothing is fine) and returns false when the stream is over. The server ends it too when the
// client goes away or the server stops.
struct ResponseStream {
    std::function<bool(std::string& out)> next;
    std::chrono::milliseconds interval{500};
};

struct WebResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::map<std::string, std::string> headers;
    std::shared_ptr<ResponseStream> stream;  // set: the body is streamed (the body field is not sent)
};

}  // namespace mayaflow
