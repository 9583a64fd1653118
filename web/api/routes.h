#pragma once
// The API's endpoint families, each adding its routes to the table from its own file.

#include "web/api/api_context.h"
#include "web/api/route_table.h"

namespace mayaflow {

void add_monitor_routes(RouteTable& table, ApiContext& context);  // health, version
void add_dag_routes(RouteTable& table, ApiContext& context);      // dags, dagWarnings, importErrors
void add_user_routes(RouteTable& table, ApiContext& context);     // users, roles, mayaflow/session, mayaflow/tokens

}  // namespace mayaflow
