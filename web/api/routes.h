#pragma once
// The API's endpoint families, each adding its routes to the table from its own file.

#include "web/api/api_context.h"
#include "web/api/route_table.h"

namespace mayaflow {

void add_monitor_routes(RouteTable& table, ApiContext& context);  // health, version
void add_dag_routes(RouteTable& table, ApiContext& context);      // dags, dagWarnings, importErrors
void add_event_routes(RouteTable& table, ApiContext& context);    // mayaflow/events: the live stream
void add_config_routes(RouteTable& table, ApiContext& context);   // config
void add_pool_routes(RouteTable& table, ApiContext& context);        // pools
void add_variable_routes(RouteTable& table, ApiContext& context);    // variables
void add_connection_routes(RouteTable& table, ApiContext& context);  // connections, mayaflow/connections/export
void add_backfill_routes(RouteTable& table, ApiContext& context);    // backfills (Airflow 3's shapes)
void add_dag_run_routes(RouteTable& table, ApiContext& context);        // dagRuns
void add_task_instance_routes(RouteTable& table, ApiContext& context);  // taskInstances
void add_user_routes(RouteTable& table, ApiContext& context);     // users, roles, mayaflow/session, mayaflow/tokens
void add_log_routes(RouteTable& table, ApiContext& context);       // a try's log
void add_xcom_routes(RouteTable& table, ApiContext& context);      // xcomEntries: a task's result
void add_notebook_routes(RouteTable& table, ApiContext& context);  // a try's executed notebook
void add_source_routes(RouteTable& table, ApiContext& context);    // dagSources and a DAG's source
void add_cost_routes(RouteTable& table, ApiContext& context);      // BigQuery cost per DAG, day and try
// mayaflow/dagSummaries, mayaflow/dags/{dag_id}/schedule, mayaflow/standins: what the web UI needs
void add_overview_routes(RouteTable& table, ApiContext& context);
// mayaflow/…/taskInstances/{task_id}/rendered: a task instance's templated parameters, rendered, secrets masked
void add_rendered_routes(RouteTable& table, ApiContext& context);

}  // namespace mayaflow
