#pragma once
// The API's endpoint families, each adding its routes to the table from its own file.

#include "web/api/api_context.h"
#include "web/api/route_table.h"

namespace mayaflow {

void add_monitor_routes(RouteTable& table, ApiContext& context);  // health, version
void add_dag_routes(RouteTable& table, ApiContext& context);      // dags, dagWarnings, importErrors
void add_event_routes(RouteTable& table, ApiContext& context);    // mayaflow/events: the live stream
void add_log_routes(RouteTable& table, ApiContext& context);       // a try's log
void add_xcom_routes(RouteTable& table, ApiContext& context);      // xcomEntries: a task's result
void add_notebook_routes(RouteTable& table, ApiContext& context);  // a try's executed notebook
void add_source_routes(RouteTable& table, ApiContext& context);    // dagSources and a DAG's source
void add_cost_routes(RouteTable& table, ApiContext& context);      // BigQuery cost per DAG, day and try

}  // namespace mayaflow
