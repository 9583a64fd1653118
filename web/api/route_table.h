#pragma once
// RouteTable: the API's routes, each a method, a path pattern with {name} segments, the permission
// it needs and its handler. It is the one list of what the server answers: the router dispatches
// from it, and a test compares it with the OpenAPI document.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "web/api/api_request.h"
#include "web/auth/access.h"

namespace mayaflow {

using RouteHandler = std::function<WebResponse(const ApiRequest&)>;

struct Route {
    std::string method;   // GET, POST, PATCH, PUT, DELETE (HEAD is answered wherever GET is)
    std::string pattern;  // "/api/v1/dags/{dag_id}"
    Access access;
    RouteHandler handler;
    std::vector<std::string> segments;  // the pattern split at '/'
};

struct RouteMatch {
    const Route* route = nullptr;  // null: no route for this method (see allowed) or path (allowed empty)
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  // the methods the path answers, when the method is not one of them
};

class RouteTable {
  public:
    void add(std::string method, std::string pattern, Access access, RouteHandler handler);

    // `segments` are the path's segments, percent-decoded. Where two patterns match, the one with a
    // literal segment where the other has a parameter wins (`/connections/export` over
    // `/connections/{connection_id}`).
    RouteMatch match(const std::string& method, const std::vector<std::string>& segments) const;

    const std::vector<Route>& routes() const { return routes_; }

  private:
    std::vector<Route> routes_;
};

}  // namespace mayaflow
