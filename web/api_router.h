#pragma once
// ApiRouter answers the REST API (/api/v1, shaped like Airflow's stable API) and the UI's pages:
// it finds the route (web/api/route_table.h), finds out who asks (web/auth/authenticator.h),
// checks the route's permission against the user's roles, and calls the route's handler. Errors
// are RFC 7807 problem JSON that say what was wrong and what to do. HEAD is answered wherever GET
// is; a method a path does not answer gets 405 with an Allow header. Every answer carries the
// security headers.

#include "web/api/api_context.h"
#include "web/api/route_table.h"
#include "web/auth/authenticator.h"
#include "web/http_types.h"

namespace mayaflow {

class ApiRouter {
  public:
    // `context` and `authenticator` must outlive the router.
    ApiRouter(ApiContext& context, Authenticator& authenticator);

    WebResponse handle(const WebRequest& request);

    const RouteTable& routes() const { return table_; }

  private:
    // `route` is set to the pattern of the route that answered, for the metrics.
    WebResponse dispatch(const WebRequest& request, std::string& route);

    ApiContext& context_;
    Authenticator& authenticator_;
    RouteTable table_;
};

}  // namespace mayaflow
