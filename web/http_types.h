#pragma once
// Plain HTTP request and response values, so that routing and handlers never see Beast.

#include <map>
#include <string>

namespace mayaflow {

struct WebRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // path and query, as sent
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string peer;  // the client's address ("127.0.0.1"), for throttling failed logins
};

struct WebResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::map<std::string, std::string> headers;
};

}  // namespace mayaflow
