#pragma once
// The API's endpoint families, each adding its routes to the table from its own file.

#include "web/api/api_context.h"
#include "web/api/route_table.h"

namespace mayaflow {

void add_monitor_routes(RouteTable& table, ApiContext& context);  // health, version
void add_dag_routes(RouteTable& table, ApiContext& context);      // dags, dagWarnings, importErrors
void add_event_routes(RouteTable& table, ApiContext& context);    // mayaflow/events: the live stream
void add_config_routes(RouteTable& table, ApiContext& context);   // config

}  // namespace mayaflow
