#pragma once
// Settings say where mayaflow keeps its files and how it serves. Each comes from, in order of
// precedence: a command-line flag, an environment variable, $MAYAFLOW_HOME/mayaflow.yaml, or the
// default. See docs/configuration.md.

#include <filesystem>
#include <map>
#include <string>

#include "engine/model/work_cost.h"
#include "engine/store/sqlite_store.h"
#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

struct Settings {
    std::filesystem::path home;         // MAYAFLOW_HOME, default ~/mayaflow
    std::filesystem::path dags_folder;  // MAYAFLOW_DAGS_FOLDER, default <home>/dags
    std::filesystem::path database;     // MAYAFLOW_DATABASE, default <home>/mayaflow.db
    std::filesystem::path logs_folder;  // MAYAFLOW_LOGS_FOLDER, default <home>/logs
    std::string web_host = "127.0.0.1";  // MAYAFLOW_WEB_HOST
    int web_port = 8080;                  // MAYAFLOW_WEB_PORT
    // MAYAFLOW_BASE_URL: the web UI's address as its users reach it (Airflow's [webserver] base_url),
    // for the links in notifications; empty: http://<web_host>:<the port it listens on>.
    std::string base_url;
    // MAYAFLOW_WEB_MAX_CONNECTIONS: HTTP connections open at once; never more than half the
    // process's descriptor limit, so that the scheduler's own files always have room.
    int web_max_connections = 512;
    // MAYAFLOW_WEB_KEEP_ALIVE_TIMEOUT: how long an idle keep-alive connection stays open.
    Duration web_keep_alive_timeout = std::chrono::seconds(5);
    Duration dag_scan_interval = std::chrono::milliseconds(500);  // MAYAFLOW_DAG_SCAN_INTERVAL
    Durability durability = Durability::full;  // MAYAFLOW_DURABILITY: full | normal
    std::string log_level = "info";                                // MAYAFLOW_LOG_LEVEL
    std::string log_format = "text";  // MAYAFLOW_LOG_FORMAT: text | json (one JSON object per line)
    int parallelism = 32;  // MAYAFLOW_PARALLELISM: task tries running at once
    // MAYAFLOW_SHUTDOWN_GRACE_PERIOD: on SIGTERM, how long running tries may go on finishing before
    // they are ended and left to run again after a restart.
    Duration shutdown_grace_period = std::chrono::seconds(30);
    // MAYAFLOW_BIGQUERY_USD_PER_TIB: the price per TiB billed that the API's cost estimates use
    // (BigQuery's on-demand list price by default; a flat-rate or discounted contract differs).
    double bigquery_usd_per_tib = kBigQueryOnDemandUsdPerTib;
};

// Reads the environment given (normally the process's) and the config file in the home folder.
Result<Settings> load_settings(const std::map<std::string, std::string>& environment);
std::map<std::string, std::string> process_environment();

}  // namespace mayaflow
