#pragma once
// ApiRouter answers the REST API (/api/v1, shaped like Airflow's stable API) and the UI's pages.
// Errors are RFC 7807 problem JSON that say what was wrong and what to do. Each route answers
// only its methods (others get 405 and an Allow header); HEAD is answered wherever GET is.

#include <functional>

#include "engine/store/store.h"
#include "scheduler/daemon_health.h"
#include "scheduler/dag_processor.h"
#include "web/http_types.h"

namespace mayaflow {

class ApiRouter {
  public:
    // `health` is the daemon's own, when the router runs in the daemon's process.
    explicit ApiRouter(Store& store, const DaemonHealth* health = nullptr) : store_(store), health_(health) {}

    // /health then says whether the DAG folder is still loading, and what it cannot read.
    void watch_dag_folder(std::function<DagFolderStatus()> status) { dag_folder_status_ = std::move(status); }

    WebResponse handle(const WebRequest& request);

  private:
    WebResponse list_dags(const std::map<std::string, std::string>& query);
    WebResponse get_dag(const std::string& dag_id);
    WebResponse list_import_errors(const std::map<std::string, std::string>& query);
    WebResponse list_dag_warnings(const std::map<std::string, std::string>& query);
    WebResponse version();
    WebResponse health();
    WebResponse index_page();

    Store& store_;
    const DaemonHealth* health_;
    std::function<DagFolderStatus()> dag_folder_status_;
};

WebResponse problem(int status, const std::string& title, const std::string& detail);

}  // namespace mayaflow
