#include "web/api/problem.h"

#include "engine/util/utf8.h"

namespace mayaflow {

WebResponse json_response(const nlohmann::json& body, int status) {
    return WebResponse{status, "application/json", dump_json(body), {}};
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 413: return "Payload Too Large";
        case 415: return "Unsupported Media Type";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "Error";
    }
}

WebResponse problem(int status, const std::string& title, const std::string& detail) {
    nlohmann::json body = {{"type", "about:blank"}, {"title", title}, {"status", status}, {"detail", detail}};
    return WebResponse{status, "application/problem+json", dump_json(body), {}};
}

WebResponse problem(int status, const std::string& detail) {
    return problem(status, std::string(reason_phrase(status)), detail);
}

WebResponse bad_request(const std::string& detail) { return problem(400, detail); }
WebResponse not_found(const std::string& detail) { return problem(404, detail); }
WebResponse conflict(const std::string& detail) { return problem(409, detail); }

WebResponse store_unavailable(const Error& error) {
    return problem(503, error.message + "; the request changed nothing, try it again in a moment");
}

}  // namespace mayaflow
